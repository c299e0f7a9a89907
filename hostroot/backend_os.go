//go:build linux

package hostroot

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hostscope/hostscope/internal/parse"
	"github.com/hostscope/hostscope/internal/sysfile"
	"golang.org/x/sys/unix"
)

// osBackend serves a subtree of the reading process's file system through a
// directory descriptor. The kernel confines every lookup to it: openat2 with
// RESOLVE_IN_ROOT or RESOLVE_BENEATH, or, on kernels without openat2, a walk
// that opens one component at a time with O_NOFOLLOW.
type osBackend struct {
	dir *dirHandle
	// path is the directory in the reader's file system, "" when the
	// backend was reached through a magic link (ProcRoot).
	path string
	// kind is the file system magic of the directory itself.
	kind int64
	// trusted marks a procfs or sysfs mount of the host: the kernel makes
	// every file there, so none can be a device node or FIFO and reads skip
	// the O_PATH check. Nothing reached through ProcRoot is trusted.
	trusted bool
	openat2 bool
	// procIsReal records, for a backend holding the whole tree, whether its
	// /proc is a real procfs (or absent): only then can the kernel's idea of
	// a magic link and the resolver's agree.
	procIsReal bool
}

// dirHandle owns a directory descriptor. Operations hold a read lock for
// their duration so Close can never release (and the kernel reuse) the
// descriptor number under them.
type dirHandle struct {
	mu     sync.RWMutex
	fd     int
	closed bool
}

func (h *dirHandle) acquire() (int, error) {
	h.mu.RLock()
	if h.closed {
		h.mu.RUnlock()
		return -1, fs.ErrClosed
	}
	return h.fd, nil
}

func (h *dirHandle) release() { h.mu.RUnlock() }

func (h *dirHandle) close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	h.closed = true
	return sysfile.Close(h.fd)
}

// newOSBackend wraps an O_PATH directory descriptor, taking ownership.
func newOSBackend(fd int, dirPath string, trustKernelFS bool) (*osBackend, error) {
	kind, err := sysfile.FsType(fd)
	if err != nil {
		sysfile.Close(fd)
		return nil, err
	}
	b := &osBackend{
		dir:     &dirHandle{fd: fd},
		path:    dirPath,
		kind:    kind,
		openat2: sysfile.HasOpenat2(fd),
	}
	b.trusted = trustKernelFS && (kind == sysfile.ProcMagic || kind == sysfile.SysfsMagic)
	b.procIsReal = true
	if kind != sysfile.ProcMagic {
		pfd, err := sysfile.Walk(fd, "proc", unix.O_PATH|unix.O_DIRECTORY)
		if err == nil {
			k, kerr := sysfile.FsType(pfd)
			sysfile.Close(pfd)
			b.procIsReal = kerr == nil && k == sysfile.ProcMagic
		} else {
			b.procIsReal = errors.Is(err, syscall.ENOENT)
		}
	}
	return b, nil
}

// openDir opens a directory of the reader's file system as a backend.
func openDir(dirPath string, trustKernelFS bool) (*osBackend, error) {
	fd, err := sysfile.Openat(unix.AT_FDCWD, dirPath, unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: dirPath, Err: err}
	}
	b, err := newOSBackend(fd, dirPath, trustKernelFS)
	if err != nil {
		return nil, &fs.PathError{Op: "statfs", Path: dirPath, Err: err}
	}
	return b, nil
}

// sub opens name, a directory directly inside b reached without any
// symlink, as a backend of its own with the same path; nil if there is none.
func (b *osBackend) sub(name string) *osBackend {
	dirfd, err := b.dir.acquire()
	if err != nil {
		return nil
	}
	defer b.dir.release()
	fd, err := sysfile.Walk(dirfd, name, unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return nil
	}
	nb, err := newOSBackend(fd, filepath.Join(b.path, name), true)
	if err != nil {
		return nil
	}
	return nb
}

// pidLeaf reports whether rel names an entry directly in a process
// directory of a trusted procfs ("1234/stat", "1234/ns/net"), or in one of
// the subdirectories pidSubdir names ("1234/fd/3", "1234/net/tcp"). Every
// component before the last is a directory the kernel makes, so such a name
// takes the one-call path of a hand-written reader: openat with O_NOFOLLOW
// (a magic link fails with ELOOP, as under RESOLVE_NO_MAGICLINKS), or
// readlinkat, which never follows the final link. This is what keeps a scan
// of thousands of processes at the cost of the raw system calls.
func (b *osBackend) pidLeaf(rel string) bool {
	if !b.trusted || b.kind != sysfile.ProcMagic {
		return false
	}
	pid, rest, ok := strings.Cut(rel, "/")
	if !ok || !parse.Digits(pid) {
		return false
	}
	if dir, leaf, ok := strings.Cut(rest, "/"); ok {
		if !pidSubdir(dir) {
			return false
		}
		rest = leaf
	}
	return rest != "" && rest != "." && rest != ".." && strings.IndexByte(rest, '/') < 0
}

// pidSubdir reports whether dir is a directory procfs makes in every
// process directory, whose entries a scan reads one by one: ns, fd, fdinfo
// and net (a directory there, unlike /proc/net, which is a symlink).
func pidSubdir(dir string) bool {
	return dir == "ns" || dir == "fd" || dir == "fdinfo" || dir == "net"
}

// pidDir reports whether rel names a process directory of a trusted procfs
// ("1234").
func (b *osBackend) pidDir(rel string) bool {
	return b.trusted && b.kind == sysfile.ProcMagic && parse.Digits(rel)
}

func resolveFlags(mode resolveMode) uint64 {
	switch mode {
	case resolveInRoot:
		return sysfile.ResolveInRoot | sysfile.ResolveNoMagicLinks
	case resolveBeneath:
		return sysfile.ResolveBeneath | sysfile.ResolveNoMagicLinks
	}
	return sysfile.ResolveBeneath | sysfile.ResolveNoSymlinks
}

// openRel opens rel with flags under mode. Without openat2 only canonical
// names arrive here, and the O_NOFOLLOW walk enforces the same rule.
func (b *osBackend) openRel(dirfd int, rel string, flags int, mode resolveMode) (int, error) {
	if b.openat2 {
		return sysfile.Openat2(dirfd, rel, flags, resolveFlags(mode))
	}
	return sysfile.Walk(dirfd, rel, flags)
}

func (b *osBackend) stat(rel string, mode resolveMode, follow bool) (fs.FileInfo, error) {
	dirfd, err := b.dir.acquire()
	if err != nil {
		return nil, err
	}
	defer b.dir.release()
	if !follow && (b.pidLeaf(rel) || b.pidDir(rel)) {
		// One fstatat: procfs makes every directory on the way, and the
		// final component is not followed. A scan checks each process's
		// directory twice (see proc), so this is on its hot path.
		var st unix.Stat_t
		if err := sysfile.Lstatat(dirfd, rel, &st); err != nil {
			return nil, err
		}
		return newOSInfo(path.Base(rel), &st), nil
	}
	flags := unix.O_PATH
	if !follow {
		flags |= unix.O_NOFOLLOW
	}
	fd, err := b.openRel(dirfd, rel, flags, mode)
	if err != nil {
		return nil, err
	}
	defer sysfile.Close(fd)
	var st unix.Stat_t
	if err := sysfile.Fstat(fd, &st); err != nil {
		return nil, err
	}
	return newOSInfo(path.Base(rel), &st), nil
}

func (b *osBackend) readlink(rel string, mode resolveMode) (string, error) {
	dirfd, err := b.dir.acquire()
	if err != nil {
		return "", err
	}
	defer b.dir.release()
	if b.pidLeaf(rel) {
		return sysfile.ReadlinkAt(dirfd, rel)
	}
	fd, err := b.openRel(dirfd, rel, unix.O_PATH|unix.O_NOFOLLOW, mode)
	if err != nil {
		return "", err
	}
	defer sysfile.Close(fd)
	s, err := sysfile.Readlink(fd)
	if err != nil {
		var st unix.Stat_t
		if sysfile.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT != unix.S_IFLNK {
			return "", syscall.EINVAL
		}
		return "", err
	}
	return s, nil
}

// openRead opens rel for reading. Where the tree is not a trusted kernel file
// system it first opens an O_PATH descriptor and checks the file type, so a
// device node or FIFO planted where a regular file was expected is never
// opened at all, then reopens that very inode through /proc/self/fd.
func (b *osBackend) openRead(dirfd int, rel string, mode resolveMode, wantDir bool) (int, error) {
	if b.trusted {
		flags := unix.O_RDONLY
		if wantDir {
			flags |= unix.O_DIRECTORY
		}
		if b.pidLeaf(rel) {
			// "1234/stat", or a directory such as "1234/fd" that a scan
			// lists for every process.
			return sysfile.Openat(dirfd, rel, flags|unix.O_NOFOLLOW)
		}
		return b.openRel(dirfd, rel, flags, mode)
	}
	pfd, err := b.openRel(dirfd, rel, unix.O_PATH, mode)
	if err != nil {
		return -1, err
	}
	defer sysfile.Close(pfd)
	var st unix.Stat_t
	if err := sysfile.Fstat(pfd, &st); err != nil {
		return -1, err
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		if wantDir {
			return -1, syscall.ENOTDIR
		}
	case unix.S_IFDIR:
	default:
		return -1, ErrNotRegular
	}
	flags := unix.O_RDONLY
	if wantDir {
		flags |= unix.O_DIRECTORY
	}
	fd, err := sysfile.Openat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(pfd), flags)
	if err == nil {
		return fd, nil
	}
	// No /proc of our own: open the name again and insist it is the same
	// inode. A swap in between is refused before any byte is read.
	fd, err = b.openRel(dirfd, rel, flags|unix.O_NOFOLLOW, mode)
	if err != nil {
		return -1, err
	}
	var st2 unix.Stat_t
	if err := sysfile.Fstat(fd, &st2); err != nil || st2.Dev != st.Dev || st2.Ino != st.Ino {
		sysfile.Close(fd)
		return -1, syscall.EAGAIN
	}
	return fd, nil
}

func (b *osBackend) open(rel string, mode resolveMode, base string) (fs.File, error) {
	dirfd, err := b.dir.acquire()
	if err != nil {
		return nil, err
	}
	defer b.dir.release()
	fd, err := b.openRead(dirfd, rel, mode, false)
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	if err := sysfile.Fstat(fd, &st); err != nil {
		sysfile.Close(fd)
		return nil, err
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG, unix.S_IFDIR:
	default:
		sysfile.Close(fd)
		return nil, ErrNotRegular
	}
	return &osFile{f: os.NewFile(uintptr(fd), base)}, nil
}

func (b *osBackend) appendFile(dst []byte, rel string, mode resolveMode, limit int) ([]byte, bool, error) {
	dirfd, err := b.dir.acquire()
	if err != nil {
		return dst, false, err
	}
	defer b.dir.release()
	fd, err := b.openRead(dirfd, rel, mode, false)
	if err != nil {
		return dst, false, err
	}
	defer sysfile.Close(fd)
	out, tooLarge, err := sysfile.ReadAll(fd, dst, limit)
	if err != nil {
		return dst, false, err
	}
	return out, tooLarge, nil
}

func (b *osBackend) readDirNames(rel string, mode resolveMode) ([]string, error) {
	dirfd, err := b.dir.acquire()
	if err != nil {
		return nil, err
	}
	defer b.dir.release()
	fd, err := b.openRead(dirfd, rel, mode, true)
	if err != nil {
		return nil, err
	}
	defer sysfile.Close(fd)
	return sysfile.DirNames(fd)
}

func (b *osBackend) procRoot(rel string, mode resolveMode, pid int) (backend, error) {
	dirfd, err := b.dir.acquire()
	if err != nil {
		return nil, err
	}
	defer b.dir.release()
	pidfd, err := b.openRel(dirfd, rel, unix.O_PATH|unix.O_DIRECTORY, mode)
	if err != nil {
		return nil, err
	}
	defer sysfile.Close(pidfd)
	kind, err := sysfile.FsType(pidfd)
	if err != nil {
		return nil, err
	}
	if kind != sysfile.ProcMagic {
		// A directory that merely looks like /proc: its "root" could be an
		// ordinary symlink to anywhere.
		return nil, fmt.Errorf("%w: the directory is not on a procfs mount", errors.ErrUnsupported)
	}
	// The one deliberate traversal of a magic link in hostscope.
	rootfd, err := sysfile.Openat(pidfd, "root", unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return nil, err
	}
	return newOSBackend(rootfd, "", false)
}

func (b *osBackend) readerPath(rel string) (string, bool) {
	if b.path == "" {
		return "", false
	}
	if rel == "." {
		return b.path, true
	}
	return filepath.Join(b.path, rel), true
}

func (b *osBackend) kernelResolve() bool { return b.openat2 }

func (b *osBackend) faithfulProc(prefix string) bool {
	switch {
	case prefix == "/proc":
		return b.kind == sysfile.ProcMagic
	case prefix == "/":
		return b.procIsReal
	}
	// Any other subtree can reach /proc only through ".." or an absolute
	// symlink, which RESOLVE_BENEATH turns into EXDEV for the resolver.
	return !strings.HasPrefix(prefix, "/proc/")
}

func (b *osBackend) close() error { return b.dir.close() }

// osInfo is the fs.FileInfo of an fstat.
type osInfo struct {
	name string
	st   unix.Stat_t
}

func newOSInfo(name string, st *unix.Stat_t) *osInfo {
	if name == "." {
		name = "/"
	}
	return &osInfo{name: name, st: *st}
}

func (fi *osInfo) Name() string       { return fi.name }
func (fi *osInfo) Size() int64        { return fi.st.Size }
func (fi *osInfo) IsDir() bool        { return fi.st.Mode&unix.S_IFMT == unix.S_IFDIR }
func (fi *osInfo) ModTime() time.Time { return time.Unix(fi.st.Mtim.Unix()) }
func (fi *osInfo) Mode() fs.FileMode  { return fileMode(fi.st.Mode) }
func (fi *osInfo) Sys() any {
	return &Stat{
		Dev:       fi.st.Dev,
		Ino:       fi.st.Ino,
		Nlink:     uint64(fi.st.Nlink),
		UID:       fi.st.Uid,
		GID:       fi.st.Gid,
		RdevMajor: unix.Major(fi.st.Rdev),
		RdevMinor: unix.Minor(fi.st.Rdev),
	}
}

// fileMode converts st_mode as the os package does.
func fileMode(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	switch m & unix.S_IFMT {
	case unix.S_IFBLK:
		mode |= fs.ModeDevice
	case unix.S_IFCHR:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFDIR:
		mode |= fs.ModeDir
	case unix.S_IFIFO:
		mode |= fs.ModeNamedPipe
	case unix.S_IFLNK:
		mode |= fs.ModeSymlink
	case unix.S_IFSOCK:
		mode |= fs.ModeSocket
	}
	if m&unix.S_ISGID != 0 {
		mode |= fs.ModeSetgid
	}
	if m&unix.S_ISUID != 0 {
		mode |= fs.ModeSetuid
	}
	if m&unix.S_ISVTX != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

// osFile is a read-only fs.File over an *os.File: it exposes no write
// method, so a Root cannot be written through even by a type assertion.
type osFile struct {
	f *os.File
}

func (f *osFile) Stat() (fs.FileInfo, error)                { return f.f.Stat() }
func (f *osFile) Read(p []byte) (int, error)                { return f.f.Read(p) }
func (f *osFile) ReadAt(p []byte, off int64) (int, error)   { return f.f.ReadAt(p, off) }
func (f *osFile) Seek(off int64, whence int) (int64, error) { return f.f.Seek(off, whence) }
func (f *osFile) Close() error                              { return f.f.Close() }

// ReadDir lists the directory, each entry's Info taken relative to the open
// descriptor. The os package's entries would instead stat "base/name"
// relative to the reader's working directory: another file, or none.
// Entries removed since the listing are left out.
func (f *osFile) ReadDir(n int) ([]fs.DirEntry, error) {
	conn, err := f.f.SyscallConn()
	if err != nil {
		return nil, err
	}
	for {
		entries, err := f.f.ReadDir(n)
		out := entries[:0]
		cerr := conn.Control(func(fd uintptr) {
			for _, e := range entries {
				var st unix.Stat_t
				serr := unix.Fstatat(int(fd), e.Name(), &st, unix.AT_SYMLINK_NOFOLLOW)
				for serr == unix.EINTR {
					serr = unix.Fstatat(int(fd), e.Name(), &st, unix.AT_SYMLINK_NOFOLLOW)
				}
				switch {
				case serr == nil:
					out = append(out, fs.FileInfoToDirEntry(newOSInfo(e.Name(), &st)))
				case serr != unix.ENOENT:
					out = append(out, failedEntry{e, &fs.PathError{Op: "lstat", Path: e.Name(), Err: serr}})
				}
			}
		})
		if cerr != nil {
			return nil, cerr
		}
		if len(out) > 0 || err != nil || n <= 0 || len(entries) == 0 {
			return out, err
		}
		// Every entry of this batch vanished: a caller asking for n > 0
		// must get entries or an error, so read on.
	}
}

// failedEntry is a directory entry whose Lstat failed.
type failedEntry struct {
	fs.DirEntry
	err error
}

func (e failedEntry) Info() (fs.FileInfo, error) { return nil, e.err }
