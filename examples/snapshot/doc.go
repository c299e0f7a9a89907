// Command snapshot captures what hostscope reads of a host — its processes'
// /proc files, mount tables, cgroups, block devices, udev records and
// container runtimes' state files — into a .tar.gz. hostroottest loads the
// archive back into an in-memory host, so a user attaches a snapshot to a
// bug report and a maintainer replays it as a unit test:
//
//	go run ./examples/snapshot -o node.tar.gz                  # this machine, or the HOST_* environment
//	go run ./examples/snapshot --root /host -o node.tar.gz     # a host mounted at /host
//	go run ./examples/snapshot --redact-cmdline --redact-environ -o node.tar.gz
//
//	h := hostroottest.New()
//	if err := h.LoadArchive("testdata/node.tar.gz"); err != nil { ... }
//	root := hostroottest.MustRoot(t, h)
//
// # What is captured
//
// Every file is read through a hostroot.Root, with the Root's chroot
// semantics; nothing is read through a path of the capturing process.
//
//   - Host: /etc/os-release (and what it links to), /etc/hostname,
//     /proc/sys/kernel/{hostname,osrelease,pid_max,cap_last_cap}, /proc/stat, uptime,
//     devices, cgroups, partitions, and the /proc/self link (the capturing
//     process, so readers can skip it).
//   - Each /proc/PID: stat, status, cmdline, comm, cgroup, mountinfo (the
//     host's mount table is /proc/1/mountinfo, never /proc/self's),
//     uid_map, gid_map, the exe, cwd and root links, the ns/ links and the
//     fd/ links, stored as symlinks with the kernel's text
//     ("/usr/bin/sleep", "mnt:[4026531841]", "socket:[81234]"); each
//     descriptor's fdinfo/N (position, flags, mount ID) only with
//     --fdinfo, and environ only with --environ. A process that exits, or
//     whose PID is reused, while it is read (its stat's start time is read
//     first and last) is left out whole.
//   - Socket tables, /proc/PID/net/{tcp,tcp6,udp,udp6,raw,raw6,unix}, once
//     per network namespace: the first process of a namespace (by its
//     ns/net link) has them, and every later process's net is a symlink to
//     it ("proc/812/net -> ../1/net"), which readers follow as they would
//     the real directory. A process whose ns/net cannot be read keeps its
//     own tables.
//   - Process roots: for a process in another mount namespace than the
//     host's (a container), its /dev as Root.ProcRoot shows it (directories,
//     symlinks, device nodes, FIFOs; nothing opened), once per mount
//     namespace and root directory, under .procroots/PID; the other
//     processes sharing them have a symlink .procroots/PID2 -> PID.
//     hostroottest.LoadArchive maps these as the processes' roots, so
//     ProcRoot and a container's posture (its devices) work on the
//     snapshot. Nothing else of a container's file system is captured.
//   - /sys/fs/cgroup: every directory, its symlinks, and the files readers
//     use (memory.*, cpu.*, cpuacct.*, pids.*, cgroup.procs,
//     cgroup.controllers), at most --cgroup-depth levels down.
//   - Block devices: the links of /sys/block, /sys/class/block and
//     /sys/dev/block, the device directories they point to with their small
//     attribute files (size, ro, removable, dev, uevent, queue/*, device/model,
//     device/vendor, wwid, serial, partition, dm/*, ...) and holders/ and
//     slaves/ links; the /sys/dev/char links with each device's dev and
//     uevent; the udev database's block records /run/udev/data/b*.
//   - Runtime state: docker's containers/*/config.v2.json and hostconfig.json,
//     containerd task bundles' config.json (v2 and v1 layouts; also dockerd's,
//     k3s's and microk8s's containerd), and containers/storage's
//     */userdata/config.json and containers.json (CRI-O and podman, rootful
//     and rootless).
//   - With --dev: the host's /dev: directories, symlinks, device nodes and
//     FIFOs as entries of their own type. Nothing under /dev is ever opened.
//
// # Archive layout
//
// A gzip-compressed tar (PAX where a name needs it). Names are relative to
// the host root ("proc/1/stat", "sys/class/block/sda"); every directory has
// an entry, ending in "/", before anything in it. A symlink met on the way
// to a file is stored as a symlink and the file under its real name
// (/etc/os-release -> ../usr/lib/os-release gives both entries), so no
// entry lies below a symlink and the archive resolves as the host did.
// Owners, permission bits and mtimes are the host's (--mtime fixes every
// mtime, for reproducible archives). /proc and /sys files report size 0 on
// the host; their entries carry the bytes actually read.
//
// # Limits and caveats
//
// Each file read is capped (--max-file); past --max-total no more content
// is added. A file that exists but cannot be read (permission, too large, a
// zombie's mountinfo) is skipped and counted in the summary, never fatal.
// Reading other users' exe, cwd, root, ns, fd, fdinfo and environ, and
// entering a process's root, needs ptrace rights
// (root or CAP_SYS_PTRACE), and runtime state directories are root-only.
// The capture is not atomic: processes start and exit while it runs, and
// each process is consistent only with itself.
//
// Command lines and environments can hold secrets. --redact-cmdline keeps
// argv[0] and replaces every other argument with REDACTED (keeping the NUL
// separators, so argument counts survive); a process that rewrote its argv
// as one string ("postgres: user db ...") has only an argv[0] and is kept.
// Environments are left out unless asked for; --redact-environ keeps the
// keys only.
package main
