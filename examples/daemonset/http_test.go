package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func get(t testing.TB, h http.Handler, path string) (int, string, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, rec.Header().Get("Content-Type"), string(body)
}

func TestHealthz(t *testing.T) {
	n := newNode(t, initProc, nginx)
	a := newTestAgent(t, n, config{noPosture: true, interval: 10 * time.Second})
	h := a.handler()
	check := func(when string, want int) {
		t.Helper()
		if code, _, body := get(t, h, "/healthz"); code != want {
			t.Errorf("%s: /healthz = %d %q, want %d", when, code, body, want)
		}
	}
	check("before the first scan", http.StatusServiceUnavailable)
	a.scan(t)
	check("after a scan", http.StatusOK)
	a.clock.t = a.clock.t.Add(29 * time.Second)
	check("29s later", http.StatusOK)

	// Scans fail from now on: /proc is gone.
	if err := n.h.RemoveAll("/proc"); err != nil {
		t.Fatal(err)
	}
	if err := a.agent.scan(t.Context()); err == nil {
		t.Fatal("scan of a node without /proc succeeded")
	}
	check("after a failed scan, within 3 intervals", http.StatusOK)
	a.clock.t = a.clock.t.Add(2 * time.Second)
	check("31s after the last success", http.StatusServiceUnavailable)
	if code, _, _ := get(t, h, "/inventory"); code != http.StatusOK {
		t.Errorf("/inventory = %d once stale, want 200 with the last inventory", code)
	}
	if got := testutil.ToFloat64(a.metrics.scanErrors.WithLabelValues(errListProc)); got != 1 {
		t.Errorf("list_proc errors = %v, want 1", got)
	}
}

func TestInventory(t *testing.T) {
	n := newNode(t, initProc, kthreadd, sshd, nginx, worker, pause, app)
	a := newTestAgent(t, n, config{noPosture: true})
	h := a.handler()
	if code, _, _ := get(t, h, "/inventory"); code != http.StatusServiceUnavailable {
		t.Errorf("/inventory before the first scan = %d, want 503", code)
	}
	a.scan(t)
	code, ctype, body := get(t, h, "/inventory")
	if code != http.StatusOK || ctype != "application/json" {
		t.Fatalf("/inventory = %d %s: %s", code, ctype, body)
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	var got jsonInventory
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	snap := a.snap.Load()
	ctr := func(c *jsonContainer, initPID int, ps ...fakeProc) jsonInventoryContainer {
		ic := jsonInventoryContainer{jsonContainer: *c, InitPID: initPID}
		for _, p := range ps {
			ic.Processes = append(ic.Processes, *wantProc(p, c, btime))
		}
		return ic
	}
	want := jsonInventory{
		ScanTime:            snap.end.Format(time.RFC3339Nano),
		ScanDurationSeconds: 0.01,
		Containers: []jsonInventoryContainer{
			ctr(appJSON, app.pid, app),
			ctr(sandboxJSON, pause.pid, pause),
			ctr(webJSON, nginx.pid, nginx, worker),
		},
		HostProcesses: []jsonProcess{*wantProc(initProc, nil, btime), *wantProc(sshd, nil, btime)},
	}
	// The embedded jsonContainer is an unexported field to cmp.
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(jsonInventoryContainer{})); diff != "" {
		t.Errorf("/inventory (-want +got):\n%s", diff)
	}

	// The contract's names, independent of this program's structs.
	var raw map[string]any
	if err := json.Unmarshal([]byte(body), &raw); err != nil {
		t.Fatal(err)
	}
	keys := func(m any) []string {
		var ks []string
		for k := range m.(map[string]any) {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		return ks
	}
	c0 := raw["containers"].([]any)[0]
	p0 := c0.(map[string]any)["processes"].([]any)[0]
	for _, tc := range []struct {
		what string
		got  []string
		want []string
	}{
		{"inventory", keys(raw), []string{"containers", "host_processes", "scan_duration_seconds", "scan_time"}},
		{"container", keys(c0), []string{"id", "image", "init_pid", "name", "pod_id", "pod_name", "pod_namespace", "pod_uid", "processes", "qos", "runtime", "sandbox"}},
		{"process", keys(p0), []string{"cmdline", "comm", "container", "exe", "nspid", "pid", "ppid", "start_time", "state", "uid"}},
	} {
		if diff := cmp.Diff(tc.want, tc.got); diff != "" {
			t.Errorf("%s keys (-want +got):\n%s", tc.what, diff)
		}
	}
}

// TestInventoryEmptyLists: a node with nothing in containers still answers
// lists, never null.
func TestInventoryEmptyLists(t *testing.T) {
	a := newTestAgent(t, newNode(t, kthreadd), config{noPosture: true})
	a.scan(t)
	_, _, body := get(t, a.handler(), "/inventory")
	if !strings.Contains(body, `"containers":[]`) || !strings.Contains(body, `"host_processes":[]`) {
		t.Errorf("/inventory of an empty node = %s, want empty lists", body)
	}
}

func TestMetricsFollowContainers(t *testing.T) {
	n := newNode(t, initProc, sshd, nginx, worker, pause, app)
	a := newTestAgent(t, n, config{noPosture: true})
	names := []string{"hostscope_container_processes", "hostscope_pod_processes", "hostscope_containers", "hostscope_host_processes"}
	if got := testutil.CollectAndCount(a.metrics.reg, names...); got != 0 {
		t.Errorf("%d inventory series before the first scan, want none", got)
	}
	a.scan(t)
	want := `
# HELP hostscope_container_processes Processes in each running container, as of the last successful scan.
# TYPE hostscope_container_processes gauge
hostscope_container_processes{container_id="` + appID + `",name="app",namespace="prod",pod_name="web-0",runtime="containerd"} 1
hostscope_container_processes{container_id="` + sandboxID + `",name="",namespace="prod",pod_name="web-0",runtime="containerd"} 1
hostscope_container_processes{container_id="` + webID + `",name="web",namespace="",pod_name="",runtime="docker"} 2
# HELP hostscope_containers Running containers by runtime ("unknown" when the cgroup path does not say), as of the last successful scan.
# TYPE hostscope_containers gauge
hostscope_containers{runtime="containerd"} 2
hostscope_containers{runtime="docker"} 1
# HELP hostscope_host_processes Processes in no container, as of the last successful scan.
# TYPE hostscope_host_processes gauge
hostscope_host_processes 2
# HELP hostscope_pod_processes Processes in each pod (Kubernetes, or podman's), as of the last successful scan.
# TYPE hostscope_pod_processes gauge
hostscope_pod_processes{namespace="prod",pod_name="web-0",pod_uid="` + podUID + `"} 2
`
	if err := testutil.GatherAndCompare(a.metrics.reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}

	// The pod goes away and the web container loses a process: the pod's
	// and its containers' series disappear, the others follow.
	n.kill(pause.pid, app.pid, worker.pid)
	a.scan(t)
	want = `
# HELP hostscope_container_processes Processes in each running container, as of the last successful scan.
# TYPE hostscope_container_processes gauge
hostscope_container_processes{container_id="` + webID + `",name="web",namespace="",pod_name="",runtime="docker"} 1
# HELP hostscope_containers Running containers by runtime ("unknown" when the cgroup path does not say), as of the last successful scan.
# TYPE hostscope_containers gauge
hostscope_containers{runtime="docker"} 1
# HELP hostscope_host_processes Processes in no container, as of the last successful scan.
# TYPE hostscope_host_processes gauge
hostscope_host_processes 2
`
	if err := testutil.GatherAndCompare(a.metrics.reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	mfs, err := a.metrics.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "hostscope_last_scan_success_timestamp_seconds" {
			got := mf.GetMetric()[0].GetGauge().GetValue()
			if want := float64(a.snap.Load().end.UnixNano()) / 1e9; got != want {
				t.Errorf("last scan timestamp %v, want %v", got, want)
			}
		}
	}
}

func TestMetricsScans(t *testing.T) {
	n := newNode(t, initProc, nginx)
	a := newTestAgent(t, n, config{noPosture: true})
	for range 3 {
		a.scan(t)
	}
	// A malformed status and a missing cmdline are counted, the scan goes on.
	n.file("/proc/100/status", "Name:\tnginx\nPid:\tnot-a-number\n")
	if err := n.h.Remove("/proc/1/cmdline"); err != nil {
		t.Fatal(err)
	}
	a.scan(t)
	want := `
# HELP hostscope_scan_errors_total Failures met while scanning, by kind: list_proc (a whole scan failed), permission, malformed, missing (a per-process file), other.
# TYPE hostscope_scan_errors_total counter
hostscope_scan_errors_total{kind="list_proc"} 0
hostscope_scan_errors_total{kind="malformed"} 1
hostscope_scan_errors_total{kind="missing"} 1
hostscope_scan_errors_total{kind="other"} 0
hostscope_scan_errors_total{kind="permission"} 0
`
	if err := testutil.GatherAndCompare(a.metrics.reg, strings.NewReader(want), "hostscope_scan_errors_total"); err != nil {
		t.Error(err)
	}
	mfs, err := a.metrics.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var count uint64
	for _, mf := range mfs {
		if mf.GetName() == "hostscope_scan_duration_seconds" {
			count = mf.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	if count != 4 {
		t.Errorf("scan duration samples = %d, want 4", count)
	}
	problems, err := testutil.GatherAndLint(a.metrics.reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "hostscope_") {
			t.Errorf("lint: %s: %s", p.Metric, p.Text)
		}
	}
	// The standard collectors are there.
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if n, err := testutil.GatherAndCount(a.metrics.reg, name); err != nil || n == 0 {
			t.Errorf("%s: %d series, %v", name, n, err)
		}
	}
}

func TestMetricsEndpoint(t *testing.T) {
	a := newTestAgent(t, newNode(t, initProc, nginx), config{noPosture: true})
	a.scan(t)
	code, ctype, body := get(t, a.handler(), "/metrics")
	if code != http.StatusOK || !strings.HasPrefix(ctype, "text/plain") {
		t.Fatalf("/metrics = %d %s", code, ctype)
	}
	for _, want := range []string{
		`hostscope_container_processes{container_id="` + webID + `",name="web",namespace="",pod_name="",runtime="docker"} 1`,
		"hostscope_scan_duration_seconds_count 1",
		"go_goroutines ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestMetricsResources: each container's cgroup figures, read from the
// node's /sys/fs/cgroup (located through PID 1's mount table), become its
// series; an unlimited limit has none.
func TestMetricsResources(t *testing.T) {
	n := newNode(t, initProc, nginx, worker)
	n.file("/proc/1/mountinfo", "30 1 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n")
	n.file("/sys/fs/cgroup/cgroup.controllers", "cpu memory pids\n")
	dir := "/sys/fs/cgroup" + webCgroup
	n.file(dir+"/memory.current", "1048576\n")
	n.file(dir+"/memory.max", "67108864\n")
	n.file(dir+"/cpu.stat", "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\nnr_periods 10\nnr_throttled 2\nthrottled_usec 300000\n")
	n.file(dir+"/pids.current", "2\n")
	n.file(dir+"/pids.max", "max\n")
	a := newTestAgent(t, n, config{noPosture: true})
	a.scan(t)
	labels := `{container_id="` + webID + `",name="web",namespace="",pod_name="",runtime="docker"}`
	want := `
# HELP hostscope_container_cpu_throttled_seconds_total Time each container's cgroup spent throttled by its CPU quota.
# TYPE hostscope_container_cpu_throttled_seconds_total counter
hostscope_container_cpu_throttled_seconds_total` + labels + ` 0.3
# HELP hostscope_container_cpu_usage_seconds_total CPU time consumed by each container's cgroup.
# TYPE hostscope_container_cpu_usage_seconds_total counter
hostscope_container_cpu_usage_seconds_total` + labels + ` 2.5
# HELP hostscope_container_memory_limit_bytes Memory limit of each container's cgroup; no series when unlimited.
# TYPE hostscope_container_memory_limit_bytes gauge
hostscope_container_memory_limit_bytes` + labels + ` 6.7108864e+07
# HELP hostscope_container_memory_usage_bytes Memory charged to each container's cgroup.
# TYPE hostscope_container_memory_usage_bytes gauge
hostscope_container_memory_usage_bytes` + labels + ` 1.048576e+06
# HELP hostscope_container_pids Tasks (processes and threads) in each container's cgroup.
# TYPE hostscope_container_pids gauge
hostscope_container_pids` + labels + ` 2
`
	names := []string{"hostscope_container_cpu_throttled_seconds_total", "hostscope_container_cpu_usage_seconds_total",
		"hostscope_container_memory_limit_bytes", "hostscope_container_memory_usage_bytes",
		"hostscope_container_pids", "hostscope_container_pids_limit"}
	if err := testutil.GatherAndCompare(a.metrics.reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	// --no-resources reads none of it.
	b := newTestAgent(t, n, config{noPosture: true, noResources: true})
	b.scan(t)
	if got := testutil.CollectAndCount(b.metrics.reg, names...); got != 0 {
		t.Errorf("%d resource series with --no-resources, want none", got)
	}
}
