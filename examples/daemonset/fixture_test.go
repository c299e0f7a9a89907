package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hostscope/hostscope/hostroot/hostroottest"
)

// An in-memory node the tests change between scans: a docker container, a
// Kubernetes pod on containerd (its sandbox and one workload container) and
// a few host processes.

const (
	webID     = "3f4e5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081"
	appID     = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	sandboxID = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
	podUID    = "6f2a9c1e-1b2c-4d3e-8f90-a1b2c3d4e5f6"
	btime     = 1700000000
	taskDir   = "/run/containerd/io.containerd.runtime.v2.task/k8s.io/"
)

var (
	webCgroup     = "/docker/" + webID
	appCgroup     = "/kubepods/burstable/pod" + podUID + "/" + appID
	sandboxCgroup = "/kubepods/burstable/pod" + podUID + "/" + sandboxID
)

// fakeProc is one process of the test node.
type fakeProc struct {
	pid, ppid int
	comm      string
	start     int // start time in clock ticks after boot (USER_HZ 100)
	cgroup    string
	nspid     string // NSpid values, tab-separated; the PID alone when empty
	kthread   bool
	capBnd    uint64 // bounding, permitted and effective capability sets
	seccomp   int    // 0 disabled, 2 filter
}

func (p fakeProc) add(h *hostroottest.Host) {
	flags := 0x400100
	if p.kthread {
		flags |= 0x00200000
	}
	f := []string{fmt.Sprint(p.pid), "(" + p.comm + ")", "S", fmt.Sprint(p.ppid), fmt.Sprint(p.pid), fmt.Sprint(p.pid), "0", "-1", fmt.Sprint(flags),
		"100", "0", "0", "0", "5", "3", "0", "0", "20", "0", "1", "0", fmt.Sprint(p.start), "10485760", "250"}
	for len(f) < 52 {
		f = append(f, "0")
	}
	dir := fmt.Sprintf("/proc/%d", p.pid)
	h.File(dir+"/stat", strings.Join(f, " ")+"\n")
	nspid := p.nspid
	if nspid == "" {
		nspid = fmt.Sprint(p.pid)
	}
	h.File(dir+"/status", fmt.Sprintf("Name:\t%s\nState:\tS (sleeping)\nPid:\t%d\nPPid:\t%d\nUid:\t1000\t1000\t1000\t1000\nGid:\t0\t0\t0\t0\nThreads:\t1\nNSpid:\t%s\n"+
		"CapInh:\t0000000000000000\nCapPrm:\t%016[5]x\nCapEff:\t%016[5]x\nCapBnd:\t%016[5]x\nCapAmb:\t0000000000000000\nNoNewPrivs:\t0\nSeccomp:\t%d\n",
		p.comm, p.pid, p.ppid, nspid, p.capBnd, p.seccomp))
	cg := p.cgroup
	if cg == "" {
		cg = "/"
	}
	h.File(dir+"/cgroup", "0::"+cg+"\n")
	if p.kthread {
		h.File(dir+"/cmdline", "")
		return
	}
	h.File(dir+"/cmdline", p.comm+"\x00--flag\x00")
	h.Symlink(dir+"/exe", "/usr/bin/"+p.comm)
}

var (
	initProc = fakeProc{pid: 1, comm: "systemd", start: 1, cgroup: "/init.scope"}
	kthreadd = fakeProc{pid: 2, comm: "kthreadd", start: 1, kthread: true}
	sshd     = fakeProc{pid: 300, ppid: 1, comm: "sshd", start: 500, cgroup: "/system.slice/ssh.service"}
	nginx    = fakeProc{pid: 100, ppid: 1, comm: "nginx", start: 1000, cgroup: webCgroup, nspid: "100\t1"}
	worker   = fakeProc{pid: 101, ppid: 100, comm: "nginx", start: 1010, cgroup: webCgroup, nspid: "101\t7"}
	pause    = fakeProc{pid: 400, ppid: 1, comm: "pause", start: 2000, cgroup: sandboxCgroup, nspid: "400\t1"}
	app      = fakeProc{pid: 401, ppid: 1, comm: "app", start: 2100, cgroup: appCgroup, nspid: "401\t1"}
)

// node is the test node: a hostroottest.Host with helpers to change it.
type node struct {
	t testing.TB
	h *hostroottest.Host
}

func newNode(t testing.TB, procs ...fakeProc) *node {
	n := &node{t: t, h: hostroottest.New()}
	n.setBtime(btime)
	for _, p := range procs {
		p.add(n.h)
	}
	n.h.File("/var/lib/docker/containers/"+webID+"/config.v2.json",
		`{"ID":"`+webID+`","Name":"/web","Config":{"Image":"nginx:1.25"},"State":{"Running":true,"Pid":100}}`)
	n.h.File(taskDir+appID+"/config.json", `{"ociVersion":"1.1.0","annotations":{
		"io.kubernetes.cri.container-type":"container","io.kubernetes.cri.container-name":"app",
		"io.kubernetes.cri.sandbox-name":"web-0","io.kubernetes.cri.sandbox-namespace":"prod",
		"io.kubernetes.cri.sandbox-uid":"`+podUID+`","io.kubernetes.cri.sandbox-id":"`+sandboxID+`",
		"io.kubernetes.cri.image-name":"registry.example/app:2"}}`)
	n.h.File(taskDir+sandboxID+"/config.json", `{"ociVersion":"1.1.0","annotations":{
		"io.kubernetes.cri.container-type":"sandbox","io.kubernetes.cri.sandbox-name":"web-0",
		"io.kubernetes.cri.sandbox-namespace":"prod","io.kubernetes.cri.sandbox-uid":"`+podUID+`",
		"io.kubernetes.cri.sandbox-id":"`+sandboxID+`"}}`)
	if err := n.h.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

func (n *node) start(ps ...fakeProc) {
	n.t.Helper()
	for _, p := range ps {
		p.add(n.h)
	}
	if err := n.h.Err(); err != nil {
		n.t.Fatal(err)
	}
}

func (n *node) kill(pids ...int) {
	n.t.Helper()
	for _, pid := range pids {
		if err := n.h.RemoveAll(fmt.Sprintf("/proc/%d", pid)); err != nil {
			n.t.Fatal(err)
		}
	}
}

// setBtime rewrites /proc/stat's boot time, as a step of the host's clock
// (or the kernel's rounding of it) does.
func (n *node) setBtime(sec int64) {
	n.h.File("/proc/stat", fmt.Sprintf("cpu  1 1 1 1 1 1 1 0 0 0\nbtime %d\n", sec))
}

func (n *node) file(name, content string) {
	n.t.Helper()
	n.h.File(name, content)
	if err := n.h.Err(); err != nil {
		n.t.Fatal(err)
	}
}

// clock is the agent's time in tests: each scan takes 20 ms.
type clock struct{ t time.Time }

func (c *clock) now() time.Time {
	c.t = c.t.Add(10 * time.Millisecond)
	return c.t
}

var epoch = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// testAgent is an agent over n with a fake clock, writing events to a
// buffer.
type testAgent struct {
	*agent
	events *bytes.Buffer
	clock  *clock
}

func newTestAgent(t testing.TB, n *node, cfg config) *testAgent {
	t.Helper()
	if cfg.interval == 0 {
		cfg.interval = 10 * time.Second
	}
	var buf bytes.Buffer
	a := newAgent(hostroottest.MustRoot(t, n.h), cfg, &buf, slog.New(slog.NewTextHandler(io.Discard, nil)))
	c := &clock{t: epoch}
	a.now = c.now
	return &testAgent{agent: a, events: &buf, clock: c}
}

// scan runs one scan and returns the events it wrote, decoded strictly.
func (a *testAgent) scan(t testing.TB) []jsonEvent {
	t.Helper()
	a.events.Reset()
	if err := a.agent.scan(t.Context()); err != nil {
		t.Fatalf("scan: %v", err)
	}
	return decodeEvents(t, a.events.String())
}

func decodeEvents(t testing.TB, out string) []jsonEvent {
	t.Helper()
	var evs []jsonEvent
	for _, line := range strings.Split(out, "\n") {
		if line == "" {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		var ev jsonEvent
		if err := dec.Decode(&ev); err != nil {
			t.Fatalf("not an event line: %q: %v", line, err)
		}
		evs = append(evs, ev)
	}
	return evs
}

// Expected values.

var (
	webJSON = &jsonContainer{ID: webID, Runtime: "docker", Name: "web", Image: "nginx:1.25"}
	appJSON = &jsonContainer{ID: appID, Runtime: "containerd", PodUID: podUID, QoS: "burstable",
		Name: "app", Image: "registry.example/app:2", PodName: "web-0", PodNamespace: "prod"}
	sandboxJSON = &jsonContainer{ID: sandboxID, Runtime: "containerd", PodUID: podUID, QoS: "burstable",
		PodName: "web-0", PodNamespace: "prod", Sandbox: true}
)

// wantProc is p as the agent reports it, in container c; bt is the boot
// time the node showed.
func wantProc(p fakeProc, c *jsonContainer, bt int64) *jsonProcess {
	j := &jsonProcess{
		PID: p.pid, PPID: p.ppid, Comm: p.comm, State: "S",
		Cmdline: []string{p.comm, "--flag"}, Exe: "/usr/bin/" + p.comm, UID: 1000,
		StartTime: time.Unix(bt, 0).Add(time.Duration(p.start) * 10 * time.Millisecond).UTC().Format(time.RFC3339Nano),
		NSpid:     []int{p.pid}, Container: c,
	}
	if p.nspid != "" {
		j.NSpid = nil
		for _, f := range strings.Fields(p.nspid) {
			var v int
			fmt.Sscan(f, &v)
			j.NSpid = append(j.NSpid, v)
		}
	}
	if p.kthread {
		j.Cmdline, j.Exe = []string{}, ""
	}
	return j
}

func procEv(typ string, initial bool, at time.Time, p *jsonProcess) jsonEvent {
	return jsonEvent{Time: at.Format(time.RFC3339Nano), Type: typ, Initial: initial, Container: p.Container, Process: p}
}

func ctrEv(typ string, initial bool, at time.Time, c *jsonContainer) jsonEvent {
	return jsonEvent{Time: at.Format(time.RFC3339Nano), Type: typ, Initial: initial, Container: c}
}

// safeBuffer is a bytes.Buffer the agent's goroutine writes while the test
// reads it.
type safeBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *safeBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *safeBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
