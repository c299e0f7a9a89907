// Package hostroottest builds in-memory hosts for tests: a file tree with
// the symlinks, device nodes, FIFOs and owners that afero's MemMapFs cannot
// hold, and the mapping that lets hostroot.Root.ProcRoot enter a process's
// root directory. A Host is an afero.Fs; hostroot.FromAfero (or Host.Root)
// reads it with the same chroot semantics, and the same reader code, as a
// real host.
//
// A Host also loads a directory tree or a tar archive (such as one captured
// by examples/snapshot on a real machine, with the containers' /dev it
// recorded as their processes' roots: see ProcRootsDir), so a bug report's
// snapshot becomes a unit test.
//
// Host stores; it resolves nothing. Its afero methods take names literally
// and follow no symlink (Stat excepted, which resolves through a Root): read
// a Host through hostroot.Root, which applies the resolver.
//
// The tree is a node per file with a map of children per directory, so a
// lookup costs one map probe per component however many files the Host
// holds: a fixture of 100,000 processes reads as fast, per process, as one
// of a thousand. Every node has an inode number (the root's is 1).
package hostroottest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hostscope/hostscope/hostroot"
	"github.com/spf13/afero"
)

// Kind is the type of a device node.
type Kind int

// Device node kinds.
const (
	Block Kind = iota + 1
	Char
)

// Host is an in-memory host file system. Builder methods (File, Dir,
// Symlink, Owner, ...) return the Host for chaining and record the first error,
// which Root and Err report. A Host is safe for concurrent use.
type Host struct {
	mu sync.RWMutex
	// sortMu guards the sorted name caches, which readers fill under mu's
	// read lock.
	sortMu    sync.Mutex
	root      *node
	procRoots map[int]string
	nextIno   uint64
	err       error
	// baseNames interns the base names of nodes: a host of thousands of
	// processes holds a few names ("stat", "status", ...) thousands of
	// times, and every string is one more object for the garbage collector
	// to mark.
	baseNames map[string]string
	// nodes and data are the unused tails of the chunks new nodes and small
	// file contents are carved from: a host of 100,000 processes is then
	// thousands of objects instead of a million, which the garbage
	// collector scans in order instead of chasing. Nothing in a chunk is
	// ever modified in place once used (a write replaces a file's data).
	nodes []node
	data  []byte
}

// Chunk sizes: nodes are about 300 bytes; contents above dataMax get an
// allocation of their own.
const (
	nodeChunk = 256
	dataChunk = 64 << 10
	dataMax   = 4 << 10
)

// allocNode returns a zero node from the current chunk. The caller holds
// the write lock.
func (h *Host) allocNode() *node {
	if len(h.nodes) == 0 {
		h.nodes = make([]node, nodeChunk)
	}
	n := &h.nodes[0]
	h.nodes = h.nodes[1:]
	return n
}

// copyData returns a copy of b, from the current chunk when it is small.
// The caller holds the write lock.
func (h *Host) copyData(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	if len(b) > dataMax {
		return append([]byte(nil), b...)
	}
	if len(h.data) < len(b) {
		h.data = make([]byte, dataChunk)
	}
	// Capacity cut at the copy's end: no append can reach the next one.
	c := h.data[:len(b):len(b)]
	copy(c, b)
	h.data = h.data[len(b):]
	return c
}

// node is one file of a Host. Its fields change only under the Host's
// write lock.
type node struct {
	name    string      // base name, "/" for the root
	mode    fs.FileMode // type bits and permissions
	data    []byte      // content of a regular file
	target  string      // text of a symlink
	stat    hostroot.Stat
	modTime time.Time
	// children of a directory, by name; sorted caches their names in
	// order, nil when stale.
	children map[string]*node
	sorted   []string
	// fi is what Lstat returns: replaced whenever the node changes, never
	// modified, so lookups share it and allocate nothing. A new node's
	// first one is info0, in the node itself (one object fewer).
	fi    *info
	info0 info
}

// New returns an empty Host holding only "/".
func New() *Host {
	h := &Host{procRoots: map[int]string{}, nextIno: 1, baseNames: map[string]string{}}
	h.root = &node{name: "/", mode: fs.ModeDir | 0o755, children: map[string]*node{},
		stat: hostroot.Stat{Ino: 1, Nlink: 1}, modTime: time.Now()}
	h.root.info0 = h.root.snapshot()
	h.root.fi = &h.root.info0
	return h
}

// snapshot is the node's FileInfo as it is now.
func (n *node) snapshot() info {
	size := int64(0)
	switch {
	case n.mode.IsRegular():
		size = int64(len(n.data))
	case n.mode&fs.ModeSymlink != 0:
		size = int64(len(n.target))
	}
	return info{name: n.name, mode: n.mode, size: size, modTime: n.modTime, stat: n.stat}
}

// refresh replaces the FileInfo of a node in the tree after a change; the
// old one stays as readers took it.
func (n *node) refresh() {
	fi := n.snapshot()
	n.fi = &fi
}

// newNode makes a node, not yet in the tree, with a fresh inode number. The
// caller holds the write lock.
func (h *Host) newNode(name string, mode fs.FileMode, data []byte, target string, st hostroot.Stat) *node {
	h.nextIno++
	st.Ino, st.Nlink = h.nextIno, 1
	n := h.allocNode()
	*n = node{name: h.intern(name), mode: mode, data: h.copyData(data), target: target, stat: st, modTime: time.Now()}
	if mode.IsDir() {
		n.children = map[string]*node{}
	}
	n.info0 = n.snapshot()
	n.fi = &n.info0
	return n
}

// intern returns the Host's copy of a base name. The caller holds the
// write lock.
func (h *Host) intern(name string) string {
	if s, ok := h.baseNames[name]; ok {
		return s
	}
	if len(h.baseNames) < 1<<12 {
		name = strings.Clone(name) // not the rest of the caller's path
		h.baseNames[name] = name
	}
	return name
}

// link puts child into dir under its name, replacing what was there.
func (dir *node) link(child *node) {
	if _, ok := dir.children[child.name]; !ok {
		dir.sorted = nil
	}
	dir.children[child.name] = child
}

func (dir *node) unlink(name string) {
	delete(dir.children, name)
	dir.sorted = nil
}

// names returns the directory's names in order; the slice is shared. The
// caller holds h.mu.
func (h *Host) names(dir *node) []string {
	h.sortMu.Lock()
	defer h.sortMu.Unlock()
	if dir.sorted == nil {
		dir.sorted = make([]string, 0, len(dir.children))
		for name := range dir.children {
			dir.sorted = append(dir.sorted, name)
		}
		sort.Strings(dir.sorted)
	}
	return dir.sorted
}

// Err returns the first error a builder method met.
func (h *Host) Err() error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.err
}

func (h *Host) fail(err error) *Host {
	h.mu.Lock()
	if h.err == nil {
		h.err = err
	}
	h.mu.Unlock()
	return h
}

// Root returns a hostroot.Root reading the Host, or the first builder error.
func (h *Host) Root() (*hostroot.Root, error) {
	if err := h.Err(); err != nil {
		return nil, err
	}
	return hostroot.FromAfero(h), nil
}

// MustRoot returns h.Root(), failing the test on a builder error.
func MustRoot(tb testing.TB, h *Host) *hostroot.Root {
	tb.Helper()
	r, err := h.Root()
	if err != nil {
		tb.Fatalf("hostroottest: building the host: %v", err)
	}
	return r
}

// clean checks that name is absolute and returns it cleaned.
func clean(op, name string) (string, error) {
	if name == "" || name[0] != '/' {
		return "", &fs.PathError{Op: op, Path: name, Err: errors.New("hostroottest: names must be absolute")}
	}
	return path.Clean(name), nil
}

// canonical returns name as an absolute clean name, as afero's file systems
// take names ("a/b" is "/a/b"), allocating only when it is not one already.
func canonical(name string) string {
	if isCanonical(name) {
		return name
	}
	return path.Clean("/" + name)
}

func isCanonical(name string) bool {
	if name == "/" {
		return true
	}
	if name == "" || name[0] != '/' || name[len(name)-1] == '/' {
		return false
	}
	start := 1
	for i := 1; i <= len(name); i++ {
		if i == len(name) || name[i] == '/' {
			if c := name[start:i]; c == "" || c == "." || c == ".." {
				return false
			}
			start = i + 1
		}
	}
	return true
}

// lookup finds the canonical name literally: no symlink is followed, and a
// component that is not a directory fails with ENOTDIR. The caller holds
// the lock.
func (h *Host) lookup(op, name string) (*node, error) {
	n := h.root
	for rest := name[1:]; rest != ""; {
		comp := rest
		rest = ""
		for i := 0; i < len(comp); i++ {
			if comp[i] == '/' {
				comp, rest = comp[:i], comp[i+1:]
				break
			}
		}
		if n.children == nil {
			return nil, &fs.PathError{Op: op, Path: name, Err: syscall.ENOTDIR}
		}
		c, ok := n.children[comp]
		if !ok {
			return nil, &fs.PathError{Op: op, Path: name, Err: syscall.ENOENT}
		}
		n = c
	}
	return n, nil
}

// parentFor finds or creates the directories above the canonical name,
// refusing to create anything below a symlink or a special file, which would
// make a tree no kernel can. The caller holds the write lock.
func (h *Host) parentFor(op, name string) (*node, string, error) {
	dir, base := path.Split(name)
	n := h.root
	for rest := dir[1:]; rest != ""; {
		comp := rest
		rest = ""
		for i := 0; i < len(comp); i++ {
			if comp[i] == '/' {
				comp, rest = comp[:i], comp[i+1:]
				break
			}
		}
		c, ok := n.children[comp]
		switch {
		case !ok:
			c = h.newNode(comp, fs.ModeDir|0o755, nil, "", hostroot.Stat{})
			n.link(c)
		case c.mode.IsRegular():
			return nil, "", &fs.PathError{Op: op, Path: name, Err: syscall.ENOTDIR}
		case !c.mode.IsDir():
			return nil, "", &fs.PathError{Op: op, Path: name, Err: fmt.Errorf("hostroottest: %s is a %v, not a directory", path.Join(dir[:len(dir)-len(rest)]), c.mode.Type())}
		}
		n = c
	}
	return n, base, nil
}

// put stores a non-directory node at the canonical name, creating its
// parents. What was there before, unless a directory, is replaced, keeping
// its inode number; owner and mode are the new node's.
func (h *Host) put(op, name string, mode fs.FileMode, data []byte, target string, st hostroot.Stat) error {
	if name == "/" {
		return &fs.PathError{Op: op, Path: name, Err: fs.ErrExist}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	dir, base, err := h.parentFor(op, name)
	if err != nil {
		return err
	}
	n := dir.children[base]
	switch {
	case n == nil:
		dir.link(h.newNode(base, mode, data, target, st))
		return nil
	case n.mode.IsDir():
		return &fs.PathError{Op: op, Path: name, Err: fs.ErrExist}
	}
	st.Ino, st.Nlink = n.stat.Ino, 1
	n.mode, n.data, n.target, n.stat, n.modTime = mode, h.copyData(data), target, st, time.Now()
	n.refresh()
	return nil
}

// File creates a regular file with mode 0644, creating its parents.
func (h *Host) File(name, content string) *Host {
	return h.FileMode(name, content, 0o644)
}

// FileMode creates a regular file with the given permission bits.
func (h *Host) FileMode(name, content string, perm fs.FileMode) *Host {
	return h.fileBytes(name, []byte(content), perm)
}

func (h *Host) fileBytes(name string, content []byte, perm fs.FileMode) *Host {
	name, err := clean("file", name)
	if err != nil {
		return h.fail(err)
	}
	if err := h.put("file", name, perm.Perm(), content, "", hostroot.Stat{}); err != nil {
		return h.fail(err)
	}
	return h
}

// Dir creates a directory (mode 0755) and its parents. On an existing
// directory it resets the mode to 0755 and the owner to root.
func (h *Host) Dir(name string) *Host {
	name, err := clean("mkdir", name)
	if err != nil {
		return h.fail(err)
	}
	if name == "/" {
		return h
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	dir, base, err := h.parentFor("mkdir", name)
	if err != nil {
		h.failLocked(err)
		return h
	}
	n := dir.children[base]
	switch {
	case n == nil:
		dir.link(h.newNode(base, fs.ModeDir|0o755, nil, "", hostroot.Stat{}))
	case !n.mode.IsDir():
		h.failLocked(&fs.PathError{Op: "mkdir", Path: name, Err: fs.ErrExist})
	default:
		n.mode, n.stat.UID, n.stat.GID = fs.ModeDir|0o755, 0, 0
		n.refresh()
	}
	return h
}

func (h *Host) failLocked(err error) {
	if h.err == nil {
		h.err = err
	}
}

// Symlink creates name as a symlink whose text is target, which may be
// absolute, relative, dangling or looping, exactly as on disk.
func (h *Host) Symlink(name, target string) *Host {
	return h.special("symlink", name, fs.ModeSymlink|0o777, target, hostroot.Stat{})
}

// Device creates a block or character device node.
func (h *Host) Device(name string, kind Kind, major, minor uint32, perm fs.FileMode) *Host {
	mode := fs.ModeDevice | perm.Perm()
	if kind == Char {
		mode |= fs.ModeCharDevice
	}
	return h.special("mknod", name, mode, "", hostroot.Stat{RdevMajor: major, RdevMinor: minor})
}

// FIFO creates a named pipe.
func (h *Host) FIFO(name string) *Host {
	return h.special("mkfifo", name, fs.ModeNamedPipe|0o644, "", hostroot.Stat{})
}

// special stores a node that is neither a regular file nor a directory.
func (h *Host) special(op, name string, mode fs.FileMode, target string, st hostroot.Stat) *Host {
	name, err := clean(op, name)
	if err != nil {
		return h.fail(err)
	}
	if err := h.put(op, name, mode, nil, target, st); err != nil {
		return h.fail(err)
	}
	return h
}

// Owner sets the owner of an existing name.
func (h *Host) Owner(name string, uid, gid uint32) *Host {
	name, err := clean("chown", name)
	if err != nil {
		return h.fail(err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	n, err := h.lookup("chown", name)
	if err != nil {
		h.failLocked(err)
		return h
	}
	n.stat.UID, n.stat.GID = uid, gid
	n.refresh()
	return h
}

// ProcRoot makes dir, a directory of this Host, the root directory of
// process pid: what /proc/PID/root shows on a real host. Root.ProcRoot(pid)
// then reads that subtree with chroot semantics inside it.
func (h *Host) ProcRoot(pid int, dir string) *Host {
	dir, err := clean("procroot", dir)
	if err != nil {
		return h.fail(err)
	}
	h.Dir(dir)
	h.mu.Lock()
	h.procRoots[pid] = dir
	h.mu.Unlock()
	return h
}

// ProcRootFS implements hostroot.ProcRooter.
func (h *Host) ProcRootFS(pid int) (afero.Fs, error) {
	h.mu.RLock()
	dir, ok := h.procRoots[pid]
	h.mu.RUnlock()
	if !ok {
		return nil, &fs.PathError{Op: "procroot", Path: fmt.Sprintf("/proc/%d/root", pid), Err: fs.ErrNotExist}
	}
	return &subtree{h: h, dir: dir}, nil
}

// info is a FileInfo carrying a Host's metadata.
type info struct {
	name    string
	mode    fs.FileMode
	size    int64
	modTime time.Time
	stat    hostroot.Stat
}

func (i *info) Name() string       { return i.name }
func (i *info) Mode() fs.FileMode  { return i.mode }
func (i *info) IsDir() bool        { return i.mode.IsDir() }
func (i *info) Size() int64        { return i.size }
func (i *info) ModTime() time.Time { return i.modTime }

// Sys returns the node's *hostroot.Stat, shared by every reader of this
// FileInfo as os shares its *syscall.Stat_t: do not modify it.
func (i *info) Sys() any { return &i.stat }

// LstatIfPossible implements afero.Lstater: it describes name itself.
func (h *Host) LstatIfPossible(name string) (os.FileInfo, bool, error) {
	name = canonical(name)
	h.mu.RLock()
	defer h.mu.RUnlock()
	n, err := h.lookup("lstat", name)
	if err != nil {
		return nil, true, err
	}
	return n.fi, true, nil
}

// LstatPath implements hostroot.PathLstater: it describes the canonical
// name in one lookup when every component before the last is a directory,
// and reports false otherwise (a symlink, a file or nothing on the way),
// leaving the walk to the Root's resolver.
func (h *Host) LstatPath(name string) (fs.FileInfo, bool) {
	if !isCanonical(name) {
		return nil, false
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	n, err := h.lookup("lstat", name)
	if err != nil {
		return nil, false
	}
	return n.fi, true
}

// ReadlinkIfPossible implements afero.LinkReader.
func (h *Host) ReadlinkIfPossible(name string) (string, error) {
	name = canonical(name)
	h.mu.RLock()
	defer h.mu.RUnlock()
	n, err := h.lookup("readlink", name)
	if err != nil {
		return "", err
	}
	if n.mode&fs.ModeSymlink == 0 {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: syscall.EINVAL}
	}
	return n.target, nil
}

// SymlinkIfPossible implements afero.Linker.
func (h *Host) SymlinkIfPossible(oldname, newname string) error {
	h.Symlink(newname, oldname)
	return h.Err()
}

// Stat describes name, following symlinks with chroot semantics through a
// hostroot.Root.
func (h *Host) Stat(name string) (os.FileInfo, error) {
	fi, _, err := h.LstatIfPossible(name)
	if err == nil && fi.Mode()&fs.ModeSymlink == 0 {
		return fi, nil
	}
	return hostroot.FromAfero(h).Stat(canonical(name))
}

// Name implements afero.Fs.
func (h *Host) Name() string { return "hostroottest.Host" }

// Open opens name literally; a symlink is not followed (read through a Root).
func (h *Host) Open(name string) (afero.File, error) {
	name = canonical(name)
	h.mu.RLock()
	defer h.mu.RUnlock()
	n, err := h.lookup("open", name)
	if err != nil {
		return nil, err
	}
	if n.mode&fs.ModeSymlink != 0 {
		return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.ELOOP}
	}
	return &file{h: h, n: n, name: name, read: true}, nil
}

// OpenFile implements afero.Fs; writing through it is how tests change a
// Host after building it. O_CREATE makes the file's parents as File does.
func (h *Host) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	if flag == os.O_RDONLY {
		return h.Open(name)
	}
	name = canonical(name)
	h.mu.Lock()
	defer h.mu.Unlock()
	n, err := h.lookup("open", name)
	switch {
	case err == nil && flag&os.O_EXCL != 0 && flag&os.O_CREATE != 0:
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrExist}
	case errors.Is(err, fs.ErrNotExist) && flag&os.O_CREATE != 0:
		dir, base, perr := h.parentFor("open", name)
		if perr != nil {
			return nil, perr
		}
		n = h.newNode(base, perm.Perm(), nil, "", hostroot.Stat{})
		dir.link(n)
	case err != nil:
		return nil, err
	case n.mode.IsDir():
		return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.EISDIR}
	case n.mode&fs.ModeSymlink != 0:
		return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.ELOOP}
	}
	f := &file{h: h, n: n, name: name, write: flag&(os.O_WRONLY|os.O_RDWR) != 0, read: flag&os.O_WRONLY == 0}
	if flag&os.O_TRUNC != 0 && f.write {
		n.data, n.modTime = nil, time.Now()
		n.refresh()
	}
	if flag&os.O_APPEND != 0 {
		f.off = int64(len(n.data))
	}
	return f, nil
}

// Create implements afero.Fs.
func (h *Host) Create(name string) (afero.File, error) {
	return h.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
}

// Mkdir implements afero.Fs. The parent must exist.
func (h *Host) Mkdir(name string, perm os.FileMode) error {
	name = canonical(name)
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, err := h.lookup("mkdir", name); err == nil {
		return &fs.PathError{Op: "mkdir", Path: name, Err: fs.ErrExist}
	}
	dir, err := h.lookup("mkdir", path.Dir(name))
	if err != nil {
		return err
	}
	if !dir.mode.IsDir() {
		return &fs.PathError{Op: "mkdir", Path: name, Err: syscall.ENOTDIR}
	}
	dir.link(h.newNode(path.Base(name), fs.ModeDir|perm.Perm(), nil, "", hostroot.Stat{}))
	return nil
}

// MkdirAll implements afero.Fs.
func (h *Host) MkdirAll(name string, perm os.FileMode) error {
	name = canonical(name)
	h.mu.Lock()
	defer h.mu.Unlock()
	if n, err := h.lookup("mkdir", name); err == nil {
		if !n.mode.IsDir() {
			return &fs.PathError{Op: "mkdir", Path: name, Err: syscall.ENOTDIR}
		}
		return nil
	}
	dir, base, err := h.parentFor("mkdir", name)
	if err != nil {
		return err
	}
	dir.link(h.newNode(base, fs.ModeDir|perm.Perm(), nil, "", hostroot.Stat{}))
	return nil
}

// Remove implements afero.Fs: a file, or an empty directory. RemoveAll
// removes a whole process directory, which is how tests make a process
// vanish.
func (h *Host) Remove(name string) error {
	name = canonical(name)
	if name == "/" {
		return &fs.PathError{Op: "remove", Path: name, Err: syscall.EBUSY}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	n, err := h.lookup("remove", name)
	if err != nil {
		return err
	}
	if len(n.children) > 0 {
		return &fs.PathError{Op: "remove", Path: name, Err: syscall.ENOTEMPTY}
	}
	dir, _ := h.lookup("remove", path.Dir(name))
	dir.unlink(n.name)
	return nil
}

// RemoveAll implements afero.Fs; a missing name is no error.
func (h *Host) RemoveAll(name string) error {
	name = canonical(name)
	h.mu.Lock()
	defer h.mu.Unlock()
	if name == "/" {
		h.root.children = map[string]*node{}
		h.root.sorted = nil
		return nil
	}
	dir, err := h.lookup("remove", path.Dir(name))
	if err != nil || dir.children == nil {
		return nil
	}
	dir.unlink(path.Base(name))
	return nil
}

// Rename implements afero.Fs: the node, and a directory's whole subtree,
// moves; what was at newname is replaced unless it is a directory.
func (h *Host) Rename(oldname, newname string) error {
	oldname, newname = canonical(oldname), canonical(newname)
	if oldname == newname {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	n, err := h.lookup("rename", oldname)
	if err != nil {
		return err
	}
	if oldname == "/" || (len(newname) > len(oldname) && newname[:len(oldname)] == oldname && newname[len(oldname)] == '/') {
		return &fs.PathError{Op: "rename", Path: newname, Err: syscall.EINVAL}
	}
	if old, err := h.lookup("rename", newname); err == nil && old.mode.IsDir() {
		return &fs.PathError{Op: "rename", Path: newname, Err: fs.ErrExist}
	}
	to, base, err := h.parentFor("rename", newname)
	if err != nil {
		return err
	}
	from, _ := h.lookup("rename", path.Dir(oldname))
	from.unlink(n.name)
	n.name = h.intern(base)
	n.refresh()
	to.link(n)
	return nil
}

// Chmod implements afero.Fs; it keeps the file's type.
func (h *Host) Chmod(name string, mode os.FileMode) error {
	name = canonical(name)
	h.mu.Lock()
	defer h.mu.Unlock()
	n, err := h.lookup("chmod", name)
	if err != nil {
		return err
	}
	n.mode = n.mode.Type() | mode.Perm()
	n.refresh()
	return nil
}

// Chown implements afero.Fs; the builder's form is Owner.
func (h *Host) Chown(name string, uid, gid int) error {
	name, err := clean("chown", name)
	if err != nil {
		return err
	}
	before := h.Err()
	h.Owner(name, uint32(uid), uint32(gid))
	if err := h.Err(); err != before {
		return err
	}
	return nil
}

// Chtimes implements afero.Fs.
func (h *Host) Chtimes(name string, _, mtime time.Time) error {
	name = canonical(name)
	h.mu.Lock()
	defer h.mu.Unlock()
	n, err := h.lookup("chtimes", name)
	if err != nil {
		return err
	}
	n.modTime = mtime
	n.refresh()
	return nil
}
