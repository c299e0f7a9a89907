package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
	"github.com/hostscope/hostscope/internal/psjson"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// The capability sets of the posture fixtures, as /proc/PID/status shows
// them in hex: docker's default bounding set, and every capability of a
// kernel whose cap_last_cap is 40 (what a privileged container gets).
const (
	dockerCaps = 0xa80425fb
	allCaps    = 1<<41 - 1
)

var dockerCapNames = []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW",
	"CAP_SYS_CHROOT", "CAP_MKNOD", "CAP_AUDIT_WRITE", "CAP_SETFCAP"}

// The node's processes with capabilities: the host's init holds them all,
// the web container's processes docker's default, under a seccomp filter.
var (
	initCaps   = withCaps(initProc, allCaps, 0)
	nginxCaps  = withCaps(nginx, dockerCaps, 2)
	workerCaps = withCaps(worker, dockerCaps, 2)
)

func withCaps(p fakeProc, capBnd uint64, seccomp int) fakeProc {
	p.capBnd, p.seccomp = capBnd, seccomp
	return p
}

// withPosture adds what a posture reads: the host's capability limit, its
// init's namespaces and mount table, and the web container's (its init is
// nginx, PID 100): namespaces (cgroup, time and user are the host's, as
// docker leaves them on cgroup v1), user ID map, mount table (its root and
// the /etc/hosts docker keeps for it) and /dev.
func (n *node) withPosture() {
	n.t.Helper()
	n.file("/proc/sys/kernel/cap_last_cap", "40\n")
	n.file("/proc/1/mountinfo", "21 1 254:0 / / rw - ext4 /dev/vda rw\n25 21 0:25 / /run rw - tmpfs tmpfs rw\n")
	n.file("/proc/100/mountinfo", n.webMounts())
	n.file("/proc/100/uid_map", "         0          0 4294967295\n")
	for name, ino := range map[string]int{"cgroup": 10, "ipc": 11, "mnt": 12, "net": 13, "pid": 14, "time": 15, "user": 16, "uts": 17} {
		n.h.Symlink("/proc/1/ns/"+name, fmt.Sprintf("%s:[%d]", name, ino))
		if name != "cgroup" && name != "time" && name != "user" {
			ino += 100
		}
		n.h.Symlink("/proc/100/ns/"+name, fmt.Sprintf("%s:[%d]", name, ino))
	}
	n.h.Device("/ctr/100/dev/null", hostroottest.Char, 1, 3, 0o666).ProcRoot(100, "/ctr/100")
	if err := n.h.Err(); err != nil {
		n.t.Fatal(err)
	}
}

func (n *node) webMounts() string {
	return "600 500 0:40 / / rw - overlay overlay rw\n" +
		"601 600 254:0 /var/lib/docker/containers/" + webID + "/hosts /etc/hosts rw - ext4 /dev/vda rw\n"
}

// defaultPosture is the web container's posture as withPosture makes it.
func defaultPosture() *psjson.Posture {
	return &psjson.Posture{
		Capabilities: dockerCapNames, AddedCapabilities: []string{}, Seccomp: "filter",
		HostNamespaces: []string{"cgroup", "time", "user"}, HostMounts: []psjson.HostMount{},
		Devices: []string{}, Findings: []psjson.Finding{},
	}
}

// The reasons are the library's prose; the agent carries them, and only
// their presence is the agent's business.
var ignoreReason = cmpopts.IgnoreFields(psjson.Finding{}, "Reason")

func webLabels(extra string) string {
	return `{container_id="` + webID + `",name="web",namespace="",pod_name="",` + extra + `runtime="docker"}`
}

// rulesWant is hostscope_containers_with_finding with every rule at 0 but
// those of breaking.
func rulesWant(breaking map[string]int) string {
	var b strings.Builder
	b.WriteString("# HELP hostscope_containers_with_finding Running containers that break each posture rule, by each one's findings as of the last scan that read its posture whole; every rule has a series.\n" +
		"# TYPE hostscope_containers_with_finding gauge\n")
	for _, r := range []string{"added-capabilities", "beyond-declared", "devices", "host-namespace", "privileged", "seccomp-disabled", "sensitive-mount", "sensitive-mount-read-only"} {
		fmt.Fprintf(&b, "hostscope_containers_with_finding{rule=%q} %d\n", r, breaking[r])
	}
	return b.String()
}

// TestPosture follows the web container's posture through four scans: a
// default container, one of its processes privileged (as `docker exec
// --privileged` makes it), its posture read in part, and read whole again
// with the privileged process gone. The findings are in the container
// events, /inventory and /metrics; a change of findings is an event, a
// posture read in part is none.
func TestPosture(t *testing.T) {
	n := newNode(t, initCaps, nginxCaps, workerCaps)
	n.withPosture()
	a := newTestAgent(t, n, config{})
	names := []string{"hostscope_container_findings", "hostscope_containers_with_finding"}

	// A default container: a posture, no findings.
	evs := a.scan(t)
	if len(evs) == 0 || evs[0].Type != containerStarted || evs[0].Container == nil {
		t.Fatalf("first event %+v, want the web container's start", evs)
	}
	if diff := cmp.Diff(defaultPosture(), evs[0].Container.Posture); diff != "" {
		t.Errorf("container_started's posture (-want +got):\n%s", diff)
	}
	for _, ev := range evs[1:] {
		if ev.Container != nil && ev.Container.Posture != nil {
			t.Errorf("%s event of PID %d carries a posture", ev.Type, ev.Process.PID)
		}
	}
	if diff := cmp.Diff(defaultPosture(), webInventory(t, a).Posture); diff != "" {
		t.Errorf("/inventory's posture (-want +got):\n%s", diff)
	}
	if err := testutil.GatherAndCompare(a.metrics.reg, strings.NewReader(rulesWant(nil)), names...); err != nil {
		t.Error(err)
	}

	// A privileged process joins it: one event, the finding everywhere.
	n.start(withCaps(worker, allCaps, 2))
	privileged := defaultPosture()
	privileged.Privileged = true
	privileged.Capabilities = capNames(t, allCaps)
	privileged.AddedCapabilities = capNames(t, allCaps&^dockerCaps)
	privileged.Findings = []psjson.Finding{{Rule: "privileged"}}
	evs = a.scan(t)
	want := []jsonEvent{ctrEv(containerPostureChanged, false, a.snap.Load().end, &jsonContainer{
		ID: webID, Runtime: "docker", Name: "web", Image: "nginx:1.25", Posture: privileged})}
	if diff := cmp.Diff(want, evs, ignoreReason); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if evs[0].Container.Posture.Findings[0].Reason == "" {
		t.Error("the finding has no reason")
	}
	if diff := cmp.Diff(privileged, webInventory(t, a).Posture, ignoreReason); diff != "" {
		t.Errorf("/inventory's posture (-want +got):\n%s", diff)
	}
	wantMetrics := `
# HELP hostscope_container_findings Posture findings of each container by rule (a host namespace or a mount each count one), as of the last scan that read its posture whole; no series for a rule the container does not break.
# TYPE hostscope_container_findings gauge
hostscope_container_findings` + webLabels(`rule="privileged",`) + ` 1
` + rulesWant(map[string]int{"privileged": 1})
	if err := testutil.GatherAndCompare(a.metrics.reg, strings.NewReader(wantMetrics), names...); err != nil {
		t.Error(err)
	}

	// The process is gone, and the mount table cannot be read: the
	// posture is incomplete, its findings may be missing, no event.
	n.start(workerCaps)
	if err := n.h.Remove("/proc/100/mountinfo"); err != nil {
		t.Fatal(err)
	}
	if evs := a.scan(t); len(evs) != 0 {
		t.Errorf("events of a scan that read the posture in part: %+v", evs)
	}
	if p := webInventory(t, a).Posture; !strings.HasPrefix(p.Error, "mounts: ") {
		t.Errorf("/inventory's posture error is %q, want the mount table's", p.Error)
	}
	// /metrics keeps the findings of the last whole reading, as events do.
	if err := testutil.GatherAndCompare(a.metrics.reg, strings.NewReader(wantMetrics), names...); err != nil {
		t.Errorf("/metrics after a posture read in part: %v", err)
	}
	// Read whole again: the change since the last whole reading is an
	// event.
	n.file("/proc/100/mountinfo", n.webMounts())
	evs = a.scan(t)
	want = []jsonEvent{ctrEv(containerPostureChanged, false, a.snap.Load().end, &jsonContainer{
		ID: webID, Runtime: "docker", Name: "web", Image: "nginx:1.25", Posture: defaultPosture()})}
	if diff := cmp.Diff(want, evs); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if err := testutil.GatherAndCompare(a.metrics.reg, strings.NewReader(rulesWant(nil)), names...); err != nil {
		t.Error(err)
	}

	// --no-posture: no posture anywhere, no series.
	b := newTestAgent(t, n, config{noPosture: true})
	for _, ev := range b.scan(t) {
		if ev.Container != nil && ev.Container.Posture != nil {
			t.Errorf("--no-posture: %s event carries a posture", ev.Type)
		}
	}
	if p := webInventory(t, b).Posture; p != nil {
		t.Errorf("--no-posture: /inventory has a posture %+v", p)
	}
	if got := testutil.CollectAndCount(b.metrics.reg, names...); got != 0 {
		t.Errorf("--no-posture: %d posture series, want none", got)
	}
}

// capNames are the names of the capabilities in set, in bit order, as
// proc.CapabilityNames gives them.
func capNames(t testing.TB, set uint64) []string {
	t.Helper()
	all := []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
		"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
		"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO",
		"CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
		"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
		"CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
		"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"}
	var names []string
	for i, name := range all {
		if set&(1<<i) != 0 {
			names = append(names, name)
		}
	}
	return names
}

// webInventory is the web container of a's /inventory, decoded strictly.
func webInventory(t testing.TB, a *testAgent) jsonInventoryContainer {
	t.Helper()
	inv := getInventory(t, a)
	for _, c := range inv.Containers {
		if c.ID == webID {
			return c
		}
	}
	t.Fatalf("no web container in /inventory: %+v", inv)
	return jsonInventoryContainer{}
}

func getInventory(t testing.TB, a *testAgent) jsonInventory {
	t.Helper()
	code, _, body := get(t, a.handler(), "/inventory")
	if code != 200 {
		t.Fatalf("/inventory = %d: %s", code, body)
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	var inv jsonInventory
	if err := dec.Decode(&inv); err != nil {
		t.Fatal(err)
	}
	return inv
}

// TestListeningSockets: with --sockets, each container's listening sockets
// are in /inventory (a listener two processes share, once; a connection
// not at all; a container listening on nothing, an empty list) and counted
// by protocol in /metrics; without, neither.
func TestListeningSockets(t *testing.T) {
	const header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	n := newNode(t, initProc, nginx, worker, pause, app)
	n.h.Symlink("/proc/100/ns/net", "net:[4026532600]").
		Symlink("/proc/100/fd/6", "socket:[9001]").
		Symlink("/proc/101/ns/net", "net:[4026532600]").
		Symlink("/proc/101/fd/6", "socket:[9001]").
		Symlink("/proc/101/fd/7", "socket:[9002]")
	n.file("/proc/100/net/tcp", header+
		"   0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000   101        0 9001 1\n"+
		"   1: 0200110A:0050 0101A8C0:C350 01 00000000:00000000 02:00000444 00000000   101        0 9002 2\n")
	n.file("/proc/100/net/udp6", "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"+
		"  0: 00000000000000000000000000000000:14E9 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 9003 2 0000000000000000 0\n")
	n.h.Symlink("/proc/101/fd/8", "socket:[9003]")
	a := newTestAgent(t, n, config{noPosture: true, sockets: true})
	a.scan(t)

	inv := getInventory(t, a)
	got := map[string][]jsonSocket{}
	for _, c := range inv.Containers {
		got[c.ID] = c.Listening
	}
	want := map[string][]jsonSocket{
		webID: {
			{Protocol: "tcp", LocalAddress: "0.0.0.0", LocalPort: 80, RemoteAddress: "0.0.0.0", State: "LISTEN", Inode: 9001},
			{Protocol: "udp6", LocalAddress: "::", LocalPort: 5353, RemoteAddress: "::", State: "UNCONN", Inode: 9003},
		},
		appID:     {},
		sandboxID: {},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("listening sockets (-want +got):\n%s", diff)
	}
	_, _, body := get(t, a.handler(), "/inventory")
	if !strings.Contains(body, `"listening":[]`) {
		t.Errorf("a container listening on nothing has no empty list: %s", body)
	}

	name := "hostscope_container_listening_sockets"
	wantMetrics := `
# HELP hostscope_container_listening_sockets Sockets each container waits for peers on, by protocol (tcp, tcp6, udp, udp6, unix), with --sockets; no series for a protocol it does not listen on.
# TYPE hostscope_container_listening_sockets gauge
hostscope_container_listening_sockets` + webLabels(`protocol="tcp",`) + ` 1
hostscope_container_listening_sockets` + webLabels(`protocol="udp6",`) + ` 1
`
	if err := testutil.GatherAndCompare(a.metrics.reg, strings.NewReader(wantMetrics), name); err != nil {
		t.Error(err)
	}

	// Without --sockets: no list, no series.
	b := newTestAgent(t, n, config{noPosture: true})
	b.scan(t)
	if _, _, body := get(t, b.handler(), "/inventory"); strings.Contains(body, `"listening"`) {
		t.Errorf("/inventory without --sockets lists sockets: %s", body)
	}
	if got := testutil.CollectAndCount(b.metrics.reg, name); got != 0 {
		t.Errorf("%d listening series without --sockets, want none", got)
	}
}
