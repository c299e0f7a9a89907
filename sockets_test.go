package hostscope_test

import (
	"context"
	"fmt"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hostscope/hostscope"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
	"github.com/hostscope/hostscope/proc"
)

var addrCmp = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

const (
	tableHeader = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	unixHeader  = "Num       RefCount Protocol Flags    Type St Inode Path\n"
	hostNetNS   = 4026531840
	webNetNS    = 4026532600
)

// socketHost is fakeHost with sockets: nginx (PIDs 100 and 101, the web
// container, in a network namespace of its own) shares a listener on :80
// between master and worker, the worker holds a client connection and a
// connected unix socket; sshd (300, on the host) listens on :22 and on
// UDP 127.0.0.1:5353.
func socketHost() *hostroottest.Host {
	h := fakeHost()
	link := func(pid int, fd int, target string) {
		h.Symlink(fmt.Sprintf("/proc/%d/fd/%d", pid, fd), target)
	}
	for pid, ns := range map[int]uint64{100: webNetNS, 101: webNetNS, 300: hostNetNS} {
		h.Symlink(fmt.Sprintf("/proc/%d/ns/net", pid), fmt.Sprintf("net:[%d]", ns))
	}
	link(100, 0, "/dev/null")
	link(100, 6, "socket:[9001]")
	link(101, 6, "socket:[9001]")
	link(101, 7, "socket:[9002]")
	link(101, 8, "socket:[9003]")
	link(101, 9, "socket:[9004]")
	link(300, 3, "socket:[8001]")
	link(300, 4, "socket:[8002]")
	link(300, 5, "socket:[8003]")
	web := map[string]string{
		"tcp": tableHeader +
			"   0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000   101        0 9001 1 0 100 0 0 10 0\n" +
			"   1: 0200110A:0050 0101A8C0:C350 01 00000000:00000000 02:00000444 00000000   101        0 9002 2 0 21 4 33 91 146\n",
		"udp":  tableHeader + "   1: 0200110A:A000 0800080A:0035 01 00000000:00000000 00:00000000 00000000   101        0 9004 2 0 0\n",
		"unix": unixHeader + "0000000000000000: 00000003 00000000 00000000 0001 03  9003\n",
	}
	host := map[string]string{
		"tcp6": tableHeader +
			"   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 8001 1 0 100 0 0 10 0\n",
		"udp": tableHeader +
			"   1: 0100007F:14E9 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 8002 2 0 0\n" +
			"   2: 00000000:0000 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 8003 2 0 0\n",
	}
	for pid, tables := range map[int]map[string]string{100: web, 101: web, 300: host} {
		for name, content := range tables {
			h.File(fmt.Sprintf("/proc/%d/net/%s", pid, name), content)
		}
	}
	return h
}

func sock(proto, local string, lport uint16, remote string, rport uint16, state string, uid uint32, inode, netns uint64) proc.Socket {
	return proc.Socket{Protocol: proto, LocalAddr: netip.MustParseAddr(local), LocalPort: lport,
		RemoteAddr: netip.MustParseAddr(remote), RemotePort: rport, State: state, UID: uid, Inode: inode, NetNS: netns}
}

var (
	webListen = sock("tcp", "0.0.0.0", 80, "0.0.0.0", 0, "LISTEN", 101, 9001, webNetNS)
	webConn   = sock("tcp", "10.17.0.2", 80, "192.168.1.1", 50000, "ESTABLISHED", 101, 9002, webNetNS)
	webUnix   = proc.Socket{Protocol: "unix", Type: "stream", State: "ESTABLISHED", Inode: 9003, NetNS: webNetNS}
	webDNS    = sock("udp", "10.17.0.2", 40960, "10.8.0.8", 53, "ESTABLISHED", 101, 9004, webNetNS)
	sshListen = sock("tcp6", "::", 22, "::", 0, "LISTEN", 0, 8001, hostNetNS)
	mdns      = sock("udp", "127.0.0.1", 5353, "0.0.0.0", 0, "UNCONN", 0, 8002, hostNetNS)
	unbound   = sock("udp", "0.0.0.0", 0, "0.0.0.0", 0, "UNCONN", 0, 8003, hostNetNS)
)

func TestInventorySockets(t *testing.T) {
	r := hostroottest.MustRoot(t, socketHost())
	inv, err := hostscope.TakeInventory(context.Background(), r, &hostscope.Options{Sockets: true})
	if err != nil {
		t.Fatal(err)
	}
	type ctr struct {
		Name                   string
		Listening, Established []proc.Socket
	}
	var got []ctr
	for _, c := range inv.Containers {
		got = append(got, ctr{c.Name, c.Listening, c.Established})
	}
	want := []ctr{
		{Name: "app"}, {},
		{Name: "web", Listening: []proc.Socket{webListen}, Established: []proc.Socket{webConn, webUnix, webDNS}},
		{Name: "cache"},
	}
	if diff := cmp.Diff(want, got, addrCmp); diff != "" {
		t.Errorf("containers' sockets (-want +got):\n%s", diff)
	}
	byPID := map[int]*proc.Process{}
	for _, p := range inv.Processes {
		byPID[p.PID] = p
	}
	perProc := map[int][2][]proc.Socket{}
	for _, pid := range []int{100, 101, 300} {
		perProc[pid] = [2][]proc.Socket{hostscope.Listening(byPID[pid]), hostscope.Established(byPID[pid])}
	}
	wantPerProc := map[int][2][]proc.Socket{
		100: {{webListen}, nil},
		101: {{webListen}, {webConn, webUnix, webDNS}},
		// The UDP socket bound to no port is not listening.
		300: {{sshListen, mdns}, nil},
	}
	if diff := cmp.Diff(wantPerProc, perProc, addrCmp); diff != "" {
		t.Errorf("Listening, Established per process (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]proc.Socket{sshListen, mdns, unbound}, byPID[300].Sockets, addrCmp); diff != "" {
		t.Errorf("sshd's Sockets (-want +got):\n%s", diff)
	}
}

// Without Options.Sockets nothing of the descriptors is read.
func TestInventoryNoSockets(t *testing.T) {
	r := hostroottest.MustRoot(t, socketHost())
	inv, err := hostscope.TakeInventory(context.Background(), r, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range inv.Processes {
		if p.FDs != nil || p.Sockets != nil {
			t.Errorf("PID %d: FDs %v, Sockets %v without Options.Sockets", p.PID, p.FDs, p.Sockets)
		}
	}
	for _, c := range inv.Containers {
		if c.Listening != nil || c.Established != nil {
			t.Errorf("%s: sockets without Options.Sockets", c.ID)
		}
	}
}

func TestListeningKinds(t *testing.T) {
	socks := []proc.Socket{
		{Protocol: "tcp", State: "LISTEN", LocalPort: 1, Inode: 1},
		{Protocol: "tcp6", State: "SYN_RECV", LocalPort: 2, Inode: 2},
		{Protocol: "udp6", State: "UNCONN", LocalPort: 3, Inode: 3},
		{Protocol: "udp", State: "ESTABLISHED", LocalPort: 4, Inode: 4},
		{Protocol: "raw", State: "UNCONN", LocalPort: 1, Inode: 5},
		{Protocol: "unix", Type: "stream", State: "LISTEN", Path: "/run/x", Inode: 6},
		{Protocol: "unix", Type: "dgram", State: "UNCONN", Path: "/run/log", Inode: 7},
		{Protocol: "unix", Type: "seqpacket", State: "LISTEN", Inode: 8},
		{Protocol: "tcp", State: "LISTEN", LocalPort: 1, Inode: 1}, // a second descriptor
	}
	p := &proc.Process{Sockets: socks}
	var inodes []uint64
	for _, s := range hostscope.Listening(p) {
		inodes = append(inodes, s.Inode)
	}
	if diff := cmp.Diff([]uint64{1, 3, 6, 8}, inodes); diff != "" {
		t.Errorf("Listening (-want +got):\n%s", diff)
	}
}
