package hostscope_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hostscope/hostscope"
	"github.com/hostscope/hostscope/cgroup"
	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/internal/testctr"
	"golang.org/x/sys/unix"
)

// workload is a container the end-to-end tests start, with what hostscope
// must report for each of its processes.
type workload struct {
	rt   *testctr.Runtime
	want cgroup.Container // the fields compared: ID, Runtime, Name, Image, PodName, PodID, SandboxID, Sandbox
}

// pids returns the host PIDs of a container's processes, as the runtime
// itself reports them.
func (w workload) pids(t *testing.T) []int {
	t.Helper()
	args := []string{"top", w.want.ID, "hpid"}
	if w.rt.Name == "docker" {
		args = []string{"top", w.want.ID, "-eo", "pid"}
	}
	out := w.rt.MustRun(t, args...)
	var pids []int
	for _, line := range strings.Split(out, "\n")[1:] {
		if pid, err := strconv.Atoi(strings.TrimSpace(line)); err == nil {
			pids = append(pids, pid)
		}
	}
	if len(pids) == 0 {
		t.Fatalf("%s %v lists no processes:\n%s", w.rt.Name, args, out)
	}
	return pids
}

// compared keeps the fields the end-to-end tests can know in advance.
func compared(c *cgroup.Container) *cgroup.Container {
	if c == nil {
		return nil
	}
	return &cgroup.Container{ID: c.ID, Runtime: c.Runtime, Name: c.Name, Image: c.Image,
		PodName: c.PodName, PodID: c.PodID, SandboxID: c.SandboxID, Sandbox: c.Sandbox}
}

// startDocker runs a docker container with two processes.
func startDocker(t *testing.T, tarball, sfx string) []workload {
	d := testctr.Docker(t)
	image := "hostscope-e2e:" + sfx
	d.Image(t, tarball, image)
	name := "hostscope-e2e-" + sfx
	id := d.MustRun(t, "run", "-d", "--name", name, "--memory", "64m", "--pids-limit", "50", image, "sh", "-c", "sleep 600 & exec sleep 601")
	d.Cleanup(t, "rm", "-f", id)
	return []workload{{d, cgroup.Container{ID: id, Runtime: "docker", Name: name, Image: image}}}
}

// startPodman runs a plain podman container, a pod of two containers, and
// a Pod manifest through podman kube play.
func startPodman(t *testing.T, tarball, sfx string) []workload {
	p := testctr.Podman(t)
	image := "localhost/hostscope-e2e:" + sfx
	p.Image(t, tarball, image)
	var ws []workload

	plain := "hostscope-e2e-plain-" + sfx
	id := p.MustRun(t, "run", "-d", "--name", plain, "--memory", "64m", "--pids-limit", "50", image, "sh", "-c", "sleep 600 & exec sleep 601")
	p.Cleanup(t, "rm", "-f", "-t", "0", id)
	ws = append(ws, workload{p, cgroup.Container{ID: id, Runtime: "podman", Name: plain, Image: image}})

	pod := "hostscope-e2e-pod-" + sfx
	podID := p.MustRun(t, "pod", "create", "--name", pod)
	p.Cleanup(t, "pod", "rm", "-f", "-t", "0", podID)
	for _, member := range []string{"a", "b"} {
		name := pod + "-" + member
		id := p.MustRun(t, "run", "-d", "--pod", podID, "--name", name, image, "sleep", "600")
		ws = append(ws, workload{p, cgroup.Container{ID: id, Runtime: "podman", Name: name, Image: image}})
	}
	infra := p.MustRun(t, "pod", "inspect", "-f", "{{.InfraContainerID}}", podID)
	for i := range ws[1:] {
		ws[1+i].want.PodName, ws[1+i].want.PodID, ws[1+i].want.SandboxID = pod, podID, infra
	}
	ws = append(ws, infraWorkload(t, p, infra, pod, podID))

	kube := "hostscope-e2e-kube-" + sfx
	manifest := fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: %s
spec:
  restartPolicy: Never
  containers:
  - name: web
    image: %s
    command: ["sh", "-c", "sleep 600 & exec sleep 601"]
  - name: sidecar
    image: %s
    command: ["sleep", "600"]
`, kube, image, image)
	file := t.TempDir() + "/pod.yaml"
	if err := os.WriteFile(file, []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	p.MustRun(t, "kube", "play", file)
	p.Cleanup(t, "pod", "rm", "-f", "-t", "0", kube)
	kubePod := p.MustRun(t, "pod", "inspect", "-f", "{{.ID}}", kube)
	kubeInfra := p.MustRun(t, "pod", "inspect", "-f", "{{.InfraContainerID}}", kube)
	for _, c := range []string{"web", "sidecar"} {
		name := kube + "-" + c
		id := p.MustRun(t, "inspect", "-f", "{{.Id}}", name)
		ws = append(ws, workload{p, cgroup.Container{ID: id, Runtime: "podman", Name: name, Image: image,
			PodName: kube, PodID: kubePod, SandboxID: kubeInfra}})
	}
	ws = append(ws, infraWorkload(t, p, kubeInfra, kube, kubePod))
	return ws
}

// checkLimits checks the figures of a container started with --memory 64m
// and --pids-limit 50, holding two processes.
func checkLimits(t *testing.T, c *hostscope.Container) {
	t.Helper()
	r := c.Resources
	if r == nil {
		t.Errorf("container %s: no resources: %v", c.Name, c.ResourcesErr)
		return
	}
	if r.Memory == nil || r.Memory.Limit != 64<<20 || r.Memory.Usage == 0 {
		t.Errorf("container %s: memory %+v, want a 64 MiB limit and some usage", c.Name, r.Memory)
	}
	if r.Pids == nil || r.Pids.Max != 50 || r.Pids.Current < 2 {
		t.Errorf("container %s: pids %+v, want max 50 and at least 2 current", c.Name, r.Pids)
	}
	if r.CPU == nil {
		t.Errorf("container %s: no CPU figures", c.Name)
	}
}

// infraWorkload is a podman pod's infra container: a sandbox, not a
// workload, named and imaged as podman says.
func infraWorkload(t *testing.T, p *testctr.Runtime, id, pod, podID string) workload {
	name := p.MustRun(t, "inspect", "-f", "{{.Name}}", id)
	image := p.MustRun(t, "inspect", "-f", "{{.ImageName}}", id)
	return workload{p, cgroup.Container{ID: id, Runtime: "podman", Name: name, Image: image,
		PodName: pod, PodID: podID, SandboxID: id, Sandbox: true}}
}

// The end-to-end tests start real docker and podman containers, plain and
// in pods, and check that every one of their processes is attributed to the
// right container, with name, image and pod, and that the host's own
// processes (the test, the runtimes' daemons, conmon) are attributed to
// none. They read the host natively and through a bind mount of /proc named
// by HOST_PROC, as a DaemonSet does.

func TestContainersEndToEndDocker(t *testing.T) {
	testctr.RequireRoot(t)
	checkAttribution(t, startDocker(t, testctr.BusyboxTar(t, nil), testctr.Suffix(t)))
}

func TestContainersEndToEndPodman(t *testing.T) {
	testctr.RequireRoot(t)
	checkAttribution(t, startPodman(t, testctr.BusyboxTar(t, nil), testctr.Suffix(t)))
}

func checkAttribution(t *testing.T, ws []workload) {
	want := map[int]*cgroup.Container{}
	for _, w := range ws {
		for _, pid := range w.pids(t) {
			c := w.want
			want[pid] = &c
		}
	}
	hostPIDs := []int{os.Getpid(), os.Getppid()}
	for _, daemon := range []string{"dockerd", "containerd", "conmon"} {
		out, _ := exec.Command("pidof", daemon).Output()
		for _, f := range strings.Fields(string(out)) {
			if pid, err := strconv.Atoi(f); err == nil {
				hostPIDs = append(hostPIDs, pid)
			}
		}
	}

	check := func(t *testing.T, root *hostroot.Root) {
		inv, err := hostscope.TakeInventory(context.Background(), root, &hostscope.Options{Resources: true})
		if err != nil {
			t.Fatal(err)
		}
		got := map[int]*cgroup.Container{}
		for _, p := range inv.Processes {
			got[p.PID] = p.Container
		}
		for pid, w := range want {
			if diff := cmp.Diff(w, compared(got[pid])); diff != "" {
				t.Errorf("PID %d of container %s (-want +got):\n%s", pid, w.Name, diff)
			}
		}
		for _, pid := range hostPIDs {
			if c, seen := got[pid]; seen && c != nil && c.ID != "" {
				t.Errorf("host PID %d attributed to container %+v", pid, c)
			}
		}
		// Every workload is listed as a container, with its init process.
		byID := map[string]*hostscope.Container{}
		for _, c := range inv.Containers {
			byID[c.ID] = c
		}
		for _, w := range ws {
			c := byID[w.want.ID]
			if c == nil {
				t.Errorf("container %s (%s) is not in the inventory", w.want.Name, w.want.ID)
				continue
			}
			if c.InitPID == 0 {
				t.Errorf("container %s: no init PID", w.want.Name)
			}
			// The first container of each runtime was started with limits.
			if w.want.ID == ws[0].want.ID {
				checkLimits(t, c)
			}
		}
		t.Logf("%d processes, %d containers, %d workload processes checked", len(inv.Processes), len(inv.Containers), len(want))
	}

	t.Run("native root", func(t *testing.T) {
		root, err := hostroot.Native()
		if err != nil {
			t.Fatal(err)
		}
		defer root.Close()
		check(t, root)
	})
	t.Run("HOST_PROC bind mount", func(t *testing.T) {
		mnt := t.TempDir()
		testctr.LockHostMounts(t)
		if err := unix.Mount("/proc", mnt, "", unix.MS_BIND, ""); err != nil {
			t.Fatalf("bind-mounting /proc: %v", err)
		}
		t.Cleanup(func() { unix.Unmount(mnt, unix.MNT_DETACH) })
		t.Setenv("HOST_PROC", mnt)
		root, err := hostroot.FromEnv()
		if err != nil {
			t.Fatal(err)
		}
		defer root.Close()
		check(t, root)
	})
}
