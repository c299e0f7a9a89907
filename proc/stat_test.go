package proc

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hostscope/hostscope/hostroot"
)

func TestParseStat(t *testing.T) {
	tests := []struct {
		name string
		data string
		want stat
	}{
		{
			name: "init",
			data: string(capture(t, "init.stat")),
			want: stat{pid: 1, comm: []byte("process_api"), state: 'S', flags: 4194560, utime: 172, stime: 328,
				priority: 10, nice: -10, threads: 14, starttime: 20, vsize: 44306432, rss: 2812},
		},
		{
			name: "kernel thread",
			data: string(capture(t, "kthreadd.stat")),
			want: stat{pid: 2, comm: []byte("kthreadd"), state: 'S', flags: 2129984, priority: 20, threads: 1, starttime: 20},
		},
		{
			name: "idle kworker, comm with slash and dash, nice -20",
			data: string(capture(t, "kworker.stat")),
			want: stat{pid: 10, comm: []byte("kworker/0:0H-kblockd"), state: 'I', ppid: 2, flags: 69238880, stime: 2,
				priority: 0, nice: -20, threads: 1, starttime: 20},
		},
		{
			name: "comm with spaces and parentheses",
			data: string(capture(t, "weirdcomm.stat")),
			want: stat{pid: 11714, comm: []byte("we ird) (na me"), state: 'S', ppid: 11698, pgid: 11698, sid: 7940,
				flags: 4194304, priority: 20, threads: 1, starttime: 80349, vsize: 2990080, rss: 409},
		},
		{
			name: "zombie",
			data: string(capture(t, "zombie.stat")),
			want: stat{pid: 11382, comm: []byte("sleep"), state: 'Z', ppid: 11380, pgid: 11375, sid: 7940,
				flags: 4227084, priority: 20, threads: 1, starttime: 79701},
		},
		{
			name: "controlling terminal /dev/pts/0",
			data: string(capture(t, "tty.stat")),
			want: stat{pid: 18919, comm: []byte("sleep"), state: 'S', ppid: 18917, pgid: 18919, sid: 18919, ttyNr: 34816,
				flags: 4194304, priority: 20, threads: 1, starttime: 103463, vsize: 2990080, rss: 412},
		},
		{
			name: "container init",
			data: string(capture(t, "container.stat")),
			want: stat{pid: 11533, comm: []byte("sleep"), state: 'S', ppid: 11511, pgid: 11533, sid: 11533,
				flags: 4194560, utime: 3, stime: 2, priority: 20, threads: 1, starttime: 80037, vsize: 2322432, rss: 262},
		},
		{
			name: "comm with a newline, no trailing newline, minimal field count",
			data: "7 (a\nb) R 1 7 7 0 -1 0 0 0 0 0 5 6 0 0 -51 0 3 0 99 4096 1",
			want: stat{pid: 7, comm: []byte("a\nb"), state: 'R', ppid: 1, pgid: 7, sid: 7, utime: 5, stime: 6,
				priority: -51, threads: 3, starttime: 99, vsize: 4096, rss: 1},
		},
		{
			name: "empty comm",
			data: "7 () S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0\n",
			want: stat{pid: 7, comm: []byte{}, state: 'S', ppid: 1, pgid: 1, sid: 1, priority: 20, threads: 1, starttime: 1},
		},
		{
			name: "largest values",
			data: statLine(map[int]string{14: "18446744073709551615", 22: "18446744073709551615", 23: "18446744073709551615", 24: "18446744073709551615", 4: "2147483647", 7: "-1"}),
			want: stat{pid: 4242, comm: []byte("sleep"), state: 'S', ppid: 2147483647, pgid: 18879, sid: 7940, ttyNr: 0xffffffff,
				flags: 4194560, utime: 1<<64 - 1, stime: 9, priority: 20, threads: 1, starttime: 1<<64 - 1, vsize: 1<<64 - 1, rss: 1<<64 - 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat([]byte(tt.data), "/proc/X/stat")
			if err != nil {
				t.Fatalf("parseStat() error = %v", err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(stat{})); diff != "" {
				t.Errorf("parseStat() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseStatMalformed(t *testing.T) {
	tests := []struct {
		name, data, wantMsg string
	}{
		{"empty", "", "no (comm)"},
		{"garbage", "hello world\n", "no (comm)"},
		{"no closing paren", "1 (init S 0 0", "no (comm)"},
		{"closing before opening", "1 )init( S 0", "no (comm)"},
		{"no pid", "(init) S 0 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0", "is not a PID"},
		{"pid zero", "0 (x) S 0 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0", "is not a PID"},
		{"pid not a number", "1x (x) S 0 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0", "is not a PID"},
		{"nothing after comm", "1 (x)", "0 fields after the comm"},
		{"truncated", statLine(nil)[:60], "fields after the comm, want at least 22"},
		{"state not a letter", statLine(map[int]string{3: "7"}), `state "7"`},
		{"state two letters", statLine(map[int]string{3: "SS"}), `state "SS"`},
		{"ppid not a number", statLine(map[int]string{4: "abc"}), `field 4 "abc"`},
		{"ppid negative", statLine(map[int]string{4: "-3"}), `field 4 "-3": negative`},
		{"pgid too large", statLine(map[int]string{5: "2147483648"}), `field 5 "2147483648": value out of range`},
		{"tty not a number", statLine(map[int]string{7: "pts0"}), `field 7`},
		{"flags negative", statLine(map[int]string{9: "-1"}), `field 9`},
		{"utime overflow", statLine(map[int]string{14: "18446744073709551616"}), `field 14 "18446744073709551616": value out of range`},
		{"stime fraction", statLine(map[int]string{15: "1.5"}), `field 15`},
		{"priority garbage", statLine(map[int]string{18: "--1"}), `field 18`},
		{"nice huge", statLine(map[int]string{19: "99999999999"}), `field 19`},
		{"threads negative", statLine(map[int]string{20: "-1"}), `field 20 "-1": negative`},
		{"starttime hex", statLine(map[int]string{22: "0x10"}), `field 22`},
		{"vsize signed", statLine(map[int]string{23: "-4096"}), `field 23`},
		{"rss empty", strings.Replace(statLine(nil), " 412 ", "  ", 1), `field 24 is empty`},
		{"tab separator", strings.Replace(statLine(nil), " 412 ", "\t412 ", 1), `field 23`},
		{"no space after comm", "1 (x)S 0 0", "no space before field 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseStat([]byte(tt.data), "/proc/9/stat")
			if !errors.Is(err, hostroot.ErrMalformed) {
				t.Fatalf("parseStat() error = %v, want ErrMalformed", err)
			}
			if msg := err.Error(); !strings.Contains(msg, "/proc/9/stat line 1") || !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("parseStat() error = %q, want the file, line and %q", msg, tt.wantMsg)
			}
		})
	}
}

func TestTTYFromNr(t *testing.T) {
	for nr, want := range map[uint32]TTY{
		0:          {},
		34816:      {Major: 136, Minor: 0},      // /dev/pts/0
		0x8801:     {Major: 136, Minor: 1},      // /dev/pts/1
		0x0401:     {Major: 4, Minor: 1},        // /dev/tty1
		0x00108a05: {Major: 0x8a, Minor: 0x105}, // minor above 255 uses bits 20-31
	} {
		if got := ttyFromNr(nr); got != want {
			t.Errorf("ttyFromNr(%#x) = %+v, want %+v", nr, got, want)
		}
	}
}

func FuzzParseStat(f *testing.F) {
	for _, name := range []string{"init", "kthreadd", "kworker", "weirdcomm", "zombie", "tty", "container"} {
		f.Add(capture(f, name+".stat"))
	}
	f.Add([]byte(statLine(map[int]string{4: "-1"})))
	f.Add([]byte("1 (a) b) S"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := parseStat(data, "/proc/1/stat")
		if err != nil {
			if !errors.Is(err, hostroot.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if s.pid <= 0 || s.ppid < 0 || s.pgid < 0 || s.sid < 0 || s.threads < 0 || !isStateLetter(s.state) {
			t.Fatalf("parsed out-of-range values: %+v", s)
		}
		if !strings.Contains(string(data), "("+string(s.comm)+")") {
			t.Fatalf("comm %q is not between parentheses in %q", s.comm, data)
		}
	})
}
