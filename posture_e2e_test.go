package hostscope_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hostscope/hostscope"
	"github.com/hostscope/hostscope/cgroup"
	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/internal/psjson"
	"github.com/hostscope/hostscope/internal/testctr"
	"github.com/hostscope/hostscope/proc"
)

// ruleOn is a finding as the end-to-end tests compare it: its rule and
// subject (the reasons are the fixtures' business).
type ruleOn struct{ Rule, Subject string }

// postureCase is one container the posture end-to-end tests start, with
// the findings it must show, exactly.
type postureCase struct {
	name string
	args []string // run options before the image
	want []ruleOn
	// check looks at the posture beyond the findings; nil checks nothing.
	check func(t *testing.T, p *hostscope.Posture)
	// declared checks Posture.Declared, which checkPostures has found
	// with an OCI spec; nil checks that the container is not declared
	// privileged and has a seccomp filter.
	declared func(t *testing.T, d *hostscope.Declared)
	// skip is why this machine cannot run the case; "" runs it.
	skip string
	// startFails, when set, turns a start error into a skip reason ("" for
	// an error that must fail the test).
	startFails func(err error) string
}

// runtimeSocket is the first runtime socket that exists on this machine,
// podman's own preferred for podman: what a socket-mounting container
// mounts. "" when there is none.
func runtimeSocket(rt *testctr.Runtime) string {
	candidates := []string{"/run/docker.sock", "/run/podman/podman.sock", "/run/containerd/containerd.sock"}
	if rt.Name == "podman" {
		candidates = []string{"/run/podman/podman.sock", "/run/docker.sock", "/run/containerd/containerd.sock"}
	}
	for _, s := range candidates {
		if fi, err := os.Stat(s); err == nil && fi.Mode()&os.ModeSocket != 0 {
			return s
		}
	}
	return ""
}

func postureCases(t *testing.T, rt *testctr.Runtime) []postureCase {
	noFinding := func(t *testing.T, p *hostscope.Posture) {
		t.Helper()
		if p.Privileged || len(p.AddedCapabilities) > 0 || p.Seccomp != "filter" || len(p.HostMounts) > 0 || len(p.Devices) > 0 {
			t.Errorf("posture %+v, want a default container's", p)
		}
	}
	sock := runtimeSocket(rt)
	sockCase := postureCase{name: "runtime socket", skip: "no runtime socket on this machine (/run/docker.sock, /run/podman/podman.sock, /run/containerd/containerd.sock)"}
	if sock != "" {
		target := "/var/run/" + filepath.Base(sock)
		sockCase = postureCase{name: "runtime socket", args: []string{"-v", sock + ":" + target},
			want: []ruleOn{{string(hostscope.RuleSensitiveMount), target}},
			check: func(t *testing.T, p *hostscope.Posture) {
				want := []hostscope.HostMount{{Source: sock, Target: target, Sensitive: filepath.Base(sock)}}
				if diff := cmp.Diff(want, p.HostMounts); diff != "" {
					t.Errorf("host mounts (-want +got):\n%s", diff)
				}
			}}
	}
	userns := postureCase{name: "user namespace", args: []string{"--uidmap", "0:100000:65536", "--gidmap", "0:100000:65536"},
		declared: func(t *testing.T, d *hostscope.Declared) {
			if !d.UserNamespace || d.Privileged || slices.Contains(d.HostNamespaces, "user") {
				t.Errorf("declared %+v, want a user namespace", d)
			}
		},
		check: func(t *testing.T, p *hostscope.Posture) {
			if !p.UserNamespace || !p.Root || p.HostUID != 100000 {
				t.Errorf("user namespace %v, root %v, host UID %d; want a user namespace whose root is host UID 100000", p.UserNamespace, p.Root, p.HostUID)
			}
			if strings.Contains(strings.Join(p.HostNamespaces, ","), "user") {
				t.Errorf("host namespaces %v include user", p.HostNamespaces)
			}
		}}
	if rt.Name == "docker" {
		// docker run cannot ask for a user namespace; only a daemon
		// started with userns-remap gives every container one.
		opts, err := rt.Run(t, "info", "--format", "{{json .SecurityOptions}}")
		if err != nil || !strings.Contains(opts, "name=userns") {
			userns = postureCase{name: "user namespace", skip: "the docker daemon runs without userns-remap (docker info's SecurityOptions has no name=userns), and docker run cannot ask for a user namespace"}
		} else {
			userns.args, userns.declared = nil, nil
			userns.check = func(t *testing.T, p *hostscope.Posture) {
				if !p.UserNamespace || p.HostUID == 0 {
					t.Errorf("user namespace %v, host UID %d; want userns-remap's", p.UserNamespace, p.HostUID)
				}
			}
		}
	}
	return []postureCase{
		{name: "default", check: noFinding},
		{name: "privileged", args: []string{"--privileged"},
			want: []ruleOn{{string(hostscope.RulePrivileged), ""}, {string(hostscope.RuleSeccompDisabled), ""}, {string(hostscope.RuleDevices), ""}},
			declared: func(t *testing.T, d *hostscope.Declared) {
				if !d.Privileged || d.PrivilegedSource == "" || d.Seccomp != "disabled" {
					t.Errorf("declared %+v, want privileged (and so no seccomp filter)", d)
				}
			},
			check: func(t *testing.T, p *hostscope.Posture) {
				if !p.Privileged || p.Seccomp != "disabled" || len(p.Devices) == 0 {
					t.Errorf("privileged %v, seccomp %q, %d devices", p.Privileged, p.Seccomp, len(p.Devices))
				}
			},
			startFails: func(err error) string {
				// A docker daemon whose own bounding set lacks a capability
				// asks runc for it anyway and fails (podman asks only for
				// its bounding set).
				if strings.Contains(err.Error(), "apply caps") {
					return "this engine cannot start a privileged container here: its bounding set lacks a capability it asks runc for (" + err.Error() + ")"
				}
				return ""
			}},
		// Every capability the engine can grant, without --privileged's
		// other changes (seccomp, devices): privileged in capability terms
		// alone. Capabilities the engine itself lacks (a sandboxed host)
		// are dropped, or it could not start the container at all.
		{name: "cap-add ALL", args: append([]string{"--cap-add", "ALL"}, capDrops(t, rt)...),
			want: []ruleOn{{string(hostscope.RulePrivileged), ""}},
			check: func(t *testing.T, p *hostscope.Posture) {
				if !p.Privileged || p.Seccomp != "filter" || len(p.Devices) > 0 {
					t.Errorf("privileged %v, seccomp %q, devices %v; want privileged only", p.Privileged, p.Seccomp, p.Devices)
				}
			}},
		{name: "host pid and network", args: []string{"--pid=host", "--network=host"},
			want: []ruleOn{{string(hostscope.RuleHostNamespace), "net"}, {string(hostscope.RuleHostNamespace), "pid"}},
			declared: func(t *testing.T, d *hostscope.Declared) {
				// docker joins the host's network namespace by a path.
				kept := append(slices.Clone(d.HostNamespaces), d.JoinedNamespaces...)
				if !slices.Contains(kept, "net") || !slices.Contains(d.HostNamespaces, "pid") || d.Privileged {
					t.Errorf("declared %+v, want the host's pid namespace kept and its net namespace kept or joined", d)
				}
			},
			check: func(t *testing.T, p *hostscope.Posture) {
				if len(p.HostMounts) > 0 {
					t.Errorf("host mounts %+v, want none (sysfs in the host's network namespace is the runtime's own)", p.HostMounts)
				}
			}},
		{name: "host root", args: []string{"-v", "/:/host"},
			want: []ruleOn{{string(hostscope.RuleSensitiveMount), "/host"}},
			check: func(t *testing.T, p *hostscope.Posture) {
				want := []hostscope.HostMount{{Source: "/", Target: "/host", Sensitive: "/"}}
				if diff := cmp.Diff(want, p.HostMounts); diff != "" {
					t.Errorf("host mounts (-want +got):\n%s", diff)
				}
			}},
		sockCase,
		{name: "cap-add SYS_ADMIN", args: []string{"--cap-add", "SYS_ADMIN"},
			want: []ruleOn{{string(hostscope.RuleAddedCapabilities), ""}},
			check: func(t *testing.T, p *hostscope.Posture) {
				if diff := cmp.Diff([]string{"CAP_SYS_ADMIN"}, p.AddedCapabilities); diff != "" {
					t.Errorf("added capabilities (-want +got):\n%s", diff)
				}
			}},
		{name: "seccomp unconfined", args: []string{"--security-opt", "seccomp=unconfined"},
			want: []ruleOn{{string(hostscope.RuleSeccompDisabled), ""}},
			declared: func(t *testing.T, d *hostscope.Declared) {
				if d.Seccomp != "disabled" || d.Privileged {
					t.Errorf("declared %+v, want no seccomp filter", d)
				}
			}},
		userns,
	}
}

// capDrops returns --cap-drop options for each capability up to
// CAP_AUDIT_READ that the engine's bounding set lacks: this process's (podman
// runs as its child) and, for docker, dockerd's.
func capDrops(t *testing.T, rt *testctr.Runtime) []string {
	t.Helper()
	root, err := hostroot.Native()
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	pids := []int{os.Getpid()}
	if rt.Name == "docker" {
		out, _ := exec.Command("pidof", "dockerd").Output()
		for _, f := range strings.Fields(string(out)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	bnd := uint64(1<<38 - 1)
	for _, pid := range pids {
		p, err := proc.Read(root, pid, proc.FieldStatus)
		if err != nil {
			t.Fatal(err)
		}
		bnd &= p.CapBnd
	}
	var drops []string
	for _, name := range proc.CapabilityNames((1<<38 - 1) &^ bnd) {
		drops = append(drops, "--cap-drop", strings.TrimPrefix(name, "CAP_"))
	}
	return drops
}

// The posture end-to-end tests start one container per case with real
// docker and podman, and check that each shows exactly its findings, read
// natively, and that examples/ps run inside a container that sees the
// host's /proc at /host/proc computes the same postures.

func TestPostureEndToEndDocker(t *testing.T) {
	testctr.RequireRoot(t)
	checkPostures(t, testctr.Docker(t))
}

func TestPostureEndToEndPodman(t *testing.T) {
	testctr.RequireRoot(t)
	checkPostures(t, testctr.Podman(t))
}

func checkPostures(t *testing.T, rt *testctr.Runtime) {
	// The host-root case must see the host's mounts as they were when its
	// container started (it took them all along).
	testctr.LockHostMounts(t)
	sfx := testctr.Suffix(t)
	image := "localhost/hostscope-posture:" + sfx
	rt.Image(t, testctr.BusyboxTar(t, nil), image)
	cases := postureCases(t, rt)
	ids := map[string]string{} // by case name
	for i := range cases {
		c := &cases[i]
		if c.skip != "" {
			continue
		}
		name := "hostscope-posture-" + strings.NewReplacer(" ", "-", "=", "-").Replace(c.name) + "-" + sfx
		args := append(append([]string{"run", "-d", "--name", name}, c.args...), image, "sleep", "600")
		id, err := rt.Run(t, args...)
		if err != nil {
			rt.Run(t, "rm", "-f", name)
			if c.startFails != nil {
				if why := c.startFails(err); why != "" {
					c.skip = why
					continue
				}
			}
			t.Fatalf("%s: %v", c.name, err)
		}
		rt.CleanupContainer(t, id)
		ids[c.name] = id
	}

	root, err := hostroot.Native()
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	inv, err := hostscope.TakeInventory(context.Background(), root, &hostscope.Options{Posture: true})
	if err != nil {
		t.Fatal(err)
	}
	native := map[string]*hostscope.Container{}
	for _, c := range inv.Containers {
		native[c.ID] = c
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.skip != "" {
				t.Skip(c.skip)
			}
			ctr := native[ids[c.name]]
			if ctr == nil {
				t.Fatalf("container %s is not in the inventory", ids[c.name])
			}
			if ctr.PostureErr != nil {
				t.Errorf("PostureErr: %v", ctr.PostureErr)
			}
			var got []ruleOn
			for _, f := range ctr.Posture.Findings() {
				got = append(got, ruleOn{string(f.Rule), f.Subject})
			}
			if diff := cmp.Diff(c.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("findings (-want +got):\n%s\nposture: %+v", diff, ctr.Posture)
			}
			if c.check != nil {
				c.check(t, ctr.Posture)
			}
			// The runtime's state files, read natively as root, give the
			// container's configuration; no case shows more than it.
			d := ctr.Posture.Declared
			if d == nil || d.Source == "" || d.PrivilegedSource == "" || ctr.DeclaredErr != nil {
				t.Fatalf("declared %+v (error %v), want the runtime's spec and its privileged flag", d, ctr.DeclaredErr)
			}
			if c.declared != nil {
				c.declared(t, d)
			} else if d.Privileged || d.Seccomp != "filter" {
				t.Errorf("declared %+v, want unprivileged with a seccomp filter", d)
			}
		})
	}

	t.Run("from a container with the host's /proc at /host/proc", func(t *testing.T) {
		if testing.Short() {
			t.Skip("builds examples/ps and an image; skipped with -short")
		}
		inside := psInContainer(t, rt, sfx)
		checked := 0
		for _, c := range cases {
			id := ids[c.name]
			if id == "" {
				continue
			}
			want := psjson.FromPosture(native[id])
			if diff := cmp.Diff(want, inside[id]); diff != "" {
				t.Errorf("%s: posture from inside a container (-native +inside):\n%s", c.name, diff)
			}
			checked++
		}
		if checked == 0 {
			t.Fatal("no container was compared")
		}
		t.Logf("%d postures computed inside a container match the native ones", checked)
	})

	t.Run("a host process moved into the default container", func(t *testing.T) {
		ctr := native[ids["default"]]
		if ctr == nil {
			t.Fatal("no default container")
		}
		intruder := moveIntoContainer(t, root, ctr.InitPID)
		inv, err := hostscope.TakeInventory(context.Background(), root, &hostscope.Options{Posture: true})
		if err != nil {
			t.Fatal(err)
		}
		var got *hostscope.Container
		for _, c := range inv.Containers {
			if c.ID == ctr.ID {
				got = c
			}
		}
		if got == nil || !slices.Contains(got.PIDs, intruder) {
			t.Fatalf("the container does not hold PID %d after it was moved into its cgroups: %+v", intruder, got)
		}
		var beyond *hostscope.Finding
		for _, f := range got.Posture.Findings() {
			if f.Rule == hostscope.RuleBeyondDeclared {
				beyond = &f
			}
		}
		// The intruder is this test's child: root with its bounding set,
		// no seccomp filter, the host's namespaces (the container's init
		// still speaks for those).
		if beyond == nil || !strings.Contains(beyond.Reason, "CAP_SYS_ADMIN") || !strings.Contains(beyond.Reason, "no seccomp filter") {
			t.Errorf("findings %v, want beyond-declared naming CAP_SYS_ADMIN and the missing seccomp filter", got.Posture.Findings())
		}
	})
}

// moveIntoContainer starts a sleep on the host, as this test's child, and
// writes its PID into every cgroup of the process init, as a process put
// into a container from outside is; it returns the sleep's PID, killed
// when the test ends.
func moveIntoContainer(t *testing.T, root *hostroot.Root, init int) int {
	t.Helper()
	cmd := exec.Command("sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	data, err := os.ReadFile("/proc/" + strconv.Itoa(init) + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	entries, err := cgroup.ParseEntries(data, "/proc/"+strconv.Itoa(init)+"/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	layout, err := cgroup.DetectLayout(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	moved := 0
	for _, e := range entries {
		for _, h := range layout.Hierarchies {
			same := h.Version == 2 && e.HierarchyID == 0 ||
				h.Version == 1 && len(e.Controllers) > 0 && slices.Equal(slices.Sorted(slices.Values(h.Controllers)), slices.Sorted(slices.Values(e.Controllers)))
			if !same {
				continue
			}
			dir, err := h.Dir(e.Path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(cmd.Process.Pid)), 0); err != nil {
				t.Fatalf("moving PID %d into %s: %v", cmd.Process.Pid, dir, err)
			}
			moved++
		}
	}
	if moved == 0 {
		t.Fatalf("no hierarchy of the cgroups %+v", entries)
	}
	return cmd.Process.Pid
}

// psInContainer runs examples/ps --json, built statically, in a container
// of rt that sees the host's /proc at /host/proc (HOST_PROC), with the
// capability it needs to read other processes' namespace links and root
// directories (CAP_SYS_PTRACE), and returns the posture of each container
// it lists, by ID.
func psInContainer(t *testing.T, rt *testctr.Runtime, sfx string) map[string]*psjson.Posture {
	t.Helper()
	psBin, err := os.ReadFile(testctr.BuildStatic(t, "./examples/ps"))
	if err != nil {
		t.Fatal(err)
	}
	image := "localhost/hostscope-posture-ps:" + sfx
	rt.Image(t, testctr.BusyboxTar(t, map[string][]byte{"ps": psBin}), image)
	// The runtimes' state directories, as the DaemonSet mounts them, for
	// the names and the declared postures.
	args := []string{"run", "--rm", "--cap-add", "SYS_PTRACE", "-v", "/proc:/host/proc:ro",
		"-e", "HOST_PROC=/host/proc", "-e", "HOST_VAR=/host/var", "-e", "HOST_RUN=/host/run"}
	for _, dir := range []string{"/var/lib/docker/containers", "/run/containerd/io.containerd.runtime.v2.task",
		"/run/docker/containerd/daemon/io.containerd.runtime.v2.task",
		"/var/lib/containers/storage/overlay-containers", "/run/containers/storage/overlay-containers"} {
		if _, err := os.Stat(dir); err == nil {
			args = append(args, "-v", dir+":/host"+dir+":ro")
		}
	}
	out, err := rt.Run(t, append(args, image, "/ps", "--json")...)
	if err != nil {
		t.Fatal(err)
	}
	postures := map[string]*psjson.Posture{}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var p psjson.Process
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			t.Fatalf("ps --json line %q: %v", sc.Text(), err)
		}
		if c := p.Container; c != nil && c.ID != "" && c.Posture != nil {
			postures[c.ID] = c.Posture
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return postures
}
