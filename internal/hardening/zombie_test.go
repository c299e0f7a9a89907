package hardening

import (
	"context"
	"errors"
	"io/fs"
	"os/exec"
	"testing"
	"time"

	"github.com/hostscope/hostscope"
	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/mounts"
	"github.com/hostscope/hostscope/proc"
)

// TestZombieScan: a zombie keeps its /proc directory but has no links, no
// namespaces and no mount table (procfs answers EINVAL for it). proc.Scan
// and the hostscope facade, with every field, list it as a zombie with
// nothing in Missing, and mounts.Process reports it as a process that
// exited, as its documentation says.
func TestZombieScan(t *testing.T) {
	// The first sleep exits at once; its parent has exec-ed the second,
	// which never reaps it.
	cmd := exec.Command("sh", "-c", "sleep 0 & exec sleep 30")
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start a shell: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	r, err := hostroot.Native()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()

	var zombie int
	for deadline := time.Now().Add(10 * time.Second); zombie == 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		proc.Scan(ctx, r, &proc.ScanOptions{Fields: proc.FieldStat}, func(p *proc.Process) error {
			if p.PPID == cmd.Process.Pid && p.State == "Z" {
				zombie = p.PID
			}
			return nil
		})
	}
	if zombie == 0 {
		t.Fatal("no zombie appeared")
	}
	if _, err := mounts.Process(r, zombie); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("mounts.Process(zombie %d): err = %v, want one matching fs.ErrNotExist", zombie, err)
	}
	for label, scan := range map[string]func(func(*proc.Process) error) error{
		"proc.Scan": func(fn func(*proc.Process) error) error {
			return proc.Scan(ctx, r, &proc.ScanOptions{Fields: proc.FieldAll}, fn)
		},
		"hostscope.Scan": func(fn func(*proc.Process) error) error {
			return hostscope.Scan(ctx, r, &hostscope.Options{Fields: proc.FieldAll}, fn)
		},
	} {
		var found *proc.Process
		if err := scan(func(p *proc.Process) error {
			if p.PID == zombie {
				found = p
			}
			return nil
		}); err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		if found == nil || found.State != "Z" || found.Missing != nil {
			t.Errorf("%s: zombie %d read as %+v", label, zombie, found)
		}
	}
}
