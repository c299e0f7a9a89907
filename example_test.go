package hostscope_test

import (
	"fmt"
	"strings"

	"github.com/hostscope/hostscope"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
)

// The same reading code runs against a fake host in a test and against
// hostroot.Native() or hostroot.FromEnv() in production.
func Example() {
	root, err := hostroottest.New().
		File("/usr/lib/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n").
		Symlink("/etc/os-release", "../usr/lib/os-release").
		Root()
	if err != nil {
		panic(err)
	}
	b, err := root.ReadFile("/etc/os-release")
	if err != nil {
		panic(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
			fmt.Println(strings.Trim(v, `"`))
		}
	}
	// Output:
	// Debian GNU/Linux 12 (bookworm)
}

// Findings turns a posture into the rules it breaks, most exposing first,
// each with a one-line reason.
func ExamplePosture_Findings() {
	p := &hostscope.Posture{
		Capabilities:      []string{"CAP_CHOWN", "CAP_SYS_ADMIN"},
		AddedCapabilities: []string{"CAP_SYS_ADMIN"},
		Seccomp:           "filter",
		Root:              true,
		HostNamespaces:    []string{"cgroup", "net", "time", "user"},
		HostMounts: []hostscope.HostMount{
			{Source: "/run/docker.sock", Target: "/var/run/docker.sock", Sensitive: "docker.sock"},
			{Source: "/srv/data", Target: "/data"},
		},
	}
	for _, f := range p.Findings() {
		fmt.Printf("%s: %s\n", f.Rule, f.Reason)
	}
	// Output:
	// sensitive-mount: host /run/docker.sock (runtime socket docker.sock) mounted read-write at /var/run/docker.sock, as the host's root
	// host-namespace: host net namespace: uses the host's network stack and its localhost services
	// added-capabilities: capabilities beyond the runtime's default: CAP_SYS_ADMIN
}
