package hostroot_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
	"golang.org/x/sys/unix"
)

// entry is one node of a conformance fixture, built identically in memory
// and on disk.
type entry struct {
	name    string
	kind    string // file, dir, symlink, fifo, chardev
	content string // file content or symlink text
}

// secret is what lives outside the on-disk root, next to it, under a name
// sharing the root's prefix ("host" and "host-secret"). No answer may ever
// contain it.
const secret = "SECRET-OUTSIDE-THE-ROOT"

// treeFixture exercises the resolver without a /proc, so that on disk the
// kernel answers with RESOLVE_IN_ROOT in one call.
func treeFixture() []entry {
	es := []entry{
		{"/etc/hostname", "file", "fixture-host\n"},
		{"/etc/passwd", "file", "root:x:0:0::/root:/bin/sh\n"},
		{"/etc/rel", "symlink", "hostname"},
		{"/etc/abs", "symlink", "/etc/hostname"},
		{"/etc/dotdot", "symlink", "../etc/./hostname"},
		{"/a/b/up", "symlink", "../../etc/hostname"},
		{"/a/b/c/file", "file", "deep\n"},
		{"/a/b/deeplink", "symlink", "c"},
		{"/dirlink", "symlink", "/etc"},
		{"/reldirlink", "symlink", "a/b"},
		{"/above1", "symlink", "../../../../../etc/hostname"},
		{"/above2", "symlink", "/../../etc/passwd"},
		{"/sibling", "symlink", "../host-secret/key"},
		{"/sibling-abs", "symlink", "/../host-secret/key"},
		{"/loop1", "symlink", "/loop2"},
		{"/loop2", "symlink", "loop1"},
		{"/selfloop", "symlink", "selfloop"},
		{"/dangling", "symlink", "/nonexistent/file"},
		{"/empty", "dir", ""},
		{"/run/secrets/token", "file", "tok\n"},
		{"/var/run", "symlink", "../run"},
		{"/fifo", "fifo", ""},
		{"/dev/null", "chardev", ""},
		{"/dev/stdin", "symlink", "/proc/self/fd/0"},
		{"/bigfile", "file", strings.Repeat("x", 5000)},
	}
	// A chain of 41 symlinks: following 40 works, 41 fails with ELOOP.
	for i := 0; i <= 40; i++ {
		es = append(es, entry{fmt.Sprintf("/chain/l%d", i), "symlink", fmt.Sprintf("l%d", i+1)})
	}
	es = append(es, entry{"/chain/l41", "file", "end of chain\n"})
	return es
}

// procFixture holds /proc as a plain tree with links shaped like procfs's
// magic links: no lookup may follow them, wherever the tree is stored.
func procFixture() []entry {
	return []entry{
		{"/etc/hostname", "file", "fixture-host\n"},
		{"/proc/1/stat", "file", "1 (init) S 0 1 1 0 -1 4194560\n"},
		{"/proc/1/exe", "symlink", "/usr/lib/systemd/systemd"},
		{"/proc/1/root", "symlink", "/"},
		{"/proc/1/cwd", "symlink", "/"},
		{"/proc/1/fd/0", "symlink", "/dev/null"},
		{"/proc/1/ns/net", "symlink", "net:[4026531840]"},
		{"/proc/1/task/1/root", "symlink", "/"},
		{"/proc/self", "symlink", "1"},
		{"/proc/mounts", "symlink", "self/mounts"},
		{"/proc/1/mounts", "file", "proc /proc proc rw 0 0\n"},
		{"/etc/mtab", "symlink", "../proc/self/mounts"},
		{"/via-magic", "symlink", "/proc/1/root/etc/hostname"},
		{"/dev/null", "file", ""},
	}
}

// query is one operation and name the suite asks every root.
type query struct {
	op, name string
}

// outcome is what a root answered, in a form go-cmp can compare across
// backends: errors reduced to their errno or sentinel.
type outcome struct {
	Type    string
	Size    int64
	Content string
	Names   []string
	Err     string
}

func errKey(err error) string {
	if err == nil {
		return ""
	}
	for _, s := range []error{hostroot.ErrNotRegular, hostroot.ErrTooLarge, fs.ErrInvalid, errors.ErrUnsupported} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	return "other: " + err.Error()
}

func typeKey(fi fs.FileInfo) string {
	m := fi.Mode()
	switch {
	case m.IsDir():
		return "dir"
	case m.IsRegular():
		return "file"
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case m&fs.ModeNamedPipe != 0:
		return "fifo"
	case m&fs.ModeCharDevice != 0:
		return "chardev"
	case m&fs.ModeDevice != 0:
		return "blockdev"
	}
	return "other"
}

func ask(r *hostroot.Root, q query) outcome {
	var o outcome
	var err error
	switch q.op {
	case "read":
		var b []byte
		b, err = r.AppendFile(nil, q.name, 4096)
		o.Content = string(b)
	case "stat", "lstat":
		var fi fs.FileInfo
		if q.op == "stat" {
			fi, err = r.Stat(q.name)
		} else {
			fi, err = r.Lstat(q.name)
		}
		if err == nil {
			o.Type = typeKey(fi)
			if fi.Mode().IsRegular() {
				o.Size = fi.Size()
			}
		}
	case "readlink":
		o.Content, err = r.Readlink(q.name)
	case "resolve":
		o.Content, err = r.Resolve(q.name)
	case "readdir":
		o.Names, err = r.ReadDirNames(q.name)
		sort.Strings(o.Names)
	case "open":
		var f fs.File
		f, err = r.Open(q.name)
		if err == nil {
			fi, serr := f.Stat()
			if serr == nil {
				o.Type = typeKey(fi)
			}
			f.Close()
		}
	default:
		panic("unknown op " + q.op)
	}
	o.Err = errKey(err)
	if strings.Contains(o.Content, secret) {
		o.Content = "ESCAPED: " + o.Content
	}
	return o
}

func treeQueries() []query {
	var qs []query
	for _, n := range []string{
		"/etc/hostname", "/etc/rel", "/etc/abs", "/etc/dotdot", "/a/b/up",
		"/a/b/deeplink/file", "/dirlink/hostname", "/dirlink/../etc/passwd",
		"/reldirlink/c/file", "/reldirlink/../etc/hostname", "/reldirlink/../../../etc/hostname",
		"/above1", "/above2", "/sibling", "/sibling-abs", "/../host-secret/key",
		"/../../etc/passwd", "/a/../../../etc/hostname", "/loop1", "/selfloop", "/dangling",
		"/missing/file", "/etc/hostname/", "/etc/", "/dirlink/", "/etc/hostname/x",
		"/etc/hostname/..", "/etc//hostname", "/./etc/./hostname", "/", "/empty", "/empty/",
		"/var/run/secrets/token", "/fifo", "/dev/null", "/dev/stdin", "/bigfile",
		"/chain/l0", "/chain/l1", "/chain/l2", "/nonexistent", "etc/hostname", "",
	} {
		for _, op := range []string{"read", "stat", "lstat", "readlink", "open", "resolve"} {
			qs = append(qs, query{op, n})
		}
	}
	for _, n := range []string{"/", "/etc", "/dirlink", "/dirlink/", "/a/b/deeplink", "/etc/hostname", "/missing", "/loop1"} {
		qs = append(qs, query{"readdir", n})
	}
	return qs
}

func procQueries() []query {
	var qs []query
	for _, n := range []string{
		"/proc/1/stat", "/proc/self/stat", "/proc/1/exe", "/proc/1/root", "/proc/1/root/etc/hostname",
		"/proc/self/root/etc/hostname", "/proc/1/cwd/etc/hostname", "/proc/1/fd/0", "/proc/1/ns/net",
		"/proc/1/task/1/root/etc/hostname", "/proc/mounts", "/etc/mtab", "/via-magic", "/proc/1/root/",
	} {
		for _, op := range []string{"read", "stat", "lstat", "readlink", "resolve"} {
			qs = append(qs, query{op, n})
		}
	}
	qs = append(qs, query{"readdir", "/proc/1/root"}, query{"readdir", "/proc/self/"})
	return qs
}

func buildMemory(t *testing.T, es []entry) *hostroot.Root {
	t.Helper()
	h := hostroottest.New()
	for _, e := range es {
		switch e.kind {
		case "file":
			h.File(e.name, e.content)
		case "dir":
			h.Dir(e.name)
		case "symlink":
			h.Symlink(e.name, e.content)
		case "fifo":
			h.FIFO(e.name)
		case "chardev":
			h.Device(e.name, hostroottest.Char, 1, 3, 0o666)
		}
	}
	return hostroottest.MustRoot(t, h)
}

// buildDisk writes the fixture under DIR/host, with a secret in
// DIR/host-secret that symlinks try to reach. It returns DIR/host.
func buildDisk(t *testing.T, es []entry) string {
	t.Helper()
	base := t.TempDir()
	top := filepath.Join(base, "host")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(base, "host-secret"), 0o755))
	must(os.WriteFile(filepath.Join(base, "host-secret", "key"), []byte(secret), 0o644))
	must(os.MkdirAll(top, 0o755))
	for _, e := range es {
		p := filepath.Join(top, e.name)
		must(os.MkdirAll(filepath.Dir(p), 0o755))
		switch e.kind {
		case "file":
			must(os.WriteFile(p, []byte(e.content), 0o644))
		case "dir":
			must(os.MkdirAll(p, 0o755))
		case "symlink":
			must(os.Symlink(e.content, p))
		case "fifo":
			must(unix.Mkfifo(p, 0o644))
		case "chardev":
			if err := unix.Mknod(p, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
				t.Skipf("cannot create a device node (%v): the conformance suite needs root or CAP_MKNOD", err)
			}
		}
	}
	return top
}

// rootVariants returns the fixture as every kind of Root the suite compares.
func rootVariants(t *testing.T, es []entry) map[string]*hostroot.Root {
	t.Helper()
	top := buildDisk(t, es)
	disk, err := hostroot.Dir(top)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { disk.Close() })
	noKernel, err := hostroot.DirWithoutOpenat2(top)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { noKernel.Close() })
	return map[string]*hostroot.Root{
		"disk (openat2)":           disk,
		"disk (userspace, walk)":   noKernel,
		"in-memory (hostroottest)": buildMemory(t, es),
		"io/fs (fstest.MapFS)":     buildMapFS(es),
	}
}

func buildMapFS(es []entry) *hostroot.Root {
	m := fstest.MapFS{}
	for _, e := range es {
		name := strings.TrimPrefix(e.name, "/")
		switch e.kind {
		case "file":
			m[name] = &fstest.MapFile{Data: []byte(e.content), Mode: 0o644}
		case "dir":
			m[name] = &fstest.MapFile{Mode: fs.ModeDir | 0o755}
		case "symlink":
			m[name] = &fstest.MapFile{Data: []byte(e.content), Mode: fs.ModeSymlink | 0o777}
		case "fifo":
			m[name] = &fstest.MapFile{Mode: fs.ModeNamedPipe | 0o644}
		case "chardev":
			m[name] = &fstest.MapFile{Mode: fs.ModeDevice | fs.ModeCharDevice | 0o666}
		}
	}
	return hostroot.FromFS(m)
}

func runConformance(t *testing.T, es []entry, qs []query, wantEscapes func(q query, o outcome) string) {
	roots := rootVariants(t, es)
	ref := roots["in-memory (hostroottest)"]
	for _, q := range qs {
		want := ask(ref, q)
		if msg := wantEscapes(q, want); msg != "" {
			t.Errorf("%s %q in memory: %s (got %+v)", q.op, q.name, msg, want)
		}
		for label, r := range roots {
			got := ask(r, q)
			if strings.HasPrefix(got.Content, "ESCAPED") {
				t.Errorf("%s %q on %s read outside the root: %q", q.op, q.name, label, got.Content)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s %q: %s differs from in-memory (-memory +%s):\n%s", q.op, q.name, label, label, diff)
			}
		}
	}
}

func TestConformanceTree(t *testing.T) {
	runConformance(t, treeFixture(), treeQueries(), func(q query, o outcome) string {
		// Spot checks that pin the semantics, not only agreement.
		switch {
		case q.op == "read" && (q.name == "/above1" || q.name == "/etc/abs" || q.name == "/a/b/up") && o.Content != "fixture-host\n":
			return "want the fixture's /etc/hostname"
		case q.op == "read" && (q.name == "/sibling" || q.name == "/sibling-abs") && o.Err != syscall.ENOENT.Error():
			return "want ENOENT: ../host-secret resolves to /host-secret inside the root"
		case q.op == "read" && (q.name == "/loop1" || q.name == "/selfloop" || q.name == "/chain/l0") && o.Err != syscall.ELOOP.Error():
			return "want ELOOP"
		case q.op == "read" && q.name == "/chain/l1" && o.Content != "end of chain\n":
			return "want 40 links followed"
		case q.op == "read" && q.name == "/fifo" && o.Err != hostroot.ErrNotRegular.Error():
			return "want ErrNotRegular for a FIFO"
		case q.op == "read" && q.name == "/dev/null" && o.Err != hostroot.ErrNotRegular.Error():
			return "want ErrNotRegular for a device node"
		case q.op == "read" && q.name == "/bigfile" && o.Err != hostroot.ErrTooLarge.Error():
			return "want ErrTooLarge past the 4096-byte limit"
		case q.op == "stat" && q.name == "/etc/hostname/" && o.Err != syscall.ENOTDIR.Error():
			return "want ENOTDIR for a trailing slash on a file"
		case q.op == "lstat" && q.name == "/dirlink/" && o.Type != "dir":
			return "want a trailing slash to follow the link"
		case q.op == "readlink" && q.name == "/etc/hostname" && o.Err != syscall.EINVAL.Error():
			return "want EINVAL reading a non-link"
		case q.name == "etc/hostname" && o.Err != fs.ErrInvalid.Error():
			return "want relative names refused"
		}
		return ""
	})
}

func TestConformanceMagicLinks(t *testing.T) {
	runConformance(t, procFixture(), procQueries(), func(q query, o outcome) string {
		switch {
		case q.op == "readlink" && q.name == "/proc/1/exe" && o.Content != "/usr/lib/systemd/systemd":
			return "want the raw link text"
		case q.op == "read" && strings.Contains(q.name, "root/etc") && o.Err != syscall.ELOOP.Error():
			return "want ELOOP: magic links are never followed"
		case q.op == "read" && q.name == "/via-magic" && o.Err != syscall.ELOOP.Error():
			return "want ELOOP: reaching a magic link through another link"
		case q.op == "read" && q.name == "/etc/mtab" && o.Content != "proc /proc proc rw 0 0\n":
			return "want /proc/self and /proc/mounts followed (they are not magic)"
		}
		return ""
	})
}
