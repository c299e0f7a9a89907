// Package hostroottest builds in-memory hosts for tests: a file tree with
// the symlinks, device nodes, FIFOs and owners that afero's MemMapFs cannot
// hold, and the mapping that lets hostroot.Root.ProcRoot enter a process's
// root directory. A Host is an afero.Fs; hostroot.FromAfero (or Host.Root)
// reads it with the same chroot semantics, and the same reader code, as a
// real host.
//
// A Host also loads a directory tree or a tar archive (such as one captured
// by examples/snapshot on a real machine), so a bug report's snapshot
// becomes a unit test.
//
// Host stores; it resolves nothing. Its afero methods take names literally
// and follow no symlink (Stat excepted, which resolves through a Root): read
// a Host through hostroot.Root, which applies the resolver.
package hostroottest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
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
	mem afero.Fs

	mu        sync.RWMutex
	meta      map[string]*node // by clean absolute name: what MemMapFs cannot hold
	procRoots map[int]string
	nextIno   uint64
	err       error
}

// node is the metadata a Host keeps beside MemMapFs's entry.
type node struct {
	mode   fs.FileMode // full mode, type bits included
	target string      // symlink text
	stat   hostroot.Stat
}

// New returns an empty Host holding only "/".
func New() *Host {
	return &Host{
		mem:       afero.NewMemMapFs(),
		meta:      map[string]*node{},
		procRoots: map[int]string{},
	}
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

// parents creates the directories above name, refusing to create anything
// below a symlink or a special file, which would make a tree no kernel can.
func (h *Host) parents(op, name string) error {
	dir := path.Dir(name)
	for p := dir; p != "/"; p = path.Dir(p) {
		if n := h.metaOf(p); n != nil && !n.mode.IsDir() {
			return &fs.PathError{Op: op, Path: name, Err: fmt.Errorf("hostroottest: %s is a %v, not a directory", p, n.mode.Type())}
		}
	}
	if fi, err := h.mem.Stat(dir); err == nil && !fi.IsDir() {
		return &fs.PathError{Op: op, Path: name, Err: syscall.ENOTDIR}
	}
	return h.mem.MkdirAll(dir, 0o755)
}

func (h *Host) metaOf(name string) *node {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.meta[name]
}

// setMeta records metadata for name, giving it an inode number.
func (h *Host) setMeta(name string, n *node) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if old := h.meta[name]; old != nil && n.stat.Ino == 0 {
		n.stat.Ino = old.stat.Ino
	}
	if n.stat.Ino == 0 {
		h.nextIno++
		n.stat.Ino = h.nextIno + 1 // 1 is the root's
	}
	if n.stat.Nlink == 0 {
		n.stat.Nlink = 1
	}
	h.meta[name] = n
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
	if err := h.parents("file", name); err != nil {
		return h.fail(err)
	}
	if err := afero.WriteFile(h.mem, name, content, perm.Perm()); err != nil {
		return h.fail(err)
	}
	h.setMeta(name, &node{mode: perm.Perm()})
	return h
}

// Dir creates a directory (mode 0755) and its parents.
func (h *Host) Dir(name string) *Host {
	name, err := clean("mkdir", name)
	if err != nil {
		return h.fail(err)
	}
	if err := h.parents("mkdir", name); err != nil {
		return h.fail(err)
	}
	if err := h.mem.MkdirAll(name, 0o755); err != nil {
		return h.fail(err)
	}
	if name != "/" {
		h.setMeta(name, &node{mode: fs.ModeDir | 0o755})
	}
	return h
}

// Symlink creates name as a symlink whose text is target, which may be
// absolute, relative, dangling or looping, exactly as on disk.
func (h *Host) Symlink(name, target string) *Host {
	return h.special("symlink", name, &node{mode: fs.ModeSymlink | 0o777, target: target})
}

// Device creates a block or character device node.
func (h *Host) Device(name string, kind Kind, major, minor uint32, perm fs.FileMode) *Host {
	mode := fs.ModeDevice | perm.Perm()
	if kind == Char {
		mode |= fs.ModeCharDevice
	}
	return h.special("mknod", name, &node{mode: mode, stat: hostroot.Stat{RdevMajor: major, RdevMinor: minor}})
}

// FIFO creates a named pipe.
func (h *Host) FIFO(name string) *Host {
	return h.special("mkfifo", name, &node{mode: fs.ModeNamedPipe | 0o644})
}

// special stores a non-regular, non-directory node as an empty placeholder
// in MemMapFs (so listings include it) plus its metadata.
func (h *Host) special(op, name string, n *node) *Host {
	name, err := clean(op, name)
	if err != nil {
		return h.fail(err)
	}
	if name == "/" {
		return h.fail(&fs.PathError{Op: op, Path: name, Err: fs.ErrExist})
	}
	if err := h.parents(op, name); err != nil {
		return h.fail(err)
	}
	if fi, err := h.mem.Stat(name); err == nil && fi.IsDir() {
		return h.fail(&fs.PathError{Op: op, Path: name, Err: fs.ErrExist})
	}
	if err := afero.WriteFile(h.mem, name, nil, 0o644); err != nil {
		return h.fail(err)
	}
	h.setMeta(name, n)
	return h
}

// Owner sets the owner of an existing name.
func (h *Host) Owner(name string, uid, gid uint32) *Host {
	name, err := clean("chown", name)
	if err != nil {
		return h.fail(err)
	}
	fi, err := h.mem.Stat(name)
	if err != nil {
		return h.fail(err)
	}
	h.mu.Lock()
	n := h.meta[name]
	if n == nil {
		n = &node{mode: fi.Mode()}
		h.nextIno++
		n.stat = hostroot.Stat{Ino: h.nextIno + 1, Nlink: 1}
		h.meta[name] = n
	}
	n.stat.UID, n.stat.GID = uid, gid
	h.mu.Unlock()
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
	fs.FileInfo
	name string
	mode fs.FileMode
	stat hostroot.Stat
	size int64
}

func (i *info) Name() string      { return i.name }
func (i *info) Mode() fs.FileMode { return i.mode }
func (i *info) IsDir() bool       { return i.mode.IsDir() }
func (i *info) Size() int64       { return i.size }
func (i *info) Sys() any          { st := i.stat; return &st }

func (h *Host) decorate(name string, fi fs.FileInfo) fs.FileInfo {
	out := &info{FileInfo: fi, name: fi.Name(), mode: fi.Mode(), size: fi.Size(), stat: hostroot.Stat{Nlink: 1}}
	if name == "/" {
		out.name = "/"
		out.stat.Ino = 1
	}
	if n := h.metaOf(name); n != nil {
		out.stat = n.stat
		if n.mode.Type() != 0 || !fi.IsDir() {
			out.mode = n.mode
		}
		if n.mode&fs.ModeSymlink != 0 {
			out.size = int64(len(n.target))
		} else if !n.mode.IsRegular() && !n.mode.IsDir() {
			out.size = 0
		}
	}
	return out
}

// LstatIfPossible implements afero.Lstater: it describes name itself.
func (h *Host) LstatIfPossible(name string) (os.FileInfo, bool, error) {
	name = path.Clean("/" + name)
	fi, err := h.mem.Stat(name)
	if err != nil {
		return nil, true, err
	}
	return h.decorate(name, fi), true, nil
}

// ReadlinkIfPossible implements afero.LinkReader.
func (h *Host) ReadlinkIfPossible(name string) (string, error) {
	name = path.Clean("/" + name)
	if n := h.metaOf(name); n != nil && n.mode&fs.ModeSymlink != 0 {
		return n.target, nil
	}
	if _, err := h.mem.Stat(name); err != nil {
		return "", err
	}
	return "", &fs.PathError{Op: "readlink", Path: name, Err: syscall.EINVAL}
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
	return hostroot.FromAfero(h).Stat(path.Clean("/" + name))
}

// Name implements afero.Fs.
func (h *Host) Name() string { return "hostroottest.Host" }

// Open opens name literally; a symlink is not followed (read through a Root).
func (h *Host) Open(name string) (afero.File, error) {
	name = path.Clean("/" + name)
	if n := h.metaOf(name); n != nil && n.mode&fs.ModeSymlink != 0 {
		return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.ELOOP}
	}
	f, err := h.mem.Open(name)
	if err != nil {
		return nil, err
	}
	return &file{File: f, h: h, name: name}, nil
}

// OpenFile implements afero.Fs; writing through it is how tests change a
// Host after building it.
func (h *Host) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	if flag == os.O_RDONLY {
		return h.Open(name)
	}
	name = path.Clean("/" + name)
	f, err := h.mem.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	if h.metaOf(name) == nil {
		h.setMeta(name, &node{mode: perm.Perm()})
	}
	return &file{File: f, h: h, name: name}, nil
}

// Create implements afero.Fs.
func (h *Host) Create(name string) (afero.File, error) {
	return h.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
}

// Mkdir implements afero.Fs.
func (h *Host) Mkdir(name string, perm os.FileMode) error { return h.mem.Mkdir(name, perm) }

// MkdirAll implements afero.Fs.
func (h *Host) MkdirAll(name string, perm os.FileMode) error { return h.mem.MkdirAll(name, perm) }

// Remove implements afero.Fs; tests use it to make a process vanish.
func (h *Host) Remove(name string) error {
	name = path.Clean("/" + name)
	if err := h.mem.Remove(name); err != nil {
		return err
	}
	h.mu.Lock()
	delete(h.meta, name)
	h.mu.Unlock()
	return nil
}

// RemoveAll implements afero.Fs.
func (h *Host) RemoveAll(name string) error {
	name = path.Clean("/" + name)
	if err := h.mem.RemoveAll(name); err != nil {
		return err
	}
	h.mu.Lock()
	for k := range h.meta {
		if k == name || (len(k) > len(name) && k[:len(name)] == name && (name == "/" || k[len(name)] == '/')) {
			delete(h.meta, k)
		}
	}
	h.mu.Unlock()
	return nil
}

// Rename implements afero.Fs for plain files and directories.
func (h *Host) Rename(oldname, newname string) error {
	oldname, newname = path.Clean("/"+oldname), path.Clean("/"+newname)
	if err := h.mem.Rename(oldname, newname); err != nil {
		return err
	}
	h.mu.Lock()
	if n := h.meta[oldname]; n != nil {
		h.meta[newname] = n
		delete(h.meta, oldname)
	}
	h.mu.Unlock()
	return nil
}

// Chmod implements afero.Fs; it keeps the file's type.
func (h *Host) Chmod(name string, mode os.FileMode) error {
	name = path.Clean("/" + name)
	if err := h.mem.Chmod(name, mode); err != nil {
		return err
	}
	h.mu.Lock()
	if n := h.meta[name]; n != nil {
		n.mode = n.mode.Type() | mode.Perm()
	}
	h.mu.Unlock()
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
func (h *Host) Chtimes(name string, atime, mtime time.Time) error {
	return h.mem.Chtimes(name, atime, mtime)
}

// file decorates directory listings with the Host's metadata.
type file struct {
	afero.File
	h    *Host
	name string
}

func (f *file) Stat() (os.FileInfo, error) {
	fi, err := f.File.Stat()
	if err != nil {
		return nil, err
	}
	return f.h.decorate(f.name, fi), nil
}

func (f *file) Readdir(n int) ([]os.FileInfo, error) {
	infos, err := f.File.Readdir(n)
	for i, fi := range infos {
		infos[i] = f.h.decorate(path.Join(f.name, fi.Name()), fi)
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].Name() < infos[j].Name() })
	return infos, err
}

func (f *file) Read(p []byte) (int, error) {
	if n := f.h.metaOf(f.name); n != nil && !n.mode.IsRegular() && !n.mode.IsDir() {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: hostroot.ErrNotRegular}
	}
	return f.File.Read(p)
}
