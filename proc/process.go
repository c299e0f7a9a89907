package proc

import (
	"strconv"
	"strings"
	"time"

	"github.com/hostscope/hostscope/cgroup"
)

// Process is one process of the host, as its /proc/PID files show it. It is
// plain data: every field is exported and go-cmp can diff it.
//
// Each field's doc names the Field that fills it. A field whose Field was not
// requested is left at its zero value; one that was requested but could not
// be read is left at its zero value and its Field is a key of Missing.
type Process struct {
	// PID is the process ID in the PID namespace of the Root's /proc (the
	// name of its directory there).
	PID int
	// PPID is the parent's PID, 0 for the roots of the tree (init, kthreadd).
	// FieldStat, or FieldStatus when stat is not requested.
	PPID int
	// PGID and SID are the process group and session IDs. FieldStat.
	PGID int
	SID  int
	// TTY is the controlling terminal's device number, the zero TTY when
	// there is none. FieldStat.
	TTY TTY
	// Comm is the command name the kernel keeps (at most 15 bytes, may hold
	// any byte but NUL, including spaces, parentheses and newlines).
	// FieldStat, or FieldStatus (unescaped) when stat is not requested.
	Comm string
	// Cmdline is the argument list. The kernel's NUL-separated buffer is
	// split at each NUL after trailing NULs are dropped, so trailing empty
	// arguments are lost: they cannot be told from the NUL padding that
	// setproctitle leaves. A buffer with no NUL inside (a process that
	// overwrote its argv with one string, often spaces included) is one
	// element. Empty for kernel threads and zombies. FieldCmdline.
	Cmdline []string
	// Exe is the text of the /proc/PID/exe link, a path in the process's own
	// mount namespace, without the " (deleted)" suffix the kernel appends
	// once the binary is unlinked; ExeDeleted records that suffix. Kernel
	// threads and zombies have none, and their link is not read. FieldExe.
	Exe        string
	ExeDeleted bool
	// Cwd is the text of the /proc/PID/cwd link, a path in the process's own
	// mount namespace, as the kernel writes it (with " (deleted)" if the
	// directory was removed). Zombies have none. FieldCwd.
	Cwd string
	// State is the one-letter state the kernel writes: R running, S sleeping,
	// D disk sleep, Z zombie, T stopped, t tracing stop, X dead, I idle, and
	// older kernels' K, W, P. FieldStat, or FieldStatus when stat is not
	// requested.
	State string
	// UIDs and GIDs are the real, effective, saved and file-system IDs, in
	// the user namespace of the Root's /proc. FieldStatus.
	UIDs IDs
	GIDs IDs
	// Groups lists the supplementary group IDs. FieldStatus.
	Groups []uint32
	// StartTime is when the process started: the Root's boot time (btime in
	// its /proc/stat, whole seconds) plus the start time in clock ticks from
	// stat. Its precision is one clock tick and its accuracy that of btime,
	// which the kernel derives from the wall clock. FieldStat (see
	// FieldStartTime).
	StartTime time.Time
	// StartTicks is the start time in clock ticks after boot, as stat
	// writes it. With PID it identifies a process across scans, exactly
	// and whatever the wall clock does. FieldStat.
	StartTicks uint64
	// UTime and STime are the CPU time spent in user and kernel mode, at
	// clock-tick (10 ms) resolution. FieldStat.
	UTime time.Duration
	STime time.Duration
	// RSS is the resident set size in bytes: VmRSS from status when
	// FieldStatus is requested (exact), otherwise the page count from stat
	// times the page size (the kernel's approximate per-CPU counter). The
	// page size is the reading process's, which is the host kernel's in
	// every supported setup (a container shares its host's kernel). Zero
	// for kernel threads and zombies.
	RSS uint64
	// VSize is the virtual memory size in bytes. FieldStat, or FieldStatus
	// (VmSize) when stat is not requested.
	VSize uint64
	// Threads is the number of threads. FieldStat or FieldStatus.
	Threads int
	// Nice is the nice value, -20 (favoured) to 19. FieldStat.
	Nice int
	// Priority is the scheduling priority as stat writes it: 20+nice (0 to
	// 39) for normal processes, -2 to -100 (-1 minus the real-time
	// priority) for real-time ones. FieldStat.
	Priority int
	// CapInh, CapPrm, CapEff, CapBnd and CapAmb are the inheritable,
	// permitted, effective, bounding and ambient capability sets, bit N set
	// for capability number N (CAP_SYS_ADMIN is 21). Zero when the kernel
	// does not write the line (CapAmb before Linux 4.3). FieldStatus.
	CapInh uint64
	CapPrm uint64
	CapEff uint64
	CapBnd uint64
	CapAmb uint64
	// NoNewPrivs is the no_new_privs bit (prctl PR_SET_NO_NEW_PRIVS).
	// FieldStatus.
	NoNewPrivs bool
	// Seccomp is the process's seccomp mode. FieldStatus.
	Seccomp SeccompMode
	// Namespaces holds the inode number of each namespace the process is in.
	// Zombies have none, and their links are not read. FieldNamespaces.
	Namespaces Namespaces
	// NSpid is the process's PID in each PID namespace it belongs to, from
	// the Root's /proc's namespace (NSpid[0] == PID) to its innermost one: a
	// container's init has 1 last. One element when the process is not in a
	// nested PID namespace; empty on kernels before 4.1. FieldStatus.
	NSpid []int
	// Cgroups lists the process's cgroup memberships, one entry per line of
	// /proc/PID/cgroup, paths as the Root's /proc's cgroup namespace shows
	// them. A malformed line is reported in Missing and the well-formed
	// lines are still listed. FieldCgroups.
	Cgroups []cgroup.Entry
	// FDs lists the process's open file descriptors, ascending by number.
	// Reading another user's process's descriptors needs ptrace access
	// (root, or CAP_SYS_PTRACE); without it FDs is empty and
	// Missing[FieldFDs] wraps fs.ErrPermission. FieldFDs; their flags,
	// position and mount need FieldFDInfo.
	FDs []FD
	// Sockets lists the sockets among FDs that the tables of the process's
	// own network namespace describe (tcp, udp and raw over IPv4 and IPv6,
	// and unix), in descriptor order, each once however many descriptors
	// refer to it. Sockets of other families (netlink, packet, vsock) are
	// not listed. FieldSockets.
	Sockets []Socket
	// Container is the container the process runs in. This package leaves
	// it nil; the hostscope package fills it from Cgroups and runtime state.
	Container *cgroup.Container
	// KernelThread marks a kernel thread (the PF_KTHREAD flag in stat, or
	// the Kthread line of status on kernels that write it). FieldStat or
	// FieldStatus.
	KernelThread bool
	// Missing holds, for each requested Field that could not be read, why:
	// an error wrapping fs.ErrPermission when access was denied (exe and ns
	// links of other users' processes, or of init under some hardening),
	// fs.ErrNotExist when the file is absent although the process is still
	// there (a sparse snapshot), hostroot.ErrMalformed when the content does
	// not parse. Nil when every requested field was read.
	Missing map[Field]error
}

// TTY is a terminal's device number. The zero TTY means no controlling
// terminal.
type TTY struct {
	Major uint32
	Minor uint32
}

// ttyFromNr decodes the tty_nr field of stat, the kernel's new_encode_dev
// encoding: minor bits 0-7 and 20-31, major bits 8-19.
func ttyFromNr(nr uint32) TTY {
	return TTY{Major: (nr >> 8) & 0xfff, Minor: nr&0xff | (nr>>12)&0xfff00}
}

// IDs is a set of user or group IDs as the kernel keeps them per process.
type IDs struct {
	Real      uint32
	Effective uint32
	Saved     uint32
	FS        uint32 // the file-system ID, used for file access checks
}

// SeccompMode is a process's seccomp mode, as status writes it.
type SeccompMode uint8

// Seccomp modes.
const (
	SeccompDisabled SeccompMode = 0
	SeccompStrict   SeccompMode = 1 // only read, write, _exit and sigreturn
	SeccompFilter   SeccompMode = 2 // a BPF filter
)

func (m SeccompMode) String() string {
	switch m {
	case SeccompDisabled:
		return "disabled"
	case SeccompStrict:
		return "strict"
	case SeccompFilter:
		return "filter"
	}
	return "seccomp(" + strconv.Itoa(int(m)) + ")"
}

// Namespaces holds the inode number of each namespace of a process, as the
// /proc/PID/ns links show it ("net:[4026531840]" gives Net 4026531840). Two
// processes share a namespace when the inode numbers are equal (the links
// also live on one nsfs device, so inodes are unique on a host). A zero
// means the kernel has no such namespace type (Time before Linux 5.6,
// Cgroup before 4.6) or the link could not be read.
type Namespaces struct {
	Cgroup          uint64
	IPC             uint64
	Mnt             uint64
	Net             uint64
	PID             uint64
	PIDForChildren  uint64
	Time            uint64
	TimeForChildren uint64
	User            uint64
	UTS             uint64
}

// Field selects what a scan reads. Each Field is one kernel file (or link)
// per process, so a scan opens exactly the files of the Fields it is given.
type Field uint32

// Fields, by the file they read.
const (
	// FieldStat reads /proc/PID/stat: PPID, PGID, SID, TTY, Comm, State,
	// KernelThread, UTime, STime, Priority, Nice, Threads, StartTime,
	// VSize, and RSS when status is not read. It also reads the Root's
	// /proc/stat once per scan, for the boot time (see FieldStartTime).
	FieldStat Field = 1 << iota
	// FieldStatus reads /proc/PID/status: UIDs, GIDs, Groups, the
	// capability sets, NoNewPrivs, Seccomp, NSpid, RSS; and PPID, Comm,
	// State, Threads, VSize and KernelThread when stat is not read. It is
	// the largest per-process file; request it only when needed.
	FieldStatus
	// FieldCmdline reads /proc/PID/cmdline.
	FieldCmdline
	// FieldExe reads the /proc/PID/exe link. Reading another user's
	// process's link needs ptrace access (root, or CAP_SYS_PTRACE).
	FieldExe
	// FieldCwd reads the /proc/PID/cwd link (ptrace access, as for exe).
	FieldCwd
	// FieldNamespaces reads the /proc/PID/ns/* links (ptrace access, as
	// for exe), one read per namespace type.
	FieldNamespaces
	// FieldCgroups reads /proc/PID/cgroup.
	FieldCgroups
	// FieldStartTime is StartTime. It comes with FieldStat (requesting
	// either reads stat) and appears on its own in Missing when stat was
	// read but the Root's boot time could not be (no btime line in its
	// /proc/stat): StartTime is then zero while the other stat fields are
	// filled.
	FieldStartTime
	// FieldContainer is Container. proc reads nothing for it; the
	// hostscope package fills Container and, when it cannot do so fully (a
	// runtime's state file or a process's mount table it may not read),
	// records why under this key of Missing.
	FieldContainer
	// FieldFDs lists /proc/PID/fd and reads each link (ptrace access, as
	// for exe): FDs. One link read per descriptor.
	FieldFDs
	// FieldFDInfo also reads /proc/PID/fdinfo/N for each descriptor: the
	// flags, position and mount of FDs. It implies FieldFDs and costs one
	// more file per descriptor.
	FieldFDInfo
	// FieldSockets fills Sockets. It implies FieldFDs, reads the
	// /proc/PID/ns/net link of each process with a socket, and the socket
	// tables under /proc/PID/net once per network namespace per scan (see
	// the package doc).
	FieldSockets

	fieldEnd
)

// FieldAll requests every field.
const FieldAll = fieldEnd - 1

// DefaultFields is what a scan reads when the caller does not say: what a
// ps listing shows.
const DefaultFields = FieldStat | FieldStatus | FieldCmdline | FieldExe | FieldCgroups

var fieldNames = [...]string{"stat", "status", "cmdline", "exe", "cwd", "ns", "cgroup", "starttime", "container", "fd", "fdinfo", "sockets"}

// String names the fields in f, joined by "|".
func (f Field) String() string {
	if f == 0 {
		return "none"
	}
	var b strings.Builder
	for i, name := range fieldNames {
		if f&(1<<i) == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('|')
		}
		b.WriteString(name)
	}
	if rest := f &^ FieldAll; rest != 0 {
		if b.Len() > 0 {
			b.WriteByte('|')
		}
		b.WriteString("0x" + strconv.FormatUint(uint64(rest), 16))
	}
	return b.String()
}
