package hostroot

import (
	"errors"
	"io"
	"io/fs"
	"sort"
	"syscall"

	"github.com/spf13/afero"
)

// ProcRooter is implemented by file systems that model the /proc/PID/root
// magic link of their processes, such as hostroottest.Host. ProcRoot on an
// in-memory Root asks it for the file system of process pid's root
// directory, and fails with ErrUnsupported when the file system does not
// implement it.
type ProcRooter interface {
	ProcRootFS(pid int) (afero.Fs, error)
}

// PathLstater is implemented by file systems that can describe a whole name
// in one lookup, such as hostroottest.Host. LstatPath describes the clean
// absolute name without following a final symlink, and reports false unless
// every component before the last is a directory: a symlink, a file or a
// missing name on the way. The resolver then walks the name one component at
// a time as for any other file system, so the answers are the same; only a
// name with no symlink on the way costs one lookup instead of one per
// component.
type PathLstater interface {
	LstatPath(name string) (fs.FileInfo, bool)
}

// FromAfero returns a Root reading fsys, whose "/" is the host's root. The
// resolver applies chroot semantics itself, using fsys's Lstat and Readlink
// (afero.Lstater, afero.LinkReader) where it has them; a file system without
// them is taken to hold no symlinks. Writes through the Root are rejected
// whatever fsys allows.
//
// fsys is normally an in-memory tree from hostroottest. An afero.OsFs or
// BasePathFs can be passed, but the kernel then follows links in the final
// open on its own: for on-disk trees use Dir, which the kernel confines.
func FromAfero(fsys afero.Fs) *Root {
	return newRoot("afero "+fsys.Name(), []*mount{{prefix: "/", be: newAferoBackend(fsys)}})
}

// aferoBackend serves a Root from an afero.Fs.
type aferoBackend struct {
	fs afero.Fs
	pl PathLstater // fs, when it implements PathLstater
}

func newAferoBackend(fsys afero.Fs) *aferoBackend {
	b := &aferoBackend{fs: fsys}
	b.pl, _ = fsys.(PathLstater)
	return b
}

// lstatPath describes name, the file system's own name of a file (the
// host name: this backend is always mounted at "/"), in one lookup when the
// file system can (see PathLstater).
func (b *aferoBackend) lstatPath(name string) (fs.FileInfo, bool) {
	if b.pl == nil || name == "/" {
		return nil, false
	}
	return b.pl.LstatPath(name)
}

func (b *aferoBackend) name(rel string) string {
	if rel == "." {
		return "/"
	}
	return "/" + rel
}

func (b *aferoBackend) stat(rel string, _ resolveMode, follow bool) (fs.FileInfo, error) {
	return b.statName(b.name(rel), follow)
}

// statName is stat of the file system's own name. The methods below build
// the name once for their stat and their open.
func (b *aferoBackend) statName(name string, follow bool) (fs.FileInfo, error) {
	if !follow {
		if l, ok := b.fs.(afero.Lstater); ok {
			fi, _, err := l.LstatIfPossible(name)
			return fi, err
		}
	}
	return b.fs.Stat(name)
}

func (b *aferoBackend) readlink(rel string, _ resolveMode) (string, error) {
	name := b.name(rel)
	fi, err := b.statName(name, false)
	if err != nil {
		return "", err
	}
	if fi.Mode()&fs.ModeSymlink == 0 {
		return "", syscall.EINVAL
	}
	l, ok := b.fs.(afero.LinkReader)
	if !ok {
		return "", syscall.EINVAL
	}
	return l.ReadlinkIfPossible(name)
}

func (b *aferoBackend) open(rel string, _ resolveMode, base string) (fs.File, error) {
	name := b.name(rel)
	fi, err := b.statName(name, false)
	if err != nil {
		return nil, err
	}
	if err := checkOpenable(fi); err != nil {
		return nil, err
	}
	f, err := b.fs.Open(name)
	if err != nil {
		return nil, err
	}
	return &aferoFile{f: f, base: base}, nil
}

func (b *aferoBackend) appendFile(dst []byte, rel string, _ resolveMode, limit int) ([]byte, bool, error) {
	name := b.name(rel)
	fi, err := b.statName(name, false)
	if err != nil {
		return dst, false, err
	}
	if fi.IsDir() {
		return dst, false, syscall.EISDIR
	}
	if !fi.Mode().IsRegular() {
		return dst, false, ErrNotRegular
	}
	f, err := b.fs.Open(name)
	if err != nil {
		return dst, false, err
	}
	defer f.Close()
	return readCapped(f, dst, limit)
}

func (b *aferoBackend) readDirNames(rel string, _ resolveMode) ([]string, error) {
	name := b.name(rel)
	fi, err := b.statName(name, false)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, syscall.ENOTDIR
	}
	f, err := b.fs.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

func (b *aferoBackend) procRoot(rel string, _ resolveMode, pid int) (backend, error) {
	pr, ok := b.fs.(ProcRooter)
	if !ok {
		return nil, errors.ErrUnsupported
	}
	fi, err := b.stat(rel, resolveCanonical, false)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, syscall.ENOTDIR
	}
	sub, err := pr.ProcRootFS(pid)
	if err != nil {
		return nil, err
	}
	return newAferoBackend(sub), nil
}

func (b *aferoBackend) readerPath(string) (string, bool) { return "", false }
func (b *aferoBackend) kernelResolve() bool              { return false }
func (b *aferoBackend) faithfulProc(string) bool         { return true }
func (b *aferoBackend) close() error                     { return nil }

// checkOpenable refuses what Open must never open for reading.
func checkOpenable(fi fs.FileInfo) error {
	if fi.IsDir() || fi.Mode().IsRegular() {
		return nil
	}
	return ErrNotRegular
}

// readCapped appends r's content to dst, stopping after limit bytes.
func readCapped(r io.Reader, dst []byte, limit int) ([]byte, bool, error) {
	start := len(dst)
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		room := cap(dst) - len(dst)
		if max := limit + 1 - (len(dst) - start); room > max {
			room = max
		}
		n, err := r.Read(dst[len(dst) : len(dst)+room])
		dst = dst[:len(dst)+n]
		if len(dst)-start > limit {
			return dst[:start+limit], true, nil
		}
		if err == io.EOF {
			return dst, false, nil
		}
		if err != nil {
			return dst, false, err
		}
	}
}

// aferoFile is a read-only fs.File over an afero.File.
type aferoFile struct {
	f    afero.File
	base string
}

func (f *aferoFile) Stat() (fs.FileInfo, error) {
	fi, err := f.f.Stat()
	if err != nil {
		return nil, err
	}
	return named(fi, f.base), nil
}
func (f *aferoFile) Read(p []byte) (int, error) { return f.f.Read(p) }
func (f *aferoFile) Close() error               { return f.f.Close() }

// ReadAt reports io.EOF with a short read, as io.ReaderAt requires and
// afero's MemMapFs does not.
func (f *aferoFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := f.f.ReadAt(p, off)
	if err == nil && n < len(p) {
		err = io.EOF
	}
	return n, err
}
func (f *aferoFile) Seek(off int64, whence int) (int64, error) {
	return f.f.Seek(off, whence)
}

// ReadDir lists the directory sorted by name, as fs.ReadDirFile asks.
func (f *aferoFile) ReadDir(n int) ([]fs.DirEntry, error) {
	infos, err := f.f.Readdir(n)
	sort.Slice(infos, func(i, j int) bool { return infos[i].Name() < infos[j].Name() })
	entries := make([]fs.DirEntry, len(infos))
	for i, fi := range infos {
		entries[i] = fs.FileInfoToDirEntry(fi)
	}
	return entries, err
}

// FromFS returns a Root reading fsys, whose "." is the host's root. Symlinks
// are followed with chroot semantics when fsys implements fs.ReadLinkFS;
// otherwise fsys is taken to hold none. ProcRoot is not supported.
func FromFS(fsys fs.FS) *Root {
	return newRoot("io/fs tree", []*mount{{prefix: "/", be: &iofsBackend{fs: fsys}}})
}

// iofsBackend serves a Root from an io/fs.FS.
type iofsBackend struct {
	fs fs.FS
}

func (b *iofsBackend) stat(rel string, _ resolveMode, follow bool) (fs.FileInfo, error) {
	if follow {
		return fs.Stat(b.fs, rel)
	}
	return fs.Lstat(b.fs, rel)
}

func (b *iofsBackend) readlink(rel string, _ resolveMode) (string, error) {
	fi, err := fs.Lstat(b.fs, rel)
	if err != nil {
		return "", err
	}
	if fi.Mode()&fs.ModeSymlink == 0 {
		return "", syscall.EINVAL
	}
	return fs.ReadLink(b.fs, rel)
}

func (b *iofsBackend) open(rel string, _ resolveMode, base string) (fs.File, error) {
	fi, err := fs.Lstat(b.fs, rel)
	if err != nil {
		return nil, err
	}
	if err := checkOpenable(fi); err != nil {
		return nil, err
	}
	f, err := b.fs.Open(rel)
	if err != nil {
		return nil, err
	}
	return readOnlyFile{f, base}, nil
}

func (b *iofsBackend) appendFile(dst []byte, rel string, _ resolveMode, limit int) ([]byte, bool, error) {
	fi, err := fs.Lstat(b.fs, rel)
	if err != nil {
		return dst, false, err
	}
	if fi.IsDir() {
		return dst, false, syscall.EISDIR
	}
	if !fi.Mode().IsRegular() {
		return dst, false, ErrNotRegular
	}
	f, err := b.fs.Open(rel)
	if err != nil {
		return dst, false, err
	}
	defer f.Close()
	return readCapped(f, dst, limit)
}

func (b *iofsBackend) readDirNames(rel string, _ resolveMode) ([]string, error) {
	fi, err := fs.Lstat(b.fs, rel)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, syscall.ENOTDIR
	}
	entries, err := fs.ReadDir(b.fs, rel)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names, nil
}

func (b *iofsBackend) procRoot(string, resolveMode, int) (backend, error) {
	return nil, errors.ErrUnsupported
}

func (b *iofsBackend) readerPath(string) (string, bool) { return "", false }
func (b *iofsBackend) kernelResolve() bool              { return false }
func (b *iofsBackend) faithfulProc(string) bool         { return true }
func (b *iofsBackend) close() error                     { return nil }

// readOnlyFile hides any write methods of the file it wraps.
type readOnlyFile struct {
	fs.File
	base string
}

func (f readOnlyFile) Stat() (fs.FileInfo, error) {
	fi, err := f.File.Stat()
	if err != nil {
		return nil, err
	}
	return named(fi, f.base), nil
}

func (f readOnlyFile) ReadDir(n int) ([]fs.DirEntry, error) {
	if d, ok := f.File.(fs.ReadDirFile); ok {
		return d.ReadDir(n)
	}
	return nil, &fs.PathError{Op: "readdir", Path: f.base, Err: syscall.ENOTDIR}
}
