package hostroot

import (
	"errors"
	"io/fs"
	"strings"
	"syscall"
)

// target is a resolved name: the mount holding it and the symlink-free name
// relative to that mount.
type target struct {
	m   *mount
	rel string
}

// resolve walks name one component at a time with the semantics of a process
// chroot-ed into the root: ".." never climbs above "/", an absolute symlink
// restarts from the root, a relative one from the directory holding it, more
// than maxLinks symlinks fail with ELOOP, and a magic link (see isMagicLink)
// is never followed. follow says whether a final symlink is followed; a
// trailing slash always follows and requires a directory, as in the kernel.
//
// Every component is examined with Lstat on the backend that holds it, so
// the same walk crosses from one mount to another (an /etc symlink into
// /run, say) and gives one answer whatever stores the tree.
func (r *Root) resolve(name string, follow bool) (target, error) {
	if t, ok := r.resolveAtOnce(name, follow); ok {
		return t, nil
	}
	mustDir := len(name) > 1 && name[len(name)-1] == '/'
	if mustDir {
		follow = true
	}
	// While no symlink has been followed and name is clean, every
	// intermediate path is a prefix of name and needs no allocation.
	clean := isClean(name)
	resolved := "/"
	pending := name
	links := 0
	var info fs.FileInfo
	for {
		comp, rest := nextComponent(pending)
		if comp == "" {
			break
		}
		pending = rest
		switch comp {
		case ".":
			continue
		case "..":
			clean = false
			if i := strings.LastIndexByte(resolved, '/'); i > 0 {
				resolved = resolved[:i]
			} else {
				resolved = "/"
			}
			info = nil
			continue
		}
		var cand string
		if clean {
			cand = name[:len(name)-len(rest)]
			cand = strings.TrimRight(cand, "/")
		} else if resolved == "/" {
			cand = "/" + comp
		} else {
			cand = resolved + "/" + comp
		}
		last := onlySlashes(pending)
		fi, err := r.lstatResolved(cand)
		if err != nil {
			return target{}, changed(err)
		}
		if fi.Mode()&fs.ModeSymlink != 0 && (!last || follow) {
			if isMagicLink(cand) {
				return target{}, syscall.ELOOP
			}
			links++
			if links > maxLinks {
				return target{}, syscall.ELOOP
			}
			link, err := r.route(cand).readlinkResolved(cand)
			if errors.Is(err, syscall.EINVAL) {
				return target{}, errChanged // no longer a symlink
			}
			if err != nil {
				return target{}, changed(err)
			}
			if link == "" {
				return target{}, syscall.ENOENT
			}
			clean = false
			if link[0] == '/' {
				resolved = "/"
			}
			if pending == "" {
				pending = link
			} else {
				pending = link + "/" + pending
			}
			info = nil
			continue
		}
		if !last && !fi.IsDir() {
			return target{}, syscall.ENOTDIR
		}
		resolved = cand
		info = fi
	}
	if mustDir {
		if info == nil {
			fi, err := r.lstatResolved(resolved)
			if err != nil {
				return target{}, changed(err)
			}
			info = fi
		}
		if !info.IsDir() {
			return target{}, syscall.ENOTDIR
		}
	}
	m := r.route(resolved)
	return target{m: m, rel: relTo(resolved, m.prefix)}, nil
}

// resolveAtOnce resolves a clean name in one lookup, on a Root of one mount
// whose file system can describe a whole name at once (PathLstater), when
// no component before the last is a symlink and the last is not a symlink
// to follow. The walk would then have met only directories and ended at the
// name itself, so the answer is the walk's. ok is false in every other case,
// and the walk answers.
func (r *Root) resolveAtOnce(name string, follow bool) (target, bool) {
	if len(r.mounts) != 1 || name == "/" || !isClean(name) {
		return target{}, false
	}
	m := r.mounts[0] // "/": name is the backend's own name too
	b, ok := m.be.(interface {
		lstatPath(name string) (fs.FileInfo, bool)
	})
	if !ok {
		return target{}, false
	}
	fi, ok := b.lstatPath(name)
	if !ok || (follow && fi.Mode()&fs.ModeSymlink != 0) {
		return target{}, false
	}
	return target{m: m, rel: relTo(name, m.prefix)}, true
}

// errChanged reports that the tree changed under the resolver: a name it
// had checked became a symlink, stopped being one, stopped being a
// directory or was moved out of the tree. The lookup is worth repeating.
var errChanged = errors.New("tree changed during the lookup")

// changed maps the errors a lookup of an already resolved, symlink-free name
// gives only when the tree changed meanwhile to errChanged: ELOOP (a
// component became a symlink), ENOTDIR (one stopped being a directory) and
// EXDEV (one was moved out of the tree).
func changed(err error) error {
	if errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.EXDEV) {
		return errChanged
	}
	return err
}

// nextComponent splits the first component off p, skipping leading slashes.
func nextComponent(p string) (comp, rest string) {
	for len(p) > 0 && p[0] == '/' {
		p = p[1:]
	}
	if i := strings.IndexByte(p, '/'); i >= 0 {
		return p[:i], p[i:]
	}
	return p, ""
}

func onlySlashes(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '/' {
			return false
		}
	}
	return true
}

// lstatResolved stats a clean, symlink-free host name on its mount.
func (r *Root) lstatResolved(name string) (fs.FileInfo, error) {
	m := r.route(name)
	return m.be.stat(relTo(name, m.prefix), resolveCanonical, false)
}

func (m *mount) readlinkResolved(name string) (string, error) {
	return m.be.readlink(relTo(name, m.prefix), resolveCanonical)
}
