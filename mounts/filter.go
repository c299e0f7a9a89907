package mounts

import (
	"path"
	"strings"
)

// Filter decides, for each mount in table order, whether to leave it out of
// the result (skip) and whether to stop reading the table after it (stop).
// Parse, ProcessFiltered and Host call it as each line is parsed, so stopping
// early saves parsing the rest of a large table. A filter may keep state (to
// stop after the first match, say); use a fresh one for each scan.
type Filter func(m *Mount) (skip, stop bool)

// PathPrefix keeps mounts whose mount point is prefix or lies below it, on a
// path boundary: PathPrefix("/foo") keeps /foo and /foo/bar, not /foobar.
// prefix is cleaned first ("/foo/" is "/foo").
func PathPrefix(prefix string) Filter {
	prefix = cleanPath(prefix)
	return func(m *Mount) (bool, bool) {
		return !hasPathPrefix(m.MountPoint, prefix), false
	}
}

// FSType keeps mounts of any of the given file system types, compared
// exactly ("fuse.sshfs" is not "fuse").
func FSType(types ...string) Filter {
	return func(m *Mount) (bool, bool) {
		for _, t := range types {
			if m.FSType == t {
				return false, false
			}
		}
		return true, false
	}
}

// MountPoint keeps the mounts on exactly the (cleaned) path p. Several mounts
// can stack on one point; the last in table order is normally the visible one
// (see Holding).
func MountPoint(p string) Filter {
	p = cleanPath(p)
	return func(m *Mount) (bool, bool) {
		return m.MountPoint != p, false
	}
}

// ParentsOf keeps the mounts whose mount point is p or one of its ancestors:
// every mount that could hold p. Holding picks the one that does.
func ParentsOf(p string) Filter {
	p = cleanPath(p)
	return func(m *Mount) (bool, bool) {
		return !hasPathPrefix(p, m.MountPoint), false
	}
}

// And keeps a mount when every filter keeps it and stops when any filter
// asks to. Each filter sees every mount, so stateful filters count
// consistently.
func And(filters ...Filter) Filter {
	return func(m *Mount) (bool, bool) {
		skip, stop := false, false
		for _, f := range filters {
			s, st := f(m)
			skip = skip || s
			stop = stop || st
		}
		return skip, stop
	}
}

// First keeps the first mount f keeps and stops the scan there.
func First(f Filter) Filter {
	return func(m *Mount) (bool, bool) {
		skip, stop := f(m)
		if !skip {
			return false, true
		}
		return true, stop
	}
}

// Select returns the mounts of ms that f keeps, in order, up to where f
// stops: the same filtering as Parse, on a table already read.
func Select(ms []Mount, f Filter) []Mount {
	var out []Mount
	for i := range ms {
		m := ms[i]
		skip, stop := f(&m)
		if !skip {
			out = append(out, m)
		}
		if stop {
			break
		}
	}
	return out
}

// cleanPath makes p absolute and lexically clean.
func cleanPath(p string) string {
	return path.Clean("/" + p)
}

// hasPathPrefix reports whether name equals prefix or lies below it, on a
// component boundary. Both must be clean and absolute.
func hasPathPrefix(name, prefix string) bool {
	if prefix == "/" {
		return strings.HasPrefix(name, "/")
	}
	return name == prefix || (strings.HasPrefix(name, prefix) && name[len(prefix)] == '/')
}
