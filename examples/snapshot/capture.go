package main

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"syscall"
	"time"

	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/internal/parse"
)

// Defaults for Options' caps.
const (
	// DefaultMaxFileSize bounds each captured file. The largest files a
	// snapshot wants are mount tables (a few hundred bytes per mount) and
	// runtime state files (tens of KiB); 4 MiB keeps a node with thousands
	// of mounts while refusing a runaway file.
	DefaultMaxFileSize = 4 << 20
	// DefaultMaxTotalSize bounds the content of the whole snapshot, below
	// the 1 GiB that hostroottest loads.
	DefaultMaxTotalSize = 512 << 20
	// DefaultCgroupDepth is how deep the /sys/fs/cgroup walk goes below each
	// hierarchy: a Kubernetes container's cgroup is 4 levels down in v2 (5
	// with the v1 controller directory), nested containers add a few.
	DefaultCgroupDepth = 12
)

// Options says what Capture includes and how much it may read. The zero
// value (or nil) captures everything but environments, descriptors'
// fdinfo and the host's /dev (containers' /dev is captured), unredacted,
// with the default caps.
type Options struct {
	// Environ includes /proc/PID/environ, which often holds secrets.
	Environ bool
	// RedactCmdline replaces every argument after argv[0] with "REDACTED",
	// keeping the NUL separators so parsers see the same argument count.
	RedactCmdline bool
	// RedactEnviron keeps the keys of each environment and drops the
	// values ("KEY="); it implies Environ.
	RedactEnviron bool
	// FDInfo includes /proc/PID/fdinfo/N, each descriptor's position,
	// flags and mount ID (what proc.FieldFDInfo reads). Nothing there is
	// secret, but it is one more file per open descriptor, which no
	// socket or posture reader needs: on a quiet host it adds a quarter to
	// the archive, and a busy node has tens of thousands of descriptors.
	// The fd links, which sockets need, are always captured.
	FDInfo bool
	// Dev includes the host's /dev: directories, symlinks, device nodes and FIFOs as
	// archive entries of their own type (their numbers, never their data:
	// nothing under /dev is opened). Regular files there (/dev/shm) are not
	// captured.
	Dev bool
	// MaxFileSize skips any file larger than this many bytes
	// (DefaultMaxFileSize when 0).
	MaxFileSize int
	// MaxTotalSize stops adding file content once the snapshot holds this
	// many bytes (DefaultMaxTotalSize when 0); later files are skipped,
	// links and directories are still recorded.
	MaxTotalSize int64
	// CgroupDepth bounds the /sys/fs/cgroup walk (DefaultCgroupDepth when 0).
	CgroupDepth int
	// ModTime, when set, is the modification time of every entry, so two
	// captures of the same tree give the same archive. Otherwise each entry
	// carries its file's own mtime.
	ModTime time.Time
	// Level is the gzip compression level; 0 means gzip.DefaultCompression.
	Level int
	// Skip, when set, is called with the error of each file counted in
	// Summary.Skipped (an *fs.PathError naming it).
	Skip func(err error)
	// Progress, when set, is called after each batch of entries (a process,
	// a directory of a walk) from Capture's goroutine. It must return quickly.
	Progress func(Progress)
}

// Progress is how far a capture has got.
type Progress struct {
	// Phase names what is being captured: "host", "processes", "cgroups",
	// "block", "udev", "runtimes", "dev", then "done".
	Phase string
	// Processes and ProcessesTotal count process directories during and
	// after the "processes" phase.
	Processes, ProcessesTotal int
	// Entries is the number of archive entries written, Bytes their content.
	Entries int
	Bytes   int64
}

// Summary describes a finished capture.
type Summary struct {
	// Entries is the number of archive entries: Files + Dirs + Symlinks +
	// Nodes.
	Entries, Files, Dirs, Symlinks, Nodes int
	// Bytes is the content written (before compression), Compressed the
	// size of the gzip stream.
	Bytes, Compressed int64
	// Processes is the number of processes captured; Vanished those that
	// exited (or whose PID was reused) during their capture and were left out.
	Processes, Vanished int
	// Skipped counts files that exist but were not captured, by reason (see
	// the Skip constants). Missing files (a kernel thread's exe link, a
	// runtime that is not installed) are not counted.
	Skipped map[string]int
}

// Reasons a file is skipped, the keys of Summary.Skipped.
const (
	SkipPermission = "permission"  // EACCES or EPERM
	SkipTooLarge   = "too-large"   // larger than MaxFileSize
	SkipTotalCap   = "total-cap"   // MaxTotalSize reached
	SkipNotRegular = "not-regular" // a device, FIFO or socket where a file was expected
	SkipWriteOnly  = "write-only"  // no read permission bit (cgroup control knobs)
	SkipTooDeep    = "too-deep"    // a cgroup directory below CgroupDepth
	SkipError      = "error"       // any other read error (EIO, EINVAL from a zombie, ...)
)

// Capture writes a gzip-compressed tar archive of the relevant files of r
// to w, reading only through r. Entries are named relative to the root
// ("proc/1/stat"), directories come before their contents, symlinks are
// stored as symlinks with their text (magic links included: that is how
// exe paths and namespace inodes are recorded) and never followed, and
// owners, modes and mtimes are kept. A file that cannot be read is counted
// in the Summary and left out; only a failure to write to w, or ctx ending,
// is an error.
func Capture(ctx context.Context, r *hostroot.Root, w io.Writer, opts *Options) (*Summary, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.MaxFileSize <= 0 {
		o.MaxFileSize = DefaultMaxFileSize
	}
	if o.MaxTotalSize <= 0 {
		o.MaxTotalSize = DefaultMaxTotalSize
	}
	if o.CgroupDepth <= 0 {
		o.CgroupDepth = DefaultCgroupDepth
	}
	if o.Level == 0 {
		o.Level = gzip.DefaultCompression
	}
	if o.RedactEnviron {
		o.Environ = true
	}
	cw := &countingWriter{w: w}
	zw, err := gzip.NewWriterLevel(cw, o.Level)
	if err != nil {
		return nil, err
	}
	if !o.ModTime.IsZero() {
		zw.ModTime = o.ModTime
	}
	c := &capturer{
		ctx:     ctx,
		r:       r,
		opts:    o,
		tw:      tar.NewWriter(zw),
		sum:     &Summary{Skipped: map[string]int{}},
		seen:    map[string]bool{},
		dirs:    map[string]bool{"/": true},
		devices: map[string]bool{},
		netDirs: map[string]int{},
		roots:   map[string]int{},
	}
	phases := []struct {
		name string
		fn   func() error
	}{
		{"host", c.hostFiles},
		{"processes", c.processes},
		{"cgroups", c.cgroups},
		{"block", c.block},
		{"udev", c.udev},
		{"runtimes", c.runtimes},
	}
	if o.Dev {
		phases = append(phases, struct {
			name string
			fn   func() error
		}{"dev", c.dev})
	}
	for _, p := range phases {
		c.progress.Phase = p.name
		if err := p.fn(); err != nil {
			return c.sum, err
		}
		if err := c.flush(); err != nil {
			return c.sum, err
		}
	}
	if err := c.tw.Close(); err != nil {
		return c.sum, err
	}
	if err := zw.Close(); err != nil {
		return c.sum, err
	}
	c.sum.Compressed = cw.n
	c.progress.Phase = "done"
	c.report()
	return c.sum, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// capturer holds one capture's state. Entries are queued in pending and
// written by flush, so that a process's entries can be dropped whole when
// it turns out to have exited while being read.
type capturer struct {
	ctx  context.Context
	r    *hostroot.Root
	opts Options
	tw   *tar.Writer
	sum  *Summary

	// seen holds every name with an entry, written or pending.
	seen map[string]bool
	// dirs caches names known to be real directories (no symlink on the
	// way), so resolving /proc/PID/stat Lstats only /proc/PID.
	dirs map[string]bool
	// devices holds the device directories whose attributes are captured.
	devices map[string]bool
	// netDirs maps a network namespace (its ns/net link text) to the PID
	// whose net/ tables were captured for it.
	netDirs map[string]int
	// roots maps a mount namespace and root directory to the PID whose
	// root's /dev was captured under procRootsDir; hostMnt is the host's
	// mount namespace, whose processes' roots are not recorded.
	roots   map[string]int
	hostMnt string
	pending []entry
	// arena holds the content of pending entries; AppendFile appends to it.
	arena      []byte
	scratch    []byte
	total      int64 // content bytes written
	progress   Progress
	lastReport int
}

// entry is one archive member, named host-absolute.
type entry struct {
	name         string
	typ          byte
	perm         fs.FileMode
	uid, gid     int
	mtime        time.Time
	link         string
	major, minor uint32
	off, n       int // content in arena
}

func (c *capturer) entryFor(name string, typ byte, fi fs.FileInfo) entry {
	e := entry{name: name, typ: typ, perm: fi.Mode().Perm(), mtime: fi.ModTime()}
	if st, ok := hostroot.StatOf(fi); ok {
		e.uid, e.gid = int(st.UID), int(st.GID)
		e.major, e.minor = st.RdevMajor, st.RdevMinor
	}
	if !c.opts.ModTime.IsZero() {
		e.mtime = c.opts.ModTime
	}
	return e
}

func (c *capturer) add(e entry) {
	if c.seen[e.name] {
		return
	}
	c.seen[e.name] = true
	c.pending = append(c.pending, e)
}

// discard drops the pending entries.
func (c *capturer) discard() {
	for _, e := range c.pending {
		delete(c.seen, e.name)
		delete(c.dirs, e.name)
	}
	c.pending = c.pending[:0]
	c.arena = c.arena[:0]
}

// pendingData returns the content of the pending entry name.
func (c *capturer) pendingData(name string) ([]byte, bool) {
	for _, e := range c.pending {
		if e.name == name && e.typ == tar.TypeReg {
			return c.arena[e.off : e.off+e.n], true
		}
	}
	return nil, false
}

// pendingLink returns the text of the pending symlink entry name, as
// captured: what readers of the snapshot will read there.
func (c *capturer) pendingLink(name string) (string, bool) {
	for _, e := range c.pending {
		if e.name == name && e.typ == tar.TypeSymlink {
			return e.link, true
		}
	}
	return "", false
}

func (c *capturer) pendingBytes() int64 {
	var n int64
	for _, e := range c.pending {
		n += int64(e.n)
	}
	return n
}

// flush writes the pending entries.
func (c *capturer) flush() error {
	for _, e := range c.pending {
		hdr := &tar.Header{
			Typeflag: e.typ,
			Name:     strings.TrimPrefix(e.name, "/"),
			Mode:     int64(e.perm),
			Uid:      e.uid,
			Gid:      e.gid,
			ModTime:  e.mtime.Truncate(time.Second),
		}
		switch e.typ {
		case tar.TypeDir:
			hdr.Name += "/"
			c.sum.Dirs++
		case tar.TypeReg:
			hdr.Size = int64(e.n)
			c.sum.Files++
		case tar.TypeSymlink:
			hdr.Linkname = e.link
			c.sum.Symlinks++
		case tar.TypeChar, tar.TypeBlock:
			hdr.Devmajor, hdr.Devminor = int64(e.major), int64(e.minor)
			c.sum.Nodes++
		default:
			c.sum.Nodes++
		}
		if err := c.tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("snapshot: writing %s: %w", hdr.Name, err)
		}
		if e.n > 0 {
			if _, err := c.tw.Write(c.arena[e.off : e.off+e.n]); err != nil {
				return fmt.Errorf("snapshot: writing %s: %w", hdr.Name, err)
			}
		}
		c.sum.Entries++
		c.sum.Bytes += int64(e.n)
	}
	c.total += c.pendingBytes()
	c.pending = c.pending[:0]
	c.arena = c.arena[:0]
	if c.sum.Entries != c.lastReport {
		c.report()
	}
	return nil
}

func (c *capturer) report() {
	c.lastReport = c.sum.Entries
	if c.opts.Progress == nil {
		return
	}
	c.progress.Entries = c.sum.Entries
	c.progress.Bytes = c.sum.Bytes
	c.opts.Progress(c.progress)
}

// skip counts a file that exists but is not captured. Missing files are
// not counted: absence is what the snapshot records. That is ENOENT,
// ENOTDIR (a name below a file) and ESRCH, procfs's answer for the memory
// of a process that has none (a kernel thread's or zombie's environ).
func (c *capturer) skip(err error) {
	if err == nil || errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.ESRCH) {
		return
	}
	c.sum.Skipped[skipReason(err)]++
	if c.opts.Skip != nil {
		c.opts.Skip(err)
	}
}

func skipReason(err error) string {
	switch {
	case errors.Is(err, fs.ErrPermission):
		return SkipPermission
	case errors.Is(err, hostroot.ErrTooLarge):
		return SkipTooLarge
	case errors.Is(err, errTotalCap):
		return SkipTotalCap
	case errors.Is(err, hostroot.ErrNotRegular):
		return SkipNotRegular
	case errors.Is(err, errWriteOnly):
		return SkipWriteOnly
	}
	return SkipError
}

var (
	errTotalCap  = errors.New("snapshot size cap reached")
	errWriteOnly = errors.New("file has no read permission")
	errInProcess = errors.New("symlink inside a process directory is not followed")
)

// maxLinks is the kernel's limit on symlinks in one lookup.
const maxLinks = 40

// resolve returns the canonical name of name: the same file named through
// real directories only. Every symlink met on the way is recorded as an
// entry (so the archive resolves the same way) and followed within the
// root; with followLeaf a final symlink is too. A symlink inside
// /proc/PID (a magic link) is never followed.
func (c *capturer) resolve(name string, followLeaf bool) (string, error) {
	todo := splitPath(name)
	done := "/"
	links := 0
	for len(todo) > 0 {
		comp := todo[0]
		todo = todo[1:]
		switch comp {
		case ".":
			continue
		case "..":
			done = path.Dir(done)
			continue
		}
		next := path.Join(done, comp)
		if len(todo) == 0 && !followLeaf {
			return next, nil
		}
		if c.dirs[next] {
			done = next
			continue
		}
		fi, err := c.r.Lstat(next)
		if err != nil {
			return "", err
		}
		switch {
		case fi.IsDir():
			c.dirs[next] = true
			done = next
		case fi.Mode()&fs.ModeSymlink != 0:
			if inProcessDir(next) {
				return "", &fs.PathError{Op: "resolve", Path: next, Err: errInProcess}
			}
			links++
			if links > maxLinks {
				return "", &fs.PathError{Op: "resolve", Path: name, Err: syscall.ELOOP}
			}
			text, err := c.r.Readlink(next)
			if err != nil {
				return "", err
			}
			if err := c.ensureDir(done); err != nil {
				return "", err
			}
			e := c.entryFor(next, tar.TypeSymlink, fi)
			e.link = text
			c.add(e)
			if strings.HasPrefix(text, "/") {
				done = "/"
			}
			todo = append(splitPath(text), todo...)
		case len(todo) == 0:
			return next, nil // a followed leaf that is not a link
		default:
			return "", &fs.PathError{Op: "resolve", Path: next, Err: syscall.ENOTDIR}
		}
	}
	return done, nil
}

func splitPath(p string) []string {
	var out []string
	for _, s := range strings.Split(p, "/") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// inProcessDir reports whether name lies below /proc/PID, where symlinks
// are the kernel's magic links.
func inProcessDir(name string) bool {
	rest, ok := strings.CutPrefix(name, "/proc/")
	if !ok {
		return false
	}
	pid, _, ok := strings.Cut(rest, "/")
	return ok && parse.Digits(pid)
}

// ensureDir records the canonical directory dir and its parents.
func (c *capturer) ensureDir(dir string) error {
	if dir == "/" || c.seen[dir] {
		return nil
	}
	if err := c.ensureDir(path.Dir(dir)); err != nil {
		return err
	}
	fi, err := c.r.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return &fs.PathError{Op: "lstat", Path: dir, Err: syscall.ENOTDIR}
	}
	c.dirs[dir] = true
	c.add(c.entryFor(dir, tar.TypeDir, fi))
	return nil
}

// transform rewrites a file's content (redaction), appending to dst.
type transform func(dst, src []byte) []byte

// capture records name, whatever it is, resolving symlinks on the way to
// it but not a final one. It returns the error that kept it out, if any
// (already counted).
func (c *capturer) capture(name string, tf transform) error {
	canon, err := c.resolve(name, false)
	if err != nil {
		c.skip(err)
		return err
	}
	return c.captureCanonical(canon, tf)
}

func (c *capturer) captureCanonical(canon string, tf transform) error {
	if c.seen[canon] {
		return nil
	}
	fi, err := c.r.Lstat(canon)
	if err != nil {
		c.skip(err)
		return err
	}
	if err := c.addInfo(canon, fi, tf); err != nil {
		c.skip(err)
		return err
	}
	return nil
}

// addInfo records the canonical name described by its Lstat fi: content for
// a regular file, text for a symlink, the directory itself for a directory.
// Device nodes and FIFOs are refused (ErrNotRegular) outside /dev.
func (c *capturer) addInfo(name string, fi fs.FileInfo, tf transform) error {
	if c.seen[name] {
		return nil
	}
	if err := c.ensureDir(path.Dir(name)); err != nil {
		return err
	}
	switch m := fi.Mode(); {
	case m.IsDir():
		return c.ensureDir(name)
	case m.IsRegular():
		return c.addFile(name, fi, tf)
	case m&fs.ModeSymlink != 0:
		text, err := c.r.Readlink(name)
		if err != nil {
			return err
		}
		e := c.entryFor(name, tar.TypeSymlink, fi)
		e.link = text
		c.add(e)
		return nil
	}
	return &fs.PathError{Op: "read", Path: name, Err: hostroot.ErrNotRegular}
}

// addNode records a device node or FIFO without opening it.
func (c *capturer) addNode(name string, fi fs.FileInfo) error {
	if err := c.ensureDir(path.Dir(name)); err != nil {
		return err
	}
	m := fi.Mode()
	switch {
	case m&fs.ModeNamedPipe != 0:
		c.add(c.entryFor(name, tar.TypeFifo, fi))
	case m&fs.ModeCharDevice != 0:
		c.add(c.entryFor(name, tar.TypeChar, fi))
	case m&fs.ModeDevice != 0:
		c.add(c.entryFor(name, tar.TypeBlock, fi))
	}
	return nil
}

// addFile reads the regular file name into the arena, within both caps.
func (c *capturer) addFile(name string, fi fs.FileInfo, tf transform) error {
	if fi.Mode().Perm()&0o444 == 0 {
		return &fs.PathError{Op: "read", Path: name, Err: errWriteOnly}
	}
	limit := c.opts.MaxFileSize
	capErr := hostroot.ErrTooLarge
	if room := c.opts.MaxTotalSize - c.total - c.pendingBytes(); room < int64(limit) {
		if room <= 0 {
			return &fs.PathError{Op: "read", Path: name, Err: errTotalCap}
		}
		limit, capErr = int(room), errTotalCap
	}
	var err error
	off := len(c.arena)
	if tf == nil {
		c.arena, err = c.r.AppendFile(c.arena, name, limit)
	} else {
		c.scratch, err = c.r.AppendFile(c.scratch[:0], name, limit)
		if err == nil {
			c.arena = tf(c.arena, c.scratch)
		}
	}
	if errors.Is(err, hostroot.ErrTooLarge) {
		err = &fs.PathError{Op: "read", Path: name, Err: capErr}
	}
	if err != nil {
		c.arena = c.arena[:off]
		return err
	}
	e := c.entryFor(name, tar.TypeReg, fi)
	e.off, e.n = off, len(c.arena)-off
	c.add(e)
	return nil
}

// readDir lists the canonical directory dir with each entry's Lstat
// information. A partial listing is returned with the error.
func (c *capturer) readDir(dir string) ([]fs.FileInfo, error) {
	entries, err := c.r.ReadDir(dir)
	infos := make([]fs.FileInfo, 0, len(entries))
	for _, e := range entries {
		fi, ierr := e.Info()
		if ierr != nil {
			continue
		}
		infos = append(infos, fi)
	}
	return infos, err
}
