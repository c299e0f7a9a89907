package hostroot

import (
	"strings"

	"github.com/hostscope/hostscope/internal/parse"
)

// Lexical helpers on host-absolute, slash-separated names. None of them
// touches a file; resolution against a file system lives in resolve.go.

// isClean reports whether name is absolute and already in the form the
// resolver would produce without symlinks: no empty, "." or ".." components
// and no trailing slash (except "/" itself).
func isClean(name string) bool {
	if name == "" || name[0] != '/' {
		return false
	}
	if name == "/" {
		return true
	}
	if name[len(name)-1] == '/' {
		return false
	}
	start := 1
	for i := 1; i <= len(name); i++ {
		if i == len(name) || name[i] == '/' {
			c := name[start:i]
			if c == "" || c == "." || c == ".." {
				return false
			}
			start = i + 1
		}
	}
	return true
}

// hasPathPrefix reports whether name equals prefix or lies below it, on a
// component boundary: "/foo" is a prefix of "/foo/bar" but not of "/foobar".
// Both must be clean.
func hasPathPrefix(name, prefix string) bool {
	if prefix == "/" {
		return true
	}
	return name == prefix || (strings.HasPrefix(name, prefix) && name[len(prefix)] == '/')
}

// relTo returns name relative to prefix ("." for prefix itself). name must
// have prefix as a path prefix.
func relTo(name, prefix string) string {
	if name == prefix {
		return "."
	}
	if prefix == "/" {
		if name == "/" {
			return "."
		}
		return name[1:]
	}
	return name[len(prefix)+1:]
}

// isMagicLink reports whether the clean host-absolute name is one of procfs's
// magic links: /proc/PID/{exe,cwd,root}, /proc/PID/{fd,ns,map_files}/X, and
// the same below /proc/PID/task/TID. The kernel refuses to follow them under
// RESOLVE_NO_MAGICLINKS; the userspace resolver applies this rule so that an
// in-memory or on-disk copy of a /proc tree answers the same way a real one
// does. Reading the link text (Readlink) is always allowed.
func isMagicLink(name string) bool {
	rest, ok := strings.CutPrefix(name, "/proc/")
	if !ok {
		return false
	}
	pid, rest, ok := strings.Cut(rest, "/")
	if !ok || !parse.Digits(pid) {
		return false
	}
	if tasks, ok := strings.CutPrefix(rest, "task/"); ok {
		tid, r, ok := strings.Cut(tasks, "/")
		if !ok || !parse.Digits(tid) {
			return false
		}
		rest = r
	}
	switch rest {
	case "exe", "cwd", "root":
		return true
	}
	dir, leaf, ok := strings.Cut(rest, "/")
	if !ok || leaf == "" || strings.Contains(leaf, "/") {
		return false
	}
	switch dir {
	case "fd", "ns", "map_files":
		return true
	}
	return false
}
