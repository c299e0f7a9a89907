// Package proc lists the processes of a host as typed, plain-data Process
// values, read through a hostroot.Root: the machine's own /proc, a host's
// /proc mounted into a container (a DaemonSet's /host/proc), or an in-memory
// fixture.
//
// # Files
//
// Names are relative to the Root. Scan lists /proc once (PID directories
// only) and, per process, reads only the files of the requested Fields:
//
//	FieldStat        /proc/PID/stat, and /proc/stat (btime) once per scan
//	FieldStatus      /proc/PID/status
//	FieldCmdline     /proc/PID/cmdline
//	FieldExe         /proc/PID/exe (link text only)
//	FieldCwd         /proc/PID/cwd (link text only)
//	FieldNamespaces  /proc/PID/ns/* (link text only)
//	FieldCgroups     /proc/PID/cgroup
//	FieldFDs         /proc/PID/fd (listed) and each /proc/PID/fd/N (link text only)
//	FieldFDInfo      /proc/PID/fdinfo/N for each descriptor
//	FieldSockets     /proc/PID/ns/net (link text only) of processes with a
//	                 socket, and /proc/PID/net/{tcp,tcp6,udp,udp6,raw,raw6,unix}
//	                 once per network namespace per scan
//
// Outside scans, UIDMap reads /proc/PID/uid_map and LastCapability reads
// /proc/sys/kernel/cap_last_cap; CapabilityNames decodes the capability
// sets of status into the kernel's names.
//
// Links are read with Readlink and never followed, so Exe and Cwd are paths
// in the process's own mount namespace; enter it with Root.ProcRoot.
//
// # Namespaces and permissions
//
// PIDs, UIDs and cgroup paths are as the Root's /proc shows them: the PID
// namespace, user namespace and cgroup namespace of whoever mounted it (the
// host's, for a host /proc mounted into a container). NSpid maps a PID to
// the nested PID namespaces. Start times use the Root's own boot time, and
// sizes in pages the reader's page size, which is the host kernel's.
//
// Reading exe, cwd and ns links of another user's process needs ptrace
// access (root or CAP_SYS_PTRACE), and hardened hosts deny it even to root
// for some processes (init, under some sandboxes). Such a failure is never
// fatal: the field is left empty and Process.Missing says why. A process
// that exits during a scan is skipped; whether it exited is decided by
// whether its /proc/PID directory is still there, so a PID directory that
// holds only some of its files (a sparse snapshot) still yields a Process,
// with the absent files' fields in Missing. When stat is read, a process
// found to be exiting (a zombie, or PF_EXITING set) after its links vanished
// keeps those fields empty without Missing entries, as a zombie does.
//
// A process's files are read one after the other, and a PID can pass to a
// new process in between. Each process is therefore opened once
// (Root.OpenProc), its files are read through that hostroot.ProcDir, and
// its stat is read last, through the stat file OpenProc opened: on a procfs
// an open file belongs to the process, not the PID, and fails once the
// process is gone, so a stat that reads proves every file before it was the
// same process's (other Roots compare the /proc/PID directory's inode). When
// the process went away mid-read, the PID is read again from the start, so
// a Process never combines the files of two processes. On a procfs this
// costs nothing beyond the files (the stat file is held open from the start
// instead of opened at the end); a scan without FieldStat confirms with a
// one-byte read of it instead.
//
// # Sockets
//
// /proc/PID/net shows the tables of the network namespace process PID is
// in, not the reader's (unlike /proc/net, which is the reader's own). A
// scan with FieldSockets tells each process's namespace by its ns/net
// link, reads that namespace's tables through the first process met in it
// that has a socket, and joins every later process of the namespace to
// the same tables: a node's hundred containers cost a hundred table reads,
// not one per process. The tables are kept only for the scan. A process
// whose ns/net link cannot be read (a snapshot without it) has its own
// tables read for it alone, and its sockets have NetNS 0. A socket created
// after its namespace's tables were read is not found; netlink, packet and
// other families without a table here are not listed. The tables hold
// sockets of every process of the namespace, also those the reader may
// not see the descriptors of; NetSockets returns them all.
//
// # Cost and concurrency
//
// A scan reuses one buffer for every file, parses bytes in place, and costs
// per process one open, one or two reads and one close per file on an
// operating-system Root, nearly all of it in the kernel. status is the
// costliest file (about 1.5 times stat); request FieldStatus only for the
// fields it carries. FieldNamespaces costs one link read per namespace
// type. Kernel threads' exe links and zombies' links are not read at all
// when status says what the process is; otherwise a missing link is
// judged by the stat read last (an exiting process's links are absent, not
// Missing).
//
// Scan, List, Read and NewTree are safe for concurrent use; each call has
// its own state and nothing is cached between calls, so a long-running agent
// always sees the host as it is. No goroutine is started.
//
// # When not to use it
//
// proc reads processes, not threads (/proc/PID/task): descriptors are the
// process's, which its threads share unless they unshared their file
// table. A single value such as one process's memory map is
// cheaper to read directly with Root.ReadFile. Exe and Cwd name files in
// the process's mount namespace: they are not paths in the Root.
package proc
