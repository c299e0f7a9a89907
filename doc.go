// Package hostscope reads a Linux host's processes, containers, mounts and
// devices through a host root that may be virtualized: the native "/", the
// host's file system mounted into a Kubernetes DaemonSet pod ("/host", or
// only "/host/proc" and "/host/sys"), or an in-memory file system in a unit
// test. The same reader code runs against all three.
//
// Every package reads files only through a hostroot.Root, which gives each
// lookup the semantics of a process chroot-ed into the host root: absolute
// symlinks resolve inside it, ".." stops at it, and the kernel enforces that
// no name leaves it. Build one with hostroot.Native, hostroot.Dir,
// hostroot.FromEnv (HOST_ROOT, HOST_PROC, HOST_SYS, ...) or, in tests, from
// an in-memory host made with hostroot/hostroottest.
//
// The packages, from the bottom up:
//
//   - hostroot: the Root, and hostroottest for fake hosts in tests;
//   - mounts: the mount table, from /proc/PID/mountinfo;
//   - dev: block and character devices from /sys, the udev database and /dev;
//   - cgroup: /proc/PID/cgroup, container identity from cgroup paths, and
//     per-container resource figures;
//   - proc: every process as typed, plain-data structs, streamed, with its
//     open descriptors and sockets on request;
//   - hostscope (this package): containers with their processes, names and
//     images from the runtimes' own state files; (Options.Sockets) the
//     sockets each container listens on and is connected with; and
//     (Options.Posture) each container's security posture: its
//     capabilities, seccomp mode, user namespace, the host namespaces it
//     shares, the host paths mounted into it and its device nodes, with
//     Findings saying which rules it breaks and why. Posture reads, per
//     container, its init process's /proc/PID/status, ns/*, uid_map and
//     mountinfo and its /dev through Root.ProcRoot, and (unless
//     Options.NoNames) the runtime's record of its configuration: the OCI
//     spec of its bundle or storage directory and docker's hostconfig.json
//     (Posture.Declared); once per inventory the host's init namespaces,
//     /proc/sys/kernel/cap_last_cap and the host mount table.
//
// The examples directory holds real programs: ps, lsblk, a snapshot tool
// that turns a machine into a test fixture, and a deployable DaemonSet agent.
package hostscope
