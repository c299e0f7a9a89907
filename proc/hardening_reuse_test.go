package proc

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Two processes that hold PID 300 one after the other, told apart by every
// file.
var (
	reuseFirst = fakeProc{pid: 300, ppid: 1, comm: "first", state: "S", flags: 0x400000, start: 100, threads: 1,
		uid: 1000, gid: 1000, cmdline: "first\x00", exe: "/usr/bin/first", cwd: "/home/first",
		cgroup: "0::/first.slice\n", ns: hostNS}
	reuseSecond = fakeProc{pid: 300, ppid: 1, comm: "second", state: "S", flags: 0x400000, start: 900, threads: 1,
		uid: 2000, gid: 2000, cmdline: "second\x00", exe: "/usr/bin/second", cwd: "/home/second",
		cgroup: "0::/second.slice\n", ns: hostNS}
)

// TestScanPIDReusedMidRead: the first process exits and its PID goes to a
// second one between two files of one read. The Process must describe one
// of them wholly (the read starts over and gives the second), never stat of
// the first with status, cmdline or links of the second.
func TestScanPIDReusedMidRead(t *testing.T) {
	for _, file := range []string{"status", "cmdline", "exe", "cwd", "ns/net", "cgroup"} {
		t.Run(file, func(t *testing.T) {
			h := newHost()
			reuseFirst.add(h)
			fired := false
			r := hookedRoot(t, h, nil, map[string]func(){
				"/proc/300/" + file: func() {
					if fired {
						return
					}
					fired = true
					if err := h.RemoveAll("/proc/300"); err != nil {
						t.Fatal(err)
					}
					reuseSecond.add(h)
				},
			})
			procs, err := List(context.Background(), r, &ScanOptions{Fields: FieldAll})
			if err != nil {
				t.Fatal(err)
			}
			if !fired {
				t.Fatalf("the scan never read /proc/300/%s", file)
			}
			if len(procs) != 1 {
				t.Fatalf("List() = %d processes, want 1", len(procs))
			}
			p := procs[0]
			got := []string{p.Comm, p.Exe, p.Cwd, p.Cgroups[0].Path}
			if len(p.Cmdline) > 0 {
				got = append(got, p.Cmdline[0])
			}
			want := []string{"second", "/usr/bin/second", "/home/second", "/second.slice", "second"}
			if diff := cmp.Diff(want, got); diff != "" || p.UIDs.Real != 2000 || p.Missing != nil {
				t.Errorf("PID 300 mixes the two processes (-second +got):\n%s\nuid %d, Missing %v", diff, p.UIDs.Real, p.Missing)
			}
		})
	}
}

// TestScanProcessExitingMidRead: a process starts to exit between its stat
// and its links. procfs keeps its directory (it is a zombie, or PF_EXITING
// is set) but its exe, cwd and ns links answer ENOENT: those fields are
// absent, as a zombie's are, and not reported as Missing. A sparse
// snapshot, whose process is not exiting, still reports them.
func TestScanProcessExitingMidRead(t *testing.T) {
	for _, tc := range []struct {
		name, state string
		flags       uint32
		wantMissing bool
	}{
		{"zombie", "Z", 0x40040c, false},
		{"PF_EXITING", "R", 0x400104, false},
		{"still running (a sparse snapshot)", "S", 0x400100, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHost()
			p := reuseFirst
			p.add(h)
			r := hookedRoot(t, h, nil, map[string]func(){
				"/proc/300/exe": func() {
					after := p
					after.state, after.flags = tc.state, tc.flags
					after.files = []string{"stat"}
					after.add(h)
					for _, f := range []string{"exe", "cwd", "ns"} {
						h.RemoveAll("/proc/300/" + f)
					}
				},
			})
			procs, err := List(context.Background(), r, &ScanOptions{Fields: FieldAll})
			if err != nil || len(procs) != 1 {
				t.Fatalf("List() = %d processes, %v", len(procs), err)
			}
			got := procs[0]
			if got.Exe != "" || got.Cwd != "" || got.Namespaces != (Namespaces{}) {
				t.Errorf("links read after the process exited: %+v", got)
			}
			var missing []Field
			for f := range got.Missing {
				missing = append(missing, f)
			}
			if tc.wantMissing != (len(missing) > 0) {
				t.Errorf("Missing = %v, want entries: %v", got.Missing, tc.wantMissing)
			}
		})
	}
}
