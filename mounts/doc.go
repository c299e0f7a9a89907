// Package mounts reads mount tables through a hostroot.Root: any process's
// /proc/PID/mountinfo parsed into typed Mount values, the host's table with a
// documented fallback, filters, the mount holding a path, overlay layers,
// and translation between host paths and the reader's paths.
//
// # Files read (relative to the Root)
//
//   - /proc/PID/mountinfo for Process and ProcessFiltered, and for Host
//     (PID 1's, or a fallback process's);
//   - /proc/PID/comm, /proc/PID/ns/mnt (the link text only) and the /proc
//     listing, for Host's choice of process;
//   - nothing at all for Parse, Holding, DetectPrefix, PathMap and
//     Mount.Overlay, which work on data already read.
//
// # Namespaces and permissions
//
// A mountinfo file describes the mount namespace of its process, with paths
// relative to that process's root directory: a containerised process shows
// its container's mounts. The host's table is PID 1's, which is why Host
// reads /proc/1 and never /proc/self or /proc/mounts (those describe the
// reader). Reading /proc/PID/mountinfo needs ptrace-read rights on the
// process (root, or the same user); hidepid mounts of /proc hide or lock
// other users' processes. Host then falls back to another process and says
// so in HostTable.Reason; see Host for the order it tries.
//
// Mount points are paths in the host's namespace, not in the reader's: when
// the host's / is mounted into the reader at /host, PathMap translates.
// Reading files under a mount point through the Root needs no translation.
//
// Major:Minor is the device number the kernel reports for the mount; for
// btrfs and other file systems with anonymous devices it is 0:N and does not
// match the block device.
//
// # Concurrency
//
// Every function is safe for concurrent use; nothing is cached, so each call
// reads the table afresh. A mount table can change between two reads; the
// kernel gives no snapshot across files.
//
// # When not to use it
//
// To watch for mount changes, poll(2) /proc/PID/mountinfo for POLLPRI
// yourself; this package only reads. To act on mounts (mount, unmount,
// move), use golang.org/x/sys/unix; this package has no write path.
package mounts
