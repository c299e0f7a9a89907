package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hostscope/hostscope/internal/psjson"
	"github.com/hostscope/hostscope/internal/testctr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// TestLiveDaemonSet runs the agent for real, as the DaemonSet would: a
// static binary in an image made with podman import, in a Pod derived from
// the manifest's pod template (same mounts, environment and security
// context) and played with podman kube play, next to a podman container, a
// podman pod of two containers and a docker container. It needs root,
// podman, docker, busybox-static and the go command; each is skipped, with
// the reason, when missing.
func TestLiveDaemonSet(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an image and runs containers; skipped with -short")
	}
	testctr.RequireRoot(t)
	pm := testctr.Podman(t)
	dk := testctr.Docker(t)
	sfx := testctr.Suffix(t)
	dir := t.TempDir()

	// The agent: a static binary, as deploy/Containerfile builds it.
	agentBin, err := os.ReadFile(testctr.BuildStatic(t, "."))
	if err != nil {
		t.Fatal(err)
	}
	agentImage := "localhost/hostscope-agent-test:" + sfx
	pm.ImageWith(t, testctr.BusyboxTar(t, map[string][]byte{"hostscope-agent": agentBin}), agentImage,
		`ENTRYPOINT ["/hostscope-agent"]`)
	busybox := testctr.BusyboxTar(t, nil)
	workImage := "localhost/hostscope-ds-work:" + sfx
	pm.Image(t, busybox, workImage)
	dockerImage := "hostscope-ds-work:" + sfx
	dk.Image(t, busybox, dockerImage)

	// Workloads, each with two processes: sleep 3002 (the container's
	// first process) and its child sleep 3001.
	work := []string{"sh", "-c", "sleep 3001 & exec sleep 3002"}
	type workload struct {
		rt              *testctr.Runtime
		id, name, image string
		podName, podID  string
		initPID         int
	}
	var loads []*workload
	inspectPID := func(rt *testctr.Runtime, id string) int {
		pid, err := strconv.Atoi(rt.MustRun(t, "inspect", "-f", "{{.State.Pid}}", id))
		if err != nil {
			t.Fatal(err)
		}
		return pid
	}
	dkName := "hostscope-ds-dk-" + sfx
	dkID := dk.MustRun(t, append([]string{"run", "-d", "--name", dkName, dockerImage}, work...)...)
	dk.Cleanup(t, "rm", "-f", dkID)
	loads = append(loads, &workload{rt: dk, id: dkID, name: dkName, image: dockerImage})

	pmName := "hostscope-ds-pm-" + sfx
	pmID := pm.MustRun(t, append([]string{"run", "-d", "--name", pmName, workImage}, work...)...)
	pm.Cleanup(t, "rm", "-f", "-t", "0", pmID)
	loads = append(loads, &workload{rt: pm, id: pmID, name: pmName, image: workImage})

	pm.RemoveNewPauseImages(t)
	podName := "hostscope-ds-pod-" + sfx
	podID, err := pm.Run(t, "pod", "create", "--name", podName)
	if err != nil {
		if strings.Contains(err.Error(), "catatonit") {
			t.Skipf("podman cannot build its pod infra image (apt-get install catatonit): %v", err)
		}
		t.Fatal(err)
	}
	pm.Cleanup(t, "pod", "rm", "-f", "-t", "0", podID)
	for _, member := range []string{"a", "b"} {
		name := podName + "-" + member
		id := pm.MustRun(t, append([]string{"run", "-d", "--pod", podID, "--name", name, workImage}, work...)...)
		loads = append(loads, &workload{rt: pm, id: id, name: name, image: workImage, podName: podName, podID: podID})
	}
	for _, w := range loads {
		w.initPID = inspectPID(w.rt, w.id)
	}
	// A workload with a posture finding (a capability docker withholds by
	// default) and a listening socket.
	riskyName := "hostscope-ds-risky-" + sfx
	riskyID := dk.MustRun(t, "run", "-d", "--cap-add", "SYS_ADMIN", "--name", riskyName, dockerImage,
		"sh", "-c", "httpd -f -p 8081 & exec sleep 3002")
	dk.Cleanup(t, "rm", "-f", riskyID)

	// The agent's pod, from the DaemonSet's template.
	agentPod := "hostscope-agent-" + sfx
	podFile := filepath.Join(dir, "pod.yaml")
	pod := podFromDaemonSet(t, loadManifest(t).DaemonSet, agentPod, agentImage)
	// A second agent beside it, without DAC_READ_SEARCH: uid 0 reads the
	// runtimes' root-owned state as its owner, so it must name every
	// container as well (README.md says so; this holds it true).
	noDAC := *pod.Spec.Containers[0].DeepCopy()
	noDAC.Name = "agent-nodac"
	noDAC.SecurityContext.Capabilities.Add = []corev1.Capability{"SYS_PTRACE"}
	for j := range noDAC.Env {
		switch noDAC.Env[j].Name {
		case "HOSTSCOPE_LISTEN":
			noDAC.Env[j].Value = ":9101" // the pod's containers share one network namespace
		case "HOSTSCOPE_INTERVAL":
			noDAC.Env[j].Value = "3s" // two agents scanning a busy machine: spare its CPUs
		}
	}
	noDAC.Ports = nil
	pod.Spec.Containers = append(pod.Spec.Containers, noDAC)
	// The first agent lists sockets too (--sockets is opt-in).
	pod.Spec.Containers[0].Env = append(pod.Spec.Containers[0].Env, corev1.EnvVar{Name: "HOSTSCOPE_SOCKETS", Value: "true"})
	b, err := yaml.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(podFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	pm.MustRun(t, "kube", "play", podFile)
	pm.Cleanup(t, "pod", "rm", "-f", "-t", "0", agentPod)
	agentCtr := agentPod + "-" + pod.Spec.Containers[0].Name
	agentID := pm.MustRun(t, "inspect", "-f", "{{.Id}}", agentCtr)
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := pm.Run(t, "logs", agentCtr)
			t.Logf("agent's log:\n%s", logs)
		}
	})

	fetchFrom := func(ctr, port, path string) (string, error) {
		return pm.Run(t, "exec", ctr, "/bin/busybox", "wget", "-q", "-O", "-", "http://127.0.0.1:"+port+path)
	}
	fetch := func(path string) (string, error) { return fetchFrom(agentCtr, "9100", path) }
	waitFor(t, 30*time.Second, "/healthz to answer 200", func() (bool, string) {
		out, err := fetch("/healthz")
		return err == nil, fmt.Sprint(out, err)
	})

	// Every workload, with its processes, runtime, name and image; and the
	// agent itself.
	var inv jsonInventory
	waitFor(t, 20*time.Second, "/inventory to list every container", func() (bool, string) {
		body, err := fetch("/inventory")
		if err != nil {
			return false, err.Error()
		}
		inv = jsonInventory{}
		if err := json.Unmarshal([]byte(body), &inv); err != nil {
			return false, err.Error()
		}
		for _, w := range loads {
			if findContainer(inv, w.id) == nil {
				return false, "no container " + w.name
			}
		}
		if findContainer(inv, riskyID) == nil {
			return false, "no container " + riskyName
		}
		return findContainer(inv, agentID) != nil, "no agent container"
	})
	for _, w := range loads {
		c := findContainer(inv, w.id)
		got := fmt.Sprintf("runtime=%s name=%s image=%s pod=%s/%s init=%d", c.Runtime, c.Name, c.Image, c.PodName, c.PodID, c.InitPID)
		want := fmt.Sprintf("runtime=%s name=%s image=%s pod=%s/%s init=%d", w.rt.Name, w.name, w.image, w.podName, w.podID, w.initPID)
		if got != want {
			t.Errorf("container %s:\n got %s\nwant %s", w.name, got, want)
		}
		var cmds []string
		for _, p := range c.Processes {
			cmds = append(cmds, strings.Join(p.Cmdline, " "))
			if p.Container == nil || p.Container.ID != w.id {
				t.Errorf("container %s: process %d carries container %+v", w.name, p.PID, p.Container)
			}
		}
		slices.Sort(cmds)
		if want := []string{"sleep 3001", "sleep 3002"}; !slices.Equal(cmds, want) {
			t.Errorf("container %s: processes %q, want %q", w.name, cmds, want)
		}
	}
	// Posture: the default workloads break no rule; the one given
	// SYS_ADMIN does, and so does the agent, given SYS_PTRACE and
	// DAC_READ_SEARCH by the manifest.
	for _, w := range loads {
		c := findContainer(inv, w.id)
		if p := c.Posture; p == nil || len(p.Findings) != 0 || p.Error != "" {
			t.Errorf("container %s, a default one: posture %+v, want one without findings or error", w.name, p)
		}
	}
	riskyCtr := findContainer(inv, riskyID)
	if p := riskyCtr.Posture; p == nil || p.Error != "" || !slices.Equal(p.AddedCapabilities, []string{"CAP_SYS_ADMIN"}) ||
		!slices.ContainsFunc(p.Findings, func(f psjson.Finding) bool { return f.Rule == "added-capabilities" && f.Reason != "" }) {
		t.Errorf("container %s (--cap-add SYS_ADMIN): posture %+v, want CAP_SYS_ADMIN added and its finding", riskyName, p)
	}
	if p := findContainer(inv, agentID).Posture; p == nil ||
		!slices.Equal(p.AddedCapabilities, []string{"CAP_DAC_READ_SEARCH", "CAP_SYS_PTRACE"}) ||
		!slices.ContainsFunc(p.Findings, func(f psjson.Finding) bool { return f.Rule == "added-capabilities" }) {
		t.Errorf("the agent's own posture %+v, want SYS_PTRACE and DAC_READ_SEARCH added and their finding", p)
	}
	// Listening sockets: the risky workload's httpd on 8081, the agent's
	// HTTP server on 9100; the sleeping workloads listen on nothing.
	listensOn := func(c *jsonInventoryContainer, port uint16) bool {
		return slices.ContainsFunc(c.Listening, func(s jsonSocket) bool {
			return (s.Protocol == "tcp" || s.Protocol == "tcp6") && s.LocalPort == port && s.State == "LISTEN"
		})
	}
	if !listensOn(riskyCtr, 8081) {
		t.Errorf("container %s listens on %+v, want tcp port 8081 among them", riskyName, riskyCtr.Listening)
	}
	if self := findContainer(inv, agentID); !listensOn(self, 9100) {
		t.Errorf("the agent listens on %+v, want tcp port 9100 among them", self.Listening)
	}
	for _, w := range loads {
		if c := findContainer(inv, w.id); c.Listening == nil || len(c.Listening) != 0 {
			t.Errorf("container %s, sleeping, listens on %+v, want an empty list", w.name, c.Listening)
		}
	}

	// The pods' infra containers are there, marked as sandboxes.
	for _, pod := range []string{podName, agentPod} {
		if !slices.ContainsFunc(inv.Containers, func(c jsonInventoryContainer) bool {
			return c.PodName == pod && c.Sandbox && c.Runtime == "podman" && len(c.Processes) == 1
		}) {
			t.Errorf("pod %s's infra container is missing or not marked as its sandbox", pod)
		}
	}
	self := findContainer(inv, agentID)
	if self.Runtime != "podman" || self.Name != agentCtr || self.Image != agentImage || self.PodName != agentPod {
		t.Errorf("the agent reports itself as %+v, want podman %s image %s in pod %s", self.jsonContainer, agentCtr, agentImage, agentPod)
	}
	if !slices.ContainsFunc(self.Processes, func(p jsonProcess) bool {
		return p.Comm == "hostscope-agent" && slices.Equal(p.Cmdline, []string{"/hostscope-agent"}) && p.Exe == "/hostscope-agent"
	}) {
		t.Errorf("the agent's container lacks the agent's process: %+v", self.Processes)
	}

	// The agent without DAC_READ_SEARCH names every container alike.
	noDACCtr := agentPod + "-" + noDAC.Name
	var noDACInv jsonInventory
	waitFor(t, 20*time.Second, "the agent without DAC_READ_SEARCH to list every workload", func() (bool, string) {
		body, err := fetchFrom(noDACCtr, "9101", "/inventory")
		if err != nil {
			return false, err.Error()
		}
		noDACInv = jsonInventory{}
		if err := json.Unmarshal([]byte(body), &noDACInv); err != nil {
			return false, err.Error()
		}
		for _, w := range loads {
			if findContainer(noDACInv, w.id) == nil {
				return false, "no container " + w.name
			}
		}
		return findContainer(noDACInv, agentID) != nil, "no agent container"
	})
	if caps, _ := pm.Run(t, "exec", noDACCtr, "/bin/busybox", "grep", "CapEff", "/proc/self/status"); !strings.HasSuffix(caps, "0000000000080000") {
		t.Errorf("the second agent's capabilities are %q, want SYS_PTRACE alone", caps)
	}
	for _, w := range append(loads, &workload{id: agentID}, &workload{id: riskyID}) {
		with, without := findContainer(inv, w.id), findContainer(noDACInv, w.id)
		if diff := cmp.Diff(with.jsonContainer, without.jsonContainer); diff != "" {
			t.Errorf("container %s without DAC_READ_SEARCH (-with +without):\n%s", w.id, diff)
		}
		if without.Listening != nil {
			t.Errorf("the agent without --sockets lists container %s's sockets: %+v", w.id, without.Listening)
		}
	}

	// The first agent's metrics of a scan that saw the second agent's
	// container, which started after its first scan: the risky workload
	// and the two agents add capabilities (other containers of this
	// machine may too).
	const addedCaps = `hostscope_containers_with_finding{rule="added-capabilities"} `
	var metrics string
	waitFor(t, 20*time.Second, "/metrics to count the second agent's added capabilities", func() (bool, string) {
		body, err := fetch("/metrics")
		if err != nil {
			return false, err.Error()
		}
		metrics = body
		for _, line := range strings.Split(body, "\n") {
			if v, ok := strings.CutPrefix(line, addedCaps); ok {
				n, err := strconv.ParseFloat(v, 64)
				return err == nil && n >= 3, line
			}
		}
		return false, "no series " + addedCaps
	})
	for _, w := range loads {
		line := fmt.Sprintf(`hostscope_container_processes{container_id=%q,name=%q,namespace="",pod_name=%q,runtime=%q} 2`, w.id, w.name, w.podName, w.rt.Name)
		if !strings.Contains(metrics, "\n"+line+"\n") {
			t.Errorf("/metrics lacks %s", line)
		}
	}
	ctrLabels := func(id, name, podName, runtime, extra string) string {
		return fmt.Sprintf(`{container_id=%q,name=%q,namespace="",pod_name=%q,%sruntime=%q}`, id, name, podName, extra, runtime)
	}
	for _, w := range loads {
		if strings.Contains(metrics, `hostscope_container_findings{container_id="`+w.id+`"`) {
			t.Errorf("/metrics has findings of %s, a default container", w.name)
		}
	}
	for _, want := range []string{
		"hostscope_container_findings" + ctrLabels(riskyID, riskyName, "", "docker", `rule="added-capabilities",`) + " 1",
	} {
		if !strings.Contains(metrics, "\n"+want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// httpd listens on tcp or tcp6, as the machine's IPv6 has it.
	if !strings.Contains(metrics, "\nhostscope_container_listening_sockets"+ctrLabels(riskyID, riskyName, "", "docker", `protocol="tcp",`)+" 1") &&
		!strings.Contains(metrics, "\nhostscope_container_listening_sockets"+ctrLabels(riskyID, riskyName, "", "docker", `protocol="tcp6",`)+" 1") {
		t.Errorf("/metrics lacks %s's listening socket", riskyName)
	}
	for _, want := range []string{
		// the pod's two workloads and its infra container
		fmt.Sprintf(`hostscope_pod_processes{namespace="",pod_name=%q,pod_uid=""} 5`, podName),
		`hostscope_containers{runtime="docker"} `,
		`hostscope_containers{runtime="podman"} `,
		`hostscope_scan_errors_total{kind="list_proc"} 0`,
		"hostscope_scan_duration_seconds_count ",
		"process_resident_memory_bytes ",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// A container started and stopped while the agent runs.
	lateName := "hostscope-ds-late-" + sfx
	lateID := pm.MustRun(t, "run", "-d", "--name", lateName, workImage, "sleep", "3003")
	pm.Cleanup(t, "rm", "-f", "-t", "0", lateID)
	events := func() []jsonEvent {
		out, err := pm.Run(t, "logs", agentCtr)
		if err != nil {
			t.Fatal(err)
		}
		var evs []jsonEvent
		for _, line := range strings.Split(out, "\n") {
			var ev jsonEvent
			if strings.HasPrefix(line, "{") && json.Unmarshal([]byte(line), &ev) == nil {
				evs = append(evs, ev)
			}
		}
		return evs
	}
	has := func(evs []jsonEvent, typ, id string, initial bool) bool {
		return slices.ContainsFunc(evs, func(ev jsonEvent) bool {
			return ev.Type == typ && ev.Container != nil && ev.Container.ID == id && ev.Initial == initial
		})
	}
	waitFor(t, 20*time.Second, "container_started of "+lateName, func() (bool, string) {
		return has(events(), containerStarted, lateID, false), ""
	})
	// A scan can catch the container's first process before it execs sleep
	// (runc's init holds its PID); stop the container only once a scan has
	// seen the sleep, so its process_exited carries that command line.
	waitFor(t, 20*time.Second, lateName+"'s sleep in /inventory", func() (bool, string) {
		body, err := fetch("/inventory")
		if err != nil {
			return false, err.Error()
		}
		var now jsonInventory
		if err := json.Unmarshal([]byte(body), &now); err != nil {
			return false, err.Error()
		}
		c := findContainer(now, lateID)
		return c != nil && slices.ContainsFunc(c.Processes, func(p jsonProcess) bool {
			return slices.Equal(p.Cmdline, []string{"sleep", "3003"})
		}), "not yet"
	})
	pm.MustRun(t, "rm", "-f", "-t", "0", lateID)
	waitFor(t, 20*time.Second, "container_stopped of "+lateName, func() (bool, string) {
		return has(events(), containerStopped, lateID, false), ""
	})
	evs := events()
	for _, w := range loads {
		if !has(evs, containerStarted, w.id, true) {
			t.Errorf("no initial container_started for %s", w.name)
		}
	}
	late := slices.IndexFunc(evs, func(ev jsonEvent) bool {
		return ev.Type == containerStarted && ev.Container != nil && ev.Container.ID == lateID
	})
	if c := evs[late].Container; c.Name != lateName || c.Image != workImage || c.Runtime != "podman" ||
		c.Posture == nil || len(c.Posture.Findings) != 0 {
		t.Errorf("container_started of %s carries %+v", lateName, c)
	}
	if !slices.ContainsFunc(evs, func(ev jsonEvent) bool {
		return ev.Type == processExited && ev.Process != nil && ev.Container != nil && ev.Container.ID == lateID &&
			slices.Equal(ev.Process.Cmdline, []string{"sleep", "3003"})
	}) {
		t.Errorf("no process_exited of %s's sleep", lateName)
	}

	// SIGTERM stops the agent cleanly, well within the grace period.
	start := time.Now()
	pm.MustRun(t, "stop", "-t", "10", agentCtr)
	if took := time.Since(start); took > 8*time.Second {
		t.Errorf("the agent took %s to stop on SIGTERM", took)
	}
	if code := pm.MustRun(t, "inspect", "-f", "{{.State.ExitCode}}", agentCtr); code != "0" {
		t.Errorf("the agent exited with %s on SIGTERM, want 0", code)
	}
}

// podFromDaemonSet derives the Pod podman plays from the DaemonSet's pod
// template: the same volumes, mounts, environment and security context,
// with the test's image, a one-second interval, and no probes (podman runs
// probes as healthchecks through systemd timers and curl, neither of which
// this machine or image has; the test asks /healthz itself).
func podFromDaemonSet(t testing.TB, ds *appsv1.DaemonSet, name, image string) *corev1.Pod {
	t.Helper()
	tmpl := ds.Spec.Template.DeepCopy()
	pod := &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: tmpl.Labels},
		Spec:       tmpl.Spec,
	}
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		c.Image = image
		c.ImagePullPolicy = corev1.PullNever
		c.LivenessProbe, c.ReadinessProbe = nil, nil
		for j := range c.Env {
			if c.Env[j].Name == "HOSTSCOPE_INTERVAL" {
				c.Env[j].Value = "1s"
			}
		}
	}
	return pod
}

func findContainer(inv jsonInventory, id string) *jsonInventoryContainer {
	for i := range inv.Containers {
		if inv.Containers[i].ID == id {
			return &inv.Containers[i]
		}
	}
	return nil
}

// waitFor polls cond until it holds, failing the test after timeout with
// cond's last word.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s: %s", timeout, what, why)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
