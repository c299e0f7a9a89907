package cgroup

import (
	"bytes"
	"fmt"
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
	// reading process's cgroup namespace shows it.
	Path string
}

// ParseEntries parses the content of a /proc/PID/cgroup file. name is the
// file's host-absolute name, used in errors. A line that is not
// "number:list:path" is an error wrapping hostroot.ErrMalformed that names
// the file and line.
func ParseEntries(data []byte, name string) ([]Entry, error) {
	var entries []Entry
	for lineNo := 1; len(data) > 0; lineNo++ {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if len(line) == 0 {
			continue
		}
		id, rest, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			return nil, fmt.Errorf("%w: %s line %d: no ':' after the hierarchy ID", hostroot.ErrMalformed, name, lineNo)
		}
		ctrl, path, ok := bytes.Cut(rest, []byte{':'})
		if !ok {
			return nil, fmt.Errorf("%w: %s line %d: no ':' after the controller list", hostroot.ErrMalformed, name, lineNo)
		}
		n, err := strconv.Atoi(string(id))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%w: %s line %d: hierarchy ID %q is not a number", hostroot.ErrMalformed, name, lineNo, id)
		}
		e := Entry{HierarchyID: n, Path: string(path)}
		if len(ctrl) > 0 {
			e.Controllers = strings.Split(string(ctrl), ",")
		}
		entries = append(entries, e)
	}
	return entries, nil
}
