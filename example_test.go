package hostscope_test

import (
	"context"
	"fmt"
	"net/netip"
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

// What a container listens on and is connected with, read from a host's
// /proc: here an in-memory one holding a docker container whose nginx
// listens on port 80 and serves one client.
func ExampleTakeInventory_sockets() {
	const id = "3f4e5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081"
	const tcpHeader = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	root, err := hostroottest.New().
		File("/proc/stat", "btime 1700000000\n").
		File("/proc/100/stat", "100 (nginx) S 1 100 100 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 50 0 0 0\n").
		File("/proc/100/cgroup", "0::/system.slice/docker-"+id+".scope\n").
		Symlink("/proc/100/ns/net", "net:[4026532600]").
		Symlink("/proc/100/fd/6", "socket:[9001]").
		Symlink("/proc/100/fd/7", "socket:[9002]").
		File("/proc/100/net/tcp", tcpHeader+
			"   0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000   101        0 9001 1\n"+
			"   1: 0200110A:0050 0101A8C0:C350 01 00000000:00000000 02:00000444 00000000   101        0 9002 2\n").
		Root()
	if err != nil {
		panic(err)
	}
	inv, err := hostscope.TakeInventory(context.Background(), root, &hostscope.Options{Sockets: true, NoNames: true})
	if err != nil {
		panic(err)
	}
	for _, c := range inv.Containers {
		for _, s := range c.Listening {
			fmt.Println(c.ID[:12], "listens on", s.Protocol, netip.AddrPortFrom(s.LocalAddr, s.LocalPort))
		}
		for _, s := range c.Established {
			fmt.Println(c.ID[:12], "talks with", netip.AddrPortFrom(s.RemoteAddr, s.RemotePort), "on", s.LocalPort)
		}
	}
	// Output:
	// 3f4e5a6b7c8d listens on tcp 0.0.0.0:80
	// 3f4e5a6b7c8d talks with 192.168.1.1:50000 on 80
}
