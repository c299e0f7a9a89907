package cgroup

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hostscope/hostscope/hostroot"
)

// Entry is one line of /proc/PID/cgroup: "hierarchy-ID:controller-list:path".
type Entry struct {
	// HierarchyID is the v1 hierarchy number; 0 for the v2 unified hierarchy.
	HierarchyID int
	// Controllers lists the v1 controllers bound to the hierarchy, with named
	// hierarchies kept as written ("name=systemd"). Empty for v2 and for a v1
	// line with an empty list.
	Controllers []string
	// Path is the cgroup's path relative to the hierarchy's root, as the
	// reading process's cgroup namespace shows it: "/../.." steps lead out of
	// that namespace, and a process at the namespace's root shows "/".
	Path string
}

// Has reports whether the entry's hierarchy carries controller, a v1
// controller name ("memory") or a named hierarchy ("name=systemd").
func (e Entry) Has(controller string) bool {
	return slices.Contains(e.Controllers, controller)
}

// ParseEntries parses the content of a /proc/PID/cgroup file. name is the
// file's host-absolute name, used in errors.
//
// The kernel writes one "number:list:path" line per hierarchy; the path is
// everything after the second colon, so a path holding ':' (containerd's
// "slice:prefix:id" cgroups) is kept whole. Blank lines, spaces and tabs
// before a line and a trailing "\r" are tolerated, since texts copied from
// logs and bug reports carry them; the kernel writes none of them.
//
// A line that is not "number:list:path" makes ParseEntries return an error
// wrapping hostroot.ErrMalformed that names the file and the first such
// line, together with every well-formed entry of the file, so a caller that
// wants a best-effort answer can still use them.
func ParseEntries(data []byte, name string) ([]Entry, error) {
	var entries []Entry
	var firstErr error
	for lineNo := 1; len(data) > 0; lineNo++ {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		line = bytes.TrimLeft(line, " \t")
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		e, err := parseEntry(line)
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("%w: %s line %d: %v", hostroot.ErrMalformed, name, lineNo, err)
			}
			continue
		}
		entries = append(entries, e)
	}
	return entries, firstErr
}

// parseEntry parses one line without its newline.
func parseEntry(line []byte) (Entry, error) {
	id, rest, ok := bytes.Cut(line, []byte{':'})
	if !ok {
		return Entry{}, fmt.Errorf("no ':' after the hierarchy ID")
	}
	ctrl, path, ok := bytes.Cut(rest, []byte{':'})
	if !ok {
		return Entry{}, fmt.Errorf("no ':' after the controller list")
	}
	n, err := strconv.ParseUint(string(id), 10, 31)
	if err != nil {
		return Entry{}, fmt.Errorf("hierarchy ID %q is not a number", id)
	}
	e := Entry{HierarchyID: int(n), Path: string(path)}
	if len(ctrl) > 0 {
		e.Controllers = strings.Split(string(ctrl), ",")
		if slices.Contains(e.Controllers, "") {
			return Entry{}, fmt.Errorf("empty name in controller list %q", ctrl)
		}
	}
	return e, nil
}
