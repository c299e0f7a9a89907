package proc

import (
	"fmt"
	"strconv"

	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/internal/parse"
)

// IDMapping is one line of /proc/PID/uid_map or gid_map (user_namespaces(7)):
// Count IDs starting at Inside in the process's user namespace are the IDs
// starting at Outside in the user namespace of whoever reads the file (the
// host's, for a host reader). A process in the host's own user namespace
// has the one line {0, 0, 4294967295}.
type IDMapping struct {
	Inside, Outside, Count uint32
}

// UIDMap returns the user ID mappings of process pid's user namespace, from
// /proc/PID/uid_map. A user namespace whose map was never written has none
// (nil). A process that has exited fails with an error matching
// fs.ErrNotExist.
func UIDMap(r *hostroot.Root, pid int) ([]IDMapping, error) {
	name := "/proc/" + strconv.Itoa(pid) + "/uid_map"
	data, err := r.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return parseIDMap(data, name)
}

// parseIDMap parses uid_map or gid_map content: lines of three decimal
// numbers, inside, outside and count, padded with spaces. A count of 0, a
// range reaching 2^32 (4294967295 is no ID), ranges that overlap on either
// side and more than 340 lines are malformed: the kernel accepts none of
// them, so each ID maps one way.
func parseIDMap(data []byte, name string) ([]IDMapping, error) {
	var out []IDMapping
	for lineNo := 1; len(data) > 0; lineNo++ {
		var line []byte
		line, data = parse.Line(data)
		if parse.CountFields(line) == 0 {
			continue
		}
		var v [3]uint32
		rest := line
		for i := range v {
			var f []byte
			f, rest = parse.Field(rest)
			n, err := parse.Uint32(f)
			if err != nil {
				return nil, fmt.Errorf("%w: %s line %d: field %d %q: %v", hostroot.ErrMalformed, name, lineNo, i+1, f, err)
			}
			v[i] = n
		}
		if parse.CountFields(rest) != 0 {
			return nil, fmt.Errorf("%w: %s line %d: more than 3 fields", hostroot.ErrMalformed, name, lineNo)
		}
		m := IDMapping{Inside: v[0], Outside: v[1], Count: v[2]}
		if m.Count == 0 || uint64(m.Inside)+uint64(m.Count) >= 1<<32 || uint64(m.Outside)+uint64(m.Count) >= 1<<32 {
			return nil, fmt.Errorf("%w: %s line %d: range %d %d %d is empty or reaches 2^32", hostroot.ErrMalformed, name, lineNo, m.Inside, m.Outside, m.Count)
		}
		for _, prev := range out {
			if overlap(prev.Inside, m.Inside, prev.Count, m.Count) || overlap(prev.Outside, m.Outside, prev.Count, m.Count) {
				return nil, fmt.Errorf("%w: %s line %d: range %d %d %d overlaps an earlier one", hostroot.ErrMalformed, name, lineNo, m.Inside, m.Outside, m.Count)
			}
		}
		if len(out) == maxIDMapLines {
			return nil, fmt.Errorf("%w: %s line %d: more than %d mappings", hostroot.ErrMalformed, name, lineNo, maxIDMapLines)
		}
		out = append(out, m)
	}
	return out, nil
}

// maxIDMapLines is the kernel's limit on the lines of a map
// (UID_GID_MAP_MAX_EXTENTS).
const maxIDMapLines = 340

// overlap reports whether the ranges of n1 IDs from a and n2 IDs from b
// share an ID.
func overlap(a, b, n1, n2 uint32) bool {
	return uint64(a) < uint64(b)+uint64(n2) && uint64(b) < uint64(a)+uint64(n1)
}

// MapToInside translates id, as the reader of the map sees it, to the ID
// inside the namespace the mappings describe; ok is false when no mapping
// covers it (the kernel shows such an ID as the overflow UID, 65534).
func MapToInside(ms []IDMapping, id uint32) (uint32, bool) {
	for _, m := range ms {
		if id >= m.Outside && uint64(id) < uint64(m.Outside)+uint64(m.Count) {
			return m.Inside + (id - m.Outside), true
		}
	}
	return 0, false
}

// IsIdentity reports whether ms is the identity mapping of every ID, the
// map of the reader's own user namespace (the host's, for a host reader).
func IsIdentity(ms []IDMapping) bool {
	return len(ms) == 1 && ms[0] == IDMapping{0, 0, 1<<32 - 1}
}
