// Package dev lists a host's block and character devices through a
// hostroot.Root: sysfs attributes, the udev database, /proc/devices, the
// nodes under /dev and udev's /dev/disk/by-* links, with block devices
// joined to the host's mount table by major:minor.
//
// # Files read (relative to the Root)
//
//   - /sys/class/block/NAME/... (or /sys/block/DISK and its partition
//     directories when the class directory is missing): dev, size, start,
//     partition, ro, removable, queue/rotational, queue/logical_block_size,
//     serial, wwid, device/{model,vendor,serial,wwid,type}, dm/{name,uuid},
//     md/level, holders/, slaves/. The /sys symlinks are followed by the
//     Root's resolver, inside the Root, never by the reader's file system.
//   - /sys/dev/char/MAJOR:MINOR, its uevent and subsystem link, for Chars.
//   - /run/udev/data/bMAJOR:MINOR (and cMAJOR:MINOR for Udev with
//     KindChar): the udev database. Absent on hosts without udev and in
//     containers that do not mount the host's /run; fields taken from it
//     are then empty.
//   - /proc/devices, for driver names.
//   - /proc/PID/mountinfo through mounts.Host, for mount points, unless
//     BlockOptions supplies a table or NoMounts is set.
//   - /dev, walked with Lstat for Nodes, and /dev/disk/by-*/ for DiskLinks.
//
// # Namespaces and permissions
//
// sysfs shows the devices of the network namespace and the whole machine
// regardless of the reader's mount namespace, so a container that mounts
// the host's /sys sees the host's disks. Its own /dev, by contrast, is
// usually a small tmpfs: mount the host's /dev (HOST_DEV with FromEnv) to
// list the host's nodes and by-* links. Every file read here is
// world-readable on a standard host; owners and device numbers of nodes
// come from Lstat, which needs no permission on the node itself.
//
// Mount points are joined by major:minor, so a bind mount of a directory on
// a disk counts as a mount of that disk, as lsblk counts it. File systems
// that report an anonymous device number (btrfs, for one) are matched by a
// source of /dev/NAME instead, which misses mounts by /dev/mapper names.
//
// # Concurrency
//
// Every function is safe for concurrent use and caches nothing: devices
// come and go, and each call reads afresh. A scan is not a snapshot: a
// device removed during it is silently left out.
//
// # When not to use it
//
// This package reads what the kernel and udev have recorded; it does not
// probe devices. For file system signatures that udev has not recorded,
// use blkid; for SMART data or partition tables, read the device itself.
package dev
