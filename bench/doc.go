// Package bench measures hostscope's process inventory against its peers on
// the same work, so the numbers in BENCHMARKS.md compare like with like.
//
// It is a module of its own (github.com/hostscope/hostscope/bench) so that
// the library's go.mod never carries the peers it is measured against:
// prometheus/procfs, gopsutil v4 and golang.org/x/sys for the floor.
//
// # The inventory
//
// Every reader produces, for every process of /proc, the same record (Proc):
// PID, PPID, comm, state, user and system CPU time, RSS, the command line,
// the real UID from status, the cgroup entries and the exe link. Four
// readers do it:
//
//   - Hostscope: proc.Scan with exactly the fields that carry those values
//     (stat, status, cmdline, cgroup, exe), on any hostroot.Root.
//   - Procfs: prometheus/procfs AllProcs, then per process Stat, CmdLine,
//     NewStatus, Cgroups and Executable.
//   - Gopsutil: gopsutil v4 Processes, then per process Ppid, Name, Status,
//     Times, MemoryInfo, CmdlineSlice, Uids and Exe. Its process API has no
//     cgroup accessor, so the reader reads /proc/PID/cgroup itself with
//     os.ReadFile and splits it as a gopsutil user would.
//   - Floor: raw openat/read/close system calls with O_RDONLY|O_CLOEXEC|
//     O_NONBLOCK into one reused 16 KiB buffer, readlinkat for exe, getdents
//     for the listing, and only the byte scans that locate each value. It is
//     the least any Go program can do for the same answers, not a library.
//
// Each reader calls visit once per process with a reused *Proc, which the
// benchmarks discard and the tests compare.
//
// # The socket inventory
//
// HostscopeSockets, ProcfsSockets and GopsutilSockets list, for every
// process, the sockets among its descriptors, joined with the socket
// tables: hostscope and procfs those of each process's own network
// namespace (read once per namespace), gopsutil's net.Connections those of
// the reader's namespace only, which is all it can do. BenchmarkSockets
// runs them with socketCount sockets open in the benchmark process,
// BenchmarkSocketFields splits hostscope's cost into descriptor links,
// fdinfo and tables, and BenchmarkSocketTables reads one namespace's
// tables.
//
// # Files
//
// Hostscope reads through the Root it is given; the peers and the floor read
// the reading process's own /proc and cannot read anything else (in
// particular not an in-memory host). Nothing here writes a file.
//
// # When not to use it
//
// This package exists for the benchmarks and their consistency test. Use the
// proc package, not Hostscope, in programs.
package bench
