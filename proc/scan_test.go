package proc

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hostscope/hostscope/cgroup"
	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
)

// A small host: init, kthreadd and a kworker, a login shell with a deleted
// binary and a zombie child, and a container's init.
var (
	fakeInit = fakeProc{pid: 1, pgid: 1, sid: 1, comm: "systemd", state: "S", flags: 0x400100,
		utime: 150, stime: 250, start: 5, threads: 1, vsize: 22 << 20, rssPages: 3000, vmRSSkB: 12000,
		cmdline: "/sbin/init\x00splash\x00", exe: "/usr/lib/systemd/systemd", cwd: "/",
		cgroup: "0::/init.scope\n", ns: hostNS}
	fakeKthreadd = fakeProc{pid: 2, comm: "kthreadd", state: "S", flags: 0x208040, start: 5, threads: 1,
		cwd: "/", cgroup: "0::/\n", ns: hostNS}
	fakeKworker = fakeProc{pid: 10, ppid: 2, comm: "kworker/0:1-events", state: "I", flags: 0x4208060, stime: 3,
		start: 40, threads: 1, cwd: "/", cgroup: "0::/\n", ns: hostNS}
	fakeShell = fakeProc{pid: 100, ppid: 1, pgid: 100, sid: 100, ttyNr: 0x8800, comm: "bash", state: "S",
		flags: 0x400000, utime: 7, stime: 3, start: 12345, threads: 1, vsize: 8 << 20, rssPages: 900, vmRSSkB: 4000,
		uid: 1000, gid: 1000, groups: "4 24 1000 ", cmdline: "-bash\x00", exe: "/usr/bin/bash (deleted)",
		cwd: "/home/u", cgroup: "0::/user.slice\n", ns: hostNS}
	fakeZombie = fakeProc{pid: 101, ppid: 100, pgid: 100, sid: 100, comm: "sleep", state: "Z", flags: 0x40040c,
		start: 20000, threads: 1, uid: 1000, gid: 1000, cgroup: "0::/user.slice\n"}
	fakeContainer = fakeProc{pid: 500, ppid: 1, pgid: 500, sid: 500, comm: "nginx", state: "S", flags: 0x400100,
		start: 30000, threads: 2, vsize: 10 << 20, rssPages: 100, vmRSSkB: 512, nspid: "500\t1",
		capEff: "00000000a80425fb", seccomp: 2, cmdline: "nginx: master process nginx -g daemon off;\x00",
		exe: "/usr/sbin/nginx", cwd: "/", cgroup: "0::/system.slice/docker-abc.scope\n",
		ns: map[string]uint64{"cgroup": 4026532500, "ipc": 4026532501, "mnt": 4026532502, "net": 4026532503,
			"pid": 4026532504, "pid_for_children": 4026532504, "user": 4026531837, "uts": 4026532505}}
)

func start(ticks uint64) time.Time {
	return fixtureBoot.Add(time.Duration(ticks) * 10 * time.Millisecond)
}

var (
	hostCaps = uint64(0x000001ffffffffff)
	wantInit = &Process{PID: 1, PGID: 1, SID: 1, Comm: "systemd", State: "S",
		Cmdline: []string{"/sbin/init", "splash"}, Exe: "/usr/lib/systemd/systemd", Cwd: "/",
		StartTime: start(5), StartTicks: 5, UTime: 1500 * time.Millisecond, STime: 2500 * time.Millisecond,
		RSS: 12000 << 10, VSize: 22 << 20, Threads: 1, Priority: 20,
		CapPrm: hostCaps, CapEff: hostCaps, CapBnd: hostCaps, Namespaces: hostNamespaces, NSpid: []int{1},
		Cgroups: []cgroup.Entry{{Path: "/init.scope"}}}
	wantKthreadd = &Process{PID: 2, Comm: "kthreadd", State: "S", Cwd: "/", StartTime: start(5), StartTicks: 5, Threads: 1,
		Priority: 20, CapPrm: hostCaps, CapEff: hostCaps, CapBnd: hostCaps, Namespaces: hostNamespaces,
		NSpid: []int{2}, Cgroups: []cgroup.Entry{{Path: "/"}}, KernelThread: true}
	wantKworker = &Process{PID: 10, PPID: 2, Comm: "kworker/0:1-events", State: "I", Cwd: "/",
		StartTime: start(40), StartTicks: 40, STime: 30 * time.Millisecond, Threads: 1, Priority: 20,
		CapPrm: hostCaps, CapEff: hostCaps, CapBnd: hostCaps, Namespaces: hostNamespaces, NSpid: []int{10},
		Cgroups: []cgroup.Entry{{Path: "/"}}, KernelThread: true}
	wantShell = &Process{PID: 100, PPID: 1, PGID: 100, SID: 100, TTY: TTY{Major: 136}, Comm: "bash", State: "S",
		Cmdline: []string{"-bash"}, Exe: "/usr/bin/bash", ExeDeleted: true, Cwd: "/home/u",
		UIDs: IDs{1000, 1000, 1000, 1000}, GIDs: IDs{1000, 1000, 1000, 1000}, Groups: []uint32{4, 24, 1000},
		StartTime: start(12345), StartTicks: 12345, UTime: 70 * time.Millisecond, STime: 30 * time.Millisecond,
		RSS: 4000 << 10, VSize: 8 << 20, Threads: 1, Priority: 20,
		CapPrm: hostCaps, CapEff: hostCaps, CapBnd: hostCaps, Namespaces: hostNamespaces, NSpid: []int{100},
		Cgroups: []cgroup.Entry{{Path: "/user.slice"}}}
	wantZombie = &Process{PID: 101, PPID: 100, PGID: 100, SID: 100, Comm: "sleep", State: "Z",
		UIDs: IDs{1000, 1000, 1000, 1000}, GIDs: IDs{1000, 1000, 1000, 1000},
		StartTime: start(20000), StartTicks: 20000, Threads: 1, Priority: 20, CapPrm: hostCaps, CapEff: hostCaps, CapBnd: hostCaps,
		NSpid: []int{101}, Cgroups: []cgroup.Entry{{Path: "/user.slice"}}}
	wantContainer = &Process{PID: 500, PPID: 1, PGID: 500, SID: 500, Comm: "nginx", State: "S",
		Cmdline: []string{"nginx: master process nginx -g daemon off;"}, Exe: "/usr/sbin/nginx", Cwd: "/",
		StartTime: start(30000), StartTicks: 30000, RSS: 512 << 10, VSize: 10 << 20, Threads: 2, Priority: 20,
		CapPrm: 0xa80425fb, CapEff: 0xa80425fb, CapBnd: hostCaps, Seccomp: SeccompFilter,
		Namespaces: Namespaces{Cgroup: 4026532500, IPC: 4026532501, Mnt: 4026532502, Net: 4026532503,
			PID: 4026532504, PIDForChildren: 4026532504, User: 4026531837, UTS: 4026532505},
		NSpid: []int{500, 1}, Cgroups: []cgroup.Entry{{Path: "/system.slice/docker-abc.scope"}}}
)

func smallHost(extra ...fakeProc) *hostroottest.Host {
	h := newHost()
	for _, p := range append([]fakeProc{fakeInit, fakeKthreadd, fakeKworker, fakeShell, fakeZombie, fakeContainer}, extra...) {
		p.add(h)
	}
	return h
}

// diffOpts compares Processes with errors compared by errors.Is.
var diffOpts = []cmp.Option{cmpopts.EquateErrors(), cmpopts.EquateEmpty()}

func TestScanSmallHost(t *testing.T) {
	r := hostroottest.MustRoot(t, smallHost())
	got, err := List(context.Background(), r, &ScanOptions{Fields: FieldAll})
	if err != nil {
		t.Fatal(err)
	}
	want := []*Process{wantInit, wantKthreadd, wantKworker, wantShell, wantZombie, wantContainer}
	if diff := cmp.Diff(want, got, diffOpts...); diff != "" {
		t.Errorf("List() mismatch (-want +got):\n%s", diff)
	}
}

// TestScanOpensOnlyRequestedFiles records every file a scan touches.
func TestScanOpensOnlyRequestedFiles(t *testing.T) {
	tests := []struct {
		fields Field
		files  []string // per process; kernel threads and zombies skip links
	}{
		{FieldStat, []string{"stat"}},
		{FieldStatus, []string{"status"}},
		{FieldCmdline | FieldCgroups, []string{"cmdline", "cgroup"}},
		{FieldExe, []string{"exe"}},
		{FieldStat | FieldExe | FieldCwd, []string{"stat", "exe", "cwd"}},
		{FieldNamespaces, []string{"ns/"}},
	}
	for _, tt := range tests {
		t.Run(tt.fields.String(), func(t *testing.T) {
			h := smallHost()
			var touched []string
			hook := map[string]func(){}
			for _, p := range []int{1, 2, 10, 100, 101, 500} {
				for _, f := range []string{"stat", "status", "cmdline", "cgroup", "exe", "cwd", "environ", "ns/net", "ns/pid", "ns/uts"} {
					name := fmt.Sprintf("/proc/%d/%s", p, f)
					hook[name] = func() { touched = append(touched, name) }
				}
			}
			readStat := false
			hook["/proc/stat"] = func() { readStat = true }
			r := hookedRoot(t, h, nil, hook)
			if _, err := List(context.Background(), r, &ScanOptions{Fields: tt.fields}); err != nil {
				t.Fatal(err)
			}
			for _, name := range touched {
				ok := false
				for _, f := range tt.files {
					ok = ok || strings.HasSuffix(name, "/"+f) || strings.HasSuffix(f, "/") && strings.Contains(name, "/"+f)
				}
				if !ok {
					t.Errorf("scan of %v touched %s", tt.fields, name)
				}
			}
			if len(touched) == 0 {
				t.Errorf("scan of %v touched nothing", tt.fields)
			}
			if readStat != (tt.fields&FieldStat != 0) {
				t.Errorf("scan of %v read /proc/stat: %v", tt.fields, readStat)
			}
			if tt.fields == FieldExe && slices.Contains(touched, "/proc/2/exe") {
				t.Errorf("exe link of a kernel thread read although it has none")
			}
		})
	}
}

func TestScanStatusOnly(t *testing.T) {
	r := hostroottest.MustRoot(t, smallHost())
	got, err := Read(r, 2, FieldStatus)
	if err != nil {
		t.Fatal(err)
	}
	want := &Process{PID: 2, Comm: "kthreadd", State: "S", Threads: 1, CapPrm: hostCaps, CapEff: hostCaps,
		CapBnd: hostCaps, NSpid: []int{2}, KernelThread: true}
	if diff := cmp.Diff(want, got, diffOpts...); diff != "" {
		t.Errorf("Read(2, status) mismatch (-want +got):\n%s", diff)
	}
	got, err = Read(r, 100, FieldStatus)
	if err != nil {
		t.Fatal(err)
	}
	want = &Process{PID: 100, PPID: 1, Comm: "bash", State: "S", UIDs: wantShell.UIDs, GIDs: wantShell.GIDs,
		Groups: wantShell.Groups, RSS: 4000 << 10, VSize: 8 << 20, Threads: 1, CapPrm: hostCaps, CapEff: hostCaps,
		CapBnd: hostCaps, NSpid: []int{100}}
	if diff := cmp.Diff(want, got, diffOpts...); diff != "" {
		t.Errorf("Read(100, status) mismatch (-want +got):\n%s", diff)
	}
}

func TestScanRSSFromStatWithoutStatus(t *testing.T) {
	r := hostroottest.MustRoot(t, smallHost())
	got, err := Read(r, 100, FieldStat)
	if err != nil {
		t.Fatal(err)
	}
	if want := uint64(900 * pageSize()); got.RSS != want {
		t.Errorf("RSS from stat = %d, want %d (900 pages)", got.RSS, want)
	}
}

func TestScanSparseProcess(t *testing.T) {
	// A snapshot that kept only stat of PID 200, and nothing of PID 201.
	sparse := fakeProc{pid: 200, ppid: 1, pgid: 200, sid: 200, comm: "cron", state: "S", start: 50, threads: 1,
		files: []string{"stat"}}
	h := smallHost(sparse)
	h.Dir("/proc/201")
	r := hostroottest.MustRoot(t, h)
	got, err := List(context.Background(), r, &ScanOptions{Fields: FieldAll})
	if err != nil {
		t.Fatal(err)
	}
	byPID := map[int]*Process{}
	for _, p := range got {
		byPID[p.PID] = p
	}
	want := &Process{PID: 200, PPID: 1, PGID: 200, SID: 200, Comm: "cron", State: "S", StartTime: start(50), StartTicks: 50,
		Threads: 1, Priority: 20, Missing: map[Field]error{
			FieldStatus: fs.ErrNotExist, FieldCmdline: fs.ErrNotExist, FieldExe: fs.ErrNotExist,
			FieldCwd: fs.ErrNotExist, FieldNamespaces: fs.ErrNotExist, FieldCgroups: fs.ErrNotExist,
			FieldFDs: fs.ErrNotExist,
		}}
	if diff := cmp.Diff(want, byPID[200], diffOpts...); diff != "" {
		t.Errorf("sparse process mismatch (-want +got):\n%s", diff)
	}
	want = &Process{PID: 201, Missing: map[Field]error{
		FieldStat: fs.ErrNotExist, FieldStatus: fs.ErrNotExist, FieldCmdline: fs.ErrNotExist, FieldExe: fs.ErrNotExist,
		FieldCwd: fs.ErrNotExist, FieldNamespaces: fs.ErrNotExist, FieldCgroups: fs.ErrNotExist,
		FieldFDs: fs.ErrNotExist,
	}}
	if diff := cmp.Diff(want, byPID[201], diffOpts...); diff != "" {
		t.Errorf("empty process directory mismatch (-want +got):\n%s", diff)
	}
	if len(got) != 8 {
		t.Errorf("List() returned %d processes, want 8", len(got))
	}
}

func TestScanPermissionDenied(t *testing.T) {
	r := hookedRoot(t, smallHost(), []string{"/proc/1/exe", "/proc/1/cwd", "/proc/1/ns/cgroup", "/proc/500/status", "/proc/500/environ"}, nil)
	got, err := List(context.Background(), r, &ScanOptions{Fields: FieldAll})
	if err != nil {
		t.Fatal(err)
	}
	init := *wantInit
	init.Exe, init.Cwd, init.Namespaces = "", "", Namespaces{}
	init.Missing = map[Field]error{FieldExe: fs.ErrPermission, FieldCwd: fs.ErrPermission, FieldNamespaces: fs.ErrPermission}
	ctr := *wantContainer
	ctr.CapPrm, ctr.CapEff, ctr.CapBnd, ctr.Seccomp, ctr.NSpid = 0, 0, 0, 0, nil
	ctr.RSS = 100 * uint64(pageSize()) // from stat, status being unreadable
	ctr.Missing = map[Field]error{FieldStatus: fs.ErrPermission}
	want := []*Process{&init, wantKthreadd, wantKworker, wantShell, wantZombie, &ctr}
	if diff := cmp.Diff(want, got, diffOpts...); diff != "" {
		t.Errorf("List() mismatch (-want +got):\n%s", diff)
	}
	if err := got[0].Missing[FieldExe]; !strings.Contains(err.Error(), "/proc/1/exe") {
		t.Errorf("Missing error %q does not name the file", err)
	}
}

func TestScanVanishing(t *testing.T) {
	h := smallHost()
	r := hookedRoot(t, h, nil, map[string]func(){
		// The zombie is reaped between its stat and its cmdline.
		"/proc/101/cmdline": func() { h.RemoveAll("/proc/101") },
	})
	var got []int
	err := Scan(context.Background(), r, &ScanOptions{Fields: FieldAll}, func(p *Process) error {
		got = append(got, p.PID)
		if p.PID == 2 {
			// PID 10 exits before the scan reaches it.
			h.RemoveAll("/proc/10")
		}
		if p.Missing != nil {
			t.Errorf("process %d: Missing = %v", p.PID, p.Missing)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{1, 2, 100, 500}; !slices.Equal(got, want) {
		t.Errorf("Scan() yielded %v, want %v", got, want)
	}
}

func TestScanContext(t *testing.T) {
	r := hostroottest.MustRoot(t, smallHost())
	ctx, cancel := context.WithCancel(context.Background())
	var got []int
	err := Scan(ctx, r, nil, func(p *Process) error {
		got = append(got, p.PID)
		if len(got) == 2 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || !slices.Equal(got, []int{1, 2}) {
		t.Errorf("Scan() = %v after %v, want context.Canceled after [1 2]", err, got)
	}
	if _, err := List(ctx, r, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("List() with a cancelled context = %v", err)
	}
}

func TestScanCallbackError(t *testing.T) {
	r := hostroottest.MustRoot(t, smallHost())
	stop := errors.New("enough")
	n := 0
	err := Scan(context.Background(), r, nil, func(p *Process) error {
		n++
		return stop
	})
	if err != stop || n != 1 {
		t.Errorf("Scan() = %v after %d calls, want the callback's error after 1", err, n)
	}
}

func TestScanNoProc(t *testing.T) {
	r := hostroottest.MustRoot(t, hostroottest.New().Dir("/etc"))
	err := Scan(context.Background(), r, nil, func(*Process) error { return nil })
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Scan() without /proc = %v, want ErrNotExist", err)
	}
}

func TestReadOne(t *testing.T) {
	r := hostroottest.MustRoot(t, smallHost())
	got, err := Read(r, 100, FieldAll)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantShell, got, diffOpts...); diff != "" {
		t.Errorf("Read(100) mismatch (-want +got):\n%s", diff)
	}
	for _, pid := range []int{4242, 0, -1} {
		if p, err := Read(r, pid, 0); !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrInvalid) || p != nil {
			t.Errorf("Read(%d) = %v, %v, want an ErrNotExist or ErrInvalid error", pid, p, err)
		}
	}
}

func TestScanWithoutBootTime(t *testing.T) {
	h := smallHost()
	h.Remove("/proc/stat")
	r := hostroottest.MustRoot(t, h)
	got, err := Read(r, 1, FieldStat)
	if err != nil {
		t.Fatal(err)
	}
	if !got.StartTime.IsZero() || got.Comm != "systemd" || !errors.Is(got.Missing[FieldStartTime], fs.ErrNotExist) || len(got.Missing) != 1 {
		t.Errorf("Read(1) without /proc/stat = %+v", got)
	}
}

func TestScanMalformed(t *testing.T) {
	h := smallHost()
	h.File("/proc/100/stat", "100 (bash) S garbage\n")
	h.File("/proc/100/cgroup", "no colons here\n1:name=systemd:/system.slice/docker-0123.scope\n")
	h.Symlink("/proc/100/ns/net", "net:[oops]")
	r := hostroottest.MustRoot(t, h)
	got, err := Read(r, 100, FieldAll)
	if err != nil {
		t.Fatal(err)
	}
	for f, file := range map[Field]string{FieldStat: "/proc/100/stat", FieldCgroups: "/proc/100/cgroup", FieldNamespaces: "/proc/100/ns/net"} {
		if err := got.Missing[f]; !errors.Is(err, hostroot.ErrMalformed) || !strings.Contains(err.Error(), file+" line 1: ") {
			t.Errorf("Missing[%v] = %v, want ErrMalformed naming %s line 1", f, err, file)
		}
	}
	// The malformed cgroup line is reported; the good one is kept.
	if want := []cgroup.Entry{{HierarchyID: 1, Controllers: []string{"name=systemd"}, Path: "/system.slice/docker-0123.scope"}}; !cmp.Equal(got.Cgroups, want) {
		t.Errorf("Cgroups beside a malformed line = %+v, want %+v", got.Cgroups, want)
	}
	// Status still filled what stat could not.
	h.File("/proc/500/stat", statLine(map[int]string{14: "18446744073709551615"}))
	ctr, err := Read(hostroottest.MustRoot(t, h), 500, FieldStat)
	if err != nil {
		t.Fatal(err)
	}
	if err := ctr.Missing[FieldStat]; !errors.Is(err, hostroot.ErrMalformed) || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("Missing[stat] for a CPU time beyond time.Duration = %v", err)
	}
	if got.Comm != "bash" || got.PPID != 1 || got.UIDs.Real != 1000 || got.Exe != "/usr/bin/bash" {
		t.Errorf("Read(100) with a malformed stat = %+v", got)
	}
}

func TestScanOlderKernelNamespaces(t *testing.T) {
	// No time namespace (Linux < 5.6): those stay zero, nothing is missing.
	h := newHost()
	ns := map[string]uint64{}
	for k, v := range hostNS {
		if !strings.HasPrefix(k, "time") {
			ns[k] = v
		}
	}
	p := fakeInit
	p.ns = ns
	p.add(h)
	got, err := Read(hostroottest.MustRoot(t, h), 1, FieldNamespaces)
	if err != nil {
		t.Fatal(err)
	}
	want := hostNamespaces
	want.Time, want.TimeForChildren = 0, 0
	if got.Namespaces != want || got.Missing != nil {
		t.Errorf("Namespaces = %+v, Missing %v; want %+v", got.Namespaces, got.Missing, want)
	}
}

func TestPIDs(t *testing.T) {
	h := smallHost()
	h.Dir("/proc/99999")
	h.Dir("/proc/4294967296") // beyond pid_t
	h.Dir("/proc/12a")
	got, err := PIDs(hostroottest.MustRoot(t, h))
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{1, 2, 10, 100, 101, 500, 99999}; !slices.Equal(got, want) {
		t.Errorf("PIDs() = %v, want %v", got, want)
	}
}

func TestFieldString(t *testing.T) {
	for f, want := range map[Field]string{
		0:                          "none",
		FieldStat:                  "stat",
		FieldStat | FieldCgroups:   "stat|cgroup",
		FieldAll:                   "stat|status|cmdline|exe|cwd|ns|cgroup|starttime|container|fd|fdinfo|sockets",
		FieldExe | 1<<20 | 1<<21:   "exe|0x300000",
		DefaultFields &^ FieldStat: "status|cmdline|exe|cgroup",
	} {
		if got := f.String(); got != want {
			t.Errorf("Field(%#x).String() = %q, want %q", uint32(f), got, want)
		}
	}
	for m, want := range map[SeccompMode]string{0: "disabled", 1: "strict", 2: "filter", 3: "seccomp(3)"} {
		if got := m.String(); got != want {
			t.Errorf("SeccompMode(%d).String() = %q, want %q", m, got, want)
		}
	}
}
