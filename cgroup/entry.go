package cgroup

import (
	"fmt"
	"slices"
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
		for len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
			line = line[1:]
		}
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		// A line starting with a digit is not blank; anything else may be
		// whitespace of any kind.
		if len(line) == 0 || (line[0] < '0' || line[0] > '9') && len(strings.TrimSpace(line)) == 0 {
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
				i := strings.IndexByte(ctrl, ',')
				if i < 0 {
					names = append(names, ctrl)
					break
				}
				names = append(names, ctrl[:i])
				ctrl = ctrl[i+1:]
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
	c1 := strings.IndexByte(line, ':')
	if c1 < 0 {
		return Entry{}, "", fmt.Errorf("no ':' after the hierarchy ID")
	}
	id, rest := line[:c1], line[c1+1:]
	c2 := strings.IndexByte(rest, ':')
	if c2 < 0 {
		return Entry{}, "", fmt.Errorf("no ':' after the controller list")
	}
	ctrl, path := rest[:c2], rest[c2+1:]
	n, ok := hierarchyID(id)
	if !ok {
		return Entry{}, "", fmt.Errorf("hierarchy ID %q is not a number", id)
	}
	if len(ctrl) > 0 && (ctrl[0] == ',' || ctrl[len(ctrl)-1] == ',' || strings.Contains(ctrl, ",,")) {
		return Entry{}, "", fmt.Errorf("empty name in controller list %q", ctrl)
	}
	return Entry{HierarchyID: n, Path: path}, ctrl, nil
}

// hierarchyID parses a hierarchy ID: decimal digits only, at most 2^31-1
// (the kernel's int), as strconv.ParseUint(id, 10, 31) would.
func hierarchyID(id string) (int, bool) {
	if id == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(id); i++ {
		d := int(id[i]) - '0'
		if d < 0 || d > 9 {
			return 0, false
		}
		n = n*10 + d
		if n > 1<<31-1 {
			return 0, false
		}
	}
	return n, true
}
