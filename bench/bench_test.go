package bench

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/proc"
	"github.com/prometheus/procfs"
	"github.com/shirou/gopsutil/v4/process"
	"golang.org/x/sys/unix"
)

// sink keeps the readers' results observable, so no work is optimised away.
var sink int

func consume(p *Proc) {
	sink += p.PID ^ p.PPID + len(p.Comm) + int(p.State) + int(p.UTime+p.STime) + int(p.RSS) + p.Args + int(p.UID) + p.Cgroups + len(p.Exe)
}

// scanner is one way of doing the inventory once; it returns the number of
// processes it saw.
type scanner struct {
	name string
	scan func() (int, error)
}

// liveScanners are the four readers over the machine's own /proc, each
// calling visit for every process.
func liveScanners(tb testing.TB, visit func(*Proc)) []scanner {
	tb.Helper()
	ctx := context.Background()
	root, err := hostroot.Native()
	if err != nil {
		tb.Fatal(err)
	}
	pfs, err := procfs.NewFS("/proc")
	if err != nil {
		tb.Fatal(err)
	}
	floor := NewFloor()
	// gopsutil as shipped re-reads /proc/stat for the boot time on every
	// stat read (three per process). Its EnableBootTimeCache switch (a
	// process-wide cache, which hostscope's design rules out) removes
	// that: "gopsutil-btcache" is its best case.
	gopsutil := func(cache bool) func() (int, error) {
		return func() (int, error) {
			process.EnableBootTimeCache(cache)
			defer process.EnableBootTimeCache(false)
			return Gopsutil(ctx, visit)
		}
	}
	return []scanner{
		{"floor", func() (int, error) { return floor.Scan(visit) }},
		{"hostscope", func() (int, error) { return Hostscope(ctx, root, visit) }},
		{"procfs", func() (int, error) { return Procfs(pfs, visit) }},
		{"gopsutil", gopsutil(false)},
		{"gopsutil-btcache", gopsutil(true)},
	}
}

// BenchmarkLive runs the same inventory four ways over the live /proc, with
// the sleeping processes of spawnCount added to the machine. The procs
// metric is how many processes each iteration saw: every process on the
// machine counts, not only the sleepers.
func BenchmarkLive(b *testing.B) {
	ensureSleepers(b, spawnCount(b))
	for _, s := range liveScanners(b, consume) {
		b.Run(s.name, func(b *testing.B) { measure(b, s.scan) })
	}
}

// BenchmarkLayers splits hostscope's live scan in two: "files" reads the
// inventory's files and exe link through hostroot alone (OpenProc,
// AppendFile, Readlink, AppendStat into one reused buffer, nothing parsed,
// no Process made), "hostscope" is the whole scan. Against the floor, the
// first difference is the cost of reading through a Root, the second that
// of parsing into plain data.
func BenchmarkLayers(b *testing.B) {
	ensureSleepers(b, spawnCount(b))
	root, err := hostroot.Native()
	if err != nil {
		b.Fatal(err)
	}
	floor := NewFloor()
	buf := make([]byte, 0, 16<<10)
	files := func() (int, error) {
		pids, err := proc.PIDs(root)
		if err != nil {
			return 0, err
		}
		n := 0
		for _, pid := range pids {
			d, err := root.OpenProc(pid)
			if err != nil {
				continue
			}
			for _, f := range [...]string{"status", "cmdline", "cgroup"} {
				buf, _ = d.AppendFile(buf[:0], f, 0)
			}
			d.Readlink("exe")
			buf, err = d.AppendStat(buf[:0], 0)
			d.Close()
			if err == nil {
				n++
			}
		}
		return n, nil
	}
	for _, s := range []scanner{
		{"floor", func() (int, error) { return floor.Scan(consume) }},
		{"files", files},
		{"hostscope", func() (int, error) { return Hostscope(context.Background(), root, consume) }},
	} {
		b.Run(s.name, func(b *testing.B) { measure(b, s.scan) })
	}
}

// smokeMaxHost is the largest in-memory host a smoke run builds.
const smokeMaxHost = 10000

// BenchmarkMemory runs hostscope over in-memory hosts of growing size, to
// show the cost per process does not grow with the number of processes.
// The peers cannot read an in-memory host at all.
func BenchmarkMemory(b *testing.B) {
	ctx := context.Background()
	for _, size := range []struct {
		name string
		n    int
	}{{"1k", 1000}, {"10k", 10000}, {"100k", 100000}} {
		b.Run(size.name, func(b *testing.B) {
			if size.n > smokeMaxHost && smokeRun() {
				b.Skipf("a smoke run (-benchtime 1x) stops at %d processes: building this host takes seconds", smokeMaxHost)
			}
			root := memHost(b, size.n)
			measure(b, func() (int, error) { return Hostscope(ctx, root, consume) })
		})
	}
}

// measure times scan b.N times and reports, besides the usual per-scan
// numbers, per process: the elapsed time (ns/proc), the CPU time of the
// whole test process, every thread and the garbage collector included
// (cpu-ns/proc), split into user and system time (user-ns/proc,
// sys-ns/proc), allocations and bytes; and the number of processes per
// scan. On a machine shared with other work the CPU time is the steadier of
// the two times: waiting for a CPU counts in the elapsed time only.
func measure(b *testing.B, scan func() (int, error)) {
	b.Helper()
	b.ReportAllocs()
	// No warm-up scan here: the testing package always runs a benchmark
	// once with b.N == 1 before the run it reports (for -benchtime Nx too),
	// and that run warms pools and caches.
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	total, last := 0, 0
	b.ResetTimer()
	cpu0 := processCPU(b)
	user0, sys0 := processTimes(b)
	for i := 0; i < b.N; i++ {
		n, err := scan()
		if err != nil {
			b.Fatal(err)
		}
		total += n
		last = n
	}
	cpu := processCPU(b) - cpu0
	user1, sys1 := processTimes(b)
	b.StopTimer()
	runtime.ReadMemStats(&after)
	if total == 0 {
		b.Fatal("the scan saw no process")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(total), "ns/proc")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(total), "cpu-ns/proc")
	b.ReportMetric(float64((user1-user0).Nanoseconds())/float64(total), "user-ns/proc")
	b.ReportMetric(float64((sys1-sys0).Nanoseconds())/float64(total), "sys-ns/proc")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(total), "allocs/proc")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(total), "B/proc")
	b.ReportMetric(float64(last), "procs")
}

// processTimes is the user and system CPU time of this process so far
// (getrusage, microsecond resolution): where cpu-ns/proc goes, in the
// reader's own code and the garbage collector or in the kernel.
func processTimes(b *testing.B) (user, sys time.Duration) {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

// processCPU is the CPU time consumed so far by every thread of this
// process (CLOCK_PROCESS_CPUTIME_ID, nanosecond-exact on Linux).
func processCPU(b *testing.B) time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ts.Nano())
}
