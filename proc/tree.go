package proc

import "slices"

// Tree links processes by their parent PID. It is built from one scan, so it
// is a snapshot: processes started or reparented since are not reflected.
type Tree struct {
	// ByPID maps each PID to its process.
	ByPID map[int]*Process
	// ChildPIDs maps a PID to its children's PIDs, ascending. A PID with no
	// children has no entry.
	ChildPIDs map[int][]int
}

// NewTree links procs (from List, or gathered from Scan). A process whose
// PPID is not among procs (init's 0, kthreadd's 0, or a parent missing from
// a sparse root) is a root of the tree.
func NewTree(procs []*Process) *Tree {
	t := &Tree{ByPID: make(map[int]*Process, len(procs)), ChildPIDs: map[int][]int{}}
	for _, p := range procs {
		t.ByPID[p.PID] = p
	}
	for _, p := range procs {
		if p.PPID != p.PID && t.ByPID[p.PPID] != nil {
			t.ChildPIDs[p.PPID] = append(t.ChildPIDs[p.PPID], p.PID)
		}
	}
	for _, kids := range t.ChildPIDs {
		slices.Sort(kids)
	}
	return t
}

// Process returns the process pid, nil if it is not in the tree.
func (t *Tree) Process(pid int) *Process { return t.ByPID[pid] }

// Parent returns pid's parent, nil for a root of the tree or a PID not in it.
func (t *Tree) Parent(pid int) *Process {
	p := t.ByPID[pid]
	if p == nil || p.PPID == p.PID {
		return nil
	}
	return t.ByPID[p.PPID]
}

// Children returns pid's children, ascending by PID.
func (t *Tree) Children(pid int) []*Process {
	kids := t.ChildPIDs[pid]
	if len(kids) == 0 {
		return nil
	}
	out := make([]*Process, len(kids))
	for i, k := range kids {
		out[i] = t.ByPID[k]
	}
	return out
}

// Ancestors returns pid's parent, grandparent and so on up to a root of the
// tree, nearest first. A parent chain that loops (possible only in a
// hand-made or inconsistent snapshot) ends before the repeat.
func (t *Tree) Ancestors(pid int) []*Process {
	var out []*Process
	seen := map[int]bool{pid: true}
	for p := t.Parent(pid); p != nil && !seen[p.PID]; p = t.Parent(p.PID) {
		seen[p.PID] = true
		out = append(out, p)
	}
	return out
}

// Roots returns the processes whose parent is not in the tree, ascending by
// PID: on a live host, init (1) and kthreadd (2). Processes on a parent
// loop (only a hand-made or inconsistent snapshot has one) are below no
// root.
func (t *Tree) Roots() []*Process {
	var out []*Process
	for pid, p := range t.ByPID {
		if t.Parent(pid) == nil {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b *Process) int { return a.PID - b.PID })
	return out
}
