package hostroot_test

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
	"github.com/hostscope/hostscope/internal/testctr"
	"golang.org/x/sys/unix"
)

// openedRoots returns a Root of every kind over one small tree holding
// "doc.go" (a name that also exists in this package's directory, the
// tests' working directory) and "only-here", plus how to close them.
func openedRoots(t *testing.T) map[string]*hostroot.Root {
	t.Helper()
	const docGo = "not this package's doc.go\n"
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"doc.go": docGo, "only-here": "x", "etc/hostname": "tree\n"},
		map[string]string{"link": "/etc/hostname"})
	disk, err := hostroot.Dir(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { disk.Close() })
	walk, err := hostroot.DirWithoutOpenat2(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { walk.Close() })
	mem := hostroottest.MustRoot(t, hostroottest.New().File("/doc.go", docGo).File("/only-here", "x").
		File("/etc/hostname", "tree\n").Symlink("/link", "/etc/hostname"))
	mapFS := hostroot.FromFS(fstest.MapFS{
		"doc.go":       {Data: []byte(docGo), Mode: 0o644},
		"only-here":    {Data: []byte("x"), Mode: 0o644},
		"etc/hostname": {Data: []byte("tree\n"), Mode: 0o644},
		"link":         {Data: []byte("/etc/hostname"), Mode: fs.ModeSymlink | 0o777},
	})
	return map[string]*hostroot.Root{"disk (openat2)": disk, "disk (walk)": walk, "memory": mem, "io/fs": mapFS}
}

// entryView is what a directory entry says about its file.
type entryView struct {
	Name string
	Mode fs.FileMode
	Size int64
}

// TestOpenDirEntriesInfo: the entries of a directory opened with Root.Open
// describe the Root's files. On disk roots they used to be the os
// package's, whose Info stats "base/name" relative to the reader's working
// directory: here, this package's own doc.go, and nothing for names the
// working directory lacks (so the afero view's Readdir listed nothing at
// all). Fixed in 701c8d3.
func TestOpenDirEntriesInfo(t *testing.T) {
	for label, r := range openedRoots(t) {
		t.Run(label, func(t *testing.T) {
			var want []entryView
			for _, n := range []string{"doc.go", "etc", "link", "only-here"} {
				fi, err := r.Lstat("/" + n)
				if err != nil {
					t.Fatal(err)
				}
				size := fi.Size()
				if fi.IsDir() || fi.Mode()&fs.ModeSymlink != 0 {
					size = 0 // differs by file system, not by view
				}
				want = append(want, entryView{n, fi.Mode(), size})
			}
			views := map[string]func() ([]entryView, error){
				"Root.Open": func() ([]entryView, error) {
					f, err := r.Open("/")
					if err != nil {
						return nil, err
					}
					defer f.Close()
					es, err := f.(fs.ReadDirFile).ReadDir(-1)
					return infos(es, err)
				},
				"Root.Open, 1 at a time": func() ([]entryView, error) {
					f, err := r.Open("/")
					if err != nil {
						return nil, err
					}
					defer f.Close()
					var all []fs.DirEntry
					for {
						es, err := f.(fs.ReadDirFile).ReadDir(1)
						all = append(all, es...)
						if err == io.EOF {
							return infos(all, nil)
						}
						if err != nil || len(es) != 1 {
							return nil, errors.New("ReadDir(1) broke its contract")
						}
					}
				},
				"io/fs Open": func() ([]entryView, error) {
					f, err := r.FS().Open(".")
					if err != nil {
						return nil, err
					}
					defer f.Close()
					es, err := f.(fs.ReadDirFile).ReadDir(-1)
					return infos(es, err)
				},
				"fs.ReadDir": func() ([]entryView, error) { return infos(fs.ReadDir(r.FS(), ".")) },
				"afero Readdir": func() ([]entryView, error) {
					f, err := r.Afero().Open("/")
					if err != nil {
						return nil, err
					}
					defer f.Close()
					fis, err := f.Readdir(-1)
					var es []fs.DirEntry
					for _, fi := range fis {
						es = append(es, fs.FileInfoToDirEntry(fi))
					}
					return infos(es, err)
				},
			}
			for view, list := range views {
				got, err := list()
				if err != nil {
					t.Errorf("%s: %v", view, err)
					continue
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s entries differ from Lstat through the Root (-Lstat +entries):\n%s", view, diff)
				}
			}
		})
	}
}

func infos(es []fs.DirEntry, err error) ([]entryView, error) {
	if err != nil {
		return nil, err
	}
	var out []entryView
	for _, e := range es {
		fi, err := e.Info()
		if err != nil {
			return nil, err
		}
		size := fi.Size()
		if fi.IsDir() || fi.Mode()&fs.ModeSymlink != 0 {
			size = 0
		}
		if fi.Name() != e.Name() || fi.Mode().Type() != e.Type() {
			return nil, errors.New("entry " + e.Name() + ": Info disagrees with the entry")
		}
		out = append(out, entryView{e.Name(), fi.Mode(), size})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// writeMethods lists the interfaces of v that a writable file or file
// system would have.
func writeMethods(v any) []string {
	var found []string
	for name, ok := range map[string]bool{
		"io.Writer":   is[io.Writer](v),
		"io.WriterAt": is[io.WriterAt](v),
		"WriteString": is[interface{ WriteString(string) (int, error) }](v),
		"Truncate":    is[interface{ Truncate(int64) error }](v),
		"Chmod":       is[interface{ Chmod(fs.FileMode) error }](v),
		"Chown":       is[interface{ Chown(int, int) error }](v),
		"Sync":        is[interface{ Sync() error }](v),
		"Fd":          is[interface{ Fd() uintptr }](v),
		"OpenFile": is[interface {
			OpenFile(string, int, fs.FileMode) (fs.File, error)
		}](v),
		"Create": is[interface{ Create(string) (fs.File, error) }](v),
		"WriteFile": is[interface {
			WriteFile(string, []byte, fs.FileMode) error
		}](v),
		"Remove": is[interface{ Remove(string) error }](v),
		"Mkdir": is[interface {
			Mkdir(string, fs.FileMode) error
		}](v),
		"*os.File": is[*os.File](v),
	} {
		if ok {
			found = append(found, name)
		}
	}
	sort.Strings(found)
	return found
}

func is[T any](v any) bool { _, ok := v.(T); return ok }

// TestReadOnlyEveryView extends TestReadOnly to the io/fs view, to the
// Roots ProcRoot returns, and to files from Open and FS().Open on every
// backend: none offers a method that writes, and the afero view of each
// refuses every write with EROFS.
func TestReadOnlyEveryView(t *testing.T) {
	roots := openedRoots(t)
	native, err := hostroot.Native()
	if err != nil {
		t.Fatal(err)
	}
	defer native.Close()
	roots["native"] = native
	self, err := native.ProcRoot(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	defer self.Close()
	roots["ProcRoot(self)"] = self
	mem := hostroottest.New().File("/proc/7/stat", "7 (x) S").File("/c/etc/hostname", "c\n").ProcRoot(7, "/c")
	memProc, err := hostroottest.MustRoot(t, mem).ProcRoot(7)
	if err != nil {
		t.Fatal(err)
	}
	roots["ProcRoot(memory)"] = memProc

	for label, r := range roots {
		if m := writeMethods(r.FS()); len(m) > 0 {
			t.Errorf("%s: the io/fs view has write methods %v", label, m)
		}
		file, dir := "/etc/hostname", "/etc"
		for _, name := range []string{file, dir} {
			for how, open := range map[string]func() (fs.File, error){
				"Open":      func() (fs.File, error) { return r.Open(name) },
				"FS().Open": func() (fs.File, error) { return r.FS().Open(strings.TrimPrefix(name, "/")) },
			} {
				f, err := open()
				if err != nil {
					t.Errorf("%s: %s(%s): %v", label, how, name, err)
					continue
				}
				if m := writeMethods(f); len(m) > 0 {
					t.Errorf("%s: %s(%s) gave a file with write methods %v", label, how, name, m)
				}
				f.Close()
			}
		}
		a := r.Afero()
		for op, err := range map[string]error{
			"Create":   func() error { _, err := a.Create("/etc/new"); return err }(),
			"OpenFile": func() error { _, err := a.OpenFile(file, os.O_RDWR, 0); return err }(),
			"Append":   func() error { _, err := a.OpenFile(file, os.O_WRONLY|os.O_APPEND, 0); return err }(),
			"Remove":   a.Remove(file),
			"Rename":   a.Rename(file, "/etc/moved"),
			"Mkdir":    a.Mkdir("/etc/d", 0o755),
			"Chmod":    a.Chmod(file, 0o777),
		} {
			if !errors.Is(err, syscall.EROFS) {
				t.Errorf("%s: afero %s: err = %v, want EROFS", label, op, err)
			}
		}
		af, err := a.Open(file)
		if err != nil {
			t.Errorf("%s: afero Open: %v", label, err)
			continue
		}
		if _, err := af.Write([]byte("x")); !errors.Is(err, syscall.EROFS) {
			t.Errorf("%s: afero file Write: err = %v, want EROFS", label, err)
		}
		af.Close()
	}
}

// fdSet lists this process's open descriptors.
func fdSet(t *testing.T) map[int]bool {
	t.Helper()
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]bool{}
	for _, e := range es {
		if fd, err := strconv.Atoi(e.Name()); err == nil {
			out[fd] = true
		}
	}
	return out
}

// fdFlags returns the open flags /proc/self/fdinfo shows for fd; ok is false
// when fd is no longer open.
func fdFlags(t *testing.T, fd int) (flags uint64, ok bool) {
	t.Helper()
	b, err := os.ReadFile("/proc/self/fdinfo/" + strconv.Itoa(fd))
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, found := strings.CutPrefix(line, "flags:"); found {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 8, 64)
			if err != nil {
				t.Fatalf("fdinfo %d: %q", fd, line)
			}
			return n, true
		}
	}
	t.Fatalf("fdinfo %d has no flags: %q", fd, b)
	return 0, false
}

// TestDescriptorsReadOnly opens Roots of every operating-system kind and
// files through them, and checks, while they are open, the flags the
// kernel records for every descriptor that appeared: read-only (O_RDONLY,
// or O_PATH for the directories a Root holds), never O_APPEND, always
// O_CLOEXEC so that none leaks into a child process.
func TestDescriptorsReadOnly(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"etc/hostname": "tree\n"}, map[string]string{"link": "etc/hostname"})
	bind := t.TempDir()
	if os.Geteuid() == 0 {
		testctr.LockHostMounts(t)
	}
	bound := os.Geteuid() == 0 && unix.Mount("/proc", bind, "", unix.MS_BIND, "") == nil
	if bound {
		t.Cleanup(func() { unix.Unmount(bind, unix.MNT_DETACH) })
	}
	var checked int
	check := func(label string, before map[int]bool) {
		t.Helper()
		for fd := range fdSet(t) {
			if before[fd] {
				continue
			}
			flags, ok := fdFlags(t, fd)
			if !ok {
				continue // the listing's own descriptor
			}
			checked++
			if flags&unix.O_ACCMODE != unix.O_RDONLY || flags&unix.O_APPEND != 0 {
				t.Errorf("%s: descriptor %d is open with flags %#o, not read-only", label, fd, flags)
			}
			if flags&unix.O_CLOEXEC == 0 {
				t.Errorf("%s: descriptor %d lacks O_CLOEXEC (flags %#o)", label, fd, flags)
			}
		}
	}
	roots := map[string]func() (*hostroot.Root, error){
		"Dir":                 func() (*hostroot.Root, error) { return hostroot.Dir(dir) },
		"Dir without openat2": func() (*hostroot.Root, error) { return hostroot.DirWithoutOpenat2(dir) },
		"Native":              hostroot.Native,
	}
	if bound {
		roots["FromEnv HOST_PROC"] = func() (*hostroot.Root, error) {
			return hostroot.FromEnvLookup(func(k string) (string, bool) {
				if k == "HOST_PROC" {
					return bind, true
				}
				return "", false
			})
		}
	}
	self := "/proc/" + strconv.Itoa(os.Getpid())
	for label, mk := range roots {
		before := fdSet(t)
		r, err := mk()
		if err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		// The Dir roots have no /proc to enter a process through.
		pr, prErr := r.ProcRoot(os.Getpid())
		var files []fs.File
		for _, name := range []string{"/etc/hostname", "/link", "/etc", "/", self + "/status", "/proc", "/sys/kernel"} {
			if f, err := r.Open(name); err == nil {
				files = append(files, f)
			}
		}
		if prErr == nil {
			if f, err := pr.Open("/etc/hostname"); err == nil {
				files = append(files, f)
			}
		}
		if len(files) < 3 {
			t.Errorf("%s: only %d files opened", label, len(files))
		}
		check(label, before)
		for _, f := range files {
			f.Close()
		}
		if prErr == nil {
			pr.Close()
		}
		r.Close()
	}
	t.Logf("%d descriptors checked while open", checked)
	if checked == 0 {
		t.Error("no descriptor was checked")
	}
}
