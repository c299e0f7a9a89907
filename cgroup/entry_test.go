package cgroup

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hostscope/hostscope/hostroot"
)

func TestParseEntries(t *testing.T) {
	tests := []struct {
		name, source, data string
		want               []Entry
		wantErr            error
	}{
		{
			name:   "v2",
			source: "cgroups(7): a cgroup v2 host writes one 0:: line",
			data:   "0::/user.slice/user-1000.slice/session-3.scope\n",
			want:   []Entry{{HierarchyID: 0, Path: "/user.slice/user-1000.slice/session-3.scope"}},
		},
		{
			name:   "hybrid, this machine",
			source: "this machine (5.x kernel, systemd hybrid layout): separate cpu and cpuacct hierarchies, name=systemd and 0::",
			data:   "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/" + hexA + "\n2:cpuacct:/\n1:cpu:/\n0::/\n",
			want: []Entry{
				{HierarchyID: 9, Controllers: []string{"name=systemd"}, Path: "/"},
				{HierarchyID: 8, Controllers: []string{"pids"}, Path: "/"},
				{HierarchyID: 4, Controllers: []string{"memory"}, Path: "/process_api/" + hexA},
				{HierarchyID: 2, Controllers: []string{"cpuacct"}, Path: "/"},
				{HierarchyID: 1, Controllers: []string{"cpu"}, Path: "/"},
				{HierarchyID: 0, Path: "/"},
			},
		},
		{
			name:   "v1 multi-controller lines",
			source: "co-mounted v1 controllers: cpu,cpuacct and net_cls,net_prio on one hierarchy each",
			data:   "6:cpu,cpuacct:/docker/" + idA + "\n2:net_cls,net_prio:/docker/" + idA + "\n",
			want: []Entry{
				{HierarchyID: 6, Controllers: []string{"cpu", "cpuacct"}, Path: "/docker/" + idA},
				{HierarchyID: 2, Controllers: []string{"net_cls", "net_prio"}, Path: "/docker/" + idA},
			},
		},
		{
			name:   "named hierarchies",
			source: "mount -t cgroup -o none,name=systemd: named v1 hierarchies without controllers",
			data:   "14:name=elogind:/\n1:name=systemd:/init.scope\n",
			want: []Entry{
				{HierarchyID: 14, Controllers: []string{"name=elogind"}, Path: "/"},
				{HierarchyID: 1, Controllers: []string{"name=systemd"}, Path: "/init.scope"},
			},
		},
		{
			name:   "empty controller list on a v1 hierarchy",
			source: "a v1 hierarchy mounted with -o none and no name, or a v2 line: the list is empty",
			data:   "13::/docker/" + idA + "\n",
			want:   []Entry{{HierarchyID: 13, Path: "/docker/" + idA}},
		},
		{
			name:   "path holding ':'",
			source: "runc's literal slice:prefix:id cgroups: only the first two colons separate fields",
			data:   "1:name=systemd:/kubepods-pod" + uidA + ".slice:cri-containerd:" + idA + "\n",
			want:   []Entry{{HierarchyID: 1, Controllers: []string{"name=systemd"}, Path: "/kubepods-pod" + uidA + ".slice:cri-containerd:" + idA}},
		},
		{
			name:   "relative path",
			source: "cgroup_namespaces(7): a cgroup outside the reader's namespace",
			data:   "0::/../../init.scope\n",
			want:   []Entry{{Path: "/../../init.scope"}},
		},
		{
			name:   "empty path",
			source: "a hierarchy line with nothing after the second colon",
			data:   "11:perf_event:\n",
			want:   []Entry{{HierarchyID: 11, Controllers: []string{"perf_event"}}},
		},
		{
			name:   "indentation, CRLF and blank lines",
			source: "texts copied from source code and Windows tools",
			data:   "\r\n\t\t2:pids:/docker/" + idA + "\r\n   \n",
			want:   []Entry{{HierarchyID: 2, Controllers: []string{"pids"}, Path: "/docker/" + idA}},
		},
		{
			name:   "no trailing newline",
			source: "a file cut by a reader's buffer",
			data:   "0::/init.scope",
			want:   []Entry{{Path: "/init.scope"}},
		},
		{name: "empty", source: "a zombie's cgroup file", data: ""},
		{
			name: "garbage line kept apart", source: "malformed", data: "other_line\n0::/init.scope\n",
			want: []Entry{{Path: "/init.scope"}}, wantErr: hostroot.ErrMalformed,
		},
		{name: "negative hierarchy ID", source: "malformed", data: "-1::/\n", wantErr: hostroot.ErrMalformed},
		{name: "hierarchy ID overflow", source: "malformed", data: "99999999999999999999::/\n", wantErr: hostroot.ErrMalformed},
		{name: "hex hierarchy ID", source: "malformed", data: "0x1::/\n", wantErr: hostroot.ErrMalformed},
		{name: "one colon", source: "malformed", data: "1:name=systemd\n", wantErr: hostroot.ErrMalformed},
		{name: "no colon", source: "malformed", data: "cgroup\n", wantErr: hostroot.ErrMalformed},
		{name: "empty controller in list", source: "malformed", data: "3:cpu,,cpuacct:/\n", wantErr: hostroot.ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseEntries([]byte(tc.data), "/proc/42/cgroup")
			if diff := cmp.Diff(tc.wantErr, err, cmpopts.EquateErrors()); diff != "" {
				t.Errorf("ParseEntries() error mismatch (-want +got):\n%s\n(shape: %s)", diff, tc.source)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseEntries() mismatch (-want +got):\n%s\n(shape: %s)", diff, tc.source)
			}
		})
	}
}

func TestParseEntriesErrorNamesFileAndLine(t *testing.T) {
	_, err := ParseEntries([]byte("0::/\n\nbad\nworse\n"), "/proc/42/cgroup")
	if !errors.Is(err, hostroot.ErrMalformed) || !strings.HasPrefix(err.Error(), hostroot.ErrMalformed.Error()+": /proc/42/cgroup line 3: ") {
		t.Errorf("error = %v, want ErrMalformed naming /proc/42/cgroup line 3", err)
	}
}

// TestParseEntriesThisMachine parses the live /proc/self/cgroup and
// /proc/1/cgroup: every line the kernel writes must parse.
func TestParseEntriesThisMachine(t *testing.T) {
	r, err := hostroot.Native()
	if err != nil {
		t.Skipf("no native root: %v", err)
	}
	defer r.Close()
	for _, name := range []string{"/proc/self/cgroup", "/proc/1/cgroup"} {
		data, err := r.ReadFile(name)
		if err != nil {
			t.Skipf("no %s: %v", name, err)
		}
		entries, err := ParseEntries(data, name)
		if err != nil {
			t.Fatalf("ParseEntries(%s): %v", name, err)
		}
		if len(entries) == 0 {
			t.Errorf("%s: no entries in %q", name, data)
		}
	}
}

func TestEntryHas(t *testing.T) {
	e := Entry{HierarchyID: 5, Controllers: []string{"cpu", "cpuacct"}}
	if !e.Has("cpuacct") || e.Has("cpuset") || (Entry{}).Has("") {
		t.Errorf("Has gives wrong answers for %+v", e)
	}
}
