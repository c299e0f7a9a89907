package hostscope_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hostscope/hostscope"
	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
)

// Where the declared-posture fixtures keep the docker container's state:
// docker's hostconfig.json and the OCI spec of its bundle in containerd's
// moby namespace.
const (
	fixtureHostConfig = "/var/lib/docker/containers/" + dockerID + "/hostconfig.json"
	fixtureBundleSpec = "/run/containerd/io.containerd.runtime.v2.task/moby/" + dockerID + "/config.json"
)

// ociNS is one entry of an OCI spec's linux.namespaces.
type ociNS struct {
	Type string `json:"type"`
	Path string `json:"path,omitempty"`
}

// fixtureSpec is an OCI spec with the given bounding set, seccomp profile
// (or none), namespaces and noNewPrivileges.
func fixtureSpec(t testing.TB, caps []string, seccomp bool, ns []ociNS, nnp bool) string {
	t.Helper()
	linux := map[string]any{"namespaces": ns}
	if seccomp {
		linux["seccomp"] = map[string]any{"defaultAction": "SCMP_ACT_ERRNO"}
	}
	b, err := json.Marshal(map[string]any{
		"ociVersion": "1.0.2",
		"process":    map[string]any{"noNewPrivileges": nnp, "capabilities": map[string]any{"bounding": caps, "effective": caps}},
		"linux":      linux,
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// dockerNS are the namespaces docker creates for a default container on
// cgroup v1.
var dockerNS = []ociNS{{Type: "mount"}, {Type: "network"}, {Type: "uts"}, {Type: "pid"}, {Type: "ipc"}}

func sortedCaps(names []string) []string {
	out := append([]string(nil), names...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// declaredInventory takes h's inventory with Posture, reading the state
// files unless noNames, and returns its one container.
func declaredInventory(t *testing.T, h *hostroottest.Host, noNames bool) *hostscope.Container {
	t.Helper()
	inv, err := hostscope.TakeInventory(context.Background(), hostroottest.MustRoot(t, h), &hostscope.Options{Posture: true, NoNames: noNames})
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(inv.Containers))
	}
	return inv.Containers[0]
}

// The runtime's configuration beside the kernel's view: what it adds
// (docker's --privileged flag) and what the processes hold beyond it.
func TestPostureDeclared(t *testing.T) {
	hostPID := func(m member) member {
		m.ns = map[string]uint64{}
		for k, v := range ctrNS {
			m.ns[k] = v
		}
		m.ns["pid"] = hostNS["pid"]
		return m
	}
	defaultDeclared := &hostscope.Declared{Source: fixtureBundleSpec, PrivilegedSource: fixtureHostConfig,
		Capabilities: sortedCaps(dockerCapNames), Seccomp: "filter", HostNamespaces: []string{"cgroup", "time", "user"}}
	for _, tc := range []struct {
		name       string
		members    func() []member
		hostConfig string // "" for none
		spec       func(t *testing.T) string
		declared   func() *hostscope.Declared
		want       []hostscope.Rule
		reasons    []string // parts of the findings' reasons, in order
	}{
		{
			name:       "default container, as declared",
			members:    func() []member { return []member{defaultMember()} },
			hostConfig: `{"Privileged":false}`,
			spec:       func(t *testing.T) string { return fixtureSpec(t, dockerCapNames, true, dockerNS, false) },
			declared:   func() *hostscope.Declared { return defaultDeclared },
		},
		{
			name: "docker --privileged: the flag confirms what the kernel shows",
			members: func() []member {
				m := defaultMember()
				m.capBnd, m.capEff, m.seccomp = allCaps, allCaps, 0
				return []member{m}
			},
			hostConfig: `{"Privileged":true}`,
			spec:       func(t *testing.T) string { return fixtureSpec(t, capNames(allCaps), false, dockerNS, false) },
			declared: func() *hostscope.Declared {
				d := *defaultDeclared
				d.Privileged, d.Capabilities, d.Seccomp = true, sortedCaps(capNames(allCaps)), "disabled"
				return &d
			},
			want:    []hostscope.Rule{hostscope.RulePrivileged, hostscope.RuleSeccompDisabled},
			reasons: []string{"every capability the host grants, as the host's root; declared in hostconfig.json", "seccomp disabled"},
		},
		{
			name: "declared privileged on a host whose processes show less: the flag alone",
			members: func() []member {
				m := defaultMember()
				m.seccomp = 0
				return []member{m}
			},
			hostConfig: `{"Privileged":true}`,
			spec:       func(t *testing.T) string { return fixtureSpec(t, dockerCapNames, false, dockerNS, false) },
			declared: func() *hostscope.Declared {
				d := *defaultDeclared
				d.Privileged, d.Seccomp = true, "disabled"
				return &d
			},
			want:    []hostscope.Rule{hostscope.RulePrivileged, hostscope.RuleSeccompDisabled},
			reasons: []string{"privileged, declared in hostconfig.json: every device, /proc and /sys unmasked", "seccomp disabled"},
		},
		{
			name: "a host process moved into the container's cgroup",
			members: func() []member {
				intruder := member{pid: 200, capBnd: allCaps, capEff: allCaps, nspid: "200", ns: hostNS, uidMap: identityMap}
				return []member{defaultMember(), intruder}
			},
			hostConfig: `{"Privileged":false}`,
			spec:       func(t *testing.T) string { return fixtureSpec(t, dockerCapNames, true, dockerNS, false) },
			declared:   func() *hostscope.Declared { return defaultDeclared },
			want:       []hostscope.Rule{hostscope.RulePrivileged, hostscope.RuleBeyondDeclared, hostscope.RuleSeccompDisabled},
			reasons: []string{"every capability the host grants",
				"holds more than its runtime configured (config.json): capabilities CAP_DAC_READ_SEARCH, CAP_LINUX_IMMUTABLE, ", "seccomp disabled"},
		},
		{
			name:       "the host's pid namespace where the spec creates one",
			members:    func() []member { return []member{hostPID(defaultMember())} },
			hostConfig: `{"Privileged":false}`,
			spec:       func(t *testing.T) string { return fixtureSpec(t, dockerCapNames, true, dockerNS, false) },
			declared:   func() *hostscope.Declared { return defaultDeclared },
			want:       []hostscope.Rule{hostscope.RuleBeyondDeclared, hostscope.RuleHostNamespace},
			reasons:    []string{"(config.json): the host's pid namespace", "host pid namespace"},
		},
		{
			name:    "the spec joins a pid namespace by path: whose, it does not say",
			members: func() []member { return []member{hostPID(defaultMember())} },
			spec: func(t *testing.T) string {
				return fixtureSpec(t, dockerCapNames, true, []ociNS{{Type: "mount"}, {Type: "network"}, {Type: "uts"}, {Type: "pid", Path: "/proc/1/ns/pid"}, {Type: "ipc"}}, false)
			},
			declared: func() *hostscope.Declared {
				d := *defaultDeclared
				d.PrivilegedSource, d.JoinedNamespaces = "", []string{"pid"}
				return &d
			},
			want:    []hostscope.Rule{hostscope.RuleHostNamespace},
			reasons: []string{"host pid namespace"},
		},
		{
			name:       "--pid=host as declared",
			members:    func() []member { return []member{hostPID(defaultMember())} },
			hostConfig: `{"Privileged":false}`,
			spec: func(t *testing.T) string {
				return fixtureSpec(t, dockerCapNames, true, []ociNS{{Type: "mount"}, {Type: "network"}, {Type: "uts"}, {Type: "ipc"}}, false)
			},
			declared: func() *hostscope.Declared {
				d := *defaultDeclared
				d.HostNamespaces = []string{"cgroup", "pid", "time", "user"}
				return &d
			},
			want:    []hostscope.Rule{hostscope.RuleHostNamespace},
			reasons: []string{"host pid namespace"},
		},
		{
			name:       "no_new_privs and seccomp declared, not held",
			members:    func() []member { m := defaultMember(); m.seccomp = 0; return []member{m} },
			hostConfig: `{"Privileged":false}`,
			spec:       func(t *testing.T) string { return fixtureSpec(t, dockerCapNames, true, dockerNS, true) },
			declared: func() *hostscope.Declared {
				d := *defaultDeclared
				d.NoNewPrivs = true
				return &d
			},
			want:    []hostscope.Rule{hostscope.RuleBeyondDeclared, hostscope.RuleSeccompDisabled},
			reasons: []string{"(config.json): no seccomp filter; no no_new_privs", "seccomp disabled"},
		},
		{
			name:       "only hostconfig.json: nothing to compare the processes with",
			members:    func() []member { return []member{hostPID(defaultMember())} },
			hostConfig: `{"Privileged":false}`,
			declared:   func() *hostscope.Declared { return &hostscope.Declared{PrivilegedSource: fixtureHostConfig} },
			want:       []hostscope.Rule{hostscope.RuleHostNamespace},
			reasons:    []string{"host pid namespace"},
		},
		{
			name:     "no state files",
			members:  func() []member { return []member{defaultMember()} },
			declared: func() *hostscope.Declared { return nil },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := postureHost(allCaps, tc.members()...)
			if tc.hostConfig != "" {
				h.File(fixtureHostConfig, tc.hostConfig)
			}
			if tc.spec != nil {
				h.File(fixtureBundleSpec, tc.spec(t))
			}
			c := declaredInventory(t, h, false)
			if c.PostureErr != nil || c.DeclaredErr != nil {
				t.Fatalf("PostureErr %v, DeclaredErr %v", c.PostureErr, c.DeclaredErr)
			}
			if diff := cmp.Diff(tc.declared(), c.Posture.Declared, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("declared (-want +got):\n%s", diff)
			}
			findings := c.Posture.Findings()
			var rules []hostscope.Rule
			for _, f := range findings {
				rules = append(rules, f.Rule)
			}
			if diff := cmp.Diff(tc.want, rules, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("rules (-want +got):\n%s\nfindings: %v", diff, findings)
			}
			for i, r := range tc.reasons {
				if !strings.Contains(findings[i].Reason, r) {
					t.Errorf("finding %d: reason %q, want it to say %q", i, findings[i].Reason, r)
				}
			}

			// Without the state files (NoNames), only the kernel's view.
			if tc.declared() != nil {
				c := declaredInventory(t, h, true)
				if c.Posture.Declared != nil || c.DeclaredErr != nil {
					t.Errorf("NoNames: Declared %+v, DeclaredErr %v; want neither", c.Posture.Declared, c.DeclaredErr)
				}
			}
		})
	}
}

// A state file that cannot be read leaves Declared out and says why in
// DeclaredErr, naming the file; the kernel's view stays whole.
func TestPostureDeclaredBroken(t *testing.T) {
	h := postureHost(allCaps, defaultMember())
	h.File(fixtureHostConfig, `{"Privileged":tru`)
	h.File(fixtureBundleSpec, `{"linux":{"namespaces":[{"type":"pids"}]}}`)
	c := declaredInventory(t, h, false)
	if c.PostureErr != nil {
		t.Errorf("PostureErr: %v", c.PostureErr)
	}
	if c.Posture.Declared != nil {
		t.Errorf("Declared %+v from broken files", c.Posture.Declared)
	}
	if err := c.DeclaredErr; err == nil || !errors.Is(err, hostroot.ErrMalformed) || !strings.Contains(err.Error(), fixtureHostConfig) {
		t.Errorf("DeclaredErr %v, want ErrMalformed naming %s", err, fixtureHostConfig)
	}
	if f := c.Posture.Findings(); len(f) != 0 {
		t.Errorf("findings %v, want none", f)
	}
}
