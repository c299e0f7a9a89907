package bench

import (
	"context"
	"strconv"
	"strings"

	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/proc"
	"github.com/prometheus/procfs"
	gopsnet "github.com/shirou/gopsutil/v4/net"
)

// The socket inventory: for every process of /proc, the sockets among its
// descriptors, with protocol, addresses, ports and state from the tables
// of the process's own network namespace. visit is called once per
// (process, socket) with the PID and the socket's inode; each reader
// returns the number of processes and of sockets it saw.

// HostscopeSockets is proc.Scan with FieldSockets alone: the fd links of
// every process, and the tables once per network namespace.
func HostscopeSockets(ctx context.Context, r *hostroot.Root, visit func(pid int, inode uint64)) (procs, socks int, err error) {
	err = proc.Scan(ctx, r, &proc.ScanOptions{Fields: proc.FieldSockets}, func(p *proc.Process) error {
		procs++
		socks += len(p.Sockets)
		for i := range p.Sockets {
			visit(p.PID, p.Sockets[i].Inode)
		}
		return nil
	})
	return procs, socks, err
}

// ProcfsSockets does the same with prometheus/procfs, as a user of it
// would: AllProcs, FileDescriptorTargets per process, Namespaces for a
// process with a socket, and per network namespace a procfs.FS rooted at
// the first such process's /proc/PID whose NetTCP, NetTCP6, NetUDP,
// NetUDP6 and NetUNIX give the tables (procfs has no raw table reader).
func ProcfsSockets(fs procfs.FS, visit func(pid int, inode uint64)) (procs, socks int, err error) {
	all, err := fs.AllProcs()
	if err != nil {
		return 0, 0, err
	}
	tables := map[uint32]map[uint64]bool{}
	for _, p := range all {
		targets, err := p.FileDescriptorTargets()
		if err != nil {
			continue // gone, or not ours to read
		}
		procs++
		var inodes []uint64
		for _, t := range targets {
			if rest, ok := strings.CutPrefix(t, "socket:["); ok {
				if ino, err := strconv.ParseUint(strings.TrimSuffix(rest, "]"), 10, 64); err == nil {
					inodes = append(inodes, ino)
				}
			}
		}
		if len(inodes) == 0 {
			continue
		}
		ns, err := p.Namespaces()
		if err != nil {
			continue
		}
		netns := ns["net"].Inode
		known, ok := tables[netns]
		if !ok {
			known = procfsTables(p.PID)
			tables[netns] = known
		}
		seen := map[uint64]bool{}
		for _, ino := range inodes {
			if known[ino] && !seen[ino] {
				seen[ino] = true
				socks++
				visit(p.PID, ino)
			}
		}
	}
	return procs, socks, nil
}

// procfsTables reads the socket tables of pid's network namespace with
// procfs and returns the inodes they list.
func procfsTables(pid int) map[uint64]bool {
	known := map[uint64]bool{}
	fs, err := procfs.NewFS("/proc/" + strconv.Itoa(pid))
	if err != nil {
		return known
	}
	// procfs marks its TCP table readers deprecated in favour of netlink
	// sock_diag, which answers only for the caller's network namespace.
	//lint:ignore SA1019 the tables of another namespace are what is measured
	for _, read := range []func() (procfs.NetTCP, error){fs.NetTCP, fs.NetTCP6} {
		if lines, err := read(); err == nil {
			for _, l := range lines {
				known[l.Inode] = true
			}
		}
	}
	for _, read := range []func() (procfs.NetUDP, error){fs.NetUDP, fs.NetUDP6} {
		if lines, err := read(); err == nil {
			for _, l := range lines {
				known[l.Inode] = true
			}
		}
	}
	if u, err := fs.NetUNIX(); err == nil {
		for _, l := range u.Rows {
			known[l.Inode] = true
		}
	}
	return known
}

// GopsutilSockets is gopsutil's net.ConnectionsWithoutUids("all"): every
// process's descriptors joined with the tables of the reader's own network
// namespace only (/proc/net), so sockets of processes in other namespaces
// are missed or, where inode numbers meet, mismatched. It reports no
// inode; visit gets 0.
func GopsutilSockets(ctx context.Context, visit func(pid int, inode uint64)) (procs, socks int, err error) {
	conns, err := gopsnet.ConnectionsWithoutUidsWithContext(ctx, "all")
	if err != nil {
		return 0, 0, err
	}
	pids := map[int32]bool{}
	for _, c := range conns {
		if c.Pid == 0 {
			continue // a socket no readable process holds
		}
		pids[c.Pid] = true
		socks++
		visit(int(c.Pid), 0)
	}
	// gopsutil does not say how many processes it read: those holding a
	// socket are counted.
	return len(pids), socks, nil
}
