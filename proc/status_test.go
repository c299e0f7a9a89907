package proc

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hostscope/hostscope/hostroot"
)

func TestParseStatus(t *testing.T) {
	const allCaps = 0x000001ffffffffff
	tests := []struct {
		name string
		data string
		want status
	}{
		{
			name: "init",
			data: string(capture(t, "init.status")),
			want: status{name: []byte("process_api"), state: 'S', nspid: []int{1}, threads: 14,
				vmRSS: 11404 << 10, vmSize: 43268 << 10, capPrm: allCaps, capEff: allCaps, capBnd: 0x000001fffeffffff},
		},
		{
			name: "kernel thread: no Vm lines",
			data: string(capture(t, "kthreadd.status")),
			want: status{name: []byte("kthreadd"), state: 'S', nspid: []int{2}, threads: 1, kthread: true,
				capPrm: allCaps, capEff: allCaps, capBnd: allCaps},
		},
		{
			name: "zombie",
			data: string(capture(t, "zombie.status")),
			want: status{name: []byte("sleep"), state: 'Z', ppid: 11380, nspid: []int{11382}, threads: 1,
				capPrm: 0x000001fffeffffff, capEff: 0x000001fffeffffff, capBnd: 0x000001fffeffffff},
		},
		{
			name: "name with spaces and parentheses",
			data: string(capture(t, "weirdcomm.status")),
			want: status{name: []byte("we ird) (na me"), state: 'S', ppid: 11698, nspid: []int{11714}, threads: 1,
				vmRSS: 1808 << 10, vmSize: 2920 << 10,
				capPrm: 0x000001fffeffffff, capEff: 0x000001fffeffffff, capBnd: 0x000001fffeffffff},
		},
		{
			name: "nobody with supplementary groups, no capabilities",
			data: string(capture(t, "groups.status")),
			want: status{name: []byte("sleep"), state: 'S', ppid: 18879,
				uids: IDs{65534, 65534, 65534, 65534}, gids: IDs{65534, 65534, 65534, 65534},
				groups: []uint32{4, 24, 1000}, nspid: []int{18903}, threads: 1,
				vmRSS: 1756 << 10, vmSize: 2920 << 10, capBnd: 0x000001fffeffffff},
		},
		{
			name: "podman container init: nested PID namespace, seccomp filter",
			data: string(capture(t, "container.status")),
			want: status{name: []byte("sleep"), state: 'S', ppid: 11511, groups: []uint32{0}, nspid: []int{11533, 1},
				threads: 1, vmRSS: 1108 << 10, vmSize: 2268 << 10, seccomp: SeccompFilter,
				capPrm: 0xa80425fb, capEff: 0xa80425fb, capBnd: 0xa80425fb},
		},
		{
			name: "old kernel: no NSpid, CapAmb, NoNewPrivs, Seccomp, Kthread; distinct IDs",
			data: "Name:\tbash\nState:\tS (sleeping)\nTgid:\t5\nPid:\t5\nPPid:\t1\nTracerPid:\t0\n" +
				"Uid:\t1000\t1001\t1002\t1003\nGid:\t100\t101\t102\t103\nFDSize:\t256\nGroups:\t10 100\n" +
				"VmSize:\t  4 kB\nVmRSS:\t  0 kB\nThreads:\t1\nCapInh:\t0000000000000000\nCapPrm:\t0000000000000000\n" +
				"CapEff:\t0000000000000000\nCapBnd:\tffffffffffffffff\n",
			want: status{name: []byte("bash"), state: 'S', ppid: 1, uids: IDs{1000, 1001, 1002, 1003}, gids: IDs{100, 101, 102, 103},
				groups: []uint32{10, 100}, threads: 1, vmSize: 4096, capBnd: 1<<64 - 1},
		},
		{
			name: "escaped name, no newline at end, unknown lines skipped",
			data: "Name:\ta\\nb\\\\c\nFuture_line:\tanything at all\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nNoNewPrivs:\t1\nSeccomp:\t1",
			want: status{name: []byte(`a\nb\\c`), noNewPrivs: true, seccomp: SeccompStrict},
		},
		{
			name: "name beginning and ending with spaces",
			data: "Name:\t x \nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n",
			want: status{name: []byte(" x ")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatus([]byte(tt.data), "/proc/X/status")
			if err != nil {
				t.Fatalf("parseStatus() error = %v", err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(status{})); diff != "" {
				t.Errorf("parseStatus() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseStatusMalformed(t *testing.T) {
	const ids = "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n"
	tests := []struct {
		name, data, wantMsg string
	}{
		{"empty", "", "no Uid line"},
		{"garbage", "hello\n", "line 1: no ':'"},
		{"no Gid", "Uid:\t0\t0\t0\t0\n", "no Gid line"},
		{"Uid with three values", "Name:\tx\nUid:\t0\t0\t0\n", "line 2: Uid: wrong number of values"},
		{"Uid with five values", "Uid:\t0\t0\t0\t0\t0\n", "line 1: Uid: wrong number of values"},
		{"Uid negative", "Uid:\t-1\t0\t0\t0\n", `line 1: Uid: "-1"`},
		{"Gid too large", "Uid:\t0\t0\t0\t0\nGid:\t4294967296\t0\t0\t0\n", `line 2: Gid: "4294967296": value out of range`},
		{"Groups garbage", ids + "Groups:\t1 two 3\n", `line 3: Groups: "two"`},
		{"NSpid empty", ids + "NSpid:\t\n", "NSpid: wrong number of values"},
		{"NSpid zero", ids + "NSpid:\t0\n", `NSpid: "0": not a PID`},
		{"PPid garbage", ids + "PPid:\tx\n", "PPid"},
		{"State digit", ids + "State:\t1 (one)\n", "State"},
		{"State empty", ids + "State:\n", "State"},
		{"Threads negative", ids + "Threads:\t-2\n", "Threads: negative"},
		{"VmRSS no unit", ids + "VmRSS:\t12\n", "VmRSS: unit is not kB"},
		{"VmRSS in MB", ids + "VmRSS:\t12 MB\n", "VmRSS: unit is not kB"},
		{"VmRSS overflow", ids + "VmRSS:\t18446744073709551615 kB\n", "VmRSS: 18446744073709551615 kB: out of range"},
		{"VmSize garbage", ids + "VmSize:\tlots kB\n", `VmSize: "lots"`},
		{"CapEff not hex", ids + "CapEff:\t00000000000000zz\n", `CapEff: "00000000000000zz"`},
		{"CapBnd 65 bits", ids + "CapBnd:\t1ffffffffffffffff\n", "value out of range"},
		{"CapPrm two values", ids + "CapPrm:\t0 0\n", "CapPrm: wrong number of values"},
		{"NoNewPrivs 2", ids + "NoNewPrivs:\t2\n", "NoNewPrivs"},
		{"Kthread yes", ids + "Kthread:\tyes\n", "Kthread"},
		{"Seccomp huge", ids + "Seccomp:\t256\n", "Seccomp: mode 256 out of range"},
		{"Seccomp negative", ids + "Seccomp:\t-1\n", "Seccomp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseStatus([]byte(tt.data), "/proc/9/status")
			if !errors.Is(err, hostroot.ErrMalformed) {
				t.Fatalf("parseStatus() error = %v, want ErrMalformed", err)
			}
			if msg := err.Error(); !strings.Contains(msg, "/proc/9/status") || !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("parseStatus() error = %q, want the file and %q", msg, tt.wantMsg)
			}
		})
	}
}

func TestUnescapeName(t *testing.T) {
	for in, want := range map[string]string{
		"plain":          "plain",
		`a\nb`:           "a\nb",
		`back\\slash`:    `back\slash`,
		`tab\there`:      "tab\there",
		`oct\101`:        "octA",
		`short\10`:       `short\10`,
		`trailing\`:      `trailing\`,
		`\"quoted\"`:     `"quoted"`,
		`esc\e[0m`:       "esc\x1b[0m",
		`unknown\q`:      "unknownq",
		`several\n\n\\n`: "several\n\n\\n",
	} {
		if got := string(unescapeName([]byte(in))); got != want {
			t.Errorf("unescapeName(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParseStatus(f *testing.F) {
	for _, name := range []string{"init", "kthreadd", "zombie", "weirdcomm", "groups", "container", "tty"} {
		f.Add(capture(f, name+".status"))
	}
	f.Add([]byte("Uid:\t1 2 3 4\nGid:\t5 6 7 8\nGroups:\t\nNSpid:\t9\t1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := parseStatus(data, "/proc/1/status")
		if err != nil {
			if !errors.Is(err, hostroot.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if !strings.Contains(string(data), "Uid:") || !strings.Contains(string(data), "Gid:") {
			t.Fatal("parsed without Uid and Gid lines")
		}
		if s.ppid < 0 || s.threads < 0 || s.vmRSS%1024 != 0 || s.vmSize%1024 != 0 {
			t.Fatalf("parsed out-of-range values: %+v", s)
		}
		for _, p := range s.nspid {
			if p <= 0 {
				t.Fatalf("NSpid %v holds a non-PID", s.nspid)
			}
		}
		unescapeName(s.name)
	})
}
