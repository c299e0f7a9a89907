// Command ratios reads the output of one run of the inventory benchmarks
// (go test -bench 'Live|Memory' -count N) and prints, as Markdown, the
// median of each benchmark's per-process metrics and the ratios the
// targets of BENCHMARKS.md are stated in. Every number comes from the one
// run it reads.
//
//	go run ./cmd/ratios < out.txt
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// samples maps a benchmark name (without the -GOMAXPROCS suffix) to its
// values per unit, one per -count repetition.
type samples map[string]map[string][]float64

var procsSuffix = regexp.MustCompile(`-\d+$`)

func parse(r io.Reader) (samples, []string, error) {
	s := samples{}
	var order []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := procsSuffix.ReplaceAllString(f[0], "")
		if s[name] == nil {
			s[name] = map[string][]float64{}
			order = append(order, name)
		}
		// f[1] is b.N; then value-unit pairs.
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, nil, fmt.Errorf("%q: %v", sc.Text(), err)
			}
			s[name][f[i+1]] = append(s[name][f[i+1]], v)
		}
	}
	return s, order, sc.Err()
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func main() {
	s, order, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ratios:", err)
		os.Exit(1)
	}
	med := func(name, unit string) float64 { return median(s[name][unit]) }

	fmt.Println("| benchmark | runs | ns/proc (median) | min–max | cpu-ns/proc (median) | min–max | allocs/proc | B/proc | procs |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	for _, name := range order {
		v, c := s[name]["ns/proc"], s[name]["cpu-ns/proc"]
		if len(v) == 0 || len(c) == 0 {
			continue
		}
		fmt.Printf("| %s | %d | %.0f | %.0f–%.0f | %.0f | %.0f–%.0f | %.1f | %.0f | %.0f |\n", strings.TrimPrefix(name, "Benchmark"), len(v),
			median(v), slices.Min(v), slices.Max(v), median(c), slices.Min(c), slices.Max(c),
			med(name, "allocs/proc"), med(name, "B/proc"), med(name, "procs"))
	}
	fmt.Println()

	fmt.Println("| benchmark | user-ns/proc (median) | sys-ns/proc (median) |")
	fmt.Println("|---|---|---|")
	for _, name := range order {
		u, sy := s[name]["user-ns/proc"], s[name]["sys-ns/proc"]
		if len(u) == 0 || len(sy) == 0 {
			continue
		}
		fmt.Printf("| %s | %.0f | %.0f |\n", strings.TrimPrefix(name, "Benchmark"), median(u), median(sy))
	}
	fmt.Println()

	type ratio struct {
		what, unit, target string
		num, den           string
		ok                 func(float64) bool
	}
	const (
		hs   = "BenchmarkLive/hostscope"
		fl   = "BenchmarkLive/floor"
		pf   = "BenchmarkLive/procfs"
		gu   = "BenchmarkLive/gopsutil"
		guc  = "BenchmarkLive/gopsutil-btcache"
		m1k  = "BenchmarkMemory/1k"
		m10k = "BenchmarkMemory/10k"
		m100 = "BenchmarkMemory/100k"
	)
	atMost := func(t float64) func(float64) bool { return func(r float64) bool { return r <= t } }
	flat := func(r float64) bool { return r >= 0.8 && r <= 1.2 }
	ratios := []ratio{
		{"hostscope / floor, time per process", "", "≤ 1.25", hs, fl, atMost(1.25)},
		{"hostscope / procfs, time per process", "", "≤ 0.5", hs, pf, atMost(0.5)},
		{"hostscope / gopsutil, time per process", "", "≤ 0.2", hs, gu, atMost(0.2)},
		{"hostscope / gopsutil with its boot-time cache on", "", "(≤ 0.2)", hs, guc, atMost(0.2)},
		{"hostscope / procfs, allocations per process", "allocs/proc", "≤ 0.333", hs, pf, atMost(1.0 / 3)},
		{"in memory, 10k / 1k, time per process", "", "0.8–1.2", m10k, m1k, flat},
		{"in memory, 100k / 1k, time per process", "", "0.8–1.2", m100, m1k, flat},
	}
	fmt.Println("| ratio (of medians) | target | elapsed | met | CPU | met |")
	fmt.Println("|---|---|---|---|---|---|")
	cell := func(r ratio, unit string) string {
		num, den := med(r.num, unit), med(r.den, unit)
		if num == 0 || den == 0 {
			return "n/a | "
		}
		v := num / den
		if r.ok(v) {
			return fmt.Sprintf("%.3f | yes", v)
		}
		return fmt.Sprintf("%.3f | no", v)
	}
	for _, r := range ratios {
		if r.unit != "" {
			fmt.Printf("| %s | %s | %s | (count, not time) | |\n", r.what, r.target, cell(r, r.unit))
			continue
		}
		fmt.Printf("| %s | %s | %s | %s |\n", r.what, r.target, cell(r, "ns/proc"), cell(r, "cpu-ns/proc"))
	}
}
