package bench

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/proc"
	"github.com/prometheus/procfs"
	"golang.org/x/sys/unix"
)

// openSockets opens n sockets in this process (n/10 TCP listeners, n/5
// TCP connections to the first, which are 2n/5 ESTABLISHED sockets, n/10
// UDP sockets and n/5 unix socket pairs) and closes them when the
// benchmark ends.
func openSockets(tb testing.TB, n int) {
	tb.Helper()
	var closers []func() error
	tb.Cleanup(func() {
		for _, c := range closers {
			c()
		}
	})
	var first net.Listener
	for range n / 10 {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		closers = append(closers, l.Close)
		if first == nil {
			first = l
		}
	}
	accepted := make(chan net.Conn)
	go func() {
		for {
			c, err := first.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	for range n / 5 {
		c, err := net.Dial("tcp4", first.Addr().String())
		if err != nil {
			tb.Fatal(err)
		}
		s := <-accepted
		closers = append(closers, c.Close, s.Close)
	}
	for range n / 10 {
		u, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		closers = append(closers, u.Close)
	}
	for range n / 5 {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			tb.Fatal(err)
		}
		closers = append(closers, func() error { unix.Close(fds[0]); return unix.Close(fds[1]) })
	}
}

// socketCount is how many sockets the socket benchmarks open (2000, or 200
// in a smoke run).
func socketCount() int {
	if smokeRun() {
		return 200
	}
	return 2000
}

// socketScanners are the socket inventories over the live /proc, with the
// number of processes each one covers.
func socketScanners(tb testing.TB, visit func(int, uint64)) []scanner {
	tb.Helper()
	ctx := context.Background()
	root, err := hostroot.Native()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { root.Close() })
	pfs, err := procfs.NewFS("/proc")
	if err != nil {
		tb.Fatal(err)
	}
	wrap := func(f func() (int, int, error)) func() (int, error) {
		return func() (int, error) {
			procs, _, err := f()
			return procs, err
		}
	}
	return []scanner{
		{"hostscope", wrap(func() (int, int, error) { return HostscopeSockets(ctx, root, visit) })},
		{"procfs", wrap(func() (int, int, error) { return ProcfsSockets(pfs, visit) })},
		{"gopsutil", wrap(func() (int, int, error) { return GopsutilSockets(ctx, visit) })},
	}
}

var sockSink uint64

func consumeSocket(pid int, inode uint64) { sockSink += uint64(pid) ^ inode }

// BenchmarkSockets takes the socket inventory of every process, three
// ways, on the machine with the sleepers of spawnCount and socketCount
// sockets open in this process. ns/proc is per process scanned
// (hostscope, procfs) and, for gopsutil, which does not say how many it
// read, per process holding a socket: compare the ns/op column across
// readers. sockets is how many (process, socket) pairs a scan found.
func BenchmarkSockets(b *testing.B) {
	ensureSleepers(b, spawnCount(b))
	openSockets(b, socketCount())
	for _, s := range socketScanners(b, consumeSocket) {
		b.Run(s.name, func(b *testing.B) {
			var socks int
			count := func(int, uint64) { socks++ }
			for _, c := range socketScanners(b, count) {
				if c.name == s.name {
					if _, err := c.scan(); err != nil {
						b.Fatal(err)
					}
				}
			}
			measure(b, s.scan)
			b.ReportMetric(float64(socks), "sockets")
		})
	}
}

// BenchmarkSocketFields splits hostscope's socket scan: the fd links alone
// (FieldFDs), with fdinfo (FieldFDInfo), and joined with the tables
// (FieldSockets). The difference between the first and the last is the
// tables, read once per network namespace.
func BenchmarkSocketFields(b *testing.B) {
	ensureSleepers(b, spawnCount(b))
	openSockets(b, socketCount())
	root, err := hostroot.Native()
	if err != nil {
		b.Fatal(err)
	}
	defer root.Close()
	ctx := context.Background()
	for _, f := range []struct {
		name   string
		fields proc.Field
	}{{"fds", proc.FieldFDs}, {"fdinfo", proc.FieldFDInfo}, {"sockets", proc.FieldSockets}} {
		b.Run(f.name, func(b *testing.B) {
			fds := 0
			measure(b, func() (int, error) {
				n := 0
				fds = 0
				err := proc.Scan(ctx, root, &proc.ScanOptions{Fields: f.fields}, func(p *proc.Process) error {
					n++
					fds += len(p.FDs)
					return nil
				})
				return n, err
			})
			b.ReportMetric(float64(fds), "fds")
		})
	}
}

// BenchmarkSocketTables reads the socket tables of one network namespace,
// the cost per namespace: "busy" is this process's (socketCount sockets
// besides the machine's), "empty" a namespace of its own made with
// unshare -n for a sleeping child, which holds no socket, as a container
// listening on a port or two nearly does. ns/socket is per table line.
func BenchmarkSocketTables(b *testing.B) {
	openSockets(b, socketCount())
	root, err := hostroot.Native()
	if err != nil {
		b.Fatal(err)
	}
	defer root.Close()
	namespaces := []struct {
		name string
		pid  int
	}{{"busy", os.Getpid()}}
	if pid, ok := emptyNetNS(b); ok {
		namespaces = append(namespaces, struct {
			name string
			pid  int
		}{"empty", pid})
	}
	for _, ns := range namespaces {
		for _, r := range []struct {
			name string
			read func() int
		}{
			{"hostscope", func() int {
				socks, err := proc.NetSockets(root, ns.pid)
				if err != nil {
					b.Fatal(err)
				}
				return len(socks)
			}},
			{"procfs", func() int { return len(procfsTables(ns.pid)) }},
		} {
			b.Run(ns.name+"/"+r.name, func(b *testing.B) {
				b.ReportAllocs()
				n := 0
				for b.Loop() {
					n = r.read()
				}
				b.ReportMetric(float64(n), "sockets")
				if n > 0 {
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/socket")
				}
			})
		}
	}
}

// emptyNetNS starts a sleeping child in a network namespace of its own
// (unshare -n, which needs root) and returns its PID; false when it cannot.
func emptyNetNS(b *testing.B) (int, bool) {
	if os.Geteuid() != 0 {
		b.Log("not root: no empty network namespace to measure")
		return 0, false
	}
	cmd := exec.Command("unshare", "-n", "sleep", "600")
	if err := cmd.Start(); err != nil {
		b.Logf("unshare -n: %v", err)
		return 0, false
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	// unshare execs sleep once the namespace is made: wait for that.
	self, _ := os.Readlink("/proc/self/ns/net")
	for range 100 {
		if link, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", cmd.Process.Pid)); err == nil && link != self {
			if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", cmd.Process.Pid)); strings.HasSuffix(exe, "sleep") {
				return cmd.Process.Pid, true
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.Log("unshare -n sleep did not start")
	return 0, false
}

// TestSameSockets checks the readers agree on this process's sockets:
// hostscope and procfs on the inodes, gopsutil (which gives none) on the
// count.
func TestSameSockets(t *testing.T) {
	openSockets(t, 100)
	self := os.Getpid()
	got := map[string][]uint64{}
	for _, s := range socketScanners(t, nil) {
		var inodes []uint64
		visit := func(pid int, inode uint64) {
			if pid == self {
				inodes = append(inodes, inode)
			}
		}
		for _, c := range socketScanners(t, visit) {
			if c.name == s.name {
				if _, err := c.scan(); err != nil {
					t.Fatal(err)
				}
			}
		}
		slices.Sort(inodes)
		got[s.name] = inodes
	}
	if len(got["hostscope"]) < 100 {
		t.Fatalf("hostscope found %d sockets of this process, want at least the 100 opened", len(got["hostscope"]))
	}
	if !slices.Equal(got["hostscope"], got["procfs"]) {
		t.Errorf("hostscope and procfs disagree on this process's sockets:\n%v\n%v", got["hostscope"], got["procfs"])
	}
	if len(got["gopsutil"]) != len(got["hostscope"]) {
		t.Errorf("gopsutil finds %d sockets of this process, hostscope %d", len(got["gopsutil"]), len(got["hostscope"]))
	}
}
