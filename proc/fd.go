package proc

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/internal/parse"
)

// FD is one open file descriptor of a process, from its /proc/PID/fd link
// (FieldFDs) and, with FieldFDInfo, its /proc/PID/fdinfo file. Plain data.
type FD struct {
	// Number is the descriptor number (the link's name).
	Number int
	// Target is the link text the kernel gives: a path in the process's
	// own mount namespace for files (without the " (deleted)" suffix, see
	// Deleted), "socket:[N]", "pipe:[N]", "anon_inode:[eventfd]",
	// "/memfd:NAME" and the like. It is never followed.
	Target string
	// Type is what Target names.
	Type FDType
	// Inode is the inode number the link names for sockets and pipes
	// ("socket:[N]") and other "type:[N]" links (namespace descriptors);
	// with FieldFDInfo, the ino line of fdinfo fills it for every other
	// descriptor on kernels that write one (Linux 5.14 and later). 0 when
	// unknown.
	Inode uint64
	// Deleted records the " (deleted)" suffix: the file was unlinked while
	// open. A memfd always carries it. A file whose real name ends in
	// " (deleted)" cannot be told from a deleted one.
	Deleted bool
	// Flags are the file status flags (O_* bits, as open(2) defines them
	// for this architecture: O_WRONLY 01, O_RDWR 02, O_APPEND 02000,
	// O_NONBLOCK 04000, O_CLOEXEC 02000000 on x86), from fdinfo's octal
	// flags line. FieldFDInfo.
	Flags uint32
	// Pos is the file offset in bytes. FieldFDInfo.
	Pos int64
	// MntID is the ID of the mount holding the file, as in the process's
	// mountinfo (0 before Linux 3.15). FieldFDInfo.
	MntID int
}

// FDType is the kind of file a descriptor refers to, as its link text shows.
type FDType uint8

// Descriptor types.
const (
	FDOther     FDType = iota // none of the below: a "type:[N]" link such as a namespace
	FDFile                    // a path: regular file, directory, device node, FIFO opened by name
	FDPipe                    // "pipe:[N]"
	FDSocket                  // "socket:[N]"
	FDAnonInode               // "anon_inode:...": eventfd, epoll, timerfd, signalfd, inotify, bpf, pidfd...
	FDMemfd                   // "/memfd:NAME (deleted)"
)

func (t FDType) String() string {
	switch t {
	case FDOther:
		return "other"
	case FDFile:
		return "file"
	case FDPipe:
		return "pipe"
	case FDSocket:
		return "socket"
	case FDAnonInode:
		return "anon_inode"
	case FDMemfd:
		return "memfd"
	}
	return fmt.Sprintf("fdtype(%d)", uint8(t))
}

// parseFDLink parses the text of a /proc/PID/fd/N link into fd. name is the
// link's host name, for errors.
func parseFDLink(link, name string, fd *FD) error {
	if link == "" {
		return fmt.Errorf("%w: %s line 1: empty link", hostroot.ErrMalformed, name)
	}
	if link[0] == '/' {
		fd.Target, fd.Deleted = parseExe(link)
		fd.Type = FDFile
		if strings.HasPrefix(fd.Target, "/memfd:") {
			fd.Type = FDMemfd
		}
		return nil
	}
	fd.Target = link
	if rest, ok := strings.CutPrefix(link, "anon_inode:"); ok {
		fd.Type = FDAnonInode
		if rest == "" {
			return fmt.Errorf("%w: %s line 1: link %q names no anonymous inode", hostroot.ErrMalformed, name, link)
		}
		return nil
	}
	typ, rest, ok := strings.Cut(link, ":[")
	if !ok || typ == "" || !strings.HasSuffix(rest, "]") {
		// Kernels and file systems may add forms; keep the text.
		fd.Type = FDOther
		return nil
	}
	switch typ {
	case "socket":
		fd.Type = FDSocket
	case "pipe":
		fd.Type = FDPipe
	default:
		fd.Type = FDOther
	}
	ino, err := parse.Uint([]byte(rest[:len(rest)-1]))
	if err != nil {
		return fmt.Errorf("%w: %s line 1: inode in link %q: %v", hostroot.ErrMalformed, name, link, err)
	}
	fd.Inode = ino
	return nil
}

// fdNumber parses the name of an entry of /proc/PID/fd.
func fdNumber(n string) (int, bool) {
	if n == "" || len(n) > 10 || (n[0] == '0' && len(n) > 1) {
		return 0, false
	}
	v, err := parse.Uint([]byte(n))
	if err != nil || v > 1<<31-1 {
		return 0, false
	}
	return int(v), true
}

// fds reads the fd directory and each link (FieldFDs) and, with
// FieldFDInfo, each descriptor's fdinfo file. A descriptor closed between
// the listing and its link is skipped. A malformed link or fdinfo is
// recorded in Missing and the other descriptors are kept.
func (pr *procReader) fds() error {
	if pr.zombie() {
		return nil
	}
	dir := pr.name(kFD)
	names, err := pr.s.r.ReadDirNames(dir)
	if err != nil {
		return pr.fail(FieldFDs, err)
	}
	fds := make([]FD, 0, len(names))
	var bad error
	for _, n := range names {
		num, ok := fdNumber(n)
		if !ok {
			if bad == nil {
				bad = fmt.Errorf("%w: %s line 1: entry %q is not a descriptor number", hostroot.ErrMalformed, dir, n)
			}
			continue
		}
		link, err := pr.d.Readlink("fd/" + n)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue // closed since the listing
		case errors.Is(err, fs.ErrClosed):
			return err
		case err != nil:
			// The links share the directory's permission check: one
			// refusal is every link's.
			pr.miss(FieldFDs, err)
			return nil
		}
		fd := FD{Number: num}
		if err := parseFDLink(link, dir+"/"+n, &fd); err != nil {
			if bad == nil {
				bad = err
			}
			continue
		}
		fds = append(fds, fd)
	}
	slices.SortFunc(fds, func(a, b FD) int { return a.Number - b.Number })
	pr.p.FDs = fds
	if bad != nil {
		pr.miss(FieldFDs, bad)
	}
	if pr.s.fields&FieldFDInfo != 0 {
		return pr.fdinfos()
	}
	return nil
}

// fdinfos fills each FD from its fdinfo file. A live process closes
// descriptors at any time (an exec closes its close-on-exec ones) and may
// reuse a number at once, so a missing fdinfo/N is a descriptor closed since
// the listing, whose fdinfo fields stay zero; only when the process has no
// fdinfo directory at all (a capture taken without fdinfo) is it recorded in
// Missing.
func (pr *procReader) fdinfos() error {
	fds := pr.p.FDs
	checked := false
	for i := range fds {
		name := "fdinfo/" + strconv.Itoa(fds[i].Number)
		data, err := pr.d.AppendFile((*pr.s.buf)[:0], name, 0)
		*pr.s.buf = data[:0]
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if !checked {
				checked = true
				if _, lerr := pr.s.r.Lstat("/proc/" + strconv.Itoa(pr.pid) + "/fdinfo"); lerr != nil {
					// Left for settle when the directory is missing: an
					// exiting process drops it.
					return pr.fail(FieldFDInfo, lerr)
				}
			}
			continue
		case err != nil:
			return pr.fail(FieldFDInfo, err)
		}
		info, err := parseFDInfo(data, "")
		if err != nil {
			_, err = parseFDInfo(data, "/proc/"+strconv.Itoa(pr.pid)+"/"+name)
			pr.miss(FieldFDInfo, err)
			continue
		}
		fds[i].Flags, fds[i].Pos, fds[i].MntID = info.flags, info.pos, info.mntID
		if fds[i].Inode == 0 {
			fds[i].Inode = info.ino
		}
	}
	return nil
}
