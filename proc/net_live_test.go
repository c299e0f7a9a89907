package proc

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hostscope/hostscope/internal/testctr"
)

// findSocket returns p's socket with the inode, and whether it has one.
func findSocket(p *Process, inode uint64) (Socket, bool) {
	for _, s := range p.Sockets {
		if s.Inode == inode {
			return s, true
		}
	}
	return Socket{}, false
}

// sockInode returns the inode of a socket this process holds.
func sockInode(tb testing.TB, c interface {
	File() (*os.File, error)
}) uint64 {
	tb.Helper()
	f, err := c.File() // a dup: same socket, same inode
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	link, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", f.Fd()))
	if err != nil {
		tb.Fatal(err)
	}
	var fd FD
	if err := parseFDLink(link, "", &fd); err != nil || fd.Type != FDSocket {
		tb.Fatalf("fd link %q: %v", link, err)
	}
	return fd.Inode
}

// TestLiveSocketsSelf: the test process's own listeners and connection are
// found, with their addresses, ports, states and owner.
func TestLiveSocketsSelf(t *testing.T) {
	r := nativeRoot(t)
	tl, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tl.Close()
	t6, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	defer t6.Close()
	client, err := net.Dial("tcp4", tl.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := tl.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	ul, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ul.Close()
	path := filepath.Join(t.TempDir(), "live.sock")
	xl, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer xl.Close()

	lo := netip.MustParseAddr("127.0.0.1")
	tport := uint16(tl.Addr().(*net.TCPAddr).Port)
	cport := uint16(client.LocalAddr().(*net.TCPAddr).Port)
	uid := uint32(os.Geteuid())
	want := []Socket{
		{Protocol: "tcp", LocalAddr: lo, LocalPort: tport, RemoteAddr: netip.IPv4Unspecified(), State: "LISTEN", UID: uid, Inode: sockInode(t, tl.(*net.TCPListener))},
		{Protocol: "tcp6", LocalAddr: netip.IPv6Loopback(), LocalPort: uint16(t6.Addr().(*net.TCPAddr).Port), RemoteAddr: netip.IPv6Unspecified(), State: "LISTEN", UID: uid, Inode: sockInode(t, t6.(*net.TCPListener))},
		{Protocol: "tcp", LocalAddr: lo, LocalPort: cport, RemoteAddr: lo, RemotePort: tport, State: "ESTABLISHED", UID: uid, Inode: sockInode(t, client.(*net.TCPConn))},
		{Protocol: "tcp", LocalAddr: lo, LocalPort: tport, RemoteAddr: lo, RemotePort: cport, State: "ESTABLISHED", UID: uid, Inode: sockInode(t, server.(*net.TCPConn))},
		{Protocol: "udp", LocalAddr: lo, LocalPort: uint16(ul.LocalAddr().(*net.UDPAddr).Port), RemoteAddr: netip.IPv4Unspecified(), State: "UNCONN", UID: uid, Inode: sockInode(t, ul.(*net.UDPConn))},
		{Protocol: "unix", Type: "stream", Path: path, State: "LISTEN", Inode: sockInode(t, xl.(*net.UnixListener))},
	}
	self, err := Read(r, os.Getpid(), FieldSockets|FieldFDInfo)
	if err != nil {
		t.Fatal(err)
	}
	if len(self.Missing) != 0 {
		t.Errorf("Missing = %v", self.Missing)
	}
	link, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	netns, err := parseNSLink(link, "net", "")
	if err != nil {
		t.Fatal(err)
	}
	var got []Socket
	for i := range want {
		want[i].NetNS = netns
		s, ok := findSocket(self, want[i].Inode)
		if !ok {
			t.Errorf("socket %+v not found among %d", want[i], len(self.Sockets))
			continue
		}
		got = append(got, s)
	}
	if diff := cmp.Diff(want, got, sockCmp); diff != "" {
		t.Errorf("own sockets (-want +got):\n%s", diff)
	}
	// fdinfo: a socket is O_RDWR, and Go opens descriptors O_CLOEXEC
	// (02000000 on every Linux architecture Go supports but alpha and
	// sparc).
	found := false
	for _, fd := range self.FDs {
		if fd.Type == FDSocket && fd.Inode == want[0].Inode {
			found = true
			if fd.Flags&3 != 2 || fd.Flags&0o2000000 == 0 || fd.MntID == 0 {
				t.Errorf("listener's fd %+v: want O_RDWR|O_CLOEXEC and a mount ID", fd)
			}
		}
	}
	if !found {
		t.Errorf("no descriptor for the listener among %d", len(self.FDs))
	}
}

// TestLiveSocketsNetNS: a child in a network namespace of its own
// (unshare -n) listens on the same TCP and UDP ports as this process does
// in the host's; each socket is found with the right process and
// namespace, though the ports are equal.
func TestLiveSocketsNetNS(t *testing.T) {
	testctr.RequireRoot(t)
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("unshare (util-linux) is not installed")
	}
	r := nativeRoot(t)
	bin := testctr.Listener(t)
	sockPath := filepath.Join(t.TempDir(), "netns.sock")

	// This process's listeners in the host namespace, on ports the child
	// then takes in its own.
	tl, err := net.Listen("tcp4", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tl.Close()
	tport := tl.Addr().(*net.TCPAddr).Port
	ul, err := net.ListenPacket("udp4", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ul.Close()
	uport := ul.LocalAddr().(*net.UDPAddr).Port

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, unshare, "-n", "sh", "-c",
		"ip link set lo up 2>/dev/null || busybox ip link set lo up 2>/dev/null; exec \"$0\" \"$@\"",
		bin, "-tcp", fmt.Sprintf("0.0.0.0:%d", tport), "-udp", fmt.Sprintf("0.0.0.0:%d", uport), "-unix", sockPath)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ready ") {
		t.Fatalf("listener in a new network namespace: %q, %v", line, err)
	}
	child := cmd.Process.Pid // sh exec'd the listener: same PID

	procs, err := List(context.Background(), r, &ScanOptions{Fields: FieldSockets | FieldNamespaces})
	if err != nil {
		t.Fatal(err)
	}
	byPID := map[int]*Process{}
	for _, p := range procs {
		byPID[p.PID] = p
	}
	self, kid := byPID[os.Getpid()], byPID[child]
	if self == nil || kid == nil {
		t.Fatalf("scan lacks this process (%d) or the child (%d)", os.Getpid(), child)
	}
	if kid.Namespaces.Net == 0 || kid.Namespaces.Net == self.Namespaces.Net {
		t.Fatalf("child's network namespace %d, this process's %d: want two", kid.Namespaces.Net, self.Namespaces.Net)
	}
	type key struct {
		Protocol, State string
		Port            uint16
		Path            string
		NetNS           uint64
	}
	keys := func(p *Process) []key {
		var ks []key
		for _, s := range p.Sockets {
			ks = append(ks, key{s.Protocol, s.State, s.LocalPort, s.Path, s.NetNS})
		}
		slices.SortFunc(ks, func(a, b key) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
		return ks
	}
	kn := kid.Namespaces.Net
	wantKid := []key{
		{"tcp", "ESTABLISHED", uint16(tport), "", kn}, // the accepted end
		{"tcp", "ESTABLISHED", 0, "", kn},             // the client, port checked below
		{"tcp", "LISTEN", uint16(tport), "", kn},
		{"udp", "UNCONN", uint16(uport), "", kn},
		{"unix", "LISTEN", 0, sockPath, kn},
	}
	gotKid := keys(kid)
	for i := range gotKid {
		if gotKid[i].Protocol == "tcp" && gotKid[i].State == "ESTABLISHED" && gotKid[i].Port != uint16(tport) {
			gotKid[i].Port = 0
		}
	}
	slices.SortFunc(wantKid, func(a, b key) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	slices.SortFunc(gotKid, func(a, b key) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	if diff := cmp.Diff(wantKid, gotKid); diff != "" {
		t.Errorf("child's sockets (-want +got):\n%s", diff)
	}
	sn := self.Namespaces.Net
	var gotSelf []key
	for _, k := range keys(self) {
		if k.Port == uint16(tport) || k.Port == uint16(uport) {
			gotSelf = append(gotSelf, k)
		}
	}
	wantSelf := []key{{"tcp", "LISTEN", uint16(tport), "", sn}, {"udp", "UNCONN", uint16(uport), "", sn}}
	if diff := cmp.Diff(wantSelf, gotSelf); diff != "" {
		t.Errorf("this process's sockets on the shared ports (-want +got):\n%s", diff)
	}
}

// ssListener is one listening socket as `ss -tulpneH` shows it.
type ssListener struct {
	Netid string // tcp or udp
	Port  uint16
	PIDs  []int
}

// ssListeners runs ss for the host's network namespace (this process's)
// and returns its listening TCP and UDP sockets by inode, keeping those ss
// attributes to a process and that have a port.
func ssListeners(t *testing.T) map[uint64]ssListener {
	t.Helper()
	out, err := testctr.Command(nil, "ss", "-tulpneH")
	if err != nil {
		t.Fatal(err)
	}
	socks := map[uint64]ssListener{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 6 {
			continue
		}
		var l ssListener
		var inode uint64
		l.Netid = f[0]
		local := f[4]
		if i := strings.LastIndexByte(local, ':'); i >= 0 {
			p, err := strconv.ParseUint(local[i+1:], 10, 16)
			if err != nil {
				t.Fatalf("ss line %q: port: %v", line, err)
			}
			l.Port = uint16(p)
		}
		for _, field := range f[6:] {
			if v, ok := strings.CutPrefix(field, "ino:"); ok {
				inode, _ = strconv.ParseUint(v, 10, 64)
			}
			for _, part := range strings.Split(field, ",") {
				if v, ok := strings.CutPrefix(part, "pid="); ok {
					if pid, err := strconv.Atoi(v); err == nil && !slices.Contains(l.PIDs, pid) {
						l.PIDs = append(l.PIDs, pid)
					}
				}
			}
		}
		if inode == 0 || l.Port == 0 || len(l.PIDs) == 0 {
			continue
		}
		slices.Sort(l.PIDs)
		socks[inode] = l
	}
	return socks
}

// TestLiveSocketsAgainstSS compares the listening TCP and UDP sockets a
// scan finds in the host's network namespace with what `ss -tulpn` (and
// -e for inodes) reports: the same sockets, ports and processes. Other
// programs open and close sockets meanwhile, so the comparison is made
// between two ss runs that agree, up to five times.
func TestLiveSocketsAgainstSS(t *testing.T) {
	testctr.RequireRoot(t)
	if _, err := exec.LookPath("ss"); err != nil {
		t.Skip("ss (iproute2) is not installed")
	}
	r := nativeRoot(t)
	// Listeners of this test's own (IPv4, dual-stack IPv6, UDP of both)
	// and of a child, so the comparison is never empty.
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tl.Close()
	for _, nw := range []string{"tcp", "udp"} {
		for _, a := range []string{"0.0.0.0:0", "[::]:0"} {
			var c interface{ Close() error }
			if nw == "tcp" {
				c, err = net.Listen(nw, a)
			} else {
				c, err = net.ListenPacket(nw, a)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, testctr.Listener(t))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil {
		t.Fatalf("listener: %q, %v", line, err)
	}
	var diff string
	for attempt := 0; attempt < 5; attempt++ {
		before := ssListeners(t)
		procs, err := List(context.Background(), r, &ScanOptions{Fields: FieldSockets | FieldNamespaces})
		if err != nil {
			t.Fatal(err)
		}
		after := ssListeners(t)
		if !cmp.Equal(before, after) {
			diff = "ss changed during the scan:\n" + cmp.Diff(before, after)
			continue
		}
		self := slices.IndexFunc(procs, func(p *Process) bool { return p.PID == os.Getpid() })
		if self < 0 {
			t.Fatal("the scan lacks this process")
		}
		hostNS := procs[self].Namespaces.Net
		got := map[uint64]ssListener{}
		for _, p := range procs {
			for _, s := range p.Sockets {
				if s.NetNS != hostNS || s.LocalPort == 0 {
					continue
				}
				listening := (s.Protocol == "tcp" || s.Protocol == "tcp6") && s.State == "LISTEN" ||
					(s.Protocol == "udp" || s.Protocol == "udp6") && s.State == "UNCONN"
				if !listening {
					continue
				}
				l := got[s.Inode]
				l.Netid, l.Port = strings.TrimSuffix(s.Protocol, "6"), s.LocalPort
				if !slices.Contains(l.PIDs, p.PID) {
					l.PIDs = append(l.PIDs, p.PID)
				}
				got[s.Inode] = l
			}
		}
		if diff = cmp.Diff(after, got, cmpopts.EquateEmpty()); diff == "" {
			if _, ok := got[sockInode(t, tl.(*net.TCPListener))]; !ok {
				t.Errorf("this test's listener is not among %d", len(got))
			}
			child := 0
			for _, l := range got {
				if slices.Contains(l.PIDs, cmd.Process.Pid) {
					child++
				}
			}
			if child != 2 {
				t.Errorf("%d listening sockets of the child, want 2 (TCP, UDP)", child)
			}
			t.Logf("%d listening sockets agree with ss", len(got))
			return
		}
	}
	t.Errorf("listening sockets of the host namespace (-ss +scan):\n%s", diff)
}
