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

func tarOf(t *testing.T, entries []*tar.Header, contents map[string]string) []byte {
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
