// Package cgroup reads the cgroup side of a Linux host through a
// hostroot.Root: the cgroup lines of a process, which container and
// Kubernetes pod they place it in, the host's cgroup layout, and the
// resource figures of a container's cgroup.
//
// # Files read (relative to the Root)
//
//   - nothing, for ParseEntries, Identify, IdentifyPath, IdentifyFromMounts,
//     AtNamespaceRoot, ContainerEntries, LayoutOf and Hierarchy.Dir: they
//     work on data the caller read (/proc/PID/cgroup through the proc
//     package, /proc/PID/mountinfo through mounts.Process);
//   - the host mount table (mounts.Host: /proc/1/mountinfo, or a fallback
//     process's) and cgroup.controllers at each cgroup2 mount point, for
//     DetectLayout; /sys/fs/cgroup when no mount table is readable; and,
//     when the reader sits in a private cgroup namespace, /proc/self,
//     /proc/self/cgroup and the cgroup directories down to the namespace's
//     depth, to find where the namespace lies (Hierarchy.NamespacePath);
//   - below the mount points the layout found: memory.current, memory.max
//     (v2), memory.usage_in_bytes, memory.limit_in_bytes (v1), cpu.stat,
//     cpuacct.usage (v1), pids.current and pids.max, for the Layout methods
//     Memory, CPU, Pids and Resources.
//
// # Cgroup modes
//
// A host is V1 (one hierarchy per controller group), Hybrid (v1 controllers
// plus systemd's controller-less cgroup2 mount) or V2 (one unified
// hierarchy). DetectLayout tells them apart from the file system types of the
// host's cgroup mounts, "cgroup" and "cgroup2", since a Root cannot statfs
// /sys/fs/cgroup; its mount points are taken from the table, never assumed.
// On V1 and Hybrid hosts /proc/PID/cgroup has one line per hierarchy, and
// Identify explains which line it trusts.
//
// # Namespaces and permissions
//
// The paths in /proc/PID/cgroup and the roots of cgroup mounts in
// mountinfo are relative to the cgroup namespace of the process that reads
// them, not of the process they describe. An agent in the host's cgroup
// namespace sees full paths. An agent in a container with a private cgroup
// namespace sees other containers as "/../../kubepods.slice/..." paths,
// which identify them all the same, and its own container as "/", for which
// IdentifyFromMounts on the process's mount table is the fallback
// (AtNamespaceRoot tells when). To reach other containers' resource files
// from inside a namespace, DetectLayout looks for the reader's own process
// in the host's hierarchy, since no file names the cgroups above a
// namespace; Hierarchy.Dir says what stays out of reach. Reading another
// process's mountinfo needs ptrace-read rights; cgroup files are
// world-readable.
//
// # Concurrency
//
// Every function is safe for concurrent use and keeps no state between
// calls: a Layout is plain data the caller refreshes when it wants to
// follow mount changes. Cgroup files change under the reader; the figures of
// one Resources call are not a snapshot.
//
// # When not to use it
//
// Identification is by naming convention only: a runtime configured with
// a custom cgroup parent or naming scheme is seen only through its bare
// container ID, and names, images and pod names need the runtime's state
// files (the hostscope package reads them). To manage cgroups (create,
// move, set limits), use a cgroup manager such as containerd/cgroups; this
// package only reads.
package cgroup
