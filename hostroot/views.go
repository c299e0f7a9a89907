package hostroot

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"sort"
	"syscall"
	"time"

	"github.com/spf13/afero"
)

// FS returns an io/fs view of the Root. Names are unrooted, as io/fs wants
// ("proc/1/stat" for /proc/1/stat); the view implements fs.ReadFileFS,
// fs.ReadDirFS, fs.StatFS and fs.ReadLinkFS with the Root's chroot
// semantics. ReadFile applies DefaultReadLimit.
func (r *Root) FS() fs.FS { return &ioFS{r: r} }

type ioFS struct{ r *Root }

var (
	_ fs.ReadFileFS = (*ioFS)(nil)
	_ fs.ReadDirFS  = (*ioFS)(nil)
	_ fs.StatFS     = (*ioFS)(nil)
	_ fs.ReadLinkFS = (*ioFS)(nil)
)

// hostName maps an io/fs name to a host-absolute one.
func (f *ioFS) hostName(op, name string) (string, error) {
	if !fs.ValidPath(name) {
		return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	if name == "." {
		return "/", nil
	}
	return "/" + name, nil
}

// fsErr puts the io/fs name back into an error from the Root.
func fsErr(err error, name string) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &fs.PathError{Op: pe.Op, Path: name, Err: pe.Err}
	}
	return err
}

func (f *ioFS) Open(name string) (fs.File, error) {
	h, err := f.hostName("open", name)
	if err != nil {
		return nil, err
	}
	file, err := f.r.Open(h)
	return file, fsErr(err, name)
}

func (f *ioFS) ReadFile(name string) ([]byte, error) {
	h, err := f.hostName("read", name)
	if err != nil {
		return nil, err
	}
	b, err := f.r.ReadFile(h)
	return b, fsErr(err, name)
}

func (f *ioFS) ReadDir(name string) ([]fs.DirEntry, error) {
	h, err := f.hostName("readdir", name)
	if err != nil {
		return nil, err
	}
	d, err := f.r.ReadDir(h)
	return d, fsErr(err, name)
}

func (f *ioFS) Stat(name string) (fs.FileInfo, error) {
	h, err := f.hostName("stat", name)
	if err != nil {
		return nil, err
	}
	fi, err := f.r.Stat(h)
	return fi, fsErr(err, name)
}

func (f *ioFS) Lstat(name string) (fs.FileInfo, error) {
	h, err := f.hostName("lstat", name)
	if err != nil {
		return nil, err
	}
	fi, err := f.r.Lstat(h)
	return fi, fsErr(err, name)
}

func (f *ioFS) ReadLink(name string) (string, error) {
	h, err := f.hostName("readlink", name)
	if err != nil {
		return "", err
	}
	s, err := f.r.Readlink(h)
	return s, fsErr(err, name)
}

// Afero returns a read-only afero.Fs view of the Root, for code written
// against afero. Names are host-absolute and resolve with the Root's chroot
// semantics; it implements afero.Lstater and afero.LinkReader. Every method
// that would change anything fails with EROFS.
func (r *Root) Afero() afero.Fs { return &aferoView{r: r} }

type aferoView struct{ r *Root }

var (
	_ afero.Lstater    = (*aferoView)(nil)
	_ afero.LinkReader = (*aferoView)(nil)
	_ afero.Linker     = (*aferoView)(nil)
)

func readOnly(op, name string) error {
	return &fs.PathError{Op: op, Path: name, Err: syscall.EROFS}
}

func (v *aferoView) Name() string { return "hostroot " + v.r.String() }

func (v *aferoView) Open(name string) (afero.File, error) {
	f, err := v.r.Open(name)
	if err != nil {
		return nil, err
	}
	return &aferoViewFile{f: f, name: name}, nil
}

func (v *aferoView) OpenFile(name string, flag int, _ os.FileMode) (afero.File, error) {
	if flag&(os.O_WRONLY|os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_TRUNC) != 0 {
		return nil, readOnly("open", name)
	}
	return v.Open(name)
}

func (v *aferoView) Stat(name string) (os.FileInfo, error) { return v.r.Stat(name) }

func (v *aferoView) LstatIfPossible(name string) (os.FileInfo, bool, error) {
	fi, err := v.r.Lstat(name)
	return fi, true, err
}

func (v *aferoView) ReadlinkIfPossible(name string) (string, error) { return v.r.Readlink(name) }

func (v *aferoView) SymlinkIfPossible(_, newname string) error { return readOnly("symlink", newname) }
func (v *aferoView) Create(name string) (afero.File, error)    { return nil, readOnly("create", name) }
func (v *aferoView) Mkdir(name string, _ os.FileMode) error    { return readOnly("mkdir", name) }
func (v *aferoView) MkdirAll(name string, _ os.FileMode) error { return readOnly("mkdir", name) }
func (v *aferoView) Remove(name string) error                  { return readOnly("remove", name) }
func (v *aferoView) RemoveAll(name string) error               { return readOnly("remove", name) }
func (v *aferoView) Rename(_, newname string) error            { return readOnly("rename", newname) }
func (v *aferoView) Chmod(name string, _ os.FileMode) error    { return readOnly("chmod", name) }
func (v *aferoView) Chown(name string, _, _ int) error         { return readOnly("chown", name) }
func (v *aferoView) Chtimes(name string, _, _ time.Time) error {
	return readOnly("chtimes", name)
}

// aferoViewFile adapts a Root's file to afero.File, refusing writes.
type aferoViewFile struct {
	f    fs.File
	name string
}

func (f *aferoViewFile) Close() error               { return f.f.Close() }
func (f *aferoViewFile) Read(p []byte) (int, error) { return f.f.Read(p) }
func (f *aferoViewFile) Name() string               { return f.name }
func (f *aferoViewFile) Stat() (os.FileInfo, error) { return f.f.Stat() }
func (f *aferoViewFile) Sync() error                { return nil }

func (f *aferoViewFile) ReadAt(p []byte, off int64) (int, error) {
	if ra, ok := f.f.(io.ReaderAt); ok {
		return ra.ReadAt(p, off)
	}
	return 0, &fs.PathError{Op: "read", Path: f.name, Err: errors.ErrUnsupported}
}

func (f *aferoViewFile) Seek(off int64, whence int) (int64, error) {
	if s, ok := f.f.(io.Seeker); ok {
		return s.Seek(off, whence)
	}
	return 0, &fs.PathError{Op: "seek", Path: f.name, Err: errors.ErrUnsupported}
}

func (f *aferoViewFile) Readdir(n int) ([]os.FileInfo, error) {
	d, ok := f.f.(fs.ReadDirFile)
	if !ok {
		return nil, &fs.PathError{Op: "readdir", Path: f.name, Err: syscall.ENOTDIR}
	}
	entries, err := d.ReadDir(n)
	infos := make([]os.FileInfo, 0, len(entries))
	for _, e := range entries {
		fi, ierr := e.Info()
		if ierr != nil {
			continue // vanished since the listing
		}
		infos = append(infos, fi)
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].Name() < infos[j].Name() })
	return infos, err
}

func (f *aferoViewFile) Readdirnames(n int) ([]string, error) {
	infos, err := f.Readdir(n)
	names := make([]string, len(infos))
	for i, fi := range infos {
		names[i] = fi.Name()
	}
	return names, err
}

func (f *aferoViewFile) Write([]byte) (int, error)          { return 0, readOnly("write", f.name) }
func (f *aferoViewFile) WriteAt([]byte, int64) (int, error) { return 0, readOnly("write", f.name) }
func (f *aferoViewFile) WriteString(string) (int, error)    { return 0, readOnly("write", f.name) }
func (f *aferoViewFile) Truncate(int64) error               { return readOnly("truncate", f.name) }
