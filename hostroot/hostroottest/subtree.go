package hostroottest

import (
	"io/fs"
	"os"
	"path"
	"syscall"
	"time"

	"github.com/spf13/afero"
)

// subtree is a read-only view of one directory of a Host as the root of a
// file system: what /proc/PID/root is for a process. Names are joined
// lexically; the Root reading it resolves symlinks itself, so only clean,
// symlink-free names ever arrive and none can climb out.
type subtree struct {
	h   *Host
	dir string
}

func (s *subtree) full(name string) string { return path.Join(s.dir, path.Clean("/"+name)) }

func (s *subtree) rofs(op, name string) error {
	return &fs.PathError{Op: op, Path: name, Err: syscall.EROFS}
}

func (s *subtree) Name() string { return "hostroottest subtree " + s.dir }

func (s *subtree) Open(name string) (afero.File, error) { return s.h.Open(s.full(name)) }

func (s *subtree) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	if flag != os.O_RDONLY {
		return nil, s.rofs("open", name)
	}
	return s.Open(name)
}

func (s *subtree) Stat(name string) (os.FileInfo, error) {
	fi, _, err := s.LstatIfPossible(name)
	return fi, err
}

func (s *subtree) LstatIfPossible(name string) (os.FileInfo, bool, error) {
	fi, ok, err := s.h.LstatIfPossible(s.full(name))
	if err == nil && path.Clean("/"+name) == "/" {
		if i, isInfo := fi.(*info); isInfo {
			c := *i
			c.name = "/"
			fi = &c
		}
	}
	return fi, ok, err
}

// LstatPath implements hostroot.PathLstater. The subtree's own root is left
// to LstatIfPossible, which names it "/".
func (s *subtree) LstatPath(name string) (os.FileInfo, bool) {
	if !isCanonical(name) || name == "/" {
		return nil, false
	}
	if s.dir == "/" {
		return s.h.LstatPath(name)
	}
	return s.h.LstatPath(s.dir + name)
}

func (s *subtree) ReadlinkIfPossible(name string) (string, error) {
	return s.h.ReadlinkIfPossible(s.full(name))
}

func (s *subtree) Create(name string) (afero.File, error)    { return nil, s.rofs("create", name) }
func (s *subtree) Mkdir(name string, _ os.FileMode) error    { return s.rofs("mkdir", name) }
func (s *subtree) MkdirAll(name string, _ os.FileMode) error { return s.rofs("mkdir", name) }
func (s *subtree) Remove(name string) error                  { return s.rofs("remove", name) }
func (s *subtree) RemoveAll(name string) error               { return s.rofs("remove", name) }
func (s *subtree) Rename(_, newname string) error            { return s.rofs("rename", newname) }
func (s *subtree) Chmod(name string, _ os.FileMode) error    { return s.rofs("chmod", name) }
func (s *subtree) Chown(name string, _, _ int) error         { return s.rofs("chown", name) }
func (s *subtree) Chtimes(name string, _, _ time.Time) error { return s.rofs("chtimes", name) }
func (s *subtree) SymlinkIfPossible(_, newname string) error { return s.rofs("symlink", newname) }
