package hostroottest_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
)

// node is what the tests compare of a file seen through a Root.
type node struct {
	Type         string
	Perm         fs.FileMode
	Content      string
	UID, GID     uint32
	Major, Minor uint32
}

func describe(t *testing.T, r *hostroot.Root, name string) node {
	t.Helper()
	fi, err := r.Lstat(name)
	if err != nil {
		t.Fatalf("Lstat(%s): %v", name, err)
	}
	st, ok := hostroot.StatOf(fi)
	if !ok {
		t.Fatalf("Lstat(%s): no hostroot.Stat in Sys()", name)
	}
	n := node{Perm: fi.Mode().Perm(), UID: st.UID, GID: st.GID, Major: st.RdevMajor, Minor: st.RdevMinor}
	switch m := fi.Mode(); {
	case m.IsDir():
		n.Type = "dir"
	case m.IsRegular():
		n.Type = "file"
		b, err := r.ReadFile(name)
		if err != nil {
			t.Fatalf("ReadFile(%s): %v", name, err)
		}
		n.Content = string(b)
	case m&fs.ModeSymlink != 0:
		n.Type = "symlink"
		n.Content, _ = r.Readlink(name)
		n.Perm = 0
	case m&fs.ModeNamedPipe != 0:
		n.Type = "fifo"
	case m&fs.ModeCharDevice != 0:
		n.Type = "char"
	case m&fs.ModeDevice != 0:
		n.Type = "block"
	}
	return n
}

func TestBuilderNodes(t *testing.T) {
	h := hostroottest.New().
		FileMode("/etc/shadow", "root:*:1::::::\n", 0o600).
		Owner("/etc/shadow", 0, 42).
		Device("/dev/sda", hostroottest.Block, 8, 0, 0o660).
		Owner("/dev/sda", 0, 6).
		Device("/dev/null", hostroottest.Char, 1, 3, 0o666).
		FIFO("/run/initctl").
		Symlink("/dev/disk/by-uuid/1234", "../../sda")
	r := hostroottest.MustRoot(t, h)
	got := map[string]node{}
	for _, n := range []string{"/etc/shadow", "/dev/sda", "/dev/null", "/run/initctl", "/dev/disk/by-uuid/1234", "/dev/disk"} {
		got[n] = describe(t, r, n)
	}
	want := map[string]node{
		"/etc/shadow":            {Type: "file", Perm: 0o600, Content: "root:*:1::::::\n", GID: 42},
		"/dev/sda":               {Type: "block", Perm: 0o660, GID: 6, Major: 8},
		"/dev/null":              {Type: "char", Perm: 0o666, Major: 1, Minor: 3},
		"/run/initctl":           {Type: "fifo", Perm: 0o644},
		"/dev/disk/by-uuid/1234": {Type: "symlink", Content: "../../sda"},
		"/dev/disk":              {Type: "dir", Perm: 0o755},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("nodes (-want +got):\n%s", diff)
	}
	// The link resolves inside the host to the device node, which is never
	// read as a file.
	if fi, err := r.Stat("/dev/disk/by-uuid/1234"); err != nil || fi.Mode()&fs.ModeDevice == 0 {
		t.Errorf("Stat through the by-uuid link = %v, %v", fi, err)
	}
	if _, err := r.ReadFile("/dev/sda"); !errors.Is(err, hostroot.ErrNotRegular) {
		t.Errorf("ReadFile(/dev/sda): err = %v, want ErrNotRegular", err)
	}
	names, err := r.ReadDirNames("/dev")
	sort.Strings(names)
	if err != nil || !cmp.Equal(names, []string{"disk", "null", "sda"}) {
		t.Errorf("ReadDirNames(/dev) = %v, %v", names, err)
	}
}

func TestBuilderErrors(t *testing.T) {
	for name, h := range map[string]*hostroottest.Host{
		"relative name":        hostroottest.New().File("etc/x", ""),
		"below a file":         hostroottest.New().File("/etc", "").File("/etc/x", ""),
		"below a symlink":      hostroottest.New().Symlink("/etc", "/x").File("/etc/x", ""),
		"owner of a non-entry": hostroottest.New().Owner("/nope", 1, 1),
		"symlink on a dir":     hostroottest.New().Dir("/d").Symlink("/d", "/x"),
	} {
		if _, err := h.Root(); err == nil {
			t.Errorf("%s: Root() succeeded, want the builder error", name)
		}
	}
	// The first error is kept, later calls do not hide it.
	h := hostroottest.New().File("rel", "").File("/ok", "")
	if err := h.Err(); err == nil {
		t.Error("Err() = nil after a bad call")
	}
}

func tarOf(t testing.TB, entries []*tar.Header, contents map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range entries {
		c := contents[h.Name]
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(c))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if c != "" {
			if _, err := tw.Write([]byte(c)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestLoadTar(t *testing.T) {
	data := tarOf(t, []*tar.Header{
		{Name: "proc/", Typeflag: tar.TypeDir, Mode: 0o555},
		{Name: "proc/1/stat", Typeflag: tar.TypeReg, Mode: 0o444},
		{Name: "./proc/self", Typeflag: tar.TypeSymlink, Linkname: "1"},
		{Name: "proc/1/exe", Typeflag: tar.TypeSymlink, Linkname: "/usr/bin/init"},
		{Name: "/etc/hostname", Typeflag: tar.TypeReg, Mode: 0o644, Uid: 0, Gid: 0},
		{Name: "etc/hosts-link", Typeflag: tar.TypeLink, Linkname: "etc/hostname", Mode: 0o644},
		{Name: "dev/sda", Typeflag: tar.TypeBlock, Devmajor: 8, Devminor: 0, Mode: 0o660, Gid: 6},
		{Name: "dev/ttyS0", Typeflag: tar.TypeChar, Devmajor: 4, Devminor: 64, Mode: 0o620},
		{Name: "run/fifo", Typeflag: tar.TypeFifo, Mode: 0o600},
		{Name: "etc/escape", Typeflag: tar.TypeSymlink, Linkname: "../../../etc/hostname"},
	}, map[string]string{"proc/1/stat": "1 (init) S 0", "/etc/hostname": "snap\n"})

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	dir := t.TempDir()
	for name, content := range map[string][]byte{"snap.tar": data, "snap.tgz": gz.Bytes()} {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, file := range []string{"snap.tar", "snap.tgz"} {
		t.Run(file, func(t *testing.T) {
			h := hostroottest.New()
			if err := h.LoadArchive(filepath.Join(dir, file)); err != nil {
				t.Fatal(err)
			}
			r := hostroottest.MustRoot(t, h)
			got := map[string]node{}
			for _, n := range []string{"/proc/self", "/proc/1/stat", "/proc/1/exe", "/etc/hostname", "/etc/hosts-link", "/dev/sda", "/dev/ttyS0", "/run/fifo", "/etc/escape"} {
				got[n] = describe(t, r, n)
			}
			want := map[string]node{
				"/proc/self":      {Type: "symlink", Content: "1"},
				"/proc/1/stat":    {Type: "file", Perm: 0o444, Content: "1 (init) S 0"},
				"/proc/1/exe":     {Type: "symlink", Content: "/usr/bin/init"},
				"/etc/hostname":   {Type: "file", Perm: 0o644, Content: "snap\n"},
				"/etc/hosts-link": {Type: "file", Perm: 0o644, Content: "snap\n"},
				"/dev/sda":        {Type: "block", Perm: 0o660, GID: 6, Major: 8},
				"/dev/ttyS0":      {Type: "char", Perm: 0o620, Major: 4, Minor: 64},
				"/run/fifo":       {Type: "fifo", Perm: 0o600},
				"/etc/escape":     {Type: "symlink", Content: "../../../etc/hostname"},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("loaded nodes (-want +got):\n%s", diff)
			}
			if b, err := r.ReadFile("/proc/self/stat"); err != nil || string(b) != "1 (init) S 0" {
				t.Errorf("/proc/self/stat = %q, %v", b, err)
			}
			if b, err := r.ReadFile("/etc/escape"); err != nil || string(b) != "snap\n" {
				t.Errorf("/etc/escape = %q, %v; want the snapshot's own /etc/hostname", b, err)
			}
		})
	}
}

// Process roots recorded under ProcRootsDir are what ProcRoot enters: a
// directory for its own PID, a symlink naming another PID for a shared
// root. Anything else there maps nothing.
func TestLoadTarProcRoots(t *testing.T) {
	data := tarOf(t, []*tar.Header{
		{Name: "proc/", Typeflag: tar.TypeDir, Mode: 0o555},
		{Name: "proc/7/stat", Typeflag: tar.TypeReg, Mode: 0o444},
		{Name: "proc/8/stat", Typeflag: tar.TypeReg, Mode: 0o444},
		{Name: "proc/9/stat", Typeflag: tar.TypeReg, Mode: 0o444},
		{Name: "proc/10/stat", Typeflag: tar.TypeReg, Mode: 0o444},
		{Name: ".procroots/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: ".procroots/7/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: ".procroots/7/dev/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: ".procroots/7/dev/null", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 3, Mode: 0o666},
		{Name: ".procroots/8", Typeflag: tar.TypeSymlink, Linkname: "7"},
		{Name: ".procroots/9", Typeflag: tar.TypeSymlink, Linkname: "99"},    // no such root
		{Name: ".procroots/10", Typeflag: tar.TypeSymlink, Linkname: "../7"}, // not a sibling PID
		{Name: ".procroots/x/", Typeflag: tar.TypeDir, Mode: 0o755},
	}, map[string]string{"proc/7/stat": "7 (a) S", "proc/8/stat": "8 (b) S", "proc/9/stat": "9 (c) S", "proc/10/stat": "10 (d) S"})
	if hostroottest.ProcRootsDir != "/.procroots" {
		t.Errorf("ProcRootsDir = %q: archives written with /.procroots no longer load", hostroottest.ProcRootsDir)
	}
	h := hostroottest.New()
	if err := h.LoadTar(bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	r := hostroottest.MustRoot(t, h)
	for _, pid := range []int{7, 8} {
		pr, err := r.ProcRoot(pid)
		if err != nil {
			t.Errorf("ProcRoot(%d): %v", pid, err)
			continue
		}
		want := node{Type: "char", Perm: 0o666, Major: 1, Minor: 3}
		if diff := cmp.Diff(want, describe(t, pr, "/dev/null")); diff != "" {
			t.Errorf("ProcRoot(%d) /dev/null (-want +got):\n%s", pid, diff)
		}
	}
	for _, pid := range []int{9, 10} {
		if _, err := r.ProcRoot(pid); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("ProcRoot(%d): err = %v, want ErrNotExist", pid, err)
		}
	}
}

func TestLoadTarRejectsEscapes(t *testing.T) {
	for _, name := range []string{"../evil", "a/../../evil", "./../evil", "/../evil"} {
		data := tarOf(t, []*tar.Header{{Name: name, Typeflag: tar.TypeReg, Mode: 0o644}}, map[string]string{name: "x"})
		h := hostroottest.New()
		if err := h.LoadTar(bytes.NewReader(data)); !errors.Is(err, hostroottest.ErrUnsafeEntry) {
			t.Errorf("entry %q: err = %v, want ErrUnsafeEntry", name, err)
		}
	}
	// ".." that stays inside is fine.
	data := tarOf(t, []*tar.Header{{Name: "a/../b", Typeflag: tar.TypeReg, Mode: 0o644}}, map[string]string{"a/../b": "x"})
	if err := hostroottest.New().LoadTar(bytes.NewReader(data)); err != nil {
		t.Errorf("a/../b: %v", err)
	}
	if err := hostroottest.New().LoadTar(bytes.NewReader([]byte("not a tar archive, just text that is long enough to be read as a header block........................................................................................................................................................................................................................................................................................................................................................................................................................................................................................."))); err == nil {
		t.Error("garbage loaded without error")
	}
}

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "etc/hostname"), []byte("disk\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/hostname", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	h := hostroottest.New()
	if err := h.LoadDir(dir); err != nil {
		t.Fatal(err)
	}
	r := hostroottest.MustRoot(t, h)
	got := map[string]node{"/etc/hostname": describe(t, r, "/etc/hostname"), "/link": describe(t, r, "/link")}
	uid, gid := uint32(os.Getuid()), uint32(os.Getgid())
	want := map[string]node{
		"/etc/hostname": {Type: "file", Perm: 0o640, Content: "disk\n", UID: uid, GID: gid},
		"/link":         {Type: "symlink", Content: "/etc/hostname", UID: uid, GID: gid},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("loaded (-want +got):\n%s", diff)
	}
}

// TestAferoWrites: tests change a Host through its afero methods, and the
// Root sees each change at once.
func TestAferoWrites(t *testing.T) {
	h := hostroottest.New().File("/proc/1/stat", "1 (init) S")
	r := hostroottest.MustRoot(t, h)
	read := func(name string) string {
		t.Helper()
		b, err := r.ReadFile(name)
		if err != nil {
			t.Fatalf("ReadFile(%s): %v", name, err)
		}
		return string(b)
	}
	f, err := h.OpenFile("/proc/1/stat", os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("1 (init) Z"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Read(make([]byte, 1)); err == nil {
		t.Error("Read on a write-only file succeeded")
	}
	f.Close()
	if got := read("/proc/1/stat"); got != "1 (init) Z" {
		t.Errorf("after O_TRUNC write: %q", got)
	}
	f, err = h.OpenFile("/proc/1/stat", os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte(" 0"))
	f.Close()
	if got := read("/proc/1/stat"); got != "1 (init) Z 0" {
		t.Errorf("after O_APPEND write: %q", got)
	}
	if _, err := h.OpenFile("/proc/1/stat", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644); !errors.Is(err, fs.ErrExist) {
		t.Errorf("O_EXCL on an existing file: %v", err)
	}
	f, err = h.Create("/proc/2/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("sh\x00"))
	f.Close()
	if got := read("/proc/2/cmdline"); got != "sh\x00" {
		t.Errorf("created file: %q", got)
	}
	if _, err := h.OpenFile("/proc/1", os.O_WRONLY, 0); err == nil {
		t.Error("opening a directory for writing succeeded")
	}
}

// TestRemoveRename: Remove takes files and empty directories, RemoveAll
// whole subtrees; Rename moves a subtree with its inode numbers.
func TestRemoveRename(t *testing.T) {
	h := hostroottest.New().File("/proc/300/stat", "x").File("/proc/300/status", "y").Dir("/empty")
	if err := h.Remove("/proc/300"); !errors.Is(err, syscall.ENOTEMPTY) {
		t.Errorf("Remove of a non-empty directory: %v", err)
	}
	if err := h.Remove("/proc/300/status"); err != nil {
		t.Error(err)
	}
	if err := h.Remove("/empty"); err != nil {
		t.Error(err)
	}
	if err := h.Remove("/empty"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Remove of a missing name: %v", err)
	}
	fi, _, err := h.LstatIfPossible("/proc/300/stat")
	if err != nil {
		t.Fatal(err)
	}
	ino := inoOf(t, fi)
	if err := h.Rename("/proc/300", "/proc/301"); err != nil {
		t.Fatal(err)
	}
	fi, _, err = h.LstatIfPossible("/proc/301/stat")
	if err != nil || inoOf(t, fi) != ino {
		t.Errorf("after Rename: %v, %v; want inode %d", fi, err, ino)
	}
	if _, _, err := h.LstatIfPossible("/proc/300"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("old name after Rename: %v", err)
	}
	if err := h.RemoveAll("/proc/301"); err != nil {
		t.Error(err)
	}
	if err := h.RemoveAll("/proc/301"); err != nil {
		t.Errorf("RemoveAll of a missing name: %v", err)
	}
	if _, _, err := h.LstatIfPossible("/proc/301/stat"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after RemoveAll: %v", err)
	}
}

func inoOf(t *testing.T, fi fs.FileInfo) uint64 {
	t.Helper()
	st, ok := hostroot.StatOf(fi)
	if !ok {
		t.Fatalf("%s: no Stat", fi.Name())
	}
	return st.Ino
}

// TestInodes: every node has its own inode number, implicit parents
// included; a replaced file keeps its number, a re-created one does not.
func TestInodes(t *testing.T) {
	h := hostroottest.New().File("/proc/300/stat", "a").Symlink("/proc/300/exe", "/bin/a")
	seen := map[uint64]string{}
	for _, name := range []string{"/", "/proc", "/proc/300", "/proc/300/stat", "/proc/300/exe"} {
		fi, _, err := h.LstatIfPossible(name)
		if err != nil {
			t.Fatal(err)
		}
		ino := inoOf(t, fi)
		if ino == 0 || seen[ino] != "" {
			t.Errorf("%s: inode %d (also %q)", name, ino, seen[ino])
		}
		seen[ino] = name
		if name == "/" && ino != 1 {
			t.Errorf("the root's inode is %d, want 1", ino)
		}
	}
	ino := func(name string) uint64 {
		fi, _, err := h.LstatIfPossible(name)
		if err != nil {
			t.Fatal(err)
		}
		return inoOf(t, fi)
	}
	before := ino("/proc/300/stat")
	h.File("/proc/300/stat", "b")
	if ino("/proc/300/stat") != before {
		t.Error("rewriting a file changed its inode")
	}
	dir := ino("/proc/300")
	h.RemoveAll("/proc/300")
	h.File("/proc/300/stat", "c")
	if ino("/proc/300") == dir {
		t.Error("a re-created directory kept the old inode")
	}
}

// TestReaddir: listings are sorted, and come n at a time when asked.
func TestReaddir(t *testing.T) {
	h := hostroottest.New()
	for _, n := range []string{"30", "1", "200", "4"} {
		h.File("/proc/"+n+"/stat", n)
	}
	f, err := h.Open("/proc")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []string
	for {
		fis, err := f.Readdir(3)
		for _, fi := range fis {
			got = append(got, fi.Name())
		}
		if err != nil {
			break
		}
	}
	if want := []string{"1", "200", "30", "4"}; !cmp.Equal(want, got) {
		t.Errorf("Readdir(3) pages = %v, want %v", got, want)
	}
	g, _ := h.Open("/proc")
	names, err := g.Readdirnames(-1)
	g.Close()
	if want := []string{"1", "200", "30", "4"}; err != nil || !cmp.Equal(want, names) {
		t.Errorf("Readdirnames(-1) = %v, %v", names, err)
	}
}

// TestLstatPath: one lookup answers only for names with no symlink, file
// or missing directory on the way; the resolver walks the others.
func TestLstatPath(t *testing.T) {
	h := hostroottest.New().File("/etc/hostname", "x").Symlink("/etc/link", "hostname").Symlink("/l", "/etc").
		Device("/dev/null", hostroottest.Char, 1, 3, 0o666)
	for name, want := range map[string]string{
		"/etc/hostname":   "file",
		"/etc/link":       "symlink",
		"/l":              "symlink",
		"/dev/null":       "device",
		"/etc":            "dir",
		"/l/hostname":     "",
		"/etc/hostname/x": "",
		"/missing/x":      "",
		"/etc/missing":    "",
		"/etc/../etc":     "",
		"etc/hostname":    "",
		"/etc/":           "",
	} {
		fi, ok := h.LstatPath(name)
		got := ""
		if ok {
			switch m := fi.Mode(); {
			case m.IsDir():
				got = "dir"
			case m.IsRegular():
				got = "file"
			case m&fs.ModeSymlink != 0:
				got = "symlink"
			case m&fs.ModeDevice != 0:
				got = "device"
			}
		}
		if got != want {
			t.Errorf("LstatPath(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
}

// TestConcurrentUse: builders, writers and readers in parallel (run with
// -race).
func TestConcurrentUse(t *testing.T) {
	h := hostroottest.New().File("/proc/1/stat", "1")
	r := hostroottest.MustRoot(t, h)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			h.File("/proc/2/stat", "2")
			h.RemoveAll("/proc/2")
			h.Dir("/proc/" + strconv.Itoa(3+i))
		}
	}()
	for range 200 {
		if _, err := r.ReadFile("/proc/1/stat"); err != nil {
			t.Fatal(err)
		}
		if _, err := r.ReadDirNames("/proc"); err != nil {
			t.Fatal(err)
		}
		r.ReadFile("/proc/2/stat")
	}
	<-done
}

// LoadTar takes any bytes without panicking, and whatever loads reads
// back through a Root, process roots included.
func FuzzLoadTar(f *testing.F) {
	f.Add(tarOf(f, []*tar.Header{
		{Name: "proc/7/stat", Typeflag: tar.TypeReg, Mode: 0o444},
		{Name: ".procroots/7/dev/null", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 3, Mode: 0o666},
		{Name: ".procroots/8", Typeflag: tar.TypeSymlink, Linkname: "7"},
	}, map[string]string{"proc/7/stat": "7 (a) S"}))
	f.Add(tarOf(f, []*tar.Header{
		{Name: ".procroots/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: ".procroots/0009", Typeflag: tar.TypeSymlink, Linkname: "../../x"},
		{Name: ".procroots/99999999999999999999/", Typeflag: tar.TypeDir, Mode: 0o755},
	}, nil))
	f.Fuzz(func(t *testing.T, data []byte) {
		h := hostroottest.New()
		if err := h.LoadTar(bytes.NewReader(data)); err != nil {
			return
		}
		r, err := h.Root()
		if err != nil {
			return
		}
		for pid := 1; pid <= 10; pid++ {
			if pr, err := r.ProcRoot(pid); err == nil {
				pr.ReadDirNames("/")
				pr.Close()
			}
		}
	})
}
