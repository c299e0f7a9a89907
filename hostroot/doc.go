// Package hostroot is the only way hostscope touches a file: a Root is a
// read-only view of a Linux host's file system, addressed by host-absolute
// names such as "/proc/1/stat", wherever that file system really is.
//
// # Kinds of root
//
//   - Native: the machine's own "/", for an agent installed on the host.
//   - Dir: the host's "/" mounted at a directory, such as "/host" in a
//     Kubernetes DaemonSet pod.
//   - FromEnv: HOST_ROOT plus the per-subtree variables HOST_PROC, HOST_SYS,
//     HOST_DEV, HOST_ETC, HOST_RUN and HOST_VAR that Go agents already use,
//     so a pod that mounts only the node's /proc and /sys works.
//   - FromAfero and FromFS: any afero.Fs or io/fs.FS, normally the
//     in-memory hosts of package hostroottest, so readers are unit-tested
//     against fake hosts without a line changing.
//
// # Path semantics
//
// Every lookup behaves as in a process chroot-ed into the host root: an
// absolute symlink resolves inside the root (/etc/resolv.conf ->
// /run/systemd/resolve/stub-resolv.conf reads the host's /run), ".." stops
// at the root, more than 40 links fail with ELOOP, and no name ever resolves
// outside the root. On operating-system roots the kernel enforces this with
// openat2(2) and RESOLVE_IN_ROOT or RESOLVE_BENEATH, plus
// RESOLVE_NO_MAGICLINKS; where the kernel lacks openat2, a userspace
// resolver walks the name and opens each component with O_NOFOLLOW. The
// same resolver serves in-memory roots, and one conformance suite holds all
// of them to identical answers.
//
// The magic links of procfs (/proc/PID/root, cwd, exe, fd/N, ns/X) are never
// followed: /proc/PID/root/etc/passwd fails with ELOOP rather than reading a
// container's files by accident. Readlink returns their text, and ProcRoot
// is the one explicit way into a process's own file system.
//
// # Reading
//
// Whole-file reads never trust the size Stat reports (0 or 4096 for
// pseudo-files) and are capped (DefaultReadLimit, or a limit per call with
// AppendFile), so a hostile or runaway file cannot exhaust memory. Device
// nodes, FIFOs and sockets are never opened for reading (ErrNotRegular), and
// every open uses O_NONBLOCK, so nothing blocks. Outside the host's own
// procfs and sysfs mounts a file is first opened with O_PATH and its type
// checked before it is opened for reading. AppendFile with a reused buffer
// reads a /proc file in one open, one or two reads and one close.
//
// OpenProc opens one process's /proc/PID directory as a ProcDir, which reads
// that process's files by relative names and tells whether they were its
// own: on a procfs it holds the process's stat file open, which procfs ties
// to the process rather than its PID, so reading it last (AppendStat)
// proves that the process held its PID all along, at no cost beyond the
// files themselves. Other roots compare the directory's inode instead.
//
// Every error is an *fs.PathError carrying the host-absolute name, and the
// same condition gives the same errno on every kind of root:
// errors.Is(err, fs.ErrNotExist) tells a missing file or vanished process,
// errors.Is(err, fs.ErrPermission) a file the reader may not read.
//
// # Caveats
//
// /proc/self, /proc/mounts and /proc/net describe the reading process, not
// the host: readers use /proc/PID paths. Reads through procfs are subject to
// its own rules: hidepid mounts hide other users' processes, and the magic
// links of a process need ptrace rights over it.
//
// A Root is immutable and safe for concurrent use; there is no package
// state. Operating-system roots hold directory descriptors until Close (a
// Root from ProcRoot pins the process's root directory until then).
package hostroot
