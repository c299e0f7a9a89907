package proc

import (
	"errors"
	"io/fs"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
)

// sockCmp compares Sockets, whose netip.Addr fields go-cmp cannot see into.
var sockCmp = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func inet(proto, local string, lport uint16, remote string, rport uint16, state string, inode uint64) Socket {
	return Socket{Protocol: proto, LocalAddr: addr(local), LocalPort: lport, RemoteAddr: addr(remote), RemotePort: rport, State: state, Inode: inode}
}

func unixSock(typ, state, path string, inode uint64) Socket {
	return Socket{Protocol: "unix", Type: typ, State: state, Path: path, Inode: inode}
}

func TestParseNetTableCaptures(t *testing.T) {
	tests := []struct {
		table string
		want  []Socket
	}{
		{"tcp", []Socket{
			inet("tcp", "127.0.0.1", 40125, "0.0.0.0", 0, "LISTEN", 187737),
			inet("tcp", "0.0.0.0", 2024, "0.0.0.0", 0, "LISTEN", 1476),
			// line 3 is a TIME_WAIT with inode 0: no process owns it.
			inet("tcp", "127.0.0.1", 44770, "127.0.0.1", 40123, "ESTABLISHED", 187731),
		}},
		{"tcp6", []Socket{
			inet("tcp6", "::", 40123, "::", 0, "LISTEN", 187729),
			inet("tcp6", "::1", 40124, "::", 0, "LISTEN", 187733),
			inet("tcp6", "::1", 51554, "::1", 40124, "ESTABLISHED", 187735),
			inet("tcp6", "::1", 40124, "::1", 51554, "ESTABLISHED", 187736),
			inet("tcp6", "::ffff:127.0.0.1", 40123, "::ffff:127.0.0.1", 44770, "ESTABLISHED", 187732),
		}},
		{"udp", []Socket{
			inet("udp", "127.0.0.1", 40126, "0.0.0.0", 0, "UNCONN", 187739),
			inet("udp", "127.0.0.1", 42535, "127.0.0.1", 40126, "ESTABLISHED", 187741),
		}},
		{"udp6", []Socket{inet("udp6", "::1", 40127, "::", 0, "UNCONN", 187740)}},
		{"raw", []Socket{inet("raw", "0.0.0.0", 1, "0.0.0.0", 0, "UNCONN", 187742)}},
		{"raw6", []Socket{inet("raw6", "::", 58, "::", 0, "UNCONN", 187743)}},
	}
	for _, tt := range tests {
		t.Run(tt.table, func(t *testing.T) {
			got, err := parseNetTable(capture(t, "sockets/net/"+tt.table), tt.table, "/proc/1/net/"+tt.table)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, sockCmp); diff != "" {
				t.Errorf("parseNetTable(%s) mismatch (-want +got):\n%s", tt.table, diff)
			}
		})
	}
}

func TestParseNetUnixCapture(t *testing.T) {
	const ctrd = "/var/run/docker/containerd/containerd.sock"
	want := []Socket{
		unixSock("stream", "LISTEN", "/var/run/docker.sock", 4058),
		unixSock("stream", "LISTEN", "/var/run/docker/containerd/containerd-debug.sock", 4329),
		unixSock("stream", "LISTEN", ctrd+".ttrpc", 4330),
		unixSock("stream", "LISTEN", ctrd, 4331),
		unixSock("stream", "LISTEN", "/var/run/docker/metrics.sock", 4338),
		unixSock("stream", "LISTEN", "/var/run/docker/libnetwork/072db6ec00bd.sock", 4402),
		// The connecting client's embryonic peer, inode 0, is skipped.
		unixSock("stream", "ESTABLISHED", ctrd, 4070),
		unixSock("stream", "ESTABLISHED", ctrd, 4335),
		unixSock("stream", "ESTABLISHED", "", 4066),
		unixSock("stream", "ESTABLISHED", "", 1473),
		unixSock("stream", "ESTABLISHED", "", 187748),
		unixSock("stream", "ESTABLISHED", "", 1472),
		unixSock("stream", "ESTABLISHED", "", 4340),
		unixSock("stream", "ESTABLISHED", ctrd, 4341),
		unixSock("stream", "LISTEN", "/tmp/hostscope capture.sock", 187744),
		unixSock("dgram", "UNCONN", "/tmp/hostscope-dgram.sock", 187746),
		unixSock("seqpacket", "LISTEN", "/tmp/hostscope-seq.sock", 187747),
		unixSock("stream", "ESTABLISHED", "", 4343),
		unixSock("stream", "LISTEN", "@hostscope-abstract", 187745),
		unixSock("dgram", "UNCONN", "@d3001", 4055),
	}
	got, err := parseNetUnix(capture(t, "sockets/net/unix"), "/proc/1/net/unix")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, sockCmp); diff != "" {
		t.Errorf("parseNetUnix mismatch (-want +got):\n%s", diff)
	}
}

const (
	tcpHeader  = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	unixHeader = "Num       RefCount Protocol Flags    Type St Inode Path\n"
)

// TestParseNetTableMalformed: a bad line is an error naming the file and
// line, and the good lines around it are still returned.
func TestParseNetTableMalformed(t *testing.T) {
	good := "   0: 0100007F:0035 00000000:0000 0A 00000000:00000000 00:00000000 00000000   101        0 777 1 0 100 0 0 10 0\n"
	wantGood := []Socket{{Protocol: "tcp", LocalAddr: addr("127.0.0.1"), LocalPort: 53, RemoteAddr: addr("0.0.0.0"), State: "LISTEN", UID: 101, Inode: 777}}
	tests := []struct {
		name, line, wantErr string
	}{
		{"short address", "   1: 0100007:0035 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 5\n", "line 3: local address"},
		{"bad hex", "   1: 0100007G:0035 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 5\n", "line 3: local address"},
		{"bad port", "   1: 0100007F:00Z5 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 5\n", "line 3: local address"},
		{"bad remote", "   1: 0100007F:0035 00000000 0A 00000000:00000000 00:00000000 00000000 0 0 5\n", "line 3: remote address"},
		{"bad state", "   1: 0100007F:0035 00000000:0000 A 00000000:00000000 00:00000000 00000000 0 0 5\n", "line 3: state"},
		{"negative uid", "   1: 0100007F:0035 00000000:0000 0A 00000000:00000000 00:00000000 00000000 -1 0 5\n", "line 3: uid"},
		{"uid too big", "   1: 0100007F:0035 00000000:0000 0A 00000000:00000000 00:00000000 00000000 4294967296 0 5\n", "line 3: uid"},
		{"no inode", "   1: 0100007F:0035 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0\n", "line 3: inode"},
		{"truncated", "   1: 0100007F:0035 00000000:0000 0A\n", "line 3: too few fields"},
		{"no slot", "0100007F:0035 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 5\n", "line 3: slot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseNetTable([]byte(tcpHeader+good+tt.line+good), "tcp", "/proc/7/net/tcp")
			if !errors.Is(err, hostroot.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			if want := "/proc/7/net/tcp " + tt.wantErr; !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
			if diff := cmp.Diff(append(wantGood, wantGood...), got, sockCmp); diff != "" {
				t.Errorf("good lines mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseNetUnixMalformed(t *testing.T) {
	good := "0000000000000000: 00000002 00000000 00010000 0001 01  4058 /run/a b\n"
	wantGood := []Socket{unixSock("stream", "LISTEN", "/run/a b", 4058)}
	tests := []struct {
		name, line, wantErr string
	}{
		{"bad flags", "0000000000000000: 00000002 00000000 0001000X 0001 01  4058 /x\n", "line 3: flags"},
		{"bad type", "0000000000000000: 00000002 00000000 00010000 00-1 01  4058 /x\n", "line 3: type"},
		{"bad state", "0000000000000000: 00000002 00000000 00010000 0001 0g  4058 /x\n", "line 3: state"},
		{"bad inode", "0000000000000000: 00000002 00000000 00010000 0001 01  40x8 /x\n", "line 3: inode"},
		{"truncated", "0000000000000000: 00000002\n", "line 3: flags"},
		{"no slot", "0000000000000000 00000002 00000000 00010000 0001 01  4058 /x\n", "line 3: slot"},
		// A path holding a newline: its tail is a line of its own.
		{"path tail", "tail of a path\n", "line 3: slot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseNetUnix([]byte(unixHeader+good+tt.line+good), "/proc/7/net/unix")
			if !errors.Is(err, hostroot.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			if want := "/proc/7/net/unix " + tt.wantErr; !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
			if diff := cmp.Diff(append(wantGood, wantGood...), got, sockCmp); diff != "" {
				t.Errorf("good lines mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestInetStates: every state number the kernel writes gets its name, and
// udp and raw sockets use theirs.
func TestInetStates(t *testing.T) {
	var got []string
	for n := uint64(0); n <= 14; n++ {
		got = append(got, inetState(n, true))
	}
	got = append(got, inetState(7, false), inetState(1, false), inetState(10, false))
	want := []string{"STATE_0", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
		"CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV", "BOUND_INACTIVE", "STATE_e",
		"UNCONN", "ESTABLISHED", "LISTEN"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("states mismatch (-want +got):\n%s", diff)
	}
}

func TestReadNetTablesMissing(t *testing.T) {
	h := newHost()
	h.Dir("/proc/9/net")
	h.File("/proc/9/stat", "9 (x) S 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0 0\n")
	r := hostroottest.MustRoot(t, h)
	_, err := NetSockets(r, 9)
	if diff := cmp.Diff(fs.ErrNotExist, err, cmpopts.EquateErrors()); diff != "" {
		t.Errorf("NetSockets with no tables: error mismatch (-want +got):\n%s", diff)
	}
}

func FuzzParseNetTable(f *testing.F) {
	for _, t := range []string{"tcp", "tcp6", "udp", "udp6", "raw", "raw6"} {
		f.Add(capture(f, "sockets/net/"+t), t == "tcp" || t == "tcp6", strings.HasSuffix(t, "6"))
	}
	f.Fuzz(func(t *testing.T, data []byte, tcp, v6 bool) {
		proto := map[[2]bool]string{{true, false}: "tcp", {true, true}: "tcp6", {false, false}: "udp", {false, true}: "udp6"}[[2]bool{tcp, v6}]
		socks, err := parseNetTable(data, proto, "net")
		if err != nil && !errors.Is(err, hostroot.ErrMalformed) {
			t.Fatalf("error %v does not wrap ErrMalformed", err)
		}
		for _, s := range socks {
			if s.Inode == 0 || s.Protocol != proto || s.State == "" {
				t.Fatalf("bad socket %+v", s)
			}
			if s.LocalAddr.Is4() == v6 || s.RemoteAddr.Is4() == v6 {
				t.Fatalf("%s socket with addresses %v, %v", proto, s.LocalAddr, s.RemoteAddr)
			}
		}
	})
}

func FuzzParseNetUnix(f *testing.F) {
	f.Add(capture(f, "sockets/net/unix"))
	f.Add([]byte(unixHeader + "0000000000000000: 00000002 00000000 00010000 0001 01  4058 /run/a b\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		socks, err := parseNetUnix(data, "unix")
		if err != nil && !errors.Is(err, hostroot.ErrMalformed) {
			t.Fatalf("error %v does not wrap ErrMalformed", err)
		}
		for _, s := range socks {
			if s.Inode == 0 || s.Protocol != "unix" || s.State == "" || s.Type == "" || s.LocalAddr.IsValid() {
				t.Fatalf("bad socket %+v", s)
			}
			if strings.IndexByte(s.Path, '\n') >= 0 {
				t.Fatalf("path %q holds a newline", s.Path)
			}
		}
	})
}
