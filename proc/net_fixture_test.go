package proc

import (
	"context"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
)

// Two network namespaces whose tables use the same socket inode numbers:
// the host's (4026531840) and a container's (4026532503). A real kernel
// numbers sockets host-wide, but a join that looked a socket up in the
// wrong namespace's table would go unnoticed with unique numbers.
const (
	hostNet = 4026531840
	ctrNet  = 4026532503
)

var hostTables = map[string]string{
	"tcp": tcpHeader +
		"   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 500 1 0 100 0 0 10 0\n" +
		"   1: 0100007F:0016 0100007F:D431 01 00000000:00000000 02:00000444 00000000  1000        0 502 2 0 21 4 33 91 146\n",
	"udp":  tcpHeader + " 1309: 3500007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 503 2 0 0\n",
	"unix": unixHeader + "0000000000000000: 00000002 00000000 00010000 0001 01   501 /run/host.sock\n",
}

var ctrTables = map[string]string{
	"tcp6": tcpHeader +
		"   0: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000    33        0 500 1 0 100 0 0 10 0\n",
	"unix": unixHeader + "0000000000000000: 00000002 00000000 00000000 0002 01   501 @ctr\n",
}

func addNet(h *hostroottest.Host, pid int, tables map[string]string) {
	h.Dir(fmt.Sprintf("/proc/%d/net", pid))
	for name, content := range tables {
		h.File(fmt.Sprintf("/proc/%d/net/%s", pid, name), content)
	}
}

func withNet(ns map[string]uint64, net uint64) map[string]uint64 {
	out := map[string]uint64{}
	for k, v := range ns {
		out[k] = v
	}
	out["net"] = net
	return out
}

func socketHost(tb testing.TB) (*hostroottest.Host, []fakeProc) {
	tb.Helper()
	base := func(pid int, comm string) fakeProc {
		return fakeProc{pid: pid, ppid: 1, pgid: pid, sid: pid, comm: comm, state: "S", start: 100, threads: 1, ns: hostNS}
	}
	sshd := base(100, "sshd")
	sshd.fds = map[int]string{0: "/dev/null", 3: "socket:[500]", 4: "socket:[501]", 5: "pipe:[9]", 6: "socket:[999]", 7: "socket:[500]"}
	child := base(101, "sshd")
	child.fds = map[int]string{3: "socket:[500]", 4: "socket:[502]"}
	ctr := base(200, "httpd")
	ctr.ns = withNet(hostNS, ctrNet)
	ctr.fds = map[int]string{3: "socket:[500]", 4: "socket:[501]"}
	dns := base(300, "dnsd") // its ns/net link is refused
	dns.fds = map[int]string{3: "socket:[503]"}
	other := base(400, "other") // its fd directory is refused
	other.fds = map[int]string{3: "socket:[500]"}
	procs := []fakeProc{sshd, child, ctr, dns, other}
	h := newHost()
	for _, p := range procs {
		p.add(h)
	}
	for _, pid := range []int{100, 101, 300, 400} {
		addNet(h, pid, hostTables)
	}
	addNet(h, 200, ctrTables)
	h.File("/proc/100/fdinfo/0", "pos:\t0\nflags:\t0100000\nmnt_id:\t24\nino:\t3\n")
	h.File("/proc/100/fdinfo/3", "pos:\t0\nflags:\t02\nmnt_id:\t10\nino:\t500\n")
	h.File("/proc/100/fdinfo/4", "pos:\t0\nflags:\t02004002\nmnt_id:\t10\n")
	h.File("/proc/100/fdinfo/5", "pos:\t0\nflags:\t01\nmnt_id:\t16\n")
	h.File("/proc/100/fdinfo/6", "pos:\t0\nflags:\t02\nmnt_id:\t10\n")
	// fdinfo/7 is absent: TestScanSocketsTwoNamespaces closes descriptor 7
	// (removes its link) as the scan looks its fdinfo up, after its link
	// was read. PID 300's one descriptor closes the same way; PIDs 101 and
	// 200 have no fdinfo directory, as in a capture taken without fdinfo.
	h.Dir("/proc/300/fdinfo")
	return h, procs
}

func TestScanSocketsTwoNamespaces(t *testing.T) {
	h, _ := socketHost(t)
	var mu sync.Mutex
	reads := map[string]int{}
	count := func(name string) func() {
		return func() { mu.Lock(); reads[name]++; mu.Unlock() }
	}
	before := map[string]func(){}
	for _, pid := range []int{100, 101, 200, 300, 400} {
		for _, tb := range netTables {
			name := fmt.Sprintf("/proc/%d/net/%s", pid, tb)
			before[name] = count(name)
		}
	}
	// Descriptors closed under the scan, after their links were read, as
	// their fdinfo files are looked up: PID 100's descriptor 7, one of
	// several, and PID 300's descriptor 3, its only one.
	hook := newFileHook(t, h, []string{"/proc/300/ns/net", "/proc/400/fd"}, before)
	closed := map[string]bool{}
	hook.lookup = map[string]func(){}
	for _, fd := range []string{"/proc/100/fd/7", "/proc/300/fd/3"} {
		info := strings.Replace(fd, "/fd/", "/fdinfo/", 1)
		hook.lookup[info] = func() {
			if !closed[fd] {
				if err := h.Remove(fd); err != nil {
					t.Error(err)
				}
				closed[fd] = true
			}
		}
	}
	r := hostroot.FromAfero(hook)
	got, err := List(context.Background(), r, &ScanOptions{Fields: FieldSockets | FieldFDInfo})
	if err != nil {
		t.Fatal(err)
	}
	listen22 := inet("tcp", "0.0.0.0", 22, "0.0.0.0", 0, "LISTEN", 500)
	listen22.NetNS = hostNet
	hostUnix := unixSock("stream", "LISTEN", "/run/host.sock", 501)
	hostUnix.NetNS = hostNet
	conn := inet("tcp", "127.0.0.1", 22, "127.0.0.1", 54321, "ESTABLISHED", 502)
	conn.UID, conn.NetNS = 1000, hostNet
	ctrHTTP := inet("tcp6", "::", 80, "::", 0, "LISTEN", 500)
	ctrHTTP.UID, ctrHTTP.NetNS = 33, ctrNet
	ctrUnix := unixSock("dgram", "UNCONN", "@ctr", 501)
	ctrUnix.NetNS = ctrNet
	dnsSock := inet("udp", "127.0.0.53", 53, "0.0.0.0", 0, "UNCONN", 503)
	dnsSock.UID = 101 // NetNS 0: its namespace could not be told

	type result struct {
		PID     int
		FDs     []FD
		Sockets []Socket
		Missing map[Field]error
	}
	want := []result{
		{PID: 100, FDs: []FD{
			{Number: 0, Target: "/dev/null", Type: FDFile, Inode: 3, Flags: 0o100000, MntID: 24},
			{Number: 3, Target: "socket:[500]", Type: FDSocket, Inode: 500, Flags: 0o2, MntID: 10},
			{Number: 4, Target: "socket:[501]", Type: FDSocket, Inode: 501, Flags: 0o2004002, MntID: 10},
			{Number: 5, Target: "pipe:[9]", Type: FDPipe, Inode: 9, Flags: 0o1, MntID: 16},
			{Number: 6, Target: "socket:[999]", Type: FDSocket, Inode: 999, Flags: 0o2, MntID: 10},
			{Number: 7, Target: "socket:[500]", Type: FDSocket, Inode: 500},
		}, Sockets: []Socket{listen22, hostUnix}},
		{PID: 101, FDs: []FD{
			{Number: 3, Target: "socket:[500]", Type: FDSocket, Inode: 500},
			{Number: 4, Target: "socket:[502]", Type: FDSocket, Inode: 502},
		}, Sockets: []Socket{listen22, conn}, Missing: map[Field]error{FieldFDInfo: fs.ErrNotExist}},
		{PID: 200, FDs: []FD{
			{Number: 3, Target: "socket:[500]", Type: FDSocket, Inode: 500},
			{Number: 4, Target: "socket:[501]", Type: FDSocket, Inode: 501},
		}, Sockets: []Socket{ctrHTTP, ctrUnix}, Missing: map[Field]error{FieldFDInfo: fs.ErrNotExist}},
		{PID: 300, FDs: []FD{{Number: 3, Target: "socket:[503]", Type: FDSocket, Inode: 503}},
			Sockets: []Socket{dnsSock}},
		{PID: 400, Missing: map[Field]error{FieldFDs: fs.ErrPermission}},
	}
	var res []result
	for _, p := range got {
		res = append(res, result{p.PID, p.FDs, p.Sockets, p.Missing})
	}
	if diff := cmp.Diff(want, res, sockCmp, cmpopts.EquateErrors(), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("sockets mismatch (-want +got):\n%s", diff)
	}
	if len(closed) != 2 {
		t.Errorf("descriptors closed under the scan: %v, want /proc/100/fd/7 and /proc/300/fd/3", closed)
	}
	if err := got[1].Missing[FieldFDInfo]; err == nil || !strings.Contains(err.Error(), "/proc/101/fdinfo") {
		t.Errorf("PID 101: Missing[fdinfo] = %v, want the error naming /proc/101/fdinfo", err)
	}
	// Each namespace's tables are read once, through its first process
	// with a socket; PID 300, whose namespace is unknown, reads its own.
	// (Absent tables are not opened at all.)
	wantReads := map[string]int{}
	for pid, tables := range map[int]map[string]string{100: hostTables, 200: ctrTables, 300: hostTables} {
		for tb := range tables {
			wantReads[fmt.Sprintf("/proc/%d/net/%s", pid, tb)] = 1
		}
	}
	if diff := cmp.Diff(wantReads, reads); diff != "" {
		t.Errorf("table reads mismatch (-want +got):\n%s", diff)
	}
}

// TestScanFDClosedMidRead: a descriptor closed between the listing and its
// link is skipped without a Missing entry.
func TestScanFDClosedMidRead(t *testing.T) {
	h, _ := socketHost(t)
	before := map[string]func(){"/proc/101/fd/3": func() { _ = h.Remove("/proc/101/fd/3") }}
	r := hookedRoot(t, h, nil, before)
	p, err := Read(r, 101, FieldSockets)
	if err != nil {
		t.Fatal(err)
	}
	conn := inet("tcp", "127.0.0.1", 22, "127.0.0.1", 54321, "ESTABLISHED", 502)
	conn.UID, conn.NetNS = 1000, hostNet
	want := &Process{PID: 101, FDs: []FD{{Number: 4, Target: "socket:[502]", Type: FDSocket, Inode: 502}}, Sockets: []Socket{conn}}
	if diff := cmp.Diff(want, p, sockCmp, cmpopts.EquateErrors(), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Read mismatch (-want +got):\n%s", diff)
	}
}

// TestScanSocketsMalformedTable: a malformed line is reported under
// FieldSockets and the sockets of the good lines are still joined.
func TestScanSocketsMalformedTable(t *testing.T) {
	h, _ := socketHost(t)
	h.File("/proc/101/net/udp", hostTables["udp"]+"garbage\n")
	r := hostroottest.MustRoot(t, h)
	p, err := Read(r, 101, FieldSockets)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Sockets) != 2 {
		t.Errorf("Sockets = %+v, want the two of the good tcp lines", p.Sockets)
	}
	if err := p.Missing[FieldSockets]; err == nil || err.Error() != "malformed content: /proc/101/net/udp line 3: slot \"garbage\": not \"N:\"" {
		t.Errorf("Missing[sockets] = %v", err)
	}
}

func TestNetSockets(t *testing.T) {
	h, _ := socketHost(t)
	r := hostroottest.MustRoot(t, h)
	got, err := NetSockets(r, 200)
	if err != nil {
		t.Fatal(err)
	}
	ctrHTTP := inet("tcp6", "::", 80, "::", 0, "LISTEN", 500)
	ctrHTTP.UID, ctrHTTP.NetNS = 33, ctrNet
	ctrUnix := unixSock("dgram", "UNCONN", "@ctr", 501)
	ctrUnix.NetNS = ctrNet
	if diff := cmp.Diff([]Socket{ctrHTTP, ctrUnix}, got, sockCmp); diff != "" {
		t.Errorf("NetSockets(200) mismatch (-want +got):\n%s", diff)
	}
}
