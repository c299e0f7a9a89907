package cgroup

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
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

// referenceParseEntries is ParseEntries as it was before it sliced every
// string from one copy of the file: a line at a time, a string per Path
// and a strings.Split per controller list. FuzzParseEntriesSame holds the
// two to the same answers.
func referenceParseEntries(data []byte, name string) ([]Entry, error) {
	var entries []Entry
	var firstErr error
	for lineNo := 1; len(data) > 0; lineNo++ {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		line = bytes.TrimLeft(line, " \t")
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		e, err := func() (Entry, error) {
			id, rest, ok := bytes.Cut(line, []byte{':'})
			if !ok {
				return Entry{}, fmt.Errorf("no ':' after the hierarchy ID")
			}
			ctrl, path, ok := bytes.Cut(rest, []byte{':'})
			if !ok {
				return Entry{}, fmt.Errorf("no ':' after the controller list")
			}
			n, err := strconv.ParseUint(string(id), 10, 31)
			if err != nil {
				return Entry{}, fmt.Errorf("hierarchy ID %q is not a number", id)
			}
			e := Entry{HierarchyID: int(n), Path: string(path)}
			if len(ctrl) > 0 {
				e.Controllers = strings.Split(string(ctrl), ",")
				if slices.Contains(e.Controllers, "") {
					return Entry{}, fmt.Errorf("empty name in controller list %q", ctrl)
				}
			}
			return e, nil
		}()
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("%w: %s line %d: %v", hostroot.ErrMalformed, name, lineNo, err)
			}
			continue
		}
		entries = append(entries, e)
	}
	return entries, firstErr
}

// sameAsReference fails when ParseEntries and referenceParseEntries differ
// on data, in entries or in the error's text, or when one entry's
// Controllers can be appended to over another's.
func sameAsReference(t *testing.T, data []byte) {
	t.Helper()
	got, gotErr := ParseEntries(data, "/proc/7/cgroup")
	want, wantErr := referenceParseEntries(data, "/proc/7/cgroup")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("ParseEntries(%q) differs from the reference (-reference +got):\n%s", data, diff)
	}
	if fmt.Sprint(wantErr) != fmt.Sprint(gotErr) || errors.Is(gotErr, hostroot.ErrMalformed) != (gotErr != nil) {
		t.Fatalf("ParseEntries(%q) error = %v, reference %v", data, gotErr, wantErr)
	}
	for _, e := range got {
		if cap(e.Controllers) != len(e.Controllers) {
			t.Fatalf("ParseEntries(%q): Controllers %q has room for %d more", data, e.Controllers, cap(e.Controllers)-len(e.Controllers))
		}
	}
}

func TestParseEntriesSameAsReference(t *testing.T) {
	for _, data := range []string{
		"", "\n", "\n\n0::/\n", "0::/", "0::/\n\n", " \t\r\n", "\u00a0\n0::/\n", "\v\f\n",
		"12:cpu,cpuacct:/a,b\n11:net_cls,net_prio:/\n10::/\n0::/x:y:z\r\n",
		"3:cpu,,cpuacct:/\n", "3:,cpu:/\n", "3:cpu,:/\n", "3:,:/\n", "3:,\n", "x\n0::/\n1:a:/\nbad",
		"1:name=systemd\n:x:/\n-1::/\n3:cpu,,cpuacct:/\n\r\n\t0::/a:b:c\r\n",
		v1Cgroup,
	} {
		sameAsReference(t, []byte(data))
	}
}

// FuzzParseEntriesSame holds ParseEntries to the reference implementation.
func FuzzParseEntriesSame(f *testing.F) {
	f.Add([]byte(v1Cgroup))
	f.Add([]byte("1:name=systemd\n:x:/\n-1::/\n3:cpu,,cpuacct:/\n\r\n\t0::/a:b:c\r\n"))
	f.Add([]byte("4:a,b,c:/,\n\n5:d:\n"))
	f.Fuzz(func(t *testing.T, data []byte) { sameAsReference(t, data) })
}

// v1Cgroup is a cgroup v1 (hybrid) file of ten lines, the shape a scan
// reads once per process on such a host (a Debian 11 capture's layout).
const v1Cgroup = "12:devices:/user.slice\n11:cpu,cpuacct:/user.slice\n10:memory:/user.slice/user-1000.slice/session-2.scope\n" +
	"9:pids:/user.slice/user-1000.slice/session-2.scope\n8:net_cls,net_prio:/\n7:blkio:/user.slice\n6:freezer:/\n" +
	"5:perf_event:/\n4:cpuset:/\n1:name=systemd:/user.slice/user-1000.slice/session-2.scope\n"

// TestParseEntriesAllocations: a file costs three allocations (its text,
// the entries, the controller lists), whatever its length.
func TestParseEntriesAllocations(t *testing.T) {
	data := []byte(v1Cgroup)
	if n := testing.AllocsPerRun(100, func() {
		if _, err := ParseEntries(data, "/proc/7/cgroup"); err != nil {
			t.Fatal(err)
		}
	}); n > 3 {
		t.Errorf("ParseEntries of 10 lines: %v allocations, want at most 3", n)
	}
}

func BenchmarkParseEntries(b *testing.B) {
	data := []byte(v1Cgroup)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseEntries(data, "/proc/7/cgroup"); err != nil {
			b.Fatal(err)
		}
	}
}
