package bench

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// record is the comparable part of a Proc: the values that do not change
// while a process sleeps (times, RSS and state do, so they are not compared).
type record struct {
	PPID    int
	Comm    string
	UID     uint32
	Args    int
	Cgroups int
	Exe     string
}

func recordOf(p *Proc) record {
	return record{
		PPID:    p.PPID,
		Comm:    commKey(string(p.Comm)),
		UID:     p.UID,
		Args:    p.Args,
		Cgroups: p.Cgroups,
		// Hostscope drops the suffix, the others keep it.
		Exe: strings.TrimSuffix(string(p.Exe), " (deleted)"),
	}
}

// commKey is the part of a command name every reader agrees on. The kernel
// keeps 15 bytes; gopsutil's Name replaces a 15-byte name with the base
// name of argv[0] when that extends it, so only 15 bytes are compared. A
// kernel workqueue worker's name carries the workqueue it last ran
// ("kworker/0:1-events"), which changes from one read to the next, so the
// name stops at the dash.
func commKey(c string) string {
	if strings.HasPrefix(c, "kworker/") {
		c, _, _ = strings.Cut(c, "-")
	}
	if len(c) > 15 {
		c = c[:15]
	}
	return c
}

// TestSameInventory holds the four readers to the same answers on the live
// /proc, so the benchmarks compare equal work: the same PID set, and for
// every process they all saw the same PPID, comm, real UID, argument count,
// cgroup entry count and exe link. The machine is busy, so a process may
// start, exit or exec between two readers' scans: such a difference is
// explained by the process being gone afterwards or younger than the first
// scan, and an attempt with any other difference is retried a few times
// before the test fails.
func TestSameInventory(t *testing.T) {
	own := ensureSleepers(t, testSpawn)
	var got map[int]record
	scanners := liveScanners(t, func(p *Proc) { got[p.PID] = recordOf(p) })
	scan := func(s scanner) map[int]record {
		got = map[int]record{}
		if _, err := s.scan(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		return got
	}
	var problems []string
	for attempt := 0; attempt < 5; attempt++ {
		problems = compareOnce(t, scanners, scan, own)
		if len(problems) == 0 {
			return
		}
		t.Logf("attempt %d: %d unexplained differences, retrying", attempt+1, len(problems))
	}
	if len(problems) > 20 {
		problems = append(problems[:20], fmt.Sprintf("... and %d more", len(problems)-20))
	}
	t.Errorf("the readers disagree:\n%s", strings.Join(problems, "\n"))
}

// compareOnce runs every scanner once and lists the differences that churn
// does not explain.
func compareOnce(t *testing.T, scanners []scanner, scan func(scanner) map[int]record, own []int) []string {
	t.Helper()
	since := bootTicks(t)
	results := make([]map[int]record, len(scanners))
	for i, s := range scanners {
		results[i] = scan(s)
	}

	// The processes this test started must be seen by all, as its children.
	self := os.Getpid()
	want := record{PPID: self, Comm: "sleep", Args: 2}
	for i, s := range scanners {
		for _, pid := range own {
			got, ok := results[i][pid]
			if !ok {
				t.Fatalf("%s did not see sleeper %d", s.name, pid)
			}
			// UID, cgroups and exe are the machine's; only check they are there.
			got.UID, got.Cgroups, got.Exe = 0, 0, ""
			if got != want {
				t.Fatalf("%s: sleeper %d is %+v, want %+v", s.name, pid, got, want)
			}
		}
	}

	var pids []int
	for _, res := range results {
		for pid := range res {
			pids = append(pids, pid)
		}
	}
	slices.Sort(pids)
	pids = slices.Compact(pids)
	var problems []string
	for _, pid := range pids {
		var seen []string
		var first record
		differ := false
		for i, s := range scanners {
			r, ok := results[i][pid]
			if !ok {
				differ = true
				continue
			}
			if len(seen) == 0 {
				first = r
			} else if r != first {
				differ = true
			}
			seen = append(seen, s.name)
		}
		if !differ || churned(pid, since) {
			continue
		}
		var b strings.Builder
		fmt.Fprintf(&b, "pid %d:", pid)
		for i, s := range scanners {
			if r, ok := results[i][pid]; ok {
				fmt.Fprintf(&b, "\n\t%-9s %+v", s.name, r)
			} else {
				fmt.Fprintf(&b, "\n\t%-9s absent", s.name)
			}
		}
		problems = append(problems, b.String())
	}
	return problems
}

// bootTicks is the time since boot in clock ticks, the unit of a process's
// start time in stat.
func bootTicks(t *testing.T) uint64 {
	t.Helper()
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		t.Fatal(err)
	}
	return uint64(ts.Nano()) / uint64(time.Second/userHZ)
}

// churned reports whether pid exited, or started no earlier than since
// (clock ticks after boot), so that readers scanning at different moments
// may rightly disagree about it.
func churned(pid int, since uint64) bool {
	b, err := readFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return false
	}
	f := strings.Fields(s[i+1:])
	// After the command: field 3 (state) is f[0], so starttime (22) is f[19].
	if len(f) < 20 {
		return false
	}
	start, err := strconv.ParseUint(f[19], 10, 64)
	return err == nil && start+1 >= since
}
