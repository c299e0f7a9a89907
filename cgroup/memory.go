package cgroup

import (
	"github.com/hostscope/hostscope/hostroot"
)

// Memory is a cgroup's memory figures: from memory.current and memory.max
// on v2, from memory.usage_in_bytes and memory.limit_in_bytes on v1.
type Memory struct {
	// Usage is the memory charged to the cgroup and its descendants, in
	// bytes, page cache included.
	Usage uint64
	// Limit is the cgroup's own hard limit in bytes, or Unlimited. A limit
	// set on an ancestor also binds it and is not reflected here.
	Limit uint64
}

// Memory reads the memory figures of the cgroup entries place a process in
// (see Locate). A missing file is an error wrapping
// fs.ErrNotExist; malformed content one wrapping hostroot.ErrMalformed.
func (l *Layout) Memory(r *hostroot.Root, entries []Entry) (*Memory, error) {
	dir, version, err := l.Locate(entries, "memory")
	if err != nil {
		return nil, err
	}
	usage, limit := "/memory.current", "/memory.max"
	if version == 1 {
		usage, limit = "/memory.usage_in_bytes", "/memory.limit_in_bytes"
	}
	var m Memory
	if m.Usage, err = readValue(r, dir+usage); err != nil {
		return nil, err
	}
	if m.Limit, err = readLimit(r, dir+limit); err != nil {
		return nil, err
	}
	return &m, nil
}
