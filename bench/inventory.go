package bench

import (
	"context"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/proc"
	"github.com/prometheus/procfs"
	"github.com/shirou/gopsutil/v4/process"
)

// Proc is the inventory of one process, the same record from every reader.
// Readers reuse one Proc for every process: visit must copy what it keeps.
type Proc struct {
	PID  int
	PPID int
	// Comm is the command name from stat (gopsutil: from comm, or status
	// when comm is 15 bytes long).
	Comm  []byte
	State byte
	// UTime and STime are the CPU times, at clock-tick resolution.
	UTime time.Duration
	STime time.Duration
	// RSS is the resident set size in bytes: VmRSS of status (gopsutil:
	// resident pages of statm times the page size, the same kernel counter).
	RSS uint64
	// Args is the number of command-line arguments.
	Args int
	// UID is the real UID from status.
	UID uint32
	// Cgroups is the number of entries (lines) of /proc/PID/cgroup.
	Cgroups int
	// Exe is the text of the exe link; empty when it cannot be read (kernel
	// threads, zombies, permission). Hostscope drops the " (deleted)" suffix
	// the kernel appends, the others keep it.
	Exe []byte
}

func (p *Proc) reset(pid int) {
	*p = Proc{PID: pid, Comm: p.Comm[:0], Exe: p.Exe[:0]}
}

// Fields is what the inventory needs from proc.Scan: stat (ppid, comm,
// state, times), status (UIDs, VmRSS), cmdline, cgroup and the exe link.
const Fields = proc.FieldStat | proc.FieldStatus | proc.FieldCmdline | proc.FieldCgroups | proc.FieldExe

// userHZ is the clock-tick rate of the stat file's times, 100 on every
// Linux architecture Go supports.
const userHZ = 100

// Hostscope lists every process of r with proc.Scan and calls visit for each.
// It returns the number of processes visited.
func Hostscope(ctx context.Context, r *hostroot.Root, visit func(*Proc)) (int, error) {
	var rec Proc
	n := 0
	err := proc.Scan(ctx, r, &proc.ScanOptions{Fields: Fields}, func(p *proc.Process) error {
		rec.reset(p.PID)
		rec.PPID = p.PPID
		rec.Comm = append(rec.Comm, p.Comm...)
		if p.State != "" {
			rec.State = p.State[0]
		}
		rec.UTime, rec.STime = p.UTime, p.STime
		rec.RSS = p.RSS
		rec.Args = len(p.Cmdline)
		rec.UID = p.UIDs.Real
		rec.Cgroups = len(p.Cgroups)
		rec.Exe = append(rec.Exe, p.Exe...)
		visit(&rec)
		n++
		return nil
	})
	return n, err
}

// Procfs lists every process of fs with prometheus/procfs and calls visit
// for each. A process whose stat cannot be read has exited and is skipped;
// the other files' errors leave their fields empty.
func Procfs(fs procfs.FS, visit func(*Proc)) (int, error) {
	procs, err := fs.AllProcs()
	if err != nil {
		return 0, err
	}
	var rec Proc
	n := 0
	for _, p := range procs {
		st, err := p.Stat()
		if err != nil {
			continue
		}
		rec.reset(p.PID)
		rec.PPID = st.PPID
		rec.Comm = append(rec.Comm, st.Comm...)
		if st.State != "" {
			rec.State = st.State[0]
		}
		rec.UTime = time.Duration(st.UTime) * (time.Second / userHZ)
		rec.STime = time.Duration(st.STime) * (time.Second / userHZ)
		if args, err := p.CmdLine(); err == nil {
			rec.Args = len(args)
		}
		if status, err := p.NewStatus(); err == nil {
			rec.UID = uint32(status.UIDs[0])
			rec.RSS = status.VmRSS
		}
		if cgs, err := p.Cgroups(); err == nil {
			rec.Cgroups = len(cgs)
		}
		if exe, err := p.Executable(); err == nil {
			rec.Exe = append(rec.Exe, exe...)
		}
		visit(&rec)
		n++
	}
	return n, nil
}

// Gopsutil lists every process with gopsutil v4 and calls visit for each.
// A process whose PPID cannot be read has exited and is skipped.
//
// gopsutil reads stat three times per process (NewProcess's create time,
// Ppid, Times), status twice (Status, Uids), comm for Name, statm for
// MemoryInfo, and makes a getpriority call per stat read and a pidfd and
// a stat of /proc/PID in Processes. It has no cgroup accessor: the cgroup
// file is read here with os.ReadFile and split into its three columns, as a
// gopsutil user would have to.
func Gopsutil(ctx context.Context, visit func(*Proc)) (int, error) {
	procs, err := process.ProcessesWithContext(ctx)
	if err != nil {
		return 0, err
	}
	var rec Proc
	n := 0
	for _, p := range procs {
		ppid, err := p.PpidWithContext(ctx)
		if err != nil {
			continue
		}
		rec.reset(int(p.Pid))
		rec.PPID = int(ppid)
		if name, err := p.NameWithContext(ctx); err == nil {
			rec.Comm = append(rec.Comm, name...)
		}
		if st, err := p.StatusWithContext(ctx); err == nil && len(st) > 0 && st[0] != "" {
			rec.State = gopsutilState(st[0])
		}
		if t, err := p.TimesWithContext(ctx); err == nil {
			rec.UTime = secondsToTicks(t.User)
			rec.STime = secondsToTicks(t.System)
		}
		if m, err := p.MemoryInfoWithContext(ctx); err == nil {
			rec.RSS = m.RSS
		}
		if args, err := p.CmdlineSliceWithContext(ctx); err == nil {
			rec.Args = len(args)
		}
		if uids, err := p.UidsWithContext(ctx); err == nil && len(uids) > 0 {
			rec.UID = uids[0]
		}
		rec.Cgroups = cgroupEntries(int(p.Pid))
		if exe, err := p.ExeWithContext(ctx); err == nil {
			rec.Exe = append(rec.Exe, exe...)
		}
		visit(&rec)
		n++
	}
	return n, nil
}

// gopsutilState maps gopsutil's state names back to the kernel's letter.
func gopsutilState(s string) byte {
	switch s {
	case process.Running:
		return 'R'
	case process.Sleep:
		return 'S'
	case process.Stop:
		return 'T'
	case process.Idle:
		return 'I'
	case process.Zombie:
		return 'Z'
	case process.Wait:
		return 'W'
	case process.Lock:
		return 'L'
	case process.Blocked:
		return 'D'
	}
	return '?'
}

// secondsToTicks rounds gopsutil's float seconds back to clock ticks.
func secondsToTicks(s float64) time.Duration {
	return time.Duration(s*userHZ+0.5) * (time.Second / userHZ)
}

// cgroupEntries reads /proc/PID/cgroup the way a gopsutil user would (the
// library has no accessor) and returns the number of well-formed entries.
func cgroupEntries(pid int) int {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return 0
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if cols := strings.SplitN(line, ":", 3); len(cols) == 3 {
			n++
		}
	}
	return n
}
