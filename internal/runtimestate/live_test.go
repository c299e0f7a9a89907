package runtimestate

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/internal/testctr"
)

// The live tests start real containers and read their state through the
// native root. They need root (the state directories are root-only),
// busybox-static (/bin/busybox, to build an image without a registry) and
// the runtime; each is skipped, saying why, when something is missing.

func liveRoot(t *testing.T) *hostroot.Root {
	t.Helper()
	if testing.Short() {
		t.Skip("starts containers; skipped with -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("the runtimes' state directories are readable by root only")
	}
	r, err := hostroot.Native()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestLiveDocker(t *testing.T) {
	r := liveRoot(t)
	dk := testctr.Docker(t)
	tarball := testctr.BusyboxTar(t, nil)
	sfx := testctr.Suffix(t)
	image := "hostscope-runtimestate-test:" + sfx
	name := "hostscope-rs-" + sfx

	dk.MustRun(t, "import", tarball, image)
	dk.Cleanup(t, "rmi", image)
	id := dk.MustRun(t, "run", "-d", "--name", name, "--label", "hostscope.test=runtimestate", image, "sleep", "300")
	dk.Cleanup(t, "rm", "-f", id)
	pid := dk.MustRun(t, "inspect", "-f", "{{.State.Pid}}", id)

	info, err := Lookup(r, "docker", id, nil)
	if err != nil {
		t.Fatalf("Lookup(docker, %s): %v", id, err)
	}
	got := []string{info.Runtime, info.ID, info.Name, info.Image, info.State, strconv.Itoa(info.PID), info.Labels["hostscope.test"]}
	want := []string{"docker", id, name, image, "running", pid, "runtimestate"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Lookup() mismatch (-want +got):\n%s\n%+v", diff, info)
	}

	list, err := List(context.Background(), r, nil)
	if err != nil {
		t.Logf("List() problems (other tenants' files): %v", err)
	}
	found := false
	for _, l := range list {
		if l.ID == id {
			found = true
			if diff := cmp.Diff(*info, l); diff != "" {
				t.Errorf("List() and Lookup() disagree (-Lookup +List):\n%s", diff)
			}
		}
	}
	if !found {
		t.Errorf("List() does not hold %s", id)
	}
}

func TestLivePodman(t *testing.T) {
	r := liveRoot(t)
	pm := testctr.Podman(t)
	tarball := testctr.BusyboxTar(t, nil)
	sfx := testctr.Suffix(t)
	image := "localhost/hostscope-runtimestate-test:" + sfx
	name, podName, inPod := "hostscope-rs-"+sfx, "hostscope-rs-pod-"+sfx, "hostscope-rs-inpod-"+sfx

	// The pod's infra image is built by podman on first use; remove it
	// afterwards only if this test made it. Cleanups run last-in first-out,
	// so this one runs after the pod is gone.
	before := pm.MustRun(t, "images", "--format", "{{.Repository}}:{{.Tag}}")
	t.Cleanup(func() {
		after, err := pm.Run(t, "images", "--format", "{{.Repository}}:{{.Tag}}")
		if err != nil {
			return
		}
		for _, img := range strings.Fields(after) {
			if strings.HasPrefix(img, "localhost/podman-pause:") && !strings.Contains(before, img) {
				if _, err := pm.Run(t, "rmi", img); err != nil {
					t.Logf("cleanup: %v", err)
				}
			}
		}
	})

	pm.MustRun(t, "import", tarball, image)
	pm.Cleanup(t, "rmi", image)
	id := pm.MustRun(t, "run", "-d", "--name", name, image, "sleep", "300")
	pm.Cleanup(t, "rm", "-f", "-t", "0", id)

	info, err := Lookup(r, "podman", id, nil)
	if err != nil {
		t.Fatalf("Lookup(podman, %s): %v", id, err)
	}
	if diff := cmp.Diff([]string{"podman", id, name, image}, []string{info.Runtime, info.ID, info.Name, info.Image}); diff != "" {
		t.Errorf("Lookup() mismatch (-want +got):\n%s\n%+v", diff, info)
	}

	podID, err := pm.Run(t, "pod", "create", "--name", podName)
	if err != nil {
		if strings.Contains(err.Error(), "catatonit") {
			t.Skipf("podman cannot build its pod infra image (apt-get install catatonit): %v", err)
		}
		t.Fatal(err)
	}
	pm.Cleanup(t, "pod", "rm", "-f", "-t", "0", podID)
	member := pm.MustRun(t, "run", "-d", "--pod", podID, "--name", inPod, image, "sleep", "300")
	infra := pm.MustRun(t, "pod", "inspect", "-f", "{{.InfraContainerID}}", podID)

	type pod struct {
		Name, Image, PodName, PodID, SandboxID string
		Sandbox                                bool
	}
	m, err := Lookup(r, "podman", member, nil)
	if err != nil {
		t.Fatalf("Lookup(podman, %s): %v", member, err)
	}
	if diff := cmp.Diff(pod{inPod, image, podName, podID, infra, false},
		pod{m.Name, m.Image, m.PodName, m.PodID, m.SandboxID, m.Sandbox}); diff != "" {
		t.Errorf("Lookup(member) mismatch (-want +got):\n%s", diff)
	}
	in, err := Lookup(r, "podman", infra, nil)
	if err != nil {
		t.Fatalf("Lookup(podman, %s): %v", infra, err)
	}
	if in.PodName != podName || in.PodID != podID || !in.Sandbox || in.SandboxID != infra {
		t.Errorf("Lookup(infra) = %+v, want the sandbox of pod %s %s", in, podName, podID)
	}

	list, err := List(context.Background(), r, nil)
	if err != nil {
		t.Logf("List() problems (other tenants' files): %v", err)
	}
	seen := map[string]bool{}
	for _, l := range list {
		for _, want := range []*Info{info, m, in} {
			if l.ID == want.ID {
				seen[l.ID] = true
				if diff := cmp.Diff(*want, l); diff != "" {
					t.Errorf("List() and Lookup() disagree on %s (-Lookup +List):\n%s", l.ID, diff)
				}
			}
		}
	}
	if len(seen) != 3 {
		t.Errorf("List() holds %d of the 3 containers", len(seen))
	}
}
