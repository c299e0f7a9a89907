package hostroot

import (
	"errors"
	"io/fs"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/hostscope/hostscope/internal/parse"
)

// DefaultReadLimit is the largest file ReadFile returns, and the limit
// AppendFile applies when given none. It is far above any /proc or /sys file
// (a mount table of thousands of mounts is a few MiB) and low enough that a
// hostile file cannot exhaust an agent's memory.
const DefaultReadLimit = 16 << 20

// maxLinks is the number of symlinks one lookup may follow before failing
// with ELOOP, the kernel's MAXSYMLINKS.
const maxLinks = 40

// Root is a read-only view of a host's file system, addressed by
// host-absolute names ("/proc/1/stat"), with the path semantics of a process
// chroot-ed into the host root: absolute symlinks resolve inside the root,
// ".." stops at the root, and no name resolves outside it. See the package
// documentation for the ways to build one.
//
// A Root is immutable and safe for concurrent use. Roots backed by the
// operating system hold directory descriptors; Close releases them.
type Root struct {
	desc   string
	mounts []*mount // longest prefix first
	// whole is the mount the kernel may resolve any name in with
	// RESOLVE_IN_ROOT: set when every other mount is an alias of part of it
	// and its tree is faithful (see mount.faithful). Nil otherwise.
	whole *mount
	// procfs is the trusted procfs mounted at /proc, which holds every
	// /proc/PID (no mount lies below /proc), for OpenProc; nil otherwise.
	procfs *osBackend
}

// mount binds a host-absolute prefix to a backend holding that subtree.
type mount struct {
	prefix string
	be     backend
	// alias marks a mount that shows exactly what its parent mount shows at
	// prefix (Native's /proc and /sys): it exists only so reads there take
	// the faster, trusted path, and changes no answer.
	alias bool
	// fast is how the kernel may resolve a whole name within this mount in
	// one openat2 call, or resolveNone when every lookup must go through the
	// userspace resolver.
	fast resolveMode
}

// resolveMode says how a backend resolves the relative name it is given.
type resolveMode uint8

const (
	resolveNone resolveMode = iota
	// resolveCanonical: the name is already resolved and must contain no
	// symlink at all (RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS).
	resolveCanonical
	// resolveBeneath: the kernel resolves symlinks but fails with EXDEV if
	// one leads out of the mount (RESOLVE_BENEATH|RESOLVE_NO_MAGICLINKS).
	resolveBeneath
	// resolveInRoot: the kernel resolves with chroot semantics
	// (RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS).
	resolveInRoot
)

// backend holds one subtree. Names given to it are relative to its top ("."
// for the top itself). Under resolveCanonical they are clean and free of
// symlinks; the other modes are only used with backends that report
// kernelResolve.
type backend interface {
	// stat describes rel; follow says whether a final symlink is followed.
	stat(rel string, mode resolveMode, follow bool) (fs.FileInfo, error)
	readlink(rel string, mode resolveMode) (string, error)
	// open opens rel for reading; base is the name its Stat reports.
	open(rel string, mode resolveMode, base string) (fs.File, error)
	// appendFile appends the regular file rel to dst; tooLarge reports that
	// it is longer than limit (dst then holds limit bytes of it).
	appendFile(dst []byte, rel string, mode resolveMode, limit int) (_ []byte, tooLarge bool, _ error)
	readDirNames(rel string, mode resolveMode) ([]string, error)
	// procRoot returns a backend for the root directory of the process whose
	// /proc/PID directory is rel.
	procRoot(rel string, mode resolveMode, pid int) (backend, error)
	// readerPath is rel as a path in the reading process's own file system,
	// when there is one.
	readerPath(rel string) (string, bool)
	// kernelResolve reports whether the kernel can resolve names for this
	// backend (openat2), and faithfulProc whether a name resolved inside it
	// can only meet magic links where a real procfs puts them.
	kernelResolve() bool
	faithfulProc(prefix string) bool
	close() error
}

// newRoot assembles a Root from its mounts and works out, once, which
// lookups the kernel may do in one call.
func newRoot(desc string, mounts []*mount) *Root {
	sort.Slice(mounts, func(i, j int) bool { return len(mounts[i].prefix) > len(mounts[j].prefix) })
	r := &Root{desc: desc, mounts: mounts}
	for _, m := range mounts {
		leaf := true
		for _, o := range mounts {
			if o != m && !o.alias && o.prefix != m.prefix && hasPathPrefix(o.prefix, m.prefix) {
				leaf = false
			}
		}
		switch {
		case !m.be.kernelResolve():
			m.fast = resolveNone
		case leaf && m.be.faithfulProc(m.prefix):
			m.fast = resolveBeneath
			if m.prefix == "/" {
				m.fast = resolveInRoot
				r.whole = m
			}
		default:
			m.fast = resolveCanonical
		}
	}
	r.procfs = procfsOf(mounts)
	var closers []backend
	for _, m := range mounts {
		closers = append(closers, m.be)
	}
	runtime.AddCleanup(r, func(bs []backend) {
		for _, b := range bs {
			b.close()
		}
	}, closers)
	return r
}

// String describes where the Root reads from, for logs and errors.
func (r *Root) String() string { return r.desc }

// Close releases the directory descriptors an operating-system-backed Root
// holds. Operations after Close fail with fs.ErrClosed. Close waits for
// operations in flight; it is a no-op for in-memory roots.
func (r *Root) Close() error {
	var errs []error
	for _, m := range r.mounts {
		if err := m.be.close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// route returns the mount holding the clean name.
func (r *Root) route(name string) *mount {
	for _, m := range r.mounts {
		if hasPathPrefix(name, m.prefix) {
			return m
		}
	}
	return r.mounts[len(r.mounts)-1] // "/" is always present
}

// pathErr wraps err for op on name, replacing any path a backend put in,
// and gives the io/fs sentinels their errno so every kind of Root reports
// the same error for the same condition.
func pathErr(op, name string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			err = syscall.ENOENT
		case errors.Is(err, fs.ErrPermission):
			err = syscall.EACCES
		case errors.Is(err, fs.ErrExist):
			err = syscall.EEXIST
		}
	}
	return &fs.PathError{Op: op, Path: name, Err: err}
}

// checkName rejects names that are not host-absolute.
func checkName(op, name string) error {
	if name == "" || name[0] != '/' {
		return &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	if strings.IndexByte(name, 0) >= 0 {
		return &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	return nil
}

// do runs one operation on name: first the kernel's single-call resolution
// where the mount allows it, then the userspace resolver, which is also the
// reference the kernel path must agree with.
func (r *Root) do(op, name string, follow bool, fn func(m *mount, rel string, mode resolveMode) error) error {
	if err := checkName(op, name); err != nil {
		return err
	}
	if err, done := r.fast(name, follow, fn); done {
		if err != nil {
			return pathErr(op, name, err)
		}
		return nil
	}
	for attempt := 0; attempt < maxResolves; attempt++ {
		t, err := r.resolve(name, follow)
		if err == nil {
			err = fn(t.m, t.rel, resolveCanonical)
			// ELOOP or EXDEV under resolveCanonical means a component
			// became a symlink, or was moved out of the tree, after the
			// resolver checked it: resolve again.
			if errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.EXDEV) {
				err = errChanged
			}
		}
		if !errors.Is(err, errChanged) {
			if err != nil {
				return pathErr(op, name, err)
			}
			return nil
		}
	}
	// The tree changed under every attempt: as openat2 does when renames
	// keep racing a lookup, say so rather than give an answer no state of
	// the tree ever had.
	return pathErr(op, name, syscall.EAGAIN)
}

// maxResolves bounds how often do resolves a name again because the tree
// changed under the resolver.
const maxResolves = 8

// fast tries the kernel's resolution. done is false when the userspace
// resolver must answer instead: for names that are not clean (the resolver
// gives ".." its physical meaning across mounts), for names that pass through
// a magic link (the kernel would answer EACCES or ELOOP depending on ptrace
// rights; the resolver always says ELOOP), and when the kernel reports that a
// symlink leads out of the mount.
func (r *Root) fast(name string, follow bool, fn func(m *mount, rel string, mode resolveMode) error) (err error, done bool) {
	if !isClean(name) || throughMagicLink(name, follow) {
		return nil, false
	}
	m := r.route(name)
	if m.fast == resolveNone {
		return nil, false
	}
	err = fn(m, relTo(name, m.prefix), m.fast)
	switch {
	case err == nil:
		return nil, true
	case errors.Is(err, syscall.EXDEV):
		// A symlink or ".." led out of the mount.
		if r.whole != nil && m != r.whole {
			return fn(r.whole, relTo(name, "/"), resolveInRoot), true
		}
		return nil, false
	case m.fast == resolveCanonical && errors.Is(err, syscall.ELOOP):
		return nil, false // a symlink is on the way: the resolver follows it
	case errors.Is(err, syscall.EAGAIN) && m.fast != resolveCanonical:
		return nil, false // openat2 kept seeing renames; resolve by hand
	case errors.Is(err, syscall.EACCES) && m.fast != resolveCanonical && !underPIDDir(name):
		// The kernel checks ptrace rights on a magic link before
		// RESOLVE_NO_MAGICLINKS refuses it, so a symlink leading to
		// /proc/1/root gives EACCES where the resolver says ELOOP. The
		// resolver answers: ELOOP there, or the same EACCES for a file
		// the reader may not read.
		return nil, false
	}
	return err, true
}

// underPIDDir reports whether the clean name lies in a /proc/PID directory,
// where a lookup that passes no magic link (see throughMagicLink) meets no
// symlink at all, so EACCES is the file's own.
func underPIDDir(name string) bool {
	rest, ok := strings.CutPrefix(name, "/proc/")
	if !ok {
		return false
	}
	pid, _, ok := strings.Cut(rest, "/")
	return ok && parse.Digits(pid)
}

// throughMagicLink reports whether the clean name names a path below a magic
// link, or the magic link itself when follow is set.
func throughMagicLink(name string, follow bool) bool {
	if !strings.HasPrefix(name, "/proc/") {
		return false
	}
	for i := len("/proc/"); i <= len(name); i++ {
		if i == len(name) || name[i] == '/' {
			if i == len(name) && !follow {
				return false
			}
			if isMagicLink(name[:i]) {
				return true
			}
		}
	}
	return false
}

// Stat describes the named file, following a final symlink.
func (r *Root) Stat(name string) (fs.FileInfo, error) {
	var fi fs.FileInfo
	err := r.do("stat", name, true, func(m *mount, rel string, mode resolveMode) (err error) {
		fi, err = m.be.stat(rel, mode, true)
		return err
	})
	if err != nil {
		return nil, err
	}
	return named(fi, name), nil
}

// Lstat describes the named file without following a final symlink.
func (r *Root) Lstat(name string) (fs.FileInfo, error) {
	var fi fs.FileInfo
	err := r.do("lstat", name, false, func(m *mount, rel string, mode resolveMode) (err error) {
		fi, err = m.be.stat(rel, mode, false)
		return err
	})
	if err != nil {
		return nil, err
	}
	return named(fi, name), nil
}

// Readlink returns the raw text of the named symlink, as the kernel stores or
// renders it; nothing is resolved. It is how magic links such as
// /proc/PID/exe are read. A name that is not a symlink fails with EINVAL.
func (r *Root) Readlink(name string) (string, error) {
	var s string
	err := r.do("readlink", name, false, func(m *mount, rel string, mode resolveMode) (err error) {
		s, err = m.be.readlink(rel, mode)
		return err
	})
	return s, err
}

// Open opens the named file or directory for reading. The returned file has
// no write methods; directories implement fs.ReadDirFile. Device nodes,
// FIFOs and sockets are never opened (ErrNotRegular).
func (r *Root) Open(name string) (fs.File, error) {
	var f fs.File
	err := r.do("open", name, true, func(m *mount, rel string, mode resolveMode) (err error) {
		f, err = m.be.open(rel, mode, baseName(name))
		return err
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// ReadFile returns the content of the named regular file, reading until end
// of file and failing with ErrTooLarge past DefaultReadLimit.
func (r *Root) ReadFile(name string) ([]byte, error) {
	return r.AppendFile(nil, name, DefaultReadLimit)
}

// AppendFile appends the content of the named regular file to dst and
// returns the extended slice. Passing the previous result back as
// dst[:0] reuses its memory, which is how a scan of thousands of /proc files
// reads each in one or two system calls without allocating. It fails with
// an error wrapping ErrTooLarge when the file holds more than limit bytes
// (DefaultReadLimit if limit <= 0); dst is then returned unextended.
func (r *Root) AppendFile(dst []byte, name string, limit int) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultReadLimit
	}
	out := dst
	var tooLarge bool
	err := r.do("read", name, true, func(m *mount, rel string, mode resolveMode) (err error) {
		out, tooLarge, err = m.be.appendFile(dst, rel, mode, limit)
		return err
	})
	if err == nil && tooLarge {
		err = &fs.PathError{Op: "read", Path: name, Err: ErrTooLarge}
	}
	if err != nil {
		return dst, err
	}
	return out, nil
}

// ReadDirNames lists the names in the named directory, in no particular
// order, without "." and "..". It costs one getdents64 pass and no stat of
// any entry: this is how /proc is enumerated.
func (r *Root) ReadDirNames(name string) ([]string, error) {
	var names []string
	err := r.do("readdir", name, true, func(m *mount, rel string, mode resolveMode) (err error) {
		names, err = m.be.readDirNames(rel, mode)
		return err
	})
	return names, err
}

// ReadDir lists the named directory sorted by name, with each entry's type
// and (on demand) its Lstat information.
func (r *Root) ReadDir(name string) ([]fs.DirEntry, error) {
	names, err := r.ReadDirNames(name)
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	dir := strings.TrimSuffix(name, "/")
	entries := make([]fs.DirEntry, 0, len(names))
	for _, n := range names {
		fi, err := r.Lstat(dir + "/" + n)
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed since the listing
		}
		if err != nil {
			return entries, err
		}
		entries = append(entries, fs.FileInfoToDirEntry(fi))
	}
	return entries, nil
}

// Resolve returns the host-absolute name that name leads to once every
// symlink on the way is followed with the Root's chroot semantics, like
// filepath.EvalSymlinks inside the host: /dev/disk/by-uuid/X gives
// /dev/sda1. Every component must exist. Magic links are not followed
// (ELOOP). The answer describes the moment of the call: a later lookup of
// it may meet a different tree.
func (r *Root) Resolve(name string) (string, error) {
	if err := checkName("resolve", name); err != nil {
		return "", err
	}
	t, err := r.resolve(name, true)
	if err != nil {
		return "", pathErr("resolve", name, err)
	}
	if t.rel == "." {
		return t.m.prefix, nil
	}
	if t.m.prefix == "/" {
		return "/" + t.rel, nil
	}
	return t.m.prefix + "/" + t.rel, nil
}

// ProcRoot returns a Root for the root directory of process pid, as the
// /proc/PID/root magic link shows it: the process's own file system (a
// container's image and mounts, for a containerised process), with the same
// chroot rules inside it. This is the only way hostscope enters another
// process's file system; no lookup follows a magic link implicitly.
//
// On an operating-system-backed Root, /proc must be a real procfs, checked on
// the descriptor. The returned Root pins that directory, even after the
// process exits or its PID is reused, until it is closed. An in-memory Root
// answers from the mapping its file system provides (see ProcRooter).
func (r *Root) ProcRoot(pid int) (*Root, error) {
	name := "/proc/" + strconv.Itoa(pid) + "/root"
	if pid <= 0 {
		return nil, &fs.PathError{Op: "procroot", Path: name, Err: fs.ErrInvalid}
	}
	var be backend
	err := r.do("procroot", "/proc/"+strconv.Itoa(pid), true, func(m *mount, rel string, mode resolveMode) (err error) {
		be, err = m.be.procRoot(rel, mode, pid)
		return err
	})
	if err != nil {
		return nil, pathErr("procroot", name, err)
	}
	return newRoot("process "+strconv.Itoa(pid)+" root in "+r.desc, []*mount{{prefix: "/", be: be}}), nil
}

// readerPath returns where the resolved name lives in the reading process's
// own file system, for bridges to libraries that only take paths.
func (r *Root) readerPath(op, name string) (string, error) {
	if _, ok := r.route(name).be.readerPath("."); !ok {
		return "", &fs.PathError{Op: op, Path: name, Err: errors.ErrUnsupported}
	}
	var p string
	err := r.do(op, name, true, func(m *mount, rel string, mode resolveMode) error {
		if _, err := m.be.stat(rel, mode, true); err != nil {
			return err
		}
		var ok bool
		if p, ok = m.be.readerPath(rel); !ok {
			return errors.ErrUnsupported
		}
		return nil
	})
	return p, err
}

// namedInfo gives a FileInfo the base name of the name the caller used, as
// os.Stat does, whatever the backend called it.
type namedInfo struct {
	fs.FileInfo
	name string
}

func (n namedInfo) Name() string { return n.name }

// baseName is the last component of a host name, "/" for the root.
func baseName(name string) string {
	trimmed := strings.TrimRight(name, "/")
	if trimmed == "" {
		return "/"
	}
	return trimmed[strings.LastIndexByte(trimmed, '/')+1:]
}

func named(fi fs.FileInfo, name string) fs.FileInfo {
	base := baseName(name)
	if fi.Name() == base {
		return fi
	}
	return namedInfo{fi, base}
}
