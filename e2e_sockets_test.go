package hostscope_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hostscope/hostscope"
	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/internal/testctr"
	"github.com/hostscope/hostscope/proc"
)

func TestSocketsEndToEndDocker(t *testing.T) {
	checkContainerSockets(t, testctr.Docker(t))
}

func TestSocketsEndToEndPodman(t *testing.T) {
	checkContainerSockets(t, testctr.Podman(t))
}

// sockKey is what the end-to-end test can know of a socket in advance.
type sockKey struct {
	Protocol, Local string // address:port, or a unix path
	Remote, State   string
	Owner           string // comm of the member process holding it
}

// checkContainerSockets runs a busybox container whose httpd listens on
// TCP [::]:8080 and whose listener program listens on TCP 9090 (with one
// connection to itself), UDP 5353 and unix /l.sock, and checks that
// the inventory gives the container exactly these listening and
// established sockets, held by its own processes, in a network namespace
// that is not the host's.
func checkContainerSockets(t *testing.T, rt *testctr.Runtime) {
	bin, err := os.ReadFile(testctr.Listener(t))
	if err != nil {
		t.Fatal(err)
	}
	sfx := testctr.Suffix(t)
	image := "localhost/hostscope-sockets:" + sfx
	rt.Image(t, testctr.BusyboxTar(t, map[string][]byte{"bin/listener": bin}), image)
	name := "hostscope-sockets-" + sfx
	id := rt.MustRun(t, "run", "-d", "--name", name, image, "sh", "-c",
		"httpd -f -p 8080 -h / & exec listener -tcp 0.0.0.0:9090 -udp 0.0.0.0:5353 -unix /l.sock 2>&1")
	rt.Cleanup(t, "rm", "-f", id)
	deadline := time.Now().Add(30 * time.Second)
	for {
		logs, _ := rt.Run(t, "logs", id)
		if strings.Contains(logs, "ready") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the container's listener never got ready; logs: %q", logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	hostLink, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}

	root, err := hostroot.Native()
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	inv, err := hostscope.TakeInventory(context.Background(), root, &hostscope.Options{Sockets: true, Fields: proc.DefaultFields | proc.FieldNamespaces})
	if err != nil {
		t.Fatal(err)
	}
	var c *hostscope.Container
	for _, ct := range inv.Containers {
		if ct.ID == id {
			c = ct
		}
	}
	if c == nil {
		t.Fatalf("container %s is not in the inventory", id)
	}
	byPID := map[int]*proc.Process{}
	for _, p := range inv.Processes {
		byPID[p.PID] = p
	}
	// Who holds each socket, among the container's members; and every
	// member's sockets are in one namespace, not the host's.
	owner := map[uint64]string{}
	var netns uint64
	for _, pid := range c.PIDs {
		p := byPID[pid]
		if fmt.Sprintf("net:[%d]", p.Namespaces.Net) == hostLink {
			t.Errorf("member %d (%s) is in the host's network namespace", pid, p.Comm)
		}
		for _, s := range p.Sockets {
			owner[s.Inode] = p.Comm
			if s.NetNS != p.Namespaces.Net {
				t.Errorf("PID %d: socket %d has NetNS %d, the process's namespace is %d", pid, s.Inode, s.NetNS, p.Namespaces.Net)
			}
			if netns == 0 {
				netns = s.NetNS
			}
		}
	}
	key := func(s proc.Socket) sockKey {
		k := sockKey{Protocol: s.Protocol, State: s.State, Owner: owner[s.Inode], Local: s.Path}
		if s.Protocol != "unix" {
			k.Local = netip.AddrPortFrom(s.LocalAddr, ephemeral(s.LocalPort)).String()
			k.Remote = netip.AddrPortFrom(s.RemoteAddr, ephemeral(s.RemotePort)).String()
		}
		return k
	}
	keys := func(socks []proc.Socket) []sockKey {
		var out []sockKey
		for _, s := range socks {
			if s.NetNS != netns {
				t.Errorf("socket %+v is not in the container's namespace %d", s, netns)
			}
			out = append(out, key(s))
		}
		slices.SortFunc(out, func(a, b sockKey) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
		return out
	}
	wantListening := []sockKey{
		{"tcp", "0.0.0.0:9090", "0.0.0.0:0", "LISTEN", "listener"},
		{"tcp6", "[::]:8080", "[::]:0", "LISTEN", "httpd"}, // busybox httpd binds IPv6, dual-stack
		{"udp", "0.0.0.0:5353", "0.0.0.0:0", "UNCONN", "listener"},
		{"unix", "/l.sock", "", "LISTEN", "listener"},
	}
	if diff := cmp.Diff(wantListening, keys(c.Listening)); diff != "" {
		t.Errorf("%s container's Listening (-want +got):\n%s", rt.Name, diff)
	}
	// The listener's connection to itself: both ends (the client's port
	// is ephemeral, shown as 0).
	wantEstablished := []sockKey{
		{"tcp", "127.0.0.1:0", "127.0.0.1:9090", "ESTABLISHED", "listener"},
		{"tcp", "127.0.0.1:9090", "127.0.0.1:0", "ESTABLISHED", "listener"},
	}
	if diff := cmp.Diff(wantEstablished, keys(c.Established)); diff != "" {
		t.Errorf("%s container's Established (-want +got):\n%s", rt.Name, diff)
	}
	// The runtime's own view of the members.
	w := workload{rt: rt}
	w.want.ID = id
	if diff := cmp.Diff(sorted(w.pids(t)), c.PIDs); diff != "" {
		t.Errorf("members (-runtime +inventory):\n%s", diff)
	}
}

// ephemeral maps the ports the test does not choose to 0.
func ephemeral(port uint16) uint16 {
	switch port {
	case 8080, 9090, 5353:
		return port
	}
	return 0
}

func sorted(s []int) []int {
	slices.Sort(s)
	return s
}
