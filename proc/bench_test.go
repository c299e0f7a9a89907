package proc

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
	"github.com/prometheus/procfs"
	"golang.org/x/sys/unix"
)

// The inventory issue 3 measures: pid, ppid, comm, state, CPU times, RSS,
// cmdline, status UIDs, cgroup, exe.
const benchFields = FieldStat | FieldStatus | FieldCmdline | FieldCgroups | FieldExe

// TestMain starts $HOSTSCOPE_BENCH_PROCS sleeping processes (none by
// default) for the live benchmarks to list, and kills them by PID after.
func TestMain(m *testing.M) {
	n, _ := strconv.Atoi(os.Getenv("HOSTSCOPE_BENCH_PROCS"))
	var cmds []*exec.Cmd
	for range n {
		c := exec.Command("sleep", "3600")
		if err := c.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			break
		}
		cmds = append(cmds, c)
	}
	code := m.Run()
	for _, c := range cmds {
		c.Process.Kill()
		c.Wait()
	}
	os.Exit(code)
}

// cpuTime is the process's user and system CPU time so far, GC included:
// on a shared machine it is steadier than wall time.
func cpuTime(b *testing.B) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// perProc reports wall and CPU time per process listed, given the CPU time
// when the loop started.
func perProc(b *testing.B, procs int, cpu0 time.Duration) {
	n := float64(b.N) * float64(procs)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/proc")
	b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/n, "cpu-ns/proc")
	b.ReportMetric(0, "ns/op")
}

func BenchmarkLiveScan(b *testing.B) {
	r := nativeRoot(b)
	n := 0
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	for b.Loop() {
		n = 0
		err := Scan(context.Background(), r, &ScanOptions{Fields: benchFields}, func(p *Process) error {
			n++
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	perProc(b, n, cpu0)
}

// BenchmarkLiveFloor reads the same files with raw system calls into one
// reused buffer, parsing nothing: the cost of the kernel's side.
func BenchmarkLiveFloor(b *testing.B) {
	buf := make([]byte, 16<<10)
	link := make([]byte, 4096)
	n := 0
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	for b.Loop() {
		f, err := os.Open("/proc")
		if err != nil {
			b.Fatal(err)
		}
		names, err := f.Readdirnames(-1)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		n = 0
		path := make([]byte, 0, 64)
		for _, name := range names {
			if _, ok := pidName(name); !ok {
				continue
			}
			n++
			for _, file := range [...]string{"stat", "status", "cmdline", "cgroup"} {
				path = append(append(append(append(path[:0], "/proc/"...), name...), '/'), file...)
				fd, err := unix.Open(string(path), unix.O_RDONLY|unix.O_CLOEXEC, 0)
				if err != nil {
					continue
				}
				for {
					m, err := unix.Read(fd, buf)
					if m <= 0 || err != nil {
						break
					}
				}
				unix.Close(fd)
			}
			path = append(append(append(path[:0], "/proc/"...), name...), "/exe"...)
			unix.Readlink(string(path), link)
		}
	}
	perProc(b, n, cpu0)
}

func BenchmarkLiveProcfs(b *testing.B) {
	pfs, err := procfs.NewDefaultFS()
	if err != nil {
		b.Skip(err)
	}
	n := 0
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	for b.Loop() {
		procs, err := pfs.AllProcs()
		if err != nil {
			b.Fatal(err)
		}
		n = len(procs)
		for _, p := range procs {
			if _, err := p.Stat(); err != nil {
				continue
			}
			p.NewStatus()
			p.CmdLine()
			p.Cgroups()
			p.Executable()
		}
	}
	perProc(b, n, cpu0)
}

// memHost builds an in-memory host of n processes shaped like the live
// captures.
func memHost(b *testing.B, n int) *hostroot.Root {
	h := newHost()
	status := string(capture(b, "groups.status"))
	stat := string(capture(b, "tty.stat"))
	for pid := 1; pid <= n; pid++ {
		dir := "/proc/" + strconv.Itoa(pid)
		h.File(dir+"/stat", strconv.Itoa(pid)+stat[len("18919"):])
		h.File(dir+"/status", status)
		h.File(dir+"/cmdline", "sleep\x003600\x00")
		h.File(dir+"/cgroup", "0::/user.slice/user-1000.slice/session-1.scope\n")
		h.Symlink(dir+"/exe", "/usr/bin/sleep")
	}
	return hostroottest.MustRoot(b, h)
}

func BenchmarkMemScan(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			r := memHost(b, n)
			b.ReportAllocs()
			cpu0 := cpuTime(b)
			for b.Loop() {
				if err := Scan(context.Background(), r, &ScanOptions{Fields: benchFields}, func(*Process) error { return nil }); err != nil {
					b.Fatal(err)
				}
			}
			perProc(b, n, cpu0)
		})
	}
}
