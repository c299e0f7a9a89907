package hostroot_test

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"sync"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
	"github.com/spf13/afero"
)

func viewFixture() *hostroottest.Host {
	return hostroottest.New().
		File("/etc/hostname", "node-1\n").
		File("/etc/os-release", "ID=debian\n").
		Symlink("/etc/abs", "/etc/hostname").
		Symlink("/run/link", "../etc").
		File("/proc/1/stat", "1 (init) S 0")
}

// TestReadOnly: every way to write through a Root fails, on every kind of
// Root, and nothing on disk changes.
func TestReadOnly(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/f", []byte("original"), 0o644); err != nil {
		t.Fatal(err)
	}
	disk, err := hostroot.Dir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer disk.Close()
	roots := map[string]*hostroot.Root{
		"disk":   disk,
		"memory": hostroottest.MustRoot(t, hostroottest.New().File("/f", "original")),
	}
	for label, r := range roots {
		a := r.Afero()
		for op, err := range map[string]error{
			"Create":    func() error { _, err := a.Create("/new"); return err }(),
			"OpenFile":  func() error { _, err := a.OpenFile("/f", os.O_RDWR, 0); return err }(),
			"OpenTrunc": func() error { _, err := a.OpenFile("/f", os.O_WRONLY|os.O_TRUNC, 0); return err }(),
			"Mkdir":     a.Mkdir("/d", 0o755),
			"MkdirAll":  a.MkdirAll("/d/e", 0o755),
			"Remove":    a.Remove("/f"),
			"RemoveAll": a.RemoveAll("/"),
			"Rename":    a.Rename("/f", "/g"),
			"Chmod":     a.Chmod("/f", 0o777),
			"Chown":     a.Chown("/f", 1, 1),
			"Chtimes":   a.Chtimes("/f", fakeTime, fakeTime),
			"Symlink":   a.(afero.Linker).SymlinkIfPossible("/f", "/l"),
		} {
			if !errors.Is(err, syscall.EROFS) {
				t.Errorf("%s: afero %s: err = %v, want EROFS", label, op, err)
			}
		}
		f, err := a.Open("/f")
		if err != nil {
			t.Fatalf("%s: Open: %v", label, err)
		}
		for op, err := range map[string]error{
			"Write":       func() error { _, err := f.Write([]byte("x")); return err }(),
			"WriteAt":     func() error { _, err := f.WriteAt([]byte("x"), 0); return err }(),
			"WriteString": func() error { _, err := f.WriteString("x"); return err }(),
			"Truncate":    f.Truncate(0),
		} {
			if !errors.Is(err, syscall.EROFS) {
				t.Errorf("%s: afero file %s: err = %v, want EROFS", label, op, err)
			}
		}
		f.Close()
		// A file from Root.Open has no write method to assert to.
		rf, err := r.Open("/f")
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := rf.(io.Writer); ok {
			t.Errorf("%s: Root.Open returned an io.Writer", label)
		}
		rf.Close()
		if b, err := r.ReadFile("/f"); err != nil || string(b) != "original" {
			t.Errorf("%s: after the write attempts /f = %q, %v", label, b, err)
		}
	}
	if b, _ := os.ReadFile(dir + "/f"); string(b) != "original" {
		t.Errorf("the file on disk changed: %q", b)
	}
}

// TestIOFSView runs the standard library's file system checker over the
// io/fs view, with the Root's chroot semantics underneath.
func TestIOFSView(t *testing.T) {
	r := hostroottest.MustRoot(t, viewFixture())
	fsys := r.FS()
	if err := fstest.TestFS(fsys, "etc/hostname", "etc/os-release", "proc/1/stat"); err != nil {
		t.Fatal(err)
	}
	b, err := fs.ReadFile(fsys, "run/link/abs")
	if err != nil || string(b) != "node-1\n" {
		t.Errorf("run/link/abs = %q, %v", b, err)
	}
	if s, err := fs.ReadLink(fsys, "etc/abs"); err != nil || s != "/etc/hostname" {
		t.Errorf("ReadLink(etc/abs) = %q, %v", s, err)
	}
	if _, err := fs.ReadFile(fsys, "/etc/hostname"); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("rooted io/fs name: err = %v, want ErrInvalid", err)
	}
	var pe *fs.PathError
	if _, err := fs.ReadFile(fsys, "etc/missing"); !errors.As(err, &pe) || pe.Path != "etc/missing" {
		t.Errorf("error path = %v, want the io/fs name", err)
	}
}

func TestAferoView(t *testing.T) {
	r := hostroottest.MustRoot(t, viewFixture())
	a := r.Afero()
	b, err := afero.ReadFile(a, "/run/link/abs")
	if err != nil || string(b) != "node-1\n" {
		t.Errorf("/run/link/abs = %q, %v", b, err)
	}
	names, err := afero.ReadDir(a, "/etc")
	if err != nil || len(names) != 3 {
		t.Errorf("ReadDir(/etc) = %v, %v", names, err)
	}
	fi, _, err := a.(afero.Lstater).LstatIfPossible("/etc/abs")
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("Lstat(/etc/abs) = %v, %v", fi, err)
	}
}

// TestConcurrentReadsAndClose: a Root is shared by goroutines, and Close
// waits for reads in flight; afterwards every read fails with ErrClosed.
func TestConcurrentReadsAndClose(t *testing.T) {
	r, err := hostroot.Native()
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for j := 0; j < 200; j++ {
				var err error
				buf, err = r.AppendFile(buf[:0], "/proc/self/stat", 0)
				if err != nil && !errors.Is(err, fs.ErrClosed) {
					t.Errorf("read: %v", err)
					return
				}
			}
		}()
	}
	r.Close()
	wg.Wait()
	if _, err := r.ReadFile("/proc/self/stat"); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("read after Close: err = %v, want ErrClosed", err)
	}
}

func TestAppendFileReusesBuffer(t *testing.T) {
	r := hostroottest.MustRoot(t, viewFixture())
	buf := make([]byte, 0, 64)
	out, err := r.AppendFile(buf, "/etc/hostname", 0)
	if err != nil || string(out) != "node-1\n" || &out[:1][0] != &buf[:1][0] {
		t.Errorf("AppendFile did not fill the given buffer: %q, %v", out, err)
	}
	out, err = r.AppendFile(out, "/etc/os-release", 0)
	if err != nil || string(out) != "node-1\nID=debian\n" {
		t.Errorf("AppendFile did not append: %q, %v", out, err)
	}
	// Exactly at the limit is fine; one byte over is ErrTooLarge, and dst
	// comes back as it was.
	if _, err := r.AppendFile(nil, "/etc/hostname", 7); err != nil {
		t.Errorf("at the limit: %v", err)
	}
	keep := []byte("kept")
	got, err := r.AppendFile(keep, "/etc/hostname", 6)
	if !errors.Is(err, hostroot.ErrTooLarge) || string(got) != "kept" {
		t.Errorf("over the limit: %q, %v; want ErrTooLarge and dst unchanged", got, err)
	}
}

var fakeTime = time.Unix(1700000000, 0)
