package main

import (
	"sort"
	"time"

	"github.com/hostscope/hostscope"
	"github.com/hostscope/hostscope/cgroup"
	"github.com/hostscope/hostscope/proc"
)

// state is what one scan saw, keyed so the next scan can be compared with it.
// It is never changed once built: HTTP handlers and the metrics collector
// read it while the next scan builds its successor.
type state struct {
	containers map[string]*ctrEntry // by containerKey
	procs      map[int]*procEntry   // by PID
}

// ctrEntry is one container of a scan.
type ctrEntry struct {
	c       jsonContainer
	initPID int
	pids    []int             // ascending
	res     *cgroup.Resources // nil when not read
}

// procEntry is one process of a scan.
type procEntry struct {
	p    jsonProcess
	ckey string // its container's key, "" when it is in none
	// startTicks is the process's start in clock ticks after boot, the
	// kernel's own figure: exact, and unmoved when the host's clock is
	// stepped. hasStart says stat was read.
	startTicks uint64
	hasStart   bool
}

func containerKey(runtime, id string) string { return runtime + "/" + id }

// newState keeps what the agent reports of inv. Kernel threads are left out
// unless kernelThreads: they come and go with the load and run in no
// container.
func newState(inv *hostscope.Inventory, kernelThreads bool) *state {
	st := &state{containers: map[string]*ctrEntry{}, procs: map[int]*procEntry{}}
	for _, c := range inv.Containers {
		st.containers[containerKey(c.Runtime, c.ID)] = &ctrEntry{
			c:       *toJSONContainer(&c.Container),
			initPID: c.InitPID,
			res:     c.Resources,
		}
	}
	for _, p := range inv.Processes {
		if p.KernelThread && !kernelThreads {
			continue
		}
		e := &procEntry{p: toJSONProcess(p)}
		if c := p.Container; c != nil && c.ID != "" {
			e.ckey = containerKey(c.Runtime, c.ID)
			if ce := st.containers[e.ckey]; ce != nil {
				ce.pids = append(ce.pids, p.PID) // Processes are ascending
			}
		}
		if _, unread := p.Missing[proc.FieldStat]; !unread {
			e.startTicks, e.hasStart = p.StartTicks, true
		}
		st.procs[p.PID] = e
	}
	return st
}

// sameProcess reports whether two scans' entries for one PID are one
// process. Without a start time on either side there is nothing to tell a
// reused PID by, and the PID is trusted.
func sameProcess(a, b *procEntry) bool {
	if !a.hasStart || !b.hasStart {
		return true
	}
	return a.startTicks == b.startTicks
}

// diff lists the changes from prev to cur as events stamped at: processes
// that exited, containers that stopped, containers that started, processes
// that started, in that order (each group by PID or by runtime and ID), so a
// consumer sees a container before its processes and its processes' exits
// before the container's end. A PID held by a different process than in
// prev is one exit and one start. A nil prev is the first scan: everything
// in cur is "started", marked initial.
func diff(prev, cur *state, at time.Time) []jsonEvent {
	initial := prev == nil
	if initial {
		prev = &state{}
	}
	stamp := at.UTC().Format(time.RFC3339Nano)
	var out []jsonEvent
	procEvent := func(typ string, e *procEntry) {
		p := e.p
		out = append(out, jsonEvent{Time: stamp, Type: typ, Initial: initial, Container: p.Container, Process: &p})
	}
	ctrEvent := func(typ string, e *ctrEntry) {
		c := e.c
		out = append(out, jsonEvent{Time: stamp, Type: typ, Initial: initial, Container: &c})
	}
	for _, pid := range sortedPIDs(prev.procs) {
		old := prev.procs[pid]
		if now, ok := cur.procs[pid]; !ok || !sameProcess(old, now) {
			procEvent(processExited, old)
		}
	}
	for _, key := range sortedContainers(prev.containers) {
		if _, ok := cur.containers[key]; !ok {
			ctrEvent(containerStopped, prev.containers[key])
		}
	}
	for _, key := range sortedContainers(cur.containers) {
		if _, ok := prev.containers[key]; !ok {
			ctrEvent(containerStarted, cur.containers[key])
		}
	}
	for _, pid := range sortedPIDs(cur.procs) {
		now := cur.procs[pid]
		if old, ok := prev.procs[pid]; !ok || !sameProcess(old, now) {
			procEvent(processStarted, now)
		}
	}
	return out
}

func sortedPIDs(m map[int]*procEntry) []int {
	pids := make([]int, 0, len(m))
	for pid := range m {
		pids = append(pids, pid)
	}
	sort.Ints(pids)
	return pids
}

// sortedContainers orders container keys by runtime, then ID.
func sortedContainers(m map[string]*ctrEntry) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := m[keys[i]].c, m[keys[j]].c
		if a.Runtime != b.Runtime {
			return a.Runtime < b.Runtime
		}
		return a.ID < b.ID
	})
	return keys
}

// inventory renders st as the /inventory body.
func (st *state) inventory(scanEnd time.Time, took time.Duration) jsonInventory {
	inv := jsonInventory{
		ScanTime:            scanEnd.UTC().Format(time.RFC3339Nano),
		ScanDurationSeconds: took.Seconds(),
		Containers:          []jsonInventoryContainer{},
		HostProcesses:       []jsonProcess{},
	}
	for _, key := range sortedContainers(st.containers) {
		e := st.containers[key]
		ic := jsonInventoryContainer{jsonContainer: e.c, InitPID: e.initPID, Processes: []jsonProcess{}}
		for _, pid := range e.pids {
			ic.Processes = append(ic.Processes, st.procs[pid].p)
		}
		inv.Containers = append(inv.Containers, ic)
	}
	for _, pid := range sortedPIDs(st.procs) {
		if e := st.procs[pid]; e.ckey == "" {
			inv.HostProcesses = append(inv.HostProcesses, e.p)
		}
	}
	return inv
}
