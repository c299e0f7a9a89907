package cgroup

import (
	"github.com/hostscope/hostscope/hostroot"
)

// Pids is a cgroup's task count and limit, from pids.current and pids.max
// (the same files on v1 and v2).
type Pids struct {
	// Current is the number of tasks (threads) in the cgroup and its
	// descendants.
	Current uint64
	// Max is the cgroup's own limit on that number, or Unlimited ("max").
	Max uint64
}

// Pids reads the pids figures of the cgroup entries place a process in (see
// Locate). A missing file is an error wrapping
// fs.ErrNotExist; malformed content one wrapping hostroot.ErrMalformed.
func (l *Layout) Pids(r *hostroot.Root, entries []Entry) (*Pids, error) {
	dir, _, err := l.Locate(entries, "pids")
	if err != nil {
		return nil, err
	}
	var p Pids
	if p.Current, err = readValue(r, dir+"/pids.current"); err != nil {
		return nil, err
	}
	if p.Max, err = readLimit(r, dir+"/pids.max"); err != nil {
		return nil, err
	}
	return &p, nil
}
