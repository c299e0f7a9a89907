package proc

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hostscope/hostscope/hostroot"
)

// procStat is the shape of /proc/stat on the capture host (2 CPUs),
// shortened in the intr line.
const procStat = `cpu  5123 0 7140 1391550 520 0 160 0 0 0
cpu0 2550 0 3660 695411 259 0 107 0 0 0
cpu1 2573 0 3480 696139 261 0 53 0 0 0
intr 1104183 0 9 0 0 0 0 0 0 0 0
ctxt 2110532
btime 1795791591
processes 19106
procs_running 1
procs_blocked 0
softirq 1180364 0 291543 4 3089 0 0 98 493453 0 392177
`

func TestParseBootTime(t *testing.T) {
	got, err := parseBootTime([]byte(procStat), "/proc/stat")
	if err != nil || !got.Equal(time.Unix(1795791591, 0)) {
		t.Errorf("parseBootTime() = %v, %v, want %v", got, err, time.Unix(1795791591, 0))
	}
	for name, tt := range map[string]struct{ data, wantMsg string }{
		"empty":        {"", "/proc/stat: no btime line"},
		"no btime":     {"cpu 1 2 3\nctxt 5\n", "no btime line"},
		"btime empty":  {"cpu 1\nbtime \n", "/proc/stat line 2: btime"},
		"btime text":   {"btime soon\n", "line 1: btime"},
		"btime huge":   {"btime 99999999999999999999\n", "line 1: btime"},
		"btime two":    {"btime 1 2\n", "line 1: btime"},
		"btime prefix": {"btimex 5\n", "no btime line"},
	} {
		_, err := parseBootTime([]byte(tt.data), "/proc/stat")
		if !errors.Is(err, hostroot.ErrMalformed) || !strings.Contains(err.Error(), tt.wantMsg) {
			t.Errorf("%s: parseBootTime() error = %v, want ErrMalformed and %q", name, err, tt.wantMsg)
		}
	}
}

func FuzzParseBootTime(f *testing.F) {
	f.Add([]byte(procStat))
	f.Add([]byte("btime -5\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := parseBootTime(data, "/proc/stat")
		if err != nil && !errors.Is(err, hostroot.ErrMalformed) {
			t.Fatalf("error %v does not wrap ErrMalformed", err)
		}
		if err == nil && !strings.Contains(string(data), "btime ") {
			t.Fatal("parsed without a btime line")
		}
	})
}
