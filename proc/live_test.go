package proc

import (
	"context"
	"errors"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hostscope/hostscope/hostroot"
	"github.com/prometheus/procfs"
)

// nativeRoot returns the machine's own root, skipping where there is no
// procfs at /proc.
func nativeRoot(tb testing.TB) *hostroot.Root {
	tb.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs("/proc", &st); err != nil || st.Type != 0x9fa0 {
		tb.Skip("no procfs mounted at /proc")
	}
	r, err := hostroot.Native()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { r.Close() })
	return r
}

// osPIDs lists /proc with the os package, independently of hostroot.
func osPIDs(tb testing.TB) map[int]bool {
	tb.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		tb.Fatal(err)
	}
	out := map[int]bool{}
	for _, e := range entries {
		if pid, ok := pidName(e.Name()); ok {
			out[pid] = true
		}
	}
	return out
}

// TestLiveScan scans this machine: every PID present before and after the
// scan is listed, and fields the kernel refuses (on our CI VMs, even root
// gets EACCES on /proc/1/exe and /proc/1/root) are reported per field.
func TestLiveScan(t *testing.T) {
	r := nativeRoot(t)
	// A zombie and its parent, so the scan meets one for sure.
	cmd := exec.Command("sh", "-c", "sleep 0 & exec sleep 30")
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start a process: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	time.Sleep(200 * time.Millisecond)

	before := osPIDs(t)
	procs, err := List(context.Background(), r, &ScanOptions{Fields: FieldAll})
	if err != nil {
		t.Fatal(err)
	}
	after := osPIDs(t)
	got := map[int]*Process{}
	for _, p := range procs {
		got[p.PID] = p
	}
	for pid := range before {
		if after[pid] && got[pid] == nil {
			t.Errorf("PID %d was in /proc before and after the scan but not listed", pid)
		}
	}

	init := got[1]
	if init == nil {
		t.Fatal("PID 1 not listed")
	}
	_, exeErr := os.Readlink("/proc/1/exe")
	switch {
	case errors.Is(exeErr, fs.ErrPermission):
		if !errors.Is(init.Missing[FieldExe], fs.ErrPermission) || init.Exe != "" {
			t.Errorf("PID 1: exe is EACCES here, got Exe %q, Missing[exe] %v", init.Exe, init.Missing[FieldExe])
		}
		if init.Comm == "" || init.State == "" || init.StartTime.IsZero() {
			t.Errorf("PID 1: a denied link lost other fields: %+v", init)
		}
	case exeErr == nil:
		if init.Missing[FieldExe] != nil || init.Exe == "" {
			t.Errorf("PID 1: exe is readable here, got Exe %q, Missing[exe] %v", init.Exe, init.Missing[FieldExe])
		}
	}

	var kthreads int
	for _, p := range procs {
		if p.KernelThread {
			kthreads++
			if p.Exe != "" || p.Cmdline != nil || p.Missing[FieldExe] != nil {
				t.Errorf("kernel thread %d: Exe %q, Cmdline %q, Missing %v", p.PID, p.Exe, p.Cmdline, p.Missing)
			}
		}
	}
	if kthreads == 0 {
		t.Error("no kernel thread flagged")
	}

	tree := NewTree(procs)
	var zombie *Process
	for _, c := range tree.Children(cmd.Process.Pid) {
		if c.State == "Z" {
			zombie = c
		}
	}
	if zombie == nil {
		t.Fatalf("no zombie child of %d in the scan", cmd.Process.Pid)
	}
	if zombie.Missing != nil || zombie.Exe != "" || zombie.Cmdline != nil || zombie.Comm != "sleep" {
		t.Errorf("zombie %+v", zombie)
	}
	if anc := tree.Ancestors(zombie.PID); len(anc) < 2 || anc[0].PID != cmd.Process.Pid || anc[len(anc)-1].PPID != 0 {
		t.Errorf("zombie's ancestors %v do not lead from its parent to a root", pids(anc))
	}
	self := got[os.Getpid()]
	if self == nil || self.UIDs.Real != uint32(os.Getuid()) || self.PPID != os.Getppid() || len(self.NSpid) == 0 || self.NSpid[0] != os.Getpid() {
		t.Errorf("the test process: %+v", self)
	}
}

// view is what the differential test compares: the fields issue 3 lists.
type view struct {
	PPID      int
	Comm      string
	State     string
	Cmdline   []string
	UIDs      [4]uint64
	GIDs      [4]uint64
	Threads   int
	StartTime float64 // seconds since the epoch
	Exe       string  // raw link text
	ExeErr    bool    // the link could not be read
}

func ourView(p *Process) view {
	v := view{PPID: p.PPID, Comm: p.Comm, State: p.State, Cmdline: p.Cmdline,
		UIDs:    [4]uint64{uint64(p.UIDs.Real), uint64(p.UIDs.Effective), uint64(p.UIDs.Saved), uint64(p.UIDs.FS)},
		GIDs:    [4]uint64{uint64(p.GIDs.Real), uint64(p.GIDs.Effective), uint64(p.GIDs.Saved), uint64(p.GIDs.FS)},
		Threads: p.Threads, StartTime: float64(p.StartTime.UnixNano()) / 1e9, Exe: p.Exe}
	if p.ExeDeleted {
		v.Exe += deletedSuffix
	}
	v.ExeErr = p.Missing[FieldExe] != nil
	return v
}

// procfsView reads pid with prometheus/procfs; gone reports that it exited.
func procfsView(t *testing.T, pfs procfs.FS, pid int) (v view, gone bool) {
	p, err := pfs.Proc(pid)
	if err != nil {
		return v, true
	}
	st, err := p.Stat()
	if err != nil {
		return v, true
	}
	status, err := p.NewStatus()
	if err != nil {
		return v, true
	}
	cmdline, err := p.CmdLine()
	if err != nil {
		return v, true
	}
	start, err := st.StartTime()
	if err != nil {
		t.Fatal(err)
	}
	exe, err := p.Executable()
	if errors.Is(err, syscall.ESRCH) {
		return v, true
	}
	return view{PPID: st.PPID, Comm: st.Comm, State: st.State, Cmdline: cmdline, UIDs: status.UIDs, GIDs: status.GIDs,
		Threads: st.NumThreads, StartTime: start, Exe: exe, ExeErr: err != nil}, false
}

// TestLiveDifferentialProcfs compares every process with what
// prometheus/procfs reads. A live process can change state or thread count
// between two reads, so each PID is read by both libraries back to back and
// retried up to three times; only a disagreement that never goes away
// fails. Exe is compared unless neither library could read the link (both
// must then fail). Start times agree to the millisecond (procfs sums floats).
func TestLiveDifferentialProcfs(t *testing.T) {
	r := nativeRoot(t)
	pfs, err := r.ProcFS()
	if err != nil {
		t.Fatal(err)
	}
	pidList, err := PIDs(r)
	if err != nil {
		t.Fatal(err)
	}
	opts := cmp.Options{cmpopts.EquateEmpty(), cmp.Comparer(func(a, b float64) bool { return math.Abs(a-b) < 1e-3 })}
	compared := 0
	for _, pid := range pidList {
		var diff string
		for attempt := 0; attempt < 3; attempt++ {
			if attempt > 0 {
				time.Sleep(20 * time.Millisecond)
			}
			ours, err := Read(r, pid, FieldStat|FieldStatus|FieldCmdline|FieldExe)
			if errors.Is(err, fs.ErrNotExist) {
				diff = ""
				break
			}
			if err != nil {
				t.Fatalf("Read(%d): %v", pid, err)
			}
			theirs, gone := procfsView(t, pfs, pid)
			if gone {
				diff = ""
				break
			}
			for f, err := range ours.Missing {
				if f != FieldExe {
					t.Fatalf("Read(%d): %v unreadable: %v", pid, f, err)
				}
			}
			our := ourView(ours)
			if our.ExeErr && theirs.ExeErr {
				our.Exe, theirs.Exe = "", ""
			}
			if diff = cmp.Diff(theirs, our, opts); diff == "" {
				compared++
				break
			}
		}
		if diff != "" {
			t.Errorf("process %d: hostscope and procfs disagree after 3 reads (-procfs +hostscope):\n%s", pid, diff)
		}
	}
	if compared < 10 {
		t.Errorf("only %d processes compared", compared)
	}
	t.Logf("%d processes agree", compared)
}

// TestLiveReadSelf reads the test process by PID.
func TestLiveReadSelf(t *testing.T) {
	r := nativeRoot(t)
	p, err := Read(r, os.Getpid(), FieldAll)
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if p.Exe != exe || p.Cmdline[0] != os.Args[0] || p.Threads < 1 || p.RSS == 0 || p.Namespaces.Mnt == 0 {
		t.Errorf("Read(self) = %+v", p)
	}
	if d := time.Since(p.StartTime); d < 0 || d > time.Hour {
		t.Errorf("Read(self) start time %v is %v ago", p.StartTime, d)
	}
	if _, err := Read(r, math.MaxInt32, 0); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Read(%d) = %v, want ErrNotExist", math.MaxInt32, err)
	}
}
