package hostroot_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hostscope/hostscope/hostroot"
)

// FuzzResolveFast is FuzzResolve with the on-disk tree built once per
// fuzzing process and only its three fuzzed symlinks replaced per input,
// so the kernel, the userspace walk and the in-memory resolver are compared
// on a hundred times more inputs in the same budget.
func FuzzResolveFast(f *testing.F) {
	for _, seed := range [][4]string{
		{"/etc", "../..", "x", "/l1/hostname"},
		{"../../host-secret/key", "/a/b/l3", "/l1", "/a/l2"},
		{"/proc/1/root", "l2", "../../l1", "/a/b/l3/etc/hostname"},
		{".", "..", "/", "/a/b/l3/../../l1/./x"},
		{"/etc/hostname/", "/a/b/c", "../b/c/file", "/a/l2/"},
		{"l1", "/a/l2", "/a/b/l3", "/l1/"},
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3])
	}
	fixed := []entry{
		{"/etc/hostname", "file", "fixture-host\n"},
		{"/a/b/c/file", "file", "deep\n"},
		{"/proc/1/stat", "file", "1 (init) S"},
		{"/proc/1/root", "symlink", "/"},
	}
	top := diskTree(f, fixed)
	disk, err := hostroot.Dir(top)
	if err != nil {
		f.Fatal(err)
	}
	defer disk.Close()
	walk, err := hostroot.DirWithoutOpenat2(top)
	if err != nil {
		f.Fatal(err)
	}
	defer walk.Close()
	links := []string{"/l1", "/a/l2", "/a/b/l3"}
	f.Fuzz(func(t *testing.T, l1, l2, l3, name string) {
		texts := []string{l1, l2, l3}
		for _, s := range texts {
			if s == "" || len(s) > 120 || strings.IndexByte(s, 0) >= 0 {
				t.Skip("not a symlink text a file system can hold")
			}
		}
		if len(name) > 200 {
			t.Skip("longer than the names this fuzzer compares")
		}
		for _, c := range strings.Split(name, "/") {
			if len(c) > 60 {
				t.Skip("component longer than the names this fuzzer compares")
			}
		}
		es := append([]entry(nil), fixed...)
		for i, l := range links {
			p := filepath.Join(top, l)
			os.Remove(p)
			if err := os.Symlink(texts[i], p); err != nil {
				t.Fatal(err)
			}
			es = append(es, entry{l, "symlink", texts[i]})
		}
		roots := map[string]*hostroot.Root{
			"disk (openat2)":         disk,
			"disk (userspace, walk)": walk,
			"io/fs (fstest.MapFS)":   buildMapFS(es),
		}
		ref := buildMemory(t, es)
		for _, op := range []string{"read", "stat", "lstat", "readlink", "readdir", "open"} {
			q := query{op, name}
			want := ask(ref, q)
			for label, r := range roots {
				got := ask(r, q)
				if strings.HasPrefix(got.Content, "ESCAPED") {
					t.Fatalf("%s %q on %s read outside the root: %q", op, name, label, got.Content)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("%s %q (l1=%q l2=%q l3=%q): %s differs from memory (-memory +%s):\n%s", op, name, l1, l2, l3, label, label, diff)
				}
			}
		}
	})
}

// diskTree writes plain files and symlinks under DIR/host, with the secret
// next to it in DIR/host-secret, as buildDisk does, for any testing.TB.
func diskTree(tb testing.TB, es []entry) string {
	tb.Helper()
	base := tb.TempDir()
	top := filepath.Join(base, "host")
	must := func(err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(base, "host-secret"), 0o755))
	must(os.WriteFile(filepath.Join(base, "host-secret", "key"), []byte(secret), 0o644))
	for _, e := range es {
		p := filepath.Join(top, e.name)
		must(os.MkdirAll(filepath.Dir(p), 0o755))
		switch e.kind {
		case "file":
			must(os.WriteFile(p, []byte(e.content), 0o644))
		case "symlink":
			must(os.Symlink(e.content, p))
		default:
			tb.Fatalf("diskTree: kind %s", e.kind)
		}
	}
	return top
}
