package main

import (
	"slices"
	"sort"
	"time"

	"github.com/hostscope/hostscope"
	"github.com/hostscope/hostscope/cgroup"
	"github.com/hostscope/hostscope/internal/psjson"
	"github.com/hostscope/hostscope/proc"
)

// state is what one scan saw, keyed so the next scan can be compared with it.
// It is never changed once built: HTTP handlers and the metrics collector
// read it while the next scan builds its successor.
type state struct {
	containers map[string]*ctrEntry // by containerKey
	procs      map[int]*procEntry   // by PID
	postures   bool                 // the containers' postures were computed
}

// ctrEntry is one container of a scan.
type ctrEntry struct {
	c       jsonContainer // its Posture is nil with --no-posture
	initPID int
	pids    []int             // ascending
	res     *cgroup.Resources // nil when not read
	// listening is nil without --sockets, else a list, empty when the
	// container listens on nothing.
	listening []jsonSocket
	// findings are the container's findings as of the last scan that read
	// its posture whole (this one or an earlier one); known is false until
	// one has. A posture read in part may lack findings the container has,
	// so it leaves them as they were rather than report a change.
	findings []psjson.Finding
	known    bool
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
// container. opts are those inv was taken with; prev is the previous
// scan's state (nil for the first), whose findings a container keeps when
// its posture could not be read whole this time.
func newState(inv *hostscope.Inventory, prev *state, kernelThreads bool, opts *hostscope.Options) *state {
	st := &state{containers: map[string]*ctrEntry{}, procs: map[int]*procEntry{}, postures: opts.Posture}
	for _, c := range inv.Containers {
		e := &ctrEntry{
			c:       *toJSONContainer(&c.Container),
			initPID: c.InitPID,
			res:     c.Resources,
		}
		e.c.Posture = psjson.FromPosture(c)
		key := containerKey(c.Runtime, c.ID)
		switch {
		case e.c.Posture != nil && e.c.Posture.Error == "":
			e.findings, e.known = e.c.Posture.Findings, true
		case prev != nil && prev.containers[key] != nil:
			e.findings, e.known = prev.containers[key].findings, prev.containers[key].known
		}
		if opts.Sockets {
			e.listening = make([]jsonSocket, len(c.Listening))
			for i := range c.Listening {
				e.listening[i] = psjson.FromSocket(&c.Listening[i])
			}
		}
		st.containers[key] = e
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
// that exited, containers that stopped, containers that started, containers
// whose posture findings changed, processes that started, in that order
// (each group by PID or by runtime and ID), so a consumer sees a container
// before its processes and its processes' exits before the container's end.
// A PID held by a different process than in prev is one exit and one start.
// A nil prev is the first scan: everything in cur is "started", marked
// initial.
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
	var changed []*ctrEntry
	for _, key := range sortedContainers(cur.containers) {
		old, ok := prev.containers[key]
		switch {
		case !ok:
			ctrEvent(containerStarted, cur.containers[key])
		case findingsChanged(old, cur.containers[key]):
			changed = append(changed, cur.containers[key])
		}
	}
	for _, e := range changed {
		ctrEvent(containerPostureChanged, e)
	}
	for _, pid := range sortedPIDs(cur.procs) {
		now := cur.procs[pid]
		if old, ok := prev.procs[pid]; !ok || !sameProcess(old, now) {
			procEvent(processStarted, now)
		}
	}
	return out
}

// findingsChanged reports whether a container's findings differ between two
// scans, as of the last posture of each read whole (ctrEntry.findings): a
// posture with an error (the container was exiting, a link was denied
// once) may lack findings the container has, and comparing it would report
// a change that did not happen.
func findingsChanged(old, now *ctrEntry) bool {
	return old.known && now.known && !slices.Equal(old.findings, now.findings)
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
		ic := jsonInventoryContainer{jsonContainer: e.c, InitPID: e.initPID, Processes: []jsonProcess{}, Listening: e.listening}
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
