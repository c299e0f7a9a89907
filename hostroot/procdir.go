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

// ProcDir reads the files of one process, by names relative to its /proc/PID
// directory ("status", "ns/net"), and tells whether they were that
// process's or, because the process exited and its PID passed to another one
// meanwhile, perhaps another's.
//
// OpenProc opens the process's stat file and holds it. procfs ties an open
// file to the process, not to its PID: once the process has been reaped,
// every read of the held file fails (ESRCH, reported as ENOENT), even if the
// PID was reused. AppendFile and Readlink read other files by name, which
// reach whatever process holds the PID at that moment, so their answers are
// provisional; AppendStat reads the held stat file, and its success proves
// that the process was still there, so that it held its PID all along:
// every answer the ProcDir gave before AppendStat was its own. A reader of
// several files of a process therefore reads stat last (AppendStat), and
// reads the process again from the start when AppendStat fails. This costs
// nothing beyond the files themselves: one open, one or two reads and one
// close per file, as a hand-written reader does.
//
// On a Root whose /proc is not a procfs (in memory, a snapshot on disk),
// files are read by name through the Root, and AppendStat also compares the
// /proc/PID directory's identity (device and inode, as Lstat reports them)
// with the one it had when OpenProc ran: a directory that changed or
// vanished fails it with ENOENT. Roots that report no inode numbers cannot
// tell a reused PID there.
//
// Names follow the Root's rules: nothing is followed at the end (a magic
// link fails with ELOOP; Readlink reads it), and no magic link on the way.
// Errors are *fs.PathError with the host-absolute name ("/proc/123/stat");
// errors.Is(err, fs.ErrNotExist) means the file is missing or the process is
// gone, and Gone tells the two apart. A ProcDir is safe for concurrent use;
// Close releases the stat file it holds.
type ProcDir struct {
	pid int
	// digits is the PID in decimal, the process directory's name in the
	// procfs backend: names are built from it only for errors.
	digits [20]byte
	nd     int
	// h holds the stat file's descriptor on a procfs, and the closed state
	// in every case.
	h dirHandle
	// be is the procfs backend; nil when files are read through r by name,
	// at dir ("/proc/PID").
	be  *osBackend
	dir string
	r   *Root
	// id is the directory's identity when OpenProc ran, on Roots read by
	// name; idOK is false when the Root gave no inode number.
	id   [2]uint64
	idOK bool
	gone atomic.Bool
}

// OpenProc opens the /proc/PID directory of process pid and, on a procfs,
// its stat file (see ProcDir). It fails with an error wrapping
// fs.ErrNotExist when there is no such process. The ProcDir must be closed.
func (r *Root) OpenProc(pid int) (*ProcDir, error) {
	d := &ProcDir{pid: pid, r: r}
	d.nd = len(strconv.AppendInt(d.digits[:0], int64(pid), 10))
	if pid <= 0 {
		return nil, &fs.PathError{Op: "open", Path: d.dirName(), Err: fs.ErrInvalid}
	}
	if b := r.procfs; b != nil {
		fd, err := b.openInPID(d.digits[:d.nd], "stat", unix.O_RDONLY)
		if err != nil {
			return nil, pathErr("open", d.name("stat"), procErrno(err))
		}
		d.be, d.h.fd = b, fd
		return d, nil
	}
	d.dir = d.dirName()
	d.h.fd = -1
	fi, err := r.Lstat(d.dir)
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrClosed):
		return nil, pathErr("open", d.dir, err)
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

// Close releases the stat file. Reads after Close fail with fs.ErrClosed.
func (d *ProcDir) Close() error {
	if d.be != nil {
		return d.h.close()
	}
	d.h.mu.Lock()
	d.h.closed = true
	d.h.mu.Unlock()
	return nil
}

// AppendFile appends the content of the file name (relative, such as
// "status") of whatever process holds the PID now to dst, as Root.AppendFile
// does: reading until end of file, failing with ErrTooLarge past limit
// (DefaultReadLimit if limit <= 0), and returning dst unextended on any
// error. A later successful AppendStat confirms it was this process's.
func (d *ProcDir) AppendFile(dst []byte, name string, limit int) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultReadLimit
	}
	if !validProcName(name) {
		return dst, &fs.PathError{Op: "read", Path: d.name(name), Err: fs.ErrInvalid}
	}
	if _, err := d.h.acquire(); err != nil {
		return dst, &fs.PathError{Op: "read", Path: d.name(name), Err: err}
	}
	defer d.h.release()
	if d.be == nil || !leafInPID(name) {
		out, err := d.r.AppendFile(dst, d.name(name), limit)
		return out, procErrno(err)
	}
	out, tooLarge, err := d.be.appendInPID(dst, d.digits[:d.nd], name, limit)
	switch {
	case err != nil:
		return dst, d.err("read", name, err)
	case tooLarge:
		return dst, &fs.PathError{Op: "read", Path: d.name(name), Err: ErrTooLarge}
	}
	return out, nil
}

// Readlink returns the raw text of the symlink name ("exe", "ns/net") of
// whatever process holds the PID now, as Root.Readlink does: nothing is
// followed, and a name that is not a symlink fails with EINVAL. A later
// successful AppendStat confirms it was this process's.
func (d *ProcDir) Readlink(name string) (string, error) {
	if !validProcName(name) {
		return "", &fs.PathError{Op: "readlink", Path: d.name(name), Err: fs.ErrInvalid}
	}
	if _, err := d.h.acquire(); err != nil {
		return "", &fs.PathError{Op: "readlink", Path: d.name(name), Err: err}
	}
	defer d.h.release()
	if d.be == nil || !leafInPID(name) {
		s, err := d.r.Readlink(d.name(name))
		return s, procErrno(err)
	}
	s, err := d.be.readlinkInPID(d.digits[:d.nd], name)
	if err != nil {
		return "", d.err("readlink", name, err)
	}
	return s, nil
}

// AppendStat appends the content of the process's /proc/PID/stat to dst,
// as AppendFile does, reading it through the file OpenProc opened. It fails
// with an error wrapping fs.ErrNotExist once the process is gone (Gone then
// reports true), even if its PID belongs to another process by now. When it
// succeeds, every answer the ProcDir gave before was this process's. It can
// be called more than once.
func (d *ProcDir) AppendStat(dst []byte, limit int) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultReadLimit
	}
	fd, err := d.h.acquire()
	if err != nil {
		return dst, &fs.PathError{Op: "read", Path: d.name("stat"), Err: err}
	}
	defer d.h.release()
	if d.be == nil {
		out, err := d.r.AppendFile(dst, d.name("stat"), limit)
		if !errors.Is(err, fs.ErrClosed) && d.changed() {
			return dst, &fs.PathError{Op: "read", Path: d.name("stat"), Err: syscall.ENOENT}
		}
		return out, err
	}
	// pread from the start: concurrent and repeated calls each read the
	// whole file, and cost the read calls of a plain read.
	out, tooLarge, err := sysfile.ReadAllAt(fd, dst, limit)
	switch {
	case err != nil:
		if err == unix.ESRCH {
			d.gone.Store(true)
		}
		return dst, d.err("read", "stat", err)
	case tooLarge:
		return dst, &fs.PathError{Op: "read", Path: d.name("stat"), Err: ErrTooLarge}
	}
	return out, nil
}

// Gone reports whether the process the ProcDir was opened for is gone:
// reaped (a zombie is still there), or, on Roots read by name, its directory
// removed or now another process's. After a read failed with
// fs.ErrNotExist, it tells a process that exited from a file it does not
// have. Like a successful AppendStat, a false answer proves every answer
// the ProcDir gave before was this process's: a reader that does not need
// stat confirms with Gone (on a procfs, a one-byte read of the held file).
func (d *ProcDir) Gone() bool {
	if d.gone.Load() {
		return true
	}
	fd, err := d.h.acquire()
	if err != nil {
		return false
	}
	defer d.h.release()
	if d.be == nil {
		return d.changed()
	}
	// A read of the held stat file fails once the process is reaped.
	// pread leaves the file's offset alone.
	var b [1]byte
	for {
		_, err = unix.Pread(fd, b[:], 0)
		if err != unix.EINTR {
			break
		}
	}
	if err == unix.ESRCH || err == unix.ENOENT {
		d.gone.Store(true)
	}
	return d.gone.Load()
}

// name is the host-absolute name of the process's file rel.
func (d *ProcDir) name(rel string) string {
	return "/proc/" + string(d.digits[:d.nd]) + "/" + rel
}

// dirName is the host-absolute name of the process's directory.
func (d *ProcDir) dirName() string { return "/proc/" + string(d.digits[:d.nd]) }

// err wraps an error of the procfs path in the host name. ESRCH, which
// procfs gives for the files of a reaped process, is ENOENT here, as on
// every other Root.
func (d *ProcDir) err(op, rel string, err error) error {
	return pathErr(op, d.name(rel), procErrno(err))
}

// procErrno maps ESRCH to ENOENT, in a *fs.PathError too.
func procErrno(err error) error {
	if err == nil {
		return nil
	}
	if err == unix.ESRCH {
		return syscall.ENOENT
	}
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Err == unix.ESRCH {
		return &fs.PathError{Op: pe.Op, Path: pe.Path, Err: syscall.ENOENT}
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
// process directory itself or of one of its directories pidSubdir names: every component before
// the last is then a directory procfs makes, and one openat or readlinkat
// with the final component not followed resolves it as the Root would.
// Other names go through the Root.
func leafInPID(name string) bool {
	dir, leaf, ok := strings.Cut(name, "/")
	if !ok {
		return true
	}
	return pidSubdir(dir) && strings.IndexByte(leaf, '/') < 0
}

// openInPID opens name (see leafInPID) in the process directory rel
// ("1234") of a trusted procfs, not following a final symlink.
func (b *osBackend) openInPID(rel []byte, name string, flags int) (int, error) {
	dirfd, err := b.dir.acquire()
	if err != nil {
		return -1, err
	}
	defer b.dir.release()
	return sysfile.OpenatIn(dirfd, rel, name, flags|unix.O_NOFOLLOW)
}

// appendInPID reads name (see leafInPID) in the process directory rel.
func (b *osBackend) appendInPID(dst, rel []byte, name string, limit int) ([]byte, bool, error) {
	fd, err := b.openInPID(rel, name, unix.O_RDONLY)
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

// readlinkInPID reads the link name (see leafInPID) in the process
// directory rel.
func (b *osBackend) readlinkInPID(rel []byte, name string) (string, error) {
	dirfd, err := b.dir.acquire()
	if err != nil {
		return "", err
	}
	defer b.dir.release()
	return sysfile.ReadlinkAtIn(dirfd, rel, name)
}

// procfsOf returns the trusted procfs backend mounted at /proc, when every
// /proc/PID name routes to it; nil otherwise.
func procfsOf(mounts []*mount) *osBackend {
	var b *osBackend
	for _, m := range mounts {
		switch {
		case m.prefix == "/proc":
			ob, ok := m.be.(*osBackend)
			if !ok || !ob.trusted || ob.kind != sysfile.ProcMagic {
				return nil
			}
			b = ob
		case strings.HasPrefix(m.prefix, "/proc/"):
			return nil
		}
	}
	return b
}
