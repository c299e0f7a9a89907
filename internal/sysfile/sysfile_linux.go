// Package sysfile holds the raw, descriptor-based file operations hostroot
// is built on: openat2 with resolve flags, a component-by-component walk for
// kernels without openat2, capped whole-file reads into a caller's buffer and
// name-only directory listing with getdents64. It keeps the syscall count of a
// /proc read at one open, one or two reads and one close.
package sysfile

import (
	"bytes"
	"encoding/binary"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Resolve flags accepted by Openat2, re-exported so callers need not import
// x/sys for them.
const (
	ResolveNoXdev       = unix.RESOLVE_NO_XDEV
	ResolveNoMagicLinks = unix.RESOLVE_NO_MAGICLINKS
	ResolveNoSymlinks   = unix.RESOLVE_NO_SYMLINKS
	ResolveBeneath      = unix.RESOLVE_BENEATH
	ResolveInRoot       = unix.RESOLVE_IN_ROOT
)

// Flags every open carries: never block on a FIFO or a driver, never acquire
// a controlling terminal, never leak into a child process. openat2 refuses
// any flag but these with O_PATH, so O_PATH opens carry only O_CLOEXEC.
const baseFlags = unix.O_CLOEXEC | unix.O_NONBLOCK | unix.O_NOCTTY

func withBase(flags int) int {
	if flags&unix.O_PATH != 0 {
		return flags | unix.O_CLOEXEC
	}
	return flags | baseFlags
}

// maxRetries bounds retries of EAGAIN from openat2, which the kernel returns
// when a concurrent rename or mount could have let ".." escape.
const maxRetries = 8

// nameBuf holds a file name and its terminating NUL for one system call,
// on the caller's stack. x/sys/unix copies every name to the heap
// (BytePtrFromString) instead: on a scan of /proc, four or five allocations
// per process that buy nothing.
type nameBuf [256]byte

// ptr copies name into b with its NUL and returns a pointer to the copy;
// nil when name does not fit or holds a NUL, and the x/sys call must answer
// (EINVAL for a NUL, as before).
//
// The pointer may only be passed, converted to uintptr in the argument list
// itself, to unix.Syscall6: the conversion keeps b alive, and Syscall6 (like
// every runtime system-call entry) never grows the stack, so b cannot move
// while the kernel reads it.
func (b *nameBuf) ptr(name string) *byte {
	if len(name) >= len(b) || strings.IndexByte(name, 0) >= 0 {
		return nil
	}
	copy(b[:], name)
	b[len(name)] = 0
	return &b[0]
}

// ptrIn copies dir, "/" and name into b with a NUL, as ptr does for one
// name: the name dir/name costs no allocation.
func (b *nameBuf) ptrIn(dir []byte, name string) *byte {
	if len(dir)+1+len(name) >= len(b) || bytes.IndexByte(dir, 0) >= 0 || strings.IndexByte(name, 0) >= 0 {
		return nil
	}
	n := copy(b[:], dir)
	b[n] = '/'
	n += 1 + copy(b[n+1:], name)
	b[n] = 0
	return &b[0]
}

// errnoErr returns e as an error, nil for 0.
func errnoErr(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

// Openat2 opens name relative to dirfd under the given resolve flags.
func Openat2(dirfd int, name string, flags int, resolve uint64) (int, error) {
	how := unix.OpenHow{Flags: uint64(withBase(flags)), Resolve: resolve}
	var nb nameBuf
	p := nb.ptr(name)
	for i := 0; ; i++ {
		var fd int
		var err error
		if p != nil {
			r, _, e := unix.Syscall6(unix.SYS_OPENAT2, uintptr(dirfd), uintptr(unsafe.Pointer(p)),
				uintptr(unsafe.Pointer(&how)), unsafe.Sizeof(how), 0, 0)
			fd, err = int(r), errnoErr(e)
		} else {
			fd, err = unix.Openat2(dirfd, name, &how)
		}
		if err == unix.EINTR || (err == unix.EAGAIN && i < maxRetries) {
			continue
		}
		if err != nil {
			return -1, err
		}
		return fd, nil
	}
}

// HasOpenat2 reports whether the kernel implements openat2, by opening dirfd
// itself through it.
func HasOpenat2(dirfd int) bool {
	fd, err := Openat2(dirfd, ".", unix.O_PATH, 0)
	if err == nil {
		unix.Close(fd)
		return true
	}
	return err != unix.ENOSYS && err != unix.EPERM // EPERM: seccomp filters that predate openat2
}

// Walk opens rel, a relative name with no ".", ".." or empty components,
// one component at a time with O_NOFOLLOW, so that no symlink anywhere in it
// is followed: a symlink met in the middle fails with ENOTDIR or ELOOP. It is
// the fallback for kernels without openat2; "." opens dirfd itself.
func Walk(dirfd int, rel string, flags int) (int, error) {
	if rel == "." || rel == "" {
		return Openat(dirfd, ".", flags)
	}
	cur := dirfd
	for {
		comp, rest, more := strings.Cut(rel, "/")
		f := flags | unix.O_NOFOLLOW
		if more {
			f = unix.O_PATH | unix.O_DIRECTORY | unix.O_NOFOLLOW
		}
		fd, err := Openat(cur, comp, f)
		if err == unix.ENOTDIR && more && !isPlainNonDir(cur, comp) {
			// A symlink, as openat2's RESOLVE_NO_SYMLINKS says; or a
			// directory again, swapped back since the open failed.
			err = unix.ELOOP
		}
		if cur != dirfd {
			unix.Close(cur)
		}
		if err != nil {
			return -1, err
		}
		if !more {
			return fd, nil
		}
		cur, rel = fd, rest
	}
}

// isPlainNonDir reports whether name in dirfd is neither a directory nor a
// symlink (nor gone).
func isPlainNonDir(dirfd int, name string) bool {
	var st unix.Stat_t
	if unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) != nil {
		return false
	}
	t := st.Mode & unix.S_IFMT
	return t != unix.S_IFLNK && t != unix.S_IFDIR
}

// Openat is openat(2) with the base flags, retrying EINTR. A name shorter
// than 256 bytes costs no allocation.
func Openat(dirfd int, name string, flags int) (int, error) {
	var nb nameBuf
	return openat(dirfd, nb.ptr(name), name, flags)
}

// OpenatIn is Openat of dir/name, without building that string.
func OpenatIn(dirfd int, dir []byte, name string, flags int) (int, error) {
	var nb nameBuf
	p := nb.ptrIn(dir, name)
	if p == nil {
		return Openat(dirfd, string(dir)+"/"+name, flags)
	}
	return openat(dirfd, p, "", flags)
}

// openat opens p, a NUL-terminated copy of name, or name itself when p is
// nil.
func openat(dirfd int, p *byte, name string, flags int) (int, error) {
	for {
		var fd int
		var err error
		if p != nil {
			r, _, e := unix.Syscall6(unix.SYS_OPENAT, uintptr(dirfd), uintptr(unsafe.Pointer(p)), uintptr(withBase(flags)), 0, 0, 0)
			fd, err = int(r), errnoErr(e)
		} else {
			fd, err = unix.Openat(dirfd, name, withBase(flags), 0)
		}
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return -1, err
		}
		return fd, nil
	}
}

// ReadAll appends the content of fd to dst, reading until end of file. It
// stops and reports tooLarge once more than limit bytes have been read (dst
// then holds the first limit bytes), and fails with EAGAIN if the file would
// block. The Stat size is never consulted: procfs
// and sysfs report 0 or 4096 whatever the content.
func ReadAll(fd int, dst []byte, limit int) (_ []byte, tooLarge bool, _ error) {
	return readAll(fd, dst, limit, -1)
}

// ReadAllAt is ReadAll from the start of the file with pread, leaving the
// descriptor's offset alone: reads of one descriptor from several
// goroutines, or again and again, each see the whole file.
func ReadAllAt(fd int, dst []byte, limit int) (_ []byte, tooLarge bool, _ error) {
	return readAll(fd, dst, limit, 0)
}

// readAll reads with read when off < 0, else with pread from off on.
func readAll(fd int, dst []byte, limit int, off int64) (_ []byte, tooLarge bool, _ error) {
	start := len(dst)
	for {
		if len(dst) == cap(dst) {
			grow := cap(dst) - start
			if grow < 16<<10 {
				grow = 16 << 10
			}
			if max := limit + 1 - (len(dst) - start); grow > max {
				grow = max
			}
			if grow < 1 {
				grow = 1
			}
			dst = append(dst, make([]byte, grow)...)[:len(dst)]
		}
		room := cap(dst) - len(dst)
		if max := limit + 1 - (len(dst) - start); room > max {
			room = max
		}
		var n int
		var err error
		if off < 0 {
			n, err = unix.Read(fd, dst[len(dst):len(dst)+room])
		} else {
			n, err = unix.Pread(fd, dst[len(dst):len(dst)+room], off+int64(len(dst)-start))
		}
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return dst, false, err
		}
		if n <= 0 {
			return dst, false, nil
		}
		dst = dst[:len(dst)+n]
		if len(dst)-start > limit {
			return dst[:start+limit], true, nil
		}
	}
}

// DirNames lists the names in the directory open at fd, without "." and
// "..", in the order the file system returns them. The names are slices of
// one string, so listing /proc costs a few allocations, not one per
// process.
func DirNames(fd int) ([]string, error) {
	buf := make([]byte, 32<<10)
	var text []byte // every name, back to back
	var ends []int  // where each name ends in text
	var err error
	for {
		n, e := unix.Getdents(fd, buf)
		if e == unix.EINTR {
			continue
		}
		if e != nil {
			err = e
			break
		}
		if n <= 0 {
			break
		}
		text, ends = appendDirents(text, ends, buf[:n])
	}
	all := string(text)
	names := make([]string, len(ends))
	start := 0
	for i, end := range ends {
		names[i] = all[start:end]
		start = end
	}
	return names, err
}

// appendDirents appends the names of the linux_dirent64 records in b
// (d_ino 8 bytes, d_off 8, d_reclen 2, d_type 1, then the NUL-terminated
// name), skipping ".", ".." and records without an inode, as
// unix.ParseDirent does.
func appendDirents(text []byte, ends []int, b []byte) ([]byte, []int) {
	const nameOff = 19
	for len(b) >= nameOff {
		reclen := int(binary.NativeEndian.Uint16(b[16:18]))
		if reclen < nameOff || reclen > len(b) {
			break
		}
		ino := binary.NativeEndian.Uint64(b[0:8])
		name := b[nameOff:reclen]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		b = b[reclen:]
		if ino == 0 || string(name) == "." || string(name) == ".." {
			continue
		}
		text = append(text, name...)
		ends = append(ends, len(text))
	}
	return text, ends
}

// FsType returns the file system magic number of the file open at fd.
func FsType(fd int) (int64, error) {
	var st unix.Statfs_t
	for {
		err := unix.Fstatfs(fd, &st)
		if err == unix.EINTR {
			continue
		}
		return int64(st.Type), err
	}
}

// File system magic numbers hostroot checks.
const (
	ProcMagic  = unix.PROC_SUPER_MAGIC
	SysfsMagic = unix.SYSFS_MAGIC
)

// Fstat stats the file open at fd (an O_PATH descriptor of a symlink gives
// the symlink itself).
func Fstat(fd int, st *unix.Stat_t) error {
	for {
		err := unix.Fstatat(fd, "", st, unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW)
		if err == unix.EINTR {
			continue
		}
		return err
	}
}

// Lstatat stats name relative to dirfd without following a final symlink.
func Lstatat(dirfd int, name string, st *unix.Stat_t) error {
	for {
		err := unix.Fstatat(dirfd, name, st, unix.AT_SYMLINK_NOFOLLOW)
		if err == unix.EINTR {
			continue
		}
		return err
	}
}

// Readlink returns the text of the symlink open at fd as an O_PATH descriptor.
func Readlink(fd int) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(fd, "", buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
		if size >= 1<<16 {
			return "", unix.ENAMETOOLONG
		}
	}
}

// ReadlinkAt returns the text of the symlink name relative to dirfd. The
// text is the only allocation when name is shorter than 256 bytes and the
// text too.
func ReadlinkAt(dirfd int, name string) (string, error) {
	var nb nameBuf
	return readlinkat(dirfd, nb.ptr(name), name)
}

// ReadlinkAtIn is ReadlinkAt of dir/name, without building that string.
func ReadlinkAtIn(dirfd int, dir []byte, name string) (string, error) {
	var nb nameBuf
	p := nb.ptrIn(dir, name)
	if p == nil {
		return ReadlinkAt(dirfd, string(dir)+"/"+name)
	}
	return readlinkat(dirfd, p, "")
}

// readlinkat reads the link p, a NUL-terminated copy of name, or name
// itself when p is nil.
func readlinkat(dirfd int, p *byte, name string) (string, error) {
	var stack [256]byte
	buf := stack[:]
	for {
		var n int
		var err error
		if p != nil {
			r, _, e := unix.Syscall6(unix.SYS_READLINKAT, uintptr(dirfd), uintptr(unsafe.Pointer(p)),
				uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0)
			n, err = int(r), errnoErr(e)
		} else {
			n, err = unix.Readlinkat(dirfd, name, buf)
		}
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return "", err
		}
		if n < len(buf) {
			return string(buf[:n]), nil
		}
		if len(buf) >= 1<<16 {
			return "", unix.ENAMETOOLONG
		}
		buf = make([]byte, 2*len(buf))
	}
}

// Close closes fd, ignoring EINTR as Linux does (the descriptor is released).
func Close(fd int) error {
	err := unix.Close(fd)
	if err == unix.EINTR {
		return nil
	}
	return err
}
