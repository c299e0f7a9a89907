package hostroot_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzResolve builds the same small tree, with three symlinks whose text
// the fuzzer chooses, in memory and on disk, and asks every kind of Root the
// same question about a name the fuzzer chooses. No answer may panic, differ
// between the userspace resolver and the kernel, or contain the secret that
// lives next to the on-disk root.
func FuzzResolve(f *testing.F) {
	for _, seed := range [][4]string{
		{"/etc", "../..", "x", "/l1/hostname"},
		{"../../host-secret/key", "/a/b/l3", "/l1", "/a/l2"},
		{"/proc/1/root", "l2", "../../l1", "/a/b/l3/etc/hostname"},
		{"l1", "/a/l2", "/a/b/l3", "/l1/"},
		{".", "..", "/", "/a/b/l3/../../l1/./x"},
		{"/etc/hostname/", "/a/b/c", "../b/c/file", "/a/l2/"},
		{"", "a//b", "/..//../etc", "//a/./b/../../l1"},
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3])
	}
	f.Fuzz(func(t *testing.T, l1, l2, l3, name string) {
		for _, s := range []string{l1, l2, l3} {
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
		es := []entry{
			{"/etc/hostname", "file", "fixture-host\n"},
			{"/a/b/c/file", "file", "deep\n"},
			{"/proc/1/stat", "file", "1 (init) S"},
			{"/proc/1/root", "symlink", "/"},
			{"/l1", "symlink", l1},
			{"/a/l2", "symlink", l2},
			{"/a/b/l3", "symlink", l3},
		}
		roots := rootVariants(t, es)
		ref := roots["in-memory (hostroottest)"]
		for _, op := range []string{"read", "stat", "lstat", "readlink", "readdir"} {
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
