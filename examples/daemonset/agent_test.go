package main

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFirstScanReportsEverythingAsInitial(t *testing.T) {
	n := newNode(t, initProc, kthreadd, sshd, nginx, worker, pause, app)
	a := newTestAgent(t, n, config{noPosture: true})
	got := a.scan(t)
	at := a.snap.Load().end
	want := []jsonEvent{
		ctrEv(containerStarted, true, at, appJSON),
		ctrEv(containerStarted, true, at, sandboxJSON),
		ctrEv(containerStarted, true, at, webJSON),
		procEv(processStarted, true, at, wantProc(initProc, nil, btime)),
		procEv(processStarted, true, at, wantProc(nginx, webJSON, btime)),
		procEv(processStarted, true, at, wantProc(worker, webJSON, btime)),
		procEv(processStarted, true, at, wantProc(sshd, nil, btime)),
		procEv(processStarted, true, at, wantProc(pause, sandboxJSON, btime)),
		procEv(processStarted, true, at, wantProc(app, appJSON, btime)),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("first scan's events (-want +got):\n%s", diff)
	}
}

func TestKernelThreadsOnRequest(t *testing.T) {
	n := newNode(t, initProc, kthreadd)
	a := newTestAgent(t, n, config{noPosture: true, kernelThreads: true})
	got := a.scan(t)
	at := a.snap.Load().end
	want := []jsonEvent{
		procEv(processStarted, true, at, wantProc(initProc, nil, btime)),
		procEv(processStarted, true, at, wantProc(kthreadd, nil, btime)),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events with --kernel-threads (-want +got):\n%s", diff)
	}
}

func TestChangesBetweenScans(t *testing.T) {
	n := newNode(t, initProc, sshd, nginx, worker)
	a := newTestAgent(t, n, config{noPosture: true})
	a.scan(t)

	// Nothing changed: nothing to say.
	if got := a.scan(t); len(got) != 0 {
		t.Fatalf("unchanged node gave events: %+v", got)
	}

	// The web container stops (both its processes exit); a pod starts; sshd
	// forks a session.
	n.kill(nginx.pid, worker.pid)
	session := fakeProc{pid: 310, ppid: sshd.pid, comm: "bash", start: 3000}
	n.start(pause, app, session)
	got := a.scan(t)
	at := a.snap.Load().end
	want := []jsonEvent{
		procEv(processExited, false, at, wantProc(nginx, webJSON, btime)),
		procEv(processExited, false, at, wantProc(worker, webJSON, btime)),
		ctrEv(containerStopped, false, at, webJSON),
		ctrEv(containerStarted, false, at, appJSON),
		ctrEv(containerStarted, false, at, sandboxJSON),
		procEv(processStarted, false, at, wantProc(session, nil, btime)),
		procEv(processStarted, false, at, wantProc(pause, sandboxJSON, btime)),
		procEv(processStarted, false, at, wantProc(app, appJSON, btime)),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestPIDReuse(t *testing.T) {
	n := newNode(t, initProc, nginx, worker)
	a := newTestAgent(t, n, config{noPosture: true})
	a.scan(t)

	// Between two scans the worker exits and its PID goes to a new worker
	// in the same container: same PID, same container, a later start.
	reborn := worker
	reborn.start = worker.start + 4200
	n.kill(worker.pid)
	n.start(reborn)
	got := a.scan(t)
	at := a.snap.Load().end
	want := []jsonEvent{
		procEv(processExited, false, at, wantProc(worker, webJSON, btime)),
		procEv(processStarted, false, at, wantProc(reborn, webJSON, btime)),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PID reused in the same container (-want +got):\n%s", diff)
	}

	// The PID now goes to a host process: exit from the container, start on
	// the host.
	host := fakeProc{pid: worker.pid, ppid: 1, comm: "cron", start: reborn.start + 600}
	n.kill(worker.pid)
	n.start(host)
	got = a.scan(t)
	at = a.snap.Load().end
	want = []jsonEvent{
		procEv(processExited, false, at, wantProc(reborn, webJSON, btime)),
		procEv(processStarted, false, at, wantProc(host, nil, btime)),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PID reused on the host (-want +got):\n%s", diff)
	}
}

// TestClockStep holds that a change of the node's boot time, which moves
// every wall-clock start time with it, is no reason to report processes as
// restarted: the kernel's btime moves when the clock is stepped.
func TestClockStep(t *testing.T) {
	n := newNode(t, initProc, nginx, worker)
	a := newTestAgent(t, n, config{noPosture: true})
	a.scan(t)
	for _, bt := range []int64{btime + 1, btime, btime - 1, btime + 3600} {
		n.setBtime(bt)
		if got := a.scan(t); len(got) != 0 {
			t.Errorf("btime %d: events %+v, want none", bt, got)
		}
	}
	// /inventory shows the start times as the last scan computed them.
	inv := a.snap.Load().state.inventory(epoch, 0)
	if got, want := inv.Containers[0].Processes[0].StartTime, wantProc(nginx, webJSON, btime+3600).StartTime; got != want {
		t.Errorf("start time after the step = %s, want %s", got, want)
	}
}

// TestUnknownBootTime: without btime the start times are unknown, and a
// PID is then taken as the same process.
// TestUnknownBootTime: without the host's boot time there are no wall-clock
// start times, and a reused PID is still told by the kernel's start ticks;
// only a process whose stat cannot be read at all is trusted by its PID.
func TestUnknownBootTime(t *testing.T) {
	n := newNode(t, initProc, nginx)
	n.file("/proc/stat", "cpu  1 1 1 1\n")
	a := newTestAgent(t, n, config{noPosture: true})
	first := a.scan(t)
	if len(first) != 3 {
		t.Fatalf("first scan: %d events, want 3 (web, init, nginx): %+v", len(first), first)
	}
	if first[1].Process.StartTime != "" {
		t.Errorf("start time %q without a boot time", first[1].Process.StartTime)
	}
	reborn := nginx
	reborn.start += 500
	n.kill(nginx.pid)
	n.start(reborn)
	got := a.scan(t)
	if len(got) != 2 || got[0].Type != processExited || got[1].Type != processStarted {
		t.Errorf("events %+v, want the PID's exit and start: start ticks differ", got)
	}
	n.file(fmt.Sprintf("/proc/%d/stat", reborn.pid), "")
	if got := a.scan(t); len(got) != 0 {
		t.Errorf("events %+v, want none: with no stat a PID is one process", got)
	}
}

// TestStoppedAndRestartedContainer: a container that stops and comes back
// with the same ID between two scans is seen through its processes only;
// one that stays away for a scan stops and starts again.
func TestStoppedAndRestartedContainer(t *testing.T) {
	n := newNode(t, initProc, nginx)
	a := newTestAgent(t, n, config{noPosture: true})
	a.scan(t)
	n.kill(nginx.pid)
	a.scan(t)
	restarted := nginx
	restarted.start += 9000
	n.start(restarted)
	got := a.scan(t)
	at := a.snap.Load().end
	want := []jsonEvent{
		ctrEv(containerStarted, false, at, webJSON),
		procEv(processStarted, false, at, wantProc(restarted, webJSON, btime)),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("restart (-want +got):\n%s", diff)
	}
}

func TestSameProcess(t *testing.T) {
	at := func(ticks uint64) *procEntry { return &procEntry{startTicks: ticks, hasStart: true} }
	unknown := &procEntry{}
	for _, tc := range []struct {
		name string
		a, b *procEntry
		want bool
	}{
		{"same start", at(1000), at(1000), true},
		{"reused one tick later", at(1000), at(1001), false},
		{"reused much later", at(1000), at(360000), false},
		{"no start time before", unknown, at(1000), true},
		{"no start time now", at(1000), unknown, true},
	} {
		if got := sameProcess(tc.a, tc.b); got != tc.want {
			t.Errorf("%s: sameProcess = %v, want %v", tc.name, got, tc.want)
		}
	}
}
