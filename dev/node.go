package dev

import (
	"context"
	"errors"
	"io/fs"
	"slices"
	"syscall"

	"github.com/hostscope/hostscope/hostroot"
)

// Node is a device node under /dev, as Lstat describes it.
type Node struct {
	Path         string // host path: "/dev/sda1", "/dev/input/event3"
	Kind         Kind
	Major, Minor uint32
	Mode         fs.FileMode // type and permission bits
	UID, GID     uint32      // owner, in the host's user namespace
}

// nodeSkip are /dev directories that hold user data rather than device
// nodes, and can be large: POSIX shared memory, message queues, hugetlbfs.
var nodeSkip = []string{"/dev/shm", "/dev/mqueue", "/dev/hugepages"}

// maxNodeDepth bounds the walk below /dev.
const maxNodeDepth = 16

// Nodes lists the block and character device nodes under /dev, sorted by
// path, without following symlinks (Lstat). /dev/shm, /dev/mqueue and
// /dev/hugepages are not walked. An entry that vanishes during the walk is
// skipped; other errors are returned, joined, beside every node found.
// Owner and device numbers need a Root that reports them (every OS-backed
// Root and hostroottest do); without them they are 0.
func Nodes(ctx context.Context, r *hostroot.Root) ([]Node, error) {
	var nodes []Node
	var errs []error
	var walk func(dir string, depth int) error
	walk = func(dir string, depth int) error {
		names, err := r.ReadDirNames(dir)
		if err != nil {
			if dir != "/dev" && errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		slices.Sort(names)
		for _, n := range names {
			if err := ctx.Err(); err != nil {
				return err
			}
			name := dir + "/" + n
			fi, err := r.Lstat(name)
			if err != nil {
				if !errors.Is(err, fs.ErrNotExist) {
					errs = append(errs, err)
				}
				continue
			}
			mode := fi.Mode()
			switch {
			case mode.IsDir():
				if depth < maxNodeDepth && !slices.Contains(nodeSkip, name) {
					if err := walk(name, depth+1); err != nil {
						if ctx.Err() != nil {
							return err
						}
						errs = append(errs, err)
					}
				}
			case mode&fs.ModeDevice != 0:
				nd := Node{Path: name, Kind: KindBlock, Mode: mode}
				if mode&fs.ModeCharDevice != 0 {
					nd.Kind = KindChar
				}
				if st, ok := hostroot.StatOf(fi); ok {
					nd.Major, nd.Minor, nd.UID, nd.GID = st.RdevMajor, st.RdevMinor, st.UID, st.GID
				}
				nodes = append(nodes, nd)
			}
		}
		return nil
	}
	if err := walk("/dev", 0); err != nil {
		return nodes, errors.Join(append([]error{err}, errs...)...)
	}
	return nodes, errors.Join(errs...)
}

// DiskLink is one of udev's /dev/disk/by-* links.
type DiskLink struct {
	Path string // the link: "/dev/disk/by-uuid/0b1c…"
	// Scheme is the directory: "by-id", "by-uuid", "by-label",
	// "by-partuuid", "by-partlabel", "by-path", "by-diskseq", ...
	Scheme string
	// Name is the link's name with udev's \xNN escapes decoded (a label
	// "my disk" is the link "my\x20disk").
	Name string
	// Target is the host path the link resolves to inside the Root
	// ("/dev/sda1"); empty for a dangling link.
	Target string
	// Kind, Major and Minor describe the device node at Target; empty when
	// Target is not a device node.
	Kind         Kind
	Major, Minor uint32
}

// DiskLinks lists /dev/disk/by-*/*, sorted by path, each link resolved
// inside the Root (an absolute link target is read from the Root's /dev, not
// the reader's). A host without /dev/disk (no udev) fails with an error
// matching fs.ErrNotExist.
func DiskLinks(ctx context.Context, r *hostroot.Root) ([]DiskLink, error) {
	schemes, err := r.ReadDirNames("/dev/disk")
	if err != nil {
		return nil, err
	}
	slices.Sort(schemes)
	var out []DiskLink
	var errs []error
	for _, sc := range schemes {
		dir := "/dev/disk/" + sc
		names, err := r.ReadDirNames(dir)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) && !isNotDir(err) {
				errs = append(errs, err)
			}
			continue
		}
		slices.Sort(names)
		for _, n := range names {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			l := DiskLink{Path: dir + "/" + n, Scheme: sc, Name: DecodeUdevEnc(n)}
			target, err := r.Resolve(l.Path)
			if err == nil {
				l.Target = target
				if fi, err := r.Lstat(target); err == nil && fi.Mode()&fs.ModeDevice != 0 {
					l.Kind = KindBlock
					if fi.Mode()&fs.ModeCharDevice != 0 {
						l.Kind = KindChar
					}
					if st, ok := hostroot.StatOf(fi); ok {
						l.Major, l.Minor = st.RdevMajor, st.RdevMinor
					}
				}
			}
			out = append(out, l)
		}
	}
	return out, errors.Join(errs...)
}

// isNotDir reports a /dev/disk entry that is not a directory.
func isNotDir(err error) bool { return errors.Is(err, syscall.ENOTDIR) }
