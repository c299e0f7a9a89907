package cgroup

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/hostscope/hostscope/hostroot"
)

// CPU is a cgroup's CPU time and CFS bandwidth throttling: from cpu.stat on
// v2; from cpuacct.usage and the cpu hierarchy's cpu.stat on v1.
type CPU struct {
	// Usage is the CPU time consumed by the cgroup's tasks and its
	// descendants' (v2 usage_usec, v1 cpuacct.usage).
	Usage time.Duration
	// Throttling is nil when the kernel reports no bandwidth figures for
	// the cgroup: a v2 cgroup without the cpu controller enabled, a v1 host
	// without the cpu hierarchy, a kernel built without CFS bandwidth
	// control.
	Throttling *Throttling
}

// Throttling is how often CFS bandwidth control held a cgroup back.
type Throttling struct {
	Periods       uint64        // enforcement periods that elapsed while the cgroup had runnable tasks (nr_periods)
	Throttled     uint64        // periods in which the cgroup ran out of quota (nr_throttled)
	ThrottledTime time.Duration // total time its tasks were held back (v2 throttled_usec, v1 throttled_time)
}

// CPU reads the CPU figures of the cgroup entries place a process in (see
// Locate). A missing file is an error wrapping fs.ErrNotExist;
// malformed content one wrapping hostroot.ErrMalformed.
func (l *Layout) CPU(r *hostroot.Root, entries []Entry) (*CPU, error) {
	v1 := slices.ContainsFunc(l.Hierarchies, func(h Hierarchy) bool {
		return h.Version == 1 && slices.Contains(h.Controllers, "cpuacct")
	})
	if v1 {
		return readCPUv1(r, l, entries)
	}
	// cpu.stat's usage lines are kept for every v2 cgroup, with or
	// without the cpu controller.
	dir, err := l.locate(entries, "cpu", true)
	if err != nil {
		return nil, err
	}
	name := dir + "/cpu.stat"
	b, err := r.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return parseCPUStatV2(b, name)
}

func readCPUv1(r *hostroot.Root, l *Layout, entries []Entry) (*CPU, error) {
	dir, _, err := l.Locate(entries, "cpuacct")
	if err != nil {
		return nil, err
	}
	var c CPU
	name := dir + "/cpuacct.usage"
	ns, err := readValue(r, name)
	if err != nil {
		return nil, err
	}
	if c.Usage, err = duration(ns, time.Nanosecond, name, "cpuacct.usage"); err != nil {
		return nil, err
	}
	dir, _, err = l.Locate(entries, "cpu")
	if errors.Is(err, errors.ErrUnsupported) {
		return &c, nil
	}
	if err != nil {
		return nil, err
	}
	name = dir + "/cpu.stat"
	b, err := r.ReadFile(name)
	if err != nil {
		return nil, err
	}
	if c.Throttling, err = parseThrottling(b, name, "throttled_time", time.Nanosecond); err != nil {
		return nil, err
	}
	return &c, nil
}

// parseCPUStatV2 parses a v2 cpu.stat file.
func parseCPUStatV2(b []byte, name string) (*CPU, error) {
	kv, err := parseKeyed(b, name, "usage_usec")
	if err != nil {
		return nil, err
	}
	us, ok := kv["usage_usec"]
	if !ok {
		return nil, fmt.Errorf("%w: %s line 1: no usage_usec line", hostroot.ErrMalformed, name)
	}
	var c CPU
	if c.Usage, err = duration(us, time.Microsecond, name, "usage_usec"); err != nil {
		return nil, err
	}
	if c.Throttling, err = parseThrottling(b, name, "throttled_usec", time.Microsecond); err != nil {
		return nil, err
	}
	return &c, nil
}

// parseThrottling reads the bandwidth lines of a cpu.stat file; nil when it
// has none. timeKey is the throttled-time key, counted in unit.
func parseThrottling(b []byte, name, timeKey string, unit time.Duration) (*Throttling, error) {
	kv, err := parseKeyed(b, name, "nr_periods", "nr_throttled", timeKey)
	if err != nil {
		return nil, err
	}
	periods, ok := kv["nr_periods"]
	if !ok {
		return nil, nil
	}
	t := Throttling{Periods: periods, Throttled: kv["nr_throttled"]}
	if t.ThrottledTime, err = duration(kv[timeKey], unit, name, timeKey); err != nil {
		return nil, err
	}
	return &t, nil
}

// duration converts n units to a Duration; a figure beyond 292 years is
// malformed.
func duration(n uint64, unit time.Duration, name, key string) (time.Duration, error) {
	if n > uint64(math.MaxInt64/unit) {
		return 0, fmt.Errorf("%w: %s line 1: %s %d does not fit a duration", hostroot.ErrMalformed, name, key, n)
	}
	return time.Duration(n) * unit, nil
}
