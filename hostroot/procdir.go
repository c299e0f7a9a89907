package hostroot

import (
	"errors"
	"io/fs"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/hostscope/hostscope/internal/sysfile"
	"golang.org/x/sys/unix"
)

// ProcDir is one process's /proc/PID directory, opened once, through which
// that process's files are read by names relative to it ("stat", "ns/net").
// Every answer it gives describes the process it was opened for: once that
// process is gone, every read fails with an error wrapping fs.ErrNotExist,
// even if its PID already belongs to a new process. A reader that takes
// several files of a process through one ProcDir therefore never mixes two
// processes, and needs no check of its own.
//
// On an operating-system Root whose /proc is a procfs mount, the directory is
// held open (O_PATH): procfs ties it to the process itself, not to its PID,
// and answers ESRCH for any file of it once the process has been reaped
// (ProcDir reports that as ENOENT). Each read is then one openat relative to
// the directory, with the same rules as Root: the final component is never
// followed (a magic link fails with ELOOP), and no symlink is followed on the
// way. On every other Root (in memory, a snapshot on disk, a /proc that is
// not a procfs), reads go through the Root by name, and the directory's
// identity (device and inode, as Lstat reports them) is compared after every
// read with the one it had when OpenProc ran; a changed or vanished directory
// fails the read with ENOENT. Roots that report no inode numbers cannot tell
// a reused PID there.
//
// Errors are *fs.PathError with the host-absolute name ("/proc/123/stat"),
// and errors.Is(err, fs.ErrNotExist) means the file is missing or the
// process is gone; Gone tells the two apart. A ProcDir is safe for
// concurrent use. Close releases its descriptor; a ProcDir that is not
// closed keeps it until the program exits.
type ProcDir struct {
	pid int
	dir string // "/proc/PID"
	// h holds the directory descriptor when be is set, and the closed state
	// in every case.
	h dirHandle
	// be is the trusted procfs backend the directory was opened on; nil
	// when reads go through r by name.
	be *osBackend
	r  *Root
	// id is the directory's identity when OpenProc ran, for the reads by
	// name; idOK is false when the Root gave no inode number.
	id   [2]uint64
	idOK bool
	gone atomic.Bool
}

// OpenProc opens the /proc/PID directory of process pid. It fails with an
// error wrapping fs.ErrNotExist when there is no such process. The ProcDir
// must be closed.
func (r *Root) OpenProc(pid int) (*ProcDir, error) {
	dir := "/proc/" + strconv.Itoa(pid)
	if pid <= 0 {
		return nil, &fs.PathError{Op: "open", Path: dir, Err: fs.ErrInvalid}
	}
	d := &ProcDir{pid: pid, dir: dir, r: r}
	m := r.route(dir)
	if b, ok := m.be.(*osBackend); ok {
		if rel := relTo(dir, m.prefix); b.pidDir(rel) {
			fd, err := b.openPID(rel)
			if err != nil {
				return nil, pathErr("open", dir, procErrno(err))
			}
			d.be, d.h.fd = b, fd
			return d, nil
		}
	}
	d.h.fd = -1
	fi, err := r.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrClosed):
		return nil, pathErr("open", dir, err)
	case err == nil:
		if st, ok := StatOf(fi); ok && st.Ino != 0 {
			d.id, d.idOK = [2]uint64{st.Dev, st.Ino}, true
		}
	}
	// Any other failure is left to the reads, which report their own.
	return d, nil
}

// PID returns the process ID the directory was opened for.
func (d *ProcDir) PID() int { return d.pid }

// Close releases the directory. Reads after Close fail with fs.ErrClosed.
func (d *ProcDir) Close() error {
	if d.be != nil {
		return d.h.close()
	}
	d.h.mu.Lock()
	d.h.closed = true
	d.h.mu.Unlock()
	return nil
}

// AppendFile appends the content of the process's file name (relative, such
// as "stat") to dst, as Root.AppendFile does: reading until end of file,
// failing with ErrTooLarge past limit (DefaultReadLimit if limit <= 0) and
// returning dst unextended on any error.
func (d *ProcDir) AppendFile(dst []byte, name string, limit int) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultReadLimit
	}
	if !validProcName(name) {
		return dst, &fs.PathError{Op: "read", Path: d.name(name), Err: fs.ErrInvalid}
	}
	pfd, err := d.h.acquire()
	if err != nil {
		return dst, &fs.PathError{Op: "read", Path: d.name(name), Err: err}
	}
	defer d.h.release()
	if d.be == nil {
		out, err := d.r.AppendFile(dst, d.name(name), limit)
		if err := d.verify("read", name, err); err != nil {
			return dst, err
		}
		return out, nil
	}
	fd, err := d.be.openInPID(pfd, name, unix.O_RDONLY)
	if err != nil {
		return dst, d.err("read", name, err)
	}
	out, tooLarge, err := sysfile.ReadAll(fd, dst, limit)
	sysfile.Close(fd)
	switch {
	case err != nil:
		return dst, d.err("read", name, err)
	case tooLarge:
		return dst, &fs.PathError{Op: "read", Path: d.name(name), Err: ErrTooLarge}
	}
	return out, nil
}

// Readlink returns the raw text of the process's symlink name ("exe",
// "ns/net"), as Root.Readlink does: nothing is followed, and a name that is
// not a symlink fails with EINVAL.
func (d *ProcDir) Readlink(name string) (string, error) {
	if !validProcName(name) {
		return "", &fs.PathError{Op: "readlink", Path: d.name(name), Err: fs.ErrInvalid}
	}
	pfd, err := d.h.acquire()
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: d.name(name), Err: err}
	}
	defer d.h.release()
	if d.be == nil {
		s, err := d.r.Readlink(d.name(name))
		if err := d.verify("readlink", name, err); err != nil {
			return "", err
		}
		return s, nil
	}
	s, err := d.be.readlinkInPID(pfd, name)
	if err != nil {
		return "", d.err("readlink", name, err)
	}
	return s, nil
}

// Gone reports whether the process the directory was opened for is gone:
// reaped (a zombie is still there), or, on Roots read by name, its
// directory removed or now another process's. After a read failed with
// fs.ErrNotExist, it tells a process that exited from a file it does not
// have.
func (d *ProcDir) Gone() bool {
	if d.gone.Load() {
		return true
	}
	pfd, err := d.h.acquire()
	if err != nil {
		return false
	}
	defer d.h.release()
	if d.be == nil {
		return d.changed()
	}
	// Every process directory has a stat file; procfs refuses the lookup
	// once the process is reaped.
	var st unix.Stat_t
	err = sysfile.Lstatat(pfd, "stat", &st)
	if err == unix.ENOENT || err == unix.ESRCH {
		d.gone.Store(true)
	}
	return d.gone.Load()
}

// name is the host-absolute name of the process's file rel.
func (d *ProcDir) name(rel string) string { return d.dir + "/" + rel }

// err wraps an error of the kernel path: ESRCH, which procfs gives for the
// files of a reaped process, is ENOENT here, as on every other Root.
func (d *ProcDir) err(op, rel string, err error) error {
	return pathErr(op, d.name(rel), procErrno(err))
}

func procErrno(err error) error {
	if err == unix.ESRCH {
		return syscall.ENOENT
	}
	return err
}

// verify checks, after a read by name, that the directory is still the
// process's: if it is gone or changed hands, the read may have met another
// process's file and fails with ENOENT instead.
func (d *ProcDir) verify(op, rel string, err error) error {
	if errors.Is(err, fs.ErrClosed) {
		return err
	}
	if d.changed() {
		return &fs.PathError{Op: op, Path: d.name(rel), Err: syscall.ENOENT}
	}
	return err
}

// changed reports, for a ProcDir read by name, whether its directory is gone
// or is no longer the one OpenProc saw.
func (d *ProcDir) changed() bool {
	if d.gone.Load() {
		return true
	}
	fi, err := d.r.Lstat(d.dir)
	gone := errors.Is(err, fs.ErrNotExist)
	if err == nil && d.idOK {
		st, ok := StatOf(fi)
		gone = !ok || [2]uint64{st.Dev, st.Ino} != d.id
	}
	if gone {
		d.gone.Store(true)
	}
	return gone
}

// validProcName reports whether name is a clean relative name: no leading
// or trailing slash, no empty, "." or ".." component, no NUL.
func validProcName(name string) bool {
	if name == "" || strings.IndexByte(name, 0) >= 0 {
		return false
	}
	for {
		comp, rest, more := strings.Cut(name, "/")
		if comp == "" || comp == "." || comp == ".." {
			return false
		}
		if !more {
			return true
		}
		name = rest
	}
}

// leafInPID reports whether the clean relative name is an entry of the
// process directory itself or of its ns directory: every component before
// the last is then a directory procfs makes, and one openat or readlinkat
// with the final component not followed resolves it as openat2 would.
func leafInPID(name string) bool {
	dir, leaf, ok := strings.Cut(name, "/")
	if !ok {
		return true
	}
	return dir == "ns" && strings.IndexByte(leaf, '/') < 0
}

// openPID opens the process directory rel ("1234") of a trusted procfs.
func (b *osBackend) openPID(rel string) (int, error) {
	dirfd, err := b.dir.acquire()
	if err != nil {
		return -1, err
	}
	defer b.dir.release()
	return sysfile.Openat(dirfd, rel, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW)
}

// openInPID opens name relative to the process directory pfd, following no
// symlink at all: procfs holds none there but magic links, which a Root
// never follows.
func (b *osBackend) openInPID(pfd int, name string, flags int) (int, error) {
	flags |= unix.O_NOFOLLOW
	switch {
	case leafInPID(name):
		return sysfile.Openat(pfd, name, flags)
	case b.openat2:
		return sysfile.Openat2(pfd, name, flags, sysfile.ResolveBeneath|sysfile.ResolveNoSymlinks)
	}
	return sysfile.Walk(pfd, name, flags)
}

// readlinkInPID reads the link name relative to the process directory pfd,
// following nothing on the way.
func (b *osBackend) readlinkInPID(pfd int, name string) (string, error) {
	if leafInPID(name) {
		return sysfile.ReadlinkAt(pfd, name)
	}
	i := strings.LastIndexByte(name, '/')
	dfd, err := b.openInPID(pfd, name[:i], unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return "", err
	}
	defer sysfile.Close(dfd)
	return sysfile.ReadlinkAt(dfd, name[i+1:])
}
