package hostroottest

import (
	"io"
	"io/fs"
	"os"
	"sync"
	"syscall"

	"github.com/hostscope/hostscope/hostroot"
)

// file is an open node of a Host: the afero.File of Open and OpenFile. It
// reads and writes the node itself, so a write shows in every later read.
type file struct {
	h    *Host
	n    *node
	name string
	// read and write are the access the file was opened with; Open gives
	// read only.
	read, write bool

	mu     sync.Mutex
	off    int64
	dirOff int // entries of a directory listing already returned
	closed bool
}

func (f *file) Name() string { return f.name }

func (f *file) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return &fs.PathError{Op: "close", Path: f.name, Err: fs.ErrClosed}
	}
	f.closed = true
	return nil
}

func (f *file) Stat() (os.FileInfo, error) {
	f.h.mu.RLock()
	defer f.h.mu.RUnlock()
	return f.n.fi, nil
}

// readable checks that the node can be read as a file's bytes. The caller
// holds the Host's lock.
func (f *file) readable(op string) error {
	switch m := f.n.mode; {
	case m.IsDir():
		return &fs.PathError{Op: op, Path: f.name, Err: syscall.EISDIR}
	case !m.IsRegular():
		return &fs.PathError{Op: op, Path: f.name, Err: hostroot.ErrNotRegular}
	}
	return nil
}

func (f *file) Read(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err := f.readAt(p, f.off, "read")
	f.off += int64(n)
	return n, err
}

func (f *file) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, &fs.PathError{Op: "readat", Path: f.name, Err: fs.ErrInvalid}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.readAt(p, off, "readat")
}

func (f *file) readAt(p []byte, off int64, op string) (int, error) {
	if f.closed {
		return 0, &fs.PathError{Op: op, Path: f.name, Err: fs.ErrClosed}
	}
	if !f.read {
		return 0, &fs.PathError{Op: op, Path: f.name, Err: syscall.EBADF}
	}
	f.h.mu.RLock()
	defer f.h.mu.RUnlock()
	if err := f.readable(op); err != nil {
		return 0, err
	}
	if off >= int64(len(f.n.data)) {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	n := copy(p, f.n.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *file) Seek(offset int64, whence int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, &fs.PathError{Op: "seek", Path: f.name, Err: fs.ErrClosed}
	}
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += f.off
	case io.SeekEnd:
		f.h.mu.RLock()
		offset += int64(len(f.n.data))
		f.h.mu.RUnlock()
	default:
		return 0, &fs.PathError{Op: "seek", Path: f.name, Err: fs.ErrInvalid}
	}
	if offset < 0 {
		return 0, &fs.PathError{Op: "seek", Path: f.name, Err: fs.ErrInvalid}
	}
	f.off = offset
	return offset, nil
}

func (f *file) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err := f.writeAt(p, f.off, "write")
	f.off += int64(n)
	return n, err
}

func (f *file) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, &fs.PathError{Op: "writeat", Path: f.name, Err: fs.ErrInvalid}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.writeAt(p, off, "writeat")
}

func (f *file) WriteString(s string) (int, error) { return f.Write([]byte(s)) }

func (f *file) writeAt(p []byte, off int64, op string) (int, error) {
	if f.closed {
		return 0, &fs.PathError{Op: op, Path: f.name, Err: fs.ErrClosed}
	}
	if !f.write {
		return 0, &fs.PathError{Op: op, Path: f.name, Err: syscall.EBADF}
	}
	f.h.mu.Lock()
	defer f.h.mu.Unlock()
	if err := f.readable(op); err != nil {
		return 0, err
	}
	// A new slice each time: readers that took the old content keep it.
	end := off + int64(len(p))
	size := max(end, int64(len(f.n.data)))
	data := make([]byte, size)
	copy(data, f.n.data)
	copy(data[off:], p)
	f.n.data = data
	f.n.refresh()
	return len(p), nil
}

func (f *file) Truncate(size int64) error {
	if size < 0 {
		return &fs.PathError{Op: "truncate", Path: f.name, Err: fs.ErrInvalid}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return &fs.PathError{Op: "truncate", Path: f.name, Err: fs.ErrClosed}
	}
	if !f.write {
		return &fs.PathError{Op: "truncate", Path: f.name, Err: syscall.EBADF}
	}
	f.h.mu.Lock()
	defer f.h.mu.Unlock()
	if err := f.readable("truncate"); err != nil {
		return err
	}
	data := make([]byte, size)
	copy(data, f.n.data)
	f.n.data = data
	f.n.refresh()
	return nil
}

func (f *file) Sync() error { return nil }

// Readdir lists the directory sorted by name, n entries at a time when n >
// 0 (io.EOF once none are left), all the rest otherwise.
func (f *file) Readdir(n int) ([]os.FileInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.h.mu.RLock()
	defer f.h.mu.RUnlock()
	names, err := f.nextNames(n)
	infos := make([]os.FileInfo, 0, len(names))
	for _, name := range names {
		if c := f.n.children[name]; c != nil {
			infos = append(infos, c.fi)
		}
	}
	return infos, err
}

// Readdirnames lists the directory's names sorted, as Readdir does.
func (f *file) Readdirnames(n int) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.h.mu.RLock()
	defer f.h.mu.RUnlock()
	names, err := f.nextNames(n)
	return append([]string(nil), names...), err
}

// nextNames returns the next n names (all the rest when n <= 0), shared
// with the node. The caller holds both locks.
func (f *file) nextNames(n int) ([]string, error) {
	if f.closed {
		return nil, &fs.PathError{Op: "readdir", Path: f.name, Err: fs.ErrClosed}
	}
	if !f.n.mode.IsDir() {
		return nil, &fs.PathError{Op: "readdir", Path: f.name, Err: syscall.ENOTDIR}
	}
	all := f.h.names(f.n)
	if f.dirOff > len(all) {
		f.dirOff = len(all)
	}
	rest := all[f.dirOff:]
	if n > 0 {
		if len(rest) == 0 {
			return nil, io.EOF
		}
		rest = rest[:min(n, len(rest))]
	}
	f.dirOff += len(rest)
	return rest, nil
}
