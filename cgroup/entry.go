package cgroup

import (
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
	if len(data) == 0 {
		return nil, nil
	}
	// One string for the whole file: every Path and controller name is a
	// slice of it. With the entries and the controller lists each allocated
	// once, a file costs three allocations whatever its length (a scan
	// reads one per process; cgroup v1 hosts write ten lines or more).
	text := string(data)
	var entries []Entry
	var names []string // backing array of every entry's Controllers
	var firstErr error
	for lineNo, rest := 1, text; len(rest) > 0; lineNo++ {
		line := rest
		if i := strings.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = ""
		}
		line = strings.TrimLeft(line, " \t")
		line = strings.TrimSuffix(line, "\r")
		if len(strings.TrimSpace(line)) == 0 {
			continue
		}
		e, ctrl, err := parseEntry(line)
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("%w: %s line %d: %v", hostroot.ErrMalformed, name, lineNo, err)
			}
			continue
		}
		if len(ctrl) > 0 {
			if names == nil {
				// Enough for every list of the file: a list has one
				// name more than it has commas.
				names = make([]string, 0, strings.Count(text, ",")+strings.Count(text, "\n")+1)
			}
			from := len(names)
			for {
				c, more, found := strings.Cut(ctrl, ",")
				names = append(names, c)
				if !found {
					break
				}
				ctrl = more
			}
			// Full slice expression: an append to one entry's list must
			// not write into the next one's.
			e.Controllers = names[from:len(names):len(names)]
		}
		if entries == nil {
			entries = make([]Entry, 0, strings.Count(rest, "\n")+1)
		}
		entries = append(entries, e)
	}
	return entries, firstErr
}

// parseEntry parses one line without its newline. It returns the entry
// without its Controllers, and the controller list, checked, for the
// caller to split.
func parseEntry(line string) (_ Entry, ctrl string, _ error) {
	id, rest, ok := strings.Cut(line, ":")
	if !ok {
		return Entry{}, "", fmt.Errorf("no ':' after the hierarchy ID")
	}
	ctrl, path, ok := strings.Cut(rest, ":")
	if !ok {
		return Entry{}, "", fmt.Errorf("no ':' after the controller list")
	}
	n, err := strconv.ParseUint(id, 10, 31)
	if err != nil {
		return Entry{}, "", fmt.Errorf("hierarchy ID %q is not a number", id)
	}
	if len(ctrl) > 0 && (ctrl[0] == ',' || ctrl[len(ctrl)-1] == ',' || strings.Contains(ctrl, ",,")) {
		return Entry{}, "", fmt.Errorf("empty name in controller list %q", ctrl)
	}
	return Entry{HierarchyID: int(n), Path: path}, ctrl, nil
}
