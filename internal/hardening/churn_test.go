package hardening

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hostscope/hostscope"
	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/proc"
	"github.com/spf13/afero"
)

// identity is what one field of a scanned process says about which churn
// child it belongs to; -1 where the field does not say (the helper itself,
// or a child before it set its credentials or exec-ed).
type identity struct {
	slotFromComm    int // K of pK/xK/yK, from stat
	seqFromUID      int // i, from status: uid 100000+i (200000+i on the host)
	slotFromCmdline int // K, from argv[0] (children that exec)
	seqFromCmdline  int // i, from argv[1]
	slotFromCwd     int // K of the working directory dK, from the cwd link
}

func churnIdentity(p *proc.Process) identity {
	id := identity{-1, -1, -1, -1, -1}
	slot := func(name string) int {
		if len(name) < 2 || !strings.ContainsRune("pxyd", rune(name[0])) {
			return -1
		}
		k, err := strconv.Atoi(name[1:])
		if err != nil {
			return -1
		}
		return k
	}
	id.slotFromComm = slot(p.Comm)
	if len(p.Cmdline) == 2 {
		if k := slot(filepath.Base(p.Cmdline[0])); k >= 0 {
			id.slotFromCmdline = k
			if i, err := strconv.Atoi(p.Cmdline[1]); err == nil {
				id.seqFromCmdline = i
			}
		}
	}
	if p.Cwd != "" {
		id.slotFromCwd = slot(filepath.Base(p.Cwd))
	}
	if p.UIDs.Real >= 100000 {
		// 100000+i in the PID namespace churn, 200000+i on the host.
		id.seqFromUID = int(p.UIDs.Real-100000) % 100000
	}
	return id
}

// mixed says how the fields of p contradict each other, "" if they do not.
func (id identity) mixed() string {
	const slots = 97
	var seq int = -1
	for _, s := range []int{id.seqFromUID, id.seqFromCmdline} {
		if s >= 0 {
			seq = s
		}
	}
	switch {
	case id.slotFromCwd >= 0 && seq >= 0 && id.slotFromCwd != seq%slots:
		return fmt.Sprintf("cwd says child slot %d, status or cmdline child %d (slot %d)", id.slotFromCwd, seq, seq%slots)
	case id.slotFromCwd >= 0 && id.slotFromComm >= 0 && id.slotFromCwd != id.slotFromComm:
		return fmt.Sprintf("cwd says child slot %d, stat slot %d", id.slotFromCwd, id.slotFromComm)
	case id.slotFromComm >= 0 && id.slotFromCmdline >= 0 && id.slotFromComm != id.slotFromCmdline:
		return fmt.Sprintf("stat says child slot %d, cmdline slot %d", id.slotFromComm, id.slotFromCmdline)
	case id.seqFromCmdline >= 0 && id.seqFromUID >= 0 && id.seqFromCmdline != id.seqFromUID:
		return fmt.Sprintf("cmdline says child %d, status's uid child %d", id.seqFromCmdline, id.seqFromUID)
	case id.slotFromComm >= 0 && id.seqFromUID >= 0 && id.slotFromComm != id.seqFromUID%slots:
		return fmt.Sprintf("stat says child slot %d, status's uid child %d (slot %d)", id.slotFromComm, id.seqFromUID, id.seqFromUID%slots)
	}
	return ""
}

// vanishedError reports whether err is what reading a file of an exited
// process gives on a live procfs.
func vanishedError(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH)
}

// TestChurnPIDReuse scans the procfs of a PID namespace whose init reuses
// the same few PIDs for thousands of short-lived children (it sets
// ns_last_pid before each one), each child identified by its name (stat),
// user ID (status), working directory (cwd link) and, for those that exec,
// argv (cmdline). No scanned process may combine files of two children, and none
// may carry an error of a process that vanished.
func TestChurnPIDReuse(t *testing.T) {
	requireRoot(t)
	if _, err := os.Stat("/proc/sys/kernel/ns_last_pid"); err != nil {
		t.Skipf("no ns_last_pid to force PID reuse with (kernel without CONFIG_CHECKPOINT_RESTORE): %v", err)
	}
	bin := helperBinary(t)
	procDir := publicTempDir(t)
	linkDir := publicTempDir(t)
	cmd := exec.Command(bin, "pidns-churn", procDir, linkDir, "8")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID | syscall.CLONE_NEWNS}
	h := startHelper(t, cmd)

	// The namespace's procfs, seen through the helper's root: the layout of
	// a DaemonSet reading a host /proc mounted at another path.
	t.Setenv("HOST_PROC", fmt.Sprintf("/proc/%d/root%s", cmd.Process.Pid, procDir))
	r, err := hostroot.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	var total churnCounts
	t.Run("direct", func(t *testing.T) {
		c := scanChurn(t, r, proc.FieldAll, 5*time.Second)
		t.Logf("direct reads: %s", c)
		total.add(c)
	})
	// The same procfs read through a Root that pauses before each file of a
	// PID, as a throttled agent on a busy node does: the PIDs change hands
	// between the files of one process all the time.
	t.Run("slowed reader", func(t *testing.T) {
		slow := hostroot.FromAfero(slowFs{r.Afero(), time.Millisecond})
		c := scanChurn(t, slow, slowedFields, 5*time.Second)
		t.Logf("slowed reads: %s", c)
		total.add(c)
	})
	out := h.stop(t)
	t.Logf("pidns churn: helper %s; total %s", strings.TrimSpace(out), total)
}

// churnCounts is what scanChurn saw.
type churnCounts struct {
	scans, processes, children, mixed, vanished, other int
}

func (c *churnCounts) add(o churnCounts) {
	c.scans += o.scans
	c.processes += o.processes
	c.children += o.children
	c.mixed += o.mixed
	c.vanished += o.vanished
	c.other += o.other
}

func (c churnCounts) String() string {
	return fmt.Sprintf("%d scans, %d processes read, %d of them churn children, %d mixed, %d vanished-process errors, %d other errors",
		c.scans, c.processes, c.children, c.mixed, c.vanished, c.other)
}

// scanChurn scans r with the given fields for the given time, checking
// each process read.
func scanChurn(t *testing.T, r *hostroot.Root, fields proc.Field, budget time.Duration) churnCounts {
	return checkScans(t, budget, func(fn func(*proc.Process) error) error {
		return proc.Scan(context.Background(), r, &proc.ScanOptions{Fields: fields}, fn)
	})
}

// slowedFields are the fields of the slowed reader: the files that
// identify a churn child (stat, status, cmdline, the cwd link), with exe and
// cgroup between them, so a PID can change hands between any two of them.
// The namespace links and descriptors identify no child, so they cannot
// show a mix, and their reads (ten links; a link and an fdinfo file per
// descriptor, the socket tables), each paused, would outlast the children
// that live 20 ms: the run would meet too few of them to prove anything.
const slowedFields = proc.FieldStat | proc.FieldStatus | proc.FieldCmdline | proc.FieldExe | proc.FieldCwd | proc.FieldCgroups

// checkScans runs scan over and over for the given time and checks every
// process it returns: its files all come from one process, it carries no
// error of a process that vanished, its NSpid starts with its PID, and the
// scan itself never fails.
func checkScans(t *testing.T, budget time.Duration, scan func(func(*proc.Process) error) error) churnCounts {
	var c churnCounts
	deadline := time.Now().Add(budget)
	for time.Now().Before(deadline) {
		c.scans++
		err := scan(func(p *proc.Process) error {
			c.processes++
			id := churnIdentity(p)
			if id.slotFromComm >= 0 || id.seqFromUID >= 0 || id.slotFromCwd >= 0 {
				c.children++
			}
			if msg := id.mixed(); msg != "" {
				c.mixed++
				if c.mixed <= 5 {
					t.Errorf("PID %d mixes two processes: %s (comm %q, uid %d, cmdline %q, cwd %q)", p.PID, msg, p.Comm, p.UIDs.Real, p.Cmdline, p.Cwd)
				}
			}
			if len(p.NSpid) > 0 && p.NSpid[0] != p.PID {
				t.Errorf("PID %d: NSpid %v does not start with it", p.PID, p.NSpid)
			}
			for f, err := range p.Missing {
				switch {
				case vanishedError(err):
					c.vanished++
					if c.vanished <= 5 {
						t.Errorf("PID %d (%s): Missing[%s] = %v, the error of a process that exited", p.PID, p.Comm, f, err)
					}
				case !errors.Is(err, fs.ErrPermission):
					// As root on a live procfs, only a denied link (init's,
					// under some sandboxes) may be missing.
					c.other++
					if c.other <= 5 {
						t.Errorf("PID %d (%s): Missing[%s] = %v", p.PID, p.Comm, f, err)
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("scan %d: %v", c.scans, err)
		}
	}
	if c.children == 0 {
		t.Error("no churn child was ever seen: the test proves nothing")
	}
	return c
}

// slowFs pauses before opening or reading the link of a /proc/PID file.
type slowFs struct {
	afero.Fs
	pause time.Duration
}

func (s slowFs) wait(name string) {
	if rest, ok := strings.CutPrefix(name, "/proc/"); ok && rest != "" && rest[0] >= '1' && rest[0] <= '9' {
		time.Sleep(s.pause)
	}
}

func (s slowFs) Open(name string) (afero.File, error) {
	s.wait(name)
	return s.Fs.Open(name)
}

func (s slowFs) LstatIfPossible(name string) (os.FileInfo, bool, error) {
	return s.Fs.(afero.Lstater).LstatIfPossible(name)
}

func (s slowFs) ReadlinkIfPossible(name string) (string, error) {
	s.wait(name)
	return s.Fs.(afero.LinkReader).ReadlinkIfPossible(name)
}

// TestChurnHost scans the machine's own /proc, with proc.Scan and the
// hostscope facade and every field, while a helper starts and kills
// thousands of processes: forked children that exit at once, sleepers
// killed mid-sleep, /bin/true, children that exec-replace themselves, and
// threads that come and go. No scan may fail, and no process may carry an
// error of one that vanished or mix two processes.
func TestChurnHost(t *testing.T) {
	requireRoot(t)
	bin := helperBinary(t)
	h := startHelper(t, exec.Command(bin, "host-churn", publicTempDir(t)))
	r, err := hostroot.Native()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	var facade bool
	c := checkScans(t, 8*time.Second, func(fn func(*proc.Process) error) error {
		facade = !facade
		if facade {
			return hostscope.Scan(ctx, r, &hostscope.Options{Fields: proc.FieldAll}, fn)
		}
		return proc.Scan(ctx, r, &proc.ScanOptions{Fields: proc.FieldAll}, fn)
	})
	t.Logf("host churn: helper %s; %s", strings.TrimSpace(h.stop(t)), c)
}
