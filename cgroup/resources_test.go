package cgroup

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
)

// v2CPUStat is a v2 cpu.stat with the cpu controller enabled (6.1 kernel).
const v2CPUStat = "usage_usec 8123456\nuser_usec 6000000\nsystem_usec 2123456\ncore_sched.force_idle_usec 0\n" +
	"nr_periods 1200\nnr_throttled 37\nthrottled_usec 912345\nnr_bursts 0\nburst_usec 0\n"

// v2Host returns a cgroup v2 host with one docker container cgroup, whose
// files the caller may override or delete.
func v2Host(files map[string]string) *hostroottest.Host {
	dir := "/sys/fs/cgroup/system.slice/docker-" + idA + ".scope/"
	base := map[string]string{
		"memory.current": "52428800\n",
		"memory.max":     "268435456\n",
		"cpu.stat":       v2CPUStat,
		"pids.current":   "7\n",
		"pids.max":       "max\n",
	}
	for k, v := range files {
		base[k] = v
	}
	h := hostroottest.New().
		File("/proc/1/comm", "systemd\n").
		File("/proc/1/mountinfo", v2MountInfo).
		File("/sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n").
		Dir(dir)
	for k, v := range base {
		if v != "" {
			h.File(dir+k, v)
		}
	}
	return h
}

// hybridHost returns this machine's layout with one cgroupfs docker
// container cgroup in every v1 hierarchy.
func hybridHost(files map[string]string) *hostroottest.Host {
	base := map[string]string{
		"memory/memory.usage_in_bytes": "1052672\n",
		"memory/memory.limit_in_bytes": "9223372036854771712\n",
		"cpuacct/cpuacct.usage":        "41234567890\n",
		"cpu/cpu.stat":                 "nr_periods 10\nnr_throttled 2\nthrottled_time 5000000\n",
		"pids/pids.current":            "3\n",
		"pids/pids.max":                "100\n",
	}
	for k, v := range files {
		base[k] = v
	}
	h := hostroottest.New().
		File("/proc/1/comm", "systemd\n").
		File("/proc/1/mountinfo", hybridMountInfo).
		File("/sys/fs/cgroup/unified/cgroup.controllers", "\n")
	for _, c := range []string{"cpu", "cpuacct", "memory", "pids", "systemd"} {
		h.Dir("/sys/fs/cgroup/" + c + "/docker/" + idA)
	}
	for k, v := range base {
		if v != "" {
			ctrl, file, _ := strings.Cut(k, "/")
			h.File("/sys/fs/cgroup/"+ctrl+"/docker/"+idA+"/"+file, v)
		}
	}
	return h
}

func TestResources(t *testing.T) {
	v2Entries := "0::/system.slice/docker-" + idA + ".scope\n"
	hybridEntries := v1File("/docker/"+idA, "/system.slice/docker.service")
	tests := []struct {
		name, source string
		host         *hostroottest.Host
		cgroup       string
		want         *Resources
		wantErr      error
	}{
		{
			name:   "v2 with every controller",
			source: "kernel Documentation/admin-guide/cgroup-v2.rst: memory.current, memory.max, cpu.stat, pids.*",
			host:   v2Host(nil),
			cgroup: v2Entries,
			want: &Resources{
				Memory: &Memory{Usage: 52428800, Limit: 256 << 20},
				CPU:    &CPU{Usage: 8123456 * time.Microsecond, Throttling: &Throttling{Periods: 1200, Throttled: 37, ThrottledTime: 912345 * time.Microsecond}},
				Pids:   &Pids{Current: 7, Max: Unlimited},
			},
		},
		{
			name:   "v2 without the cpu, memory and pids controllers enabled",
			source: "cgroup-v2.rst: cpu.stat keeps its usage lines in every cgroup; other files exist only where the controller is enabled",
			host:   v2Host(map[string]string{"cpu.stat": "usage_usec 100\nuser_usec 60\nsystem_usec 40\n", "memory.current": "", "memory.max": "", "pids.current": "", "pids.max": ""}),
			cgroup: v2Entries,
			want:   &Resources{CPU: &CPU{Usage: 100 * time.Microsecond}},
		},
		{
			name:   "v2 memory.max max",
			source: "cgroup-v2.rst: \"max\" for no limit",
			host:   v2Host(map[string]string{"memory.max": "max\n", "pids.max": "4096\n"}),
			cgroup: v2Entries,
			want: &Resources{
				Memory: &Memory{Usage: 52428800, Limit: Unlimited},
				CPU:    &CPU{Usage: 8123456 * time.Microsecond, Throttling: &Throttling{Periods: 1200, Throttled: 37, ThrottledTime: 912345 * time.Microsecond}},
				Pids:   &Pids{Current: 7, Max: 4096},
			},
		},
		{
			name:    "v2 cgroup gone",
			source:  "a container that stopped between listing and reading",
			host:    v2Host(nil),
			cgroup:  "0::/system.slice/docker-" + idB + ".scope\n",
			want:    &Resources{},
			wantErr: fs.ErrNotExist,
		},
		{
			name:   "v2 malformed memory.max",
			source: "malformed",
			host:   v2Host(map[string]string{"memory.max": "lots\n"}),
			cgroup: v2Entries,
			want: &Resources{
				CPU:  &CPU{Usage: 8123456 * time.Microsecond, Throttling: &Throttling{Periods: 1200, Throttled: 37, ThrottledTime: 912345 * time.Microsecond}},
				Pids: &Pids{Current: 7, Max: Unlimited},
			},
			wantErr: hostroot.ErrMalformed,
		},
		{
			name:   "hybrid, this machine's layout, cgroupfs docker",
			source: "this machine: v1 memory, cpu, cpuacct and pids hierarchies; the 0:: line is the daemon's",
			host:   hybridHost(nil),
			cgroup: hybridEntries,
			want: &Resources{
				Memory: &Memory{Usage: 1052672, Limit: Unlimited},
				CPU:    &CPU{Usage: 41234567890, Throttling: &Throttling{Periods: 10, Throttled: 2, ThrottledTime: 5 * time.Millisecond}},
				Pids:   &Pids{Current: 3, Max: 100},
			},
		},
		{
			name:   "v1 cpu.stat without bandwidth lines",
			source: "a kernel without CONFIG_CFS_BANDWIDTH writes no nr_periods",
			host:   hybridHost(map[string]string{"cpu/cpu.stat": "\n", "memory/memory.limit_in_bytes": "536870912\n"}),
			cgroup: hybridEntries,
			want: &Resources{
				Memory: &Memory{Usage: 1052672, Limit: 512 << 20},
				CPU:    &CPU{Usage: 41234567890},
				Pids:   &Pids{Current: 3, Max: 100},
			},
		},
		{
			name:   "v1 64 KiB-page no-limit figure",
			source: "arm64 with 64 KiB pages: PAGE_COUNTER_MAX * 65536",
			host:   hybridHost(map[string]string{"memory/memory.limit_in_bytes": "9223372036854710272\n"}),
			cgroup: hybridEntries,
			want: &Resources{
				Memory: &Memory{Usage: 1052672, Limit: Unlimited},
				CPU:    &CPU{Usage: 41234567890, Throttling: &Throttling{Periods: 10, Throttled: 2, ThrottledTime: 5 * time.Millisecond}},
				Pids:   &Pids{Current: 3, Max: 100},
			},
		},
		{
			name:   "v1 malformed cpu.stat",
			source: "malformed",
			host:   hybridHost(map[string]string{"cpu/cpu.stat": "nr_periods ten\n"}),
			cgroup: hybridEntries,
			want: &Resources{
				Memory: &Memory{Usage: 1052672, Limit: Unlimited},
				Pids:   &Pids{Current: 3, Max: 100},
			},
			wantErr: hostroot.ErrMalformed,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := hostroottest.MustRoot(t, tc.host)
			l, err := DetectLayout(context.Background(), r)
			if err != nil {
				t.Fatalf("DetectLayout: %v", err)
			}
			entries, err := ParseEntries([]byte(tc.cgroup), "/proc/100/cgroup")
			if err != nil {
				t.Fatal(err)
			}
			got, err := l.Resources(r, entries)
			if diff := cmp.Diff(tc.wantErr, err, cmpopts.EquateErrors()); diff != "" {
				t.Errorf("Resources() error mismatch (-want +got):\n%s\n(shape: %s)", diff, tc.source)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Resources() mismatch (-want +got):\n%s\n(shape: %s)", diff, tc.source)
			}
		})
	}
}

// TestResourcesOfContainer reads a podman container's figures through the
// entries of a process in its /container sub-cgroup.
func TestResourcesOfContainer(t *testing.T) {
	scope := "/sys/fs/cgroup/machine.slice/libpod-" + idC + ".scope"
	h := hostroottest.New().
		File("/proc/1/comm", "systemd\n").
		File("/proc/1/mountinfo", v2MountInfo).
		File("/sys/fs/cgroup/cgroup.controllers", "cpu memory pids\n").
		File(scope+"/memory.current", "4096\n").File(scope+"/memory.max", "1048576\n").
		File(scope+"/cpu.stat", "usage_usec 5\n").
		File(scope+"/pids.current", "2\n").File(scope+"/pids.max", "2048\n").
		File(scope+"/container/memory.current", "4096\n").File(scope+"/container/memory.max", "max\n")
	r := hostroottest.MustRoot(t, h)
	l, err := DetectLayout(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := ParseEntries([]byte("0::/machine.slice/libpod-"+idC+".scope/container\n"), "/proc/5/cgroup")
	c, ok := Identify(entries)
	if !ok {
		t.Fatal("no container")
	}
	got, err := l.Resources(r, ContainerEntries(entries, c))
	if err != nil {
		t.Fatal(err)
	}
	want := &Resources{Memory: &Memory{Usage: 4096, Limit: 1 << 20}, CPU: &CPU{Usage: 5 * time.Microsecond}, Pids: &Pids{Current: 2, Max: 2048}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Resources() mismatch (-want +got):\n%s", diff)
	}
}

func TestParseValues(t *testing.T) {
	tests := []struct {
		name, data string
		limit      bool
		want       uint64
		wantErr    error
	}{
		{name: "number", data: "123\n", want: 123},
		{name: "no newline", data: "123", want: 123},
		{name: "zero", data: "0\n", want: 0},
		{name: "max as a value", data: "max\n", wantErr: hostroot.ErrMalformed},
		{name: "max as a limit", data: "max\n", limit: true, want: Unlimited},
		{name: "v1 no limit, 4 KiB pages", data: "9223372036854771712\n", limit: true, want: Unlimited},
		{name: "just below the no-limit figures", data: "9223372036854710271\n", limit: true, want: 9223372036854710271},
		{name: "uint64 max", data: "18446744073709551615\n", want: 1<<64 - 1},
		{name: "overflow", data: "18446744073709551616\n", wantErr: hostroot.ErrMalformed},
		{name: "negative", data: "-1\n", limit: true, wantErr: hostroot.ErrMalformed},
		{name: "empty", data: "", wantErr: hostroot.ErrMalformed},
		{name: "blank line", data: "\n", wantErr: hostroot.ErrMalformed},
		{name: "two lines", data: "1\n2\n", wantErr: hostroot.ErrMalformed},
		{name: "space", data: "12 \n", wantErr: hostroot.ErrMalformed},
		{name: "Max capitalised", data: "Max\n", limit: true, wantErr: hostroot.ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parse := parseValue
			if tc.limit {
				parse = parseLimit
			}
			got, err := parse([]byte(tc.data), "/sys/fs/cgroup/x/memory.max")
			if diff := cmp.Diff(tc.wantErr, err, cmpopts.EquateErrors()); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s", diff)
			}
			if err != nil && !strings.Contains(err.Error(), "/sys/fs/cgroup/x/memory.max line ") {
				t.Errorf("error %q does not name the file and line", err)
			}
			if got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
}

func TestParseCPUStatV2(t *testing.T) {
	tests := []struct {
		name, data string
		want       *CPU
		wantErr    error
	}{
		{name: "full", data: v2CPUStat, want: &CPU{Usage: 8123456 * time.Microsecond, Throttling: &Throttling{Periods: 1200, Throttled: 37, ThrottledTime: 912345 * time.Microsecond}}},
		{name: "usage only", data: "usage_usec 1\nuser_usec 1\nsystem_usec 0\n", want: &CPU{Usage: time.Microsecond}},
		{name: "no usage line", data: "nr_periods 1\n", wantErr: hostroot.ErrMalformed},
		{name: "bad number", data: "usage_usec 1x\n", wantErr: hostroot.ErrMalformed},
		{name: "no value", data: "usage_usec\n", wantErr: hostroot.ErrMalformed},
		{name: "empty key", data: " 5\n", wantErr: hostroot.ErrMalformed},
		{name: "duration overflow", data: "usage_usec 18446744073709551615\n", wantErr: hostroot.ErrMalformed},
		{name: "empty", data: "", wantErr: hostroot.ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseCPUStatV2([]byte(tc.data), "/sys/fs/cgroup/cpu.stat")
			if diff := cmp.Diff(tc.wantErr, err, cmpopts.EquateErrors()); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadersUnsupported(t *testing.T) {
	l := &Layout{Mode: V1, Hierarchies: []Hierarchy{{Version: 1, Controllers: []string{"name=systemd"}, MountPoint: "/sys/fs/cgroup/systemd", Root: "/"}}}
	r := hostroottest.MustRoot(t, hostroottest.New())
	entries := []Entry{{HierarchyID: 1, Controllers: []string{"name=systemd"}, Path: "/"}}
	if _, err := l.Memory(r, entries); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Memory: %v, want ErrUnsupported", err)
	}
	if _, err := l.CPU(r, entries); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("CPU: %v, want ErrUnsupported", err)
	}
	if _, err := l.Pids(r, entries); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Pids: %v, want ErrUnsupported", err)
	}
	s, err := l.Resources(r, entries)
	if err != nil || s.Memory != nil || s.CPU != nil || s.Pids != nil {
		t.Errorf("Resources = %+v, %v; want nothing and no error", s, err)
	}
	if s, err := l.Resources(r, nil); !errors.Is(err, errors.ErrUnsupported) || s.Memory != nil {
		t.Errorf("Resources(no entries) = %+v, %v; want ErrUnsupported", s, err)
	}
}
