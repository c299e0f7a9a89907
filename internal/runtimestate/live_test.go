package runtimestate

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hostscope/hostscope/hostroot"
)

// The live tests start real containers and read their state through the
// native root. They need root (the state directories are root-only),
// busybox-static (/bin/busybox, to build an image without a registry) and
// the runtime; each is skipped, saying why, when something is missing.

// busyboxTar returns a root file system tar holding busybox and the applets
// the tests run.
func busyboxTar(t *testing.T) string {
	t.Helper()
	bin, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Skipf("no /bin/busybox (apt-get install busybox-static): %v", err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(h *tar.Header, body []byte) {
		h.ModTime = time.Unix(0, 0)
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	add(&tar.Header{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755}, nil)
	add(&tar.Header{Name: "bin/busybox", Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(bin))}, bin)
	for _, applet := range []string{"sh", "sleep"} {
		add(&tar.Header{Name: "bin/" + applet, Typeflag: tar.TypeSymlink, Linkname: "busybox", Mode: 0o777}, nil)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(t.TempDir(), "busybox.tar")
	if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

func liveSuffix(t *testing.T) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// run runs a runtime's command and returns its trimmed standard output.
func run(t *testing.T, env []string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", &runError{cmd: name + " " + strings.Join(args, " "), err: err, stderr: stderr.String()}
	}
	return strings.TrimSpace(string(out)), nil
}

type runError struct {
	cmd, stderr string
	err         error
}

func (e *runError) Error() string {
	return e.cmd + ": " + e.err.Error() + ": " + strings.TrimSpace(e.stderr)
}

func mustRun(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	out, err := run(t, env, name, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// cleanup registers a command that undoes what the test started; its
// failure is only logged.
func cleanup(t *testing.T, env []string, name string, args ...string) {
	t.Cleanup(func() {
		if _, err := run(t, env, name, args...); err != nil {
			t.Logf("cleanup: %v", err)
		}
	})
}

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
	if _, err := run(t, nil, "docker", "info"); err != nil {
		t.Skipf("docker is not available: %v", err)
	}
	tarball := busyboxTar(t)
	sfx := liveSuffix(t)
	image := "hostscope-runtimestate-test:" + sfx
	name := "hostscope-rs-" + sfx

	mustRun(t, nil, "docker", "import", tarball, image)
	cleanup(t, nil, "docker", "rmi", image)
	id := mustRun(t, nil, "docker", "run", "-d", "--name", name, "--label", "hostscope.test=runtimestate", image, "sleep", "300")
	cleanup(t, nil, "docker", "rm", "-f", id)
	pid := mustRun(t, nil, "docker", "inspect", "-f", "{{.State.Pid}}", id)

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

// podmanEnv points podman at a containers.conf fit for a machine without
// systemd in charge of cgroups, unless the environment already chose one.
func podmanEnv(t *testing.T) []string {
	t.Helper()
	if os.Getenv("CONTAINERS_CONF") != "" {
		return nil
	}
	conf := filepath.Join(t.TempDir(), "containers.conf")
	const text = `[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
`
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{"CONTAINERS_CONF=" + conf}
}

func TestLivePodman(t *testing.T) {
	r := liveRoot(t)
	if _, err := exec.LookPath("podman"); err != nil {
		t.Skip("podman is not installed (apt-get install podman catatonit)")
	}
	env := podmanEnv(t)
	if _, err := run(t, env, "podman", "info"); err != nil {
		t.Skipf("podman is not usable: %v", err)
	}
	tarball := busyboxTar(t)
	sfx := liveSuffix(t)
	image := "localhost/hostscope-runtimestate-test:" + sfx
	name, podName, inPod := "hostscope-rs-"+sfx, "hostscope-rs-pod-"+sfx, "hostscope-rs-inpod-"+sfx

	// The pod's infra image is built by podman on first use; remove it
	// afterwards only if this test made it. Cleanups run last-in first-out,
	// so this one runs after the pod is gone.
	before := mustRun(t, env, "podman", "images", "--format", "{{.Repository}}:{{.Tag}}")
	t.Cleanup(func() {
		after, err := run(t, env, "podman", "images", "--format", "{{.Repository}}:{{.Tag}}")
		if err != nil {
			return
		}
		for _, img := range strings.Fields(after) {
			if strings.HasPrefix(img, "localhost/podman-pause:") && !strings.Contains(before, img) {
				if _, err := run(t, env, "podman", "rmi", img); err != nil {
					t.Logf("cleanup: %v", err)
				}
			}
		}
	})

	mustRun(t, env, "podman", "import", tarball, image)
	cleanup(t, env, "podman", "rmi", image)
	id := mustRun(t, env, "podman", "run", "-d", "--name", name, image, "sleep", "300")
	cleanup(t, env, "podman", "rm", "-f", "-t", "0", id)

	info, err := Lookup(r, "podman", id, nil)
	if err != nil {
		t.Fatalf("Lookup(podman, %s): %v", id, err)
	}
	if diff := cmp.Diff([]string{"podman", id, name, image}, []string{info.Runtime, info.ID, info.Name, info.Image}); diff != "" {
		t.Errorf("Lookup() mismatch (-want +got):\n%s\n%+v", diff, info)
	}

	podID, err := run(t, env, "podman", "pod", "create", "--name", podName)
	if err != nil {
		if strings.Contains(err.Error(), "catatonit") {
			t.Skipf("podman cannot build its pod infra image (apt-get install catatonit): %v", err)
		}
		t.Fatal(err)
	}
	cleanup(t, env, "podman", "pod", "rm", "-f", "-t", "0", podID)
	member := mustRun(t, env, "podman", "run", "-d", "--pod", podID, "--name", inPod, image, "sleep", "300")
	infra := mustRun(t, env, "podman", "pod", "inspect", "-f", "{{.InfraContainerID}}", podID)

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
