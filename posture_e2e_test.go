package hostscope_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hostscope/hostscope"
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
			userns.args = nil
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
			want: []ruleOn{{string(hostscope.RuleSeccompDisabled), ""}}},
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
		rmArgs := []string{"rm", "-f", id}
		if rt.Name == "podman" {
			rmArgs = []string{"rm", "-f", "-t", "0", id}
		}
		rt.Cleanup(t, rmArgs...)
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
			want := psjson.FromPosture(native[id].Posture, native[id].PostureErr)
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
}

// psInContainer runs examples/ps --json, built statically, in a container
// of rt that sees the host's /proc at /host/proc (HOST_PROC), with the
// capability it needs to read other processes' namespace links and root
// directories (CAP_SYS_PTRACE), and returns the posture of each container
// it lists, by ID.
func psInContainer(t *testing.T, rt *testctr.Runtime, sfx string) map[string]*psjson.Posture {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build examples/ps with")
	}
	bin := filepath.Join(t.TempDir(), "ps")
	if _, err := testctr.Command([]string{"CGO_ENABLED=0"}, goCmd, "build", "-o", bin, "./examples/ps"); err != nil {
		t.Fatal(err)
	}
	psBin, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	image := "localhost/hostscope-posture-ps:" + sfx
	rt.Image(t, testctr.BusyboxTar(t, map[string][]byte{"ps": psBin}), image)
	out, err := rt.Run(t, "run", "--rm", "--cap-add", "SYS_PTRACE", "-v", "/proc:/host/proc:ro",
		"-e", "HOST_PROC=/host/proc", image, "/ps", "--json", "--no-names")
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
