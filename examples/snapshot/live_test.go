package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
	"github.com/hostscope/hostscope/proc"
)

// nativeRoot returns this machine's root, skipping without a procfs.
func nativeRoot(t *testing.T) *hostroot.Root {
	t.Helper()
	root, err := hostroot.Native()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	if _, err := root.ReadFile("/proc/1/stat"); err != nil {
		t.Skipf("no readable procfs: %v", err)
	}
	return root
}

// captureFile captures root into a temporary .tar.gz.
func captureFile(t *testing.T, root *hostroot.Root, opts *Options) (string, *Summary, time.Duration) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "live.tar.gz")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	sum, err := Capture(context.Background(), root, f, opts)
	took := time.Since(start)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("Capture: %v", err)
	}
	return file, sum, took
}

// The snapshot of this machine loads, and every process in it has the
// stat its live counterpart had: same PID, comm and parent. A process can
// exec (new comm) or be reparented while the capture runs, so each of
// these in the snapshot must agree with a read done just before the
// capture or one done just after; a process that exited or whose PID was reused (another
// start time), or that started during the capture, is not compared.
func TestLiveStat(t *testing.T) {
	root := nativeRoot(t)
	ctx := context.Background()
	before := map[int]*proc.Process{}
	err := proc.Scan(ctx, root, &proc.ScanOptions{Fields: proc.FieldStat}, func(p *proc.Process) error {
		before[p.PID] = p
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	file, sum, took := captureFile(t, root, nil)
	fi, _ := os.Stat(file)
	t.Logf("captured %d processes, %d entries, %d bytes raw, %d compressed (file %d) in %v; skipped %v",
		sum.Processes, sum.Entries, sum.Bytes, sum.Compressed, fi.Size(), took, sum.Skipped)

	h := hostroottest.New()
	if err := h.LoadArchive(file); err != nil {
		t.Fatalf("LoadArchive: %v", err)
	}
	snap := hostroottest.MustRoot(t, h)
	pids, err := proc.PIDs(snap)
	if err != nil {
		t.Fatal(err)
	}
	if len(pids) != sum.Processes {
		t.Errorf("%d process directories in the snapshot, Summary.Processes = %d", len(pids), sum.Processes)
	}
	type id struct {
		PID, PPID int
		Comm      string
	}
	compared := 0
	for _, pid := range pids {
		s, err := proc.Read(snap, pid, proc.FieldStat)
		if err != nil {
			t.Errorf("PID %d: reading the snapshot's stat: %v", pid, err)
			continue
		}
		live, err := proc.Read(root, pid, proc.FieldStat)
		if err != nil || !live.StartTime.Equal(s.StartTime) {
			continue // exited, or another process now
		}
		b := before[pid]
		if b == nil || !b.StartTime.Equal(s.StartTime) {
			// Started during the capture: it may have been read before
			// its exec and read live after it, neither of which the
			// test saw both sides of.
			continue
		}
		// Field by field: a process may be reparented and exec in turn
		// while the capture runs (runc's init, reparented when runc's
		// intermediate process exits, then exec-ing the container's
		// command), and the snapshot then holds the state in between.
		got := id{s.PID, s.PPID, stableComm(s.Comm)}
		after := id{live.PID, live.PPID, stableComm(live.Comm)}
		was := id{b.PID, b.PPID, stableComm(b.Comm)}
		if (got.PPID == after.PPID || got.PPID == was.PPID) && (got.Comm == after.Comm || got.Comm == was.Comm) {
			compared++
			continue
		}
		t.Errorf("PID %d: snapshot %+v, live after %+v, before %+v", pid, got, after, was)
	}
	if compared == 0 || compared < len(pids)/2 {
		t.Errorf("compared %d of %d processes: the capture missed the live machine", compared, len(pids))
	}
	// The host's own files came along.
	for _, name := range []string{"/proc/stat", "/proc/1/stat", "/proc/1/mountinfo", "/proc/sys/kernel/osrelease"} {
		if _, err := snap.ReadFile(name); err != nil {
			t.Errorf("snapshot lacks %s: %v", name, err)
		}
	}
}

// stableComm drops what the kernel appends to a workqueue worker's comm,
// which changes from one read to the next: "+events" while the worker runs
// a work item of that workqueue, "-events" once it has run one
// ("kworker/1:0+events", "kworker/1:0-events", "kworker/1:0"). Cutting
// only at "-" made the round trip fail whenever a worker was busy at one
// of the reads, as it is under load.
func stableComm(comm string) string {
	if rest, ok := strings.CutPrefix(comm, "kworker/"); ok {
		if i := strings.IndexAny(rest, "+-"); i >= 0 {
			comm = comm[:len("kworker/")+i]
		}
	}
	return comm
}

func TestStableComm(t *testing.T) {
	for _, c := range []struct{ comm, want string }{
		{"kworker/0:0", "kworker/0:0"},
		{"kworker/0:0-events", "kworker/0:0"},
		{"kworker/0:0+events", "kworker/0:0"},
		{"kworker/u4:2+events_unbound", "kworker/u4:2"},
		{"kworker/R-rcu_gp", "kworker/R"},
		{"sshd-session", "sshd-session"},
		{"a+b", "a+b"},
	} {
		if got := stableComm(c.comm); got != c.want {
			t.Errorf("stableComm(%q) = %q, want %q", c.comm, got, c.want)
		}
	}
}
