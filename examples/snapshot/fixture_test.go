package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
	"github.com/spf13/afero"
)

// statLine is a /proc/PID/stat line in the kernel's format (proc(5)):
// 52 fields, the comm in parentheses, start time (field 22) in ticks.
func statLine(pid int, comm string, state byte, ppid int, start uint64) string {
	f := make([]string, 50) // fields 3..52
	for i := range f {
		f[i] = "0"
	}
	f[0] = string(state)
	f[1] = strconv.Itoa(ppid)
	f[2], f[3] = strconv.Itoa(pid), strconv.Itoa(pid) // pgrp, session
	f[5] = "-1"                                       // tpgid
	f[17] = "20"                                      // priority
	f[19] = "1"                                       // num_threads
	f[22-3] = strconv.FormatUint(start, 10)
	return fmt.Sprintf("%d (%s) %s\n", pid, comm, strings.Join(f, " "))
}

// Paths of the fixture's block devices, shaped as on an AHCI SATA disk
// with a device-mapper volume on its first partition.
const (
	scsiDev = "/sys/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0"
	sdaDir  = scsiDev + "/block/sda"
	dmDir   = "/sys/devices/virtual/block/dm-0"
	nullDir = "/sys/devices/virtual/mem/null"
)

const (
	dockerID = "3f4e5d6c7b8a99887766554433221100ffeeddccbbaa00998877665544332211"
	ctrdID   = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
	podmanID = "0011223344556677889900aabbccddeeff0011223344556677889900aabbccdd"
)

// fixtureHost is a small host with what a snapshot captures and, next to
// it, what it must leave alone (marked "not captured").
func fixtureHost() *hostroottest.Host {
	mountinfo := "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n" +
		"23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:2 - proc proc rw\n"
	h := hostroottest.New().
		File("/usr/lib/os-release", "ID=debian\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n").
		Symlink("/etc/os-release", "../usr/lib/os-release").
		File("/etc/hostname", "node-7\n").
		FileMode("/etc/shadow", "root:*:19000::::::\n", 0o600). // not captured
		File("/proc/sys/kernel/hostname", "node-7\n").
		File("/proc/sys/kernel/osrelease", "6.1.0-test\n").
		File("/proc/sys/kernel/pid_max", "4194304\n").
		File("/proc/sys/kernel/cap_last_cap", "40\n").
		File("/proc/sys/kernel/random/boot_id", "x\n"). // not captured
		File("/proc/stat", "cpu  10 0 20 300 0 0 0 0 0 0\nbtime 1700000000\nprocesses 400\n").
		File("/proc/uptime", "1234.56 2000.10\n").
		File("/proc/devices", "Character devices:\n  1 mem\n\nBlock devices:\n  8 sd\n253 device-mapper\n").
		File("/proc/cgroups", "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t0\t12\t1\n").
		File("/proc/meminfo", "MemTotal: 1 kB\n"). // not captured
		Symlink("/proc/self", "300").
		Symlink("/proc/mounts", "self/mounts"). // not captured: the reader's, not the host's
		// PID 1, systemd, with every per-process file.
		File("/proc/1/stat", statLine(1, "systemd", 'S', 0, 5)).
		File("/proc/1/status", "Name:\tsystemd\nUid:\t0\t0\t0\t0\nNSpid:\t1\n").
		File("/proc/1/cmdline", "/sbin/init\x00splash\x00--log-level=debug\x00").
		File("/proc/1/comm", "systemd\n").
		File("/proc/1/cgroup", "0::/init.scope\n").
		File("/proc/1/mountinfo", mountinfo).
		FileMode("/proc/1/environ", "HOME=/\x00TERM=linux\x00TOKEN=s3cr3t\x00", 0o400).
		File("/proc/1/maps", "not captured\n").
		File("/proc/1/task/1/stat", statLine(1, "systemd", 'S', 0, 5)). // not captured
		Symlink("/proc/1/exe", "/usr/lib/systemd/systemd").
		Symlink("/proc/1/cwd", "/").
		Symlink("/proc/1/root", "/").
		File("/proc/1/uid_map", uidMapIdentity).
		File("/proc/1/gid_map", uidMapIdentity).
		Symlink("/proc/1/fd/0", "/dev/null").
		Symlink("/proc/1/fd/3", "socket:[1001]").
		File("/proc/1/fdinfo/0", "pos:\t0\nflags:\t0100002\nmnt_id:\t25\nino:\t4\n").
		File("/proc/1/fdinfo/3", "pos:\t0\nflags:\t02000002\nmnt_id:\t8\nino:\t1001\n").
		File("/proc/1/net/tcp", tcpHeader+
			"   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1001 1 0000000000000000 100 0 0 10 0\n").
		File("/proc/1/net/unix", "Num       RefCount Protocol Flags    Type St Inode Path\n").
		File("/proc/1/net/snmp", "not captured\n").
		Symlink("/proc/1/ns/mnt", "mnt:[4026531841]").
		Symlink("/proc/1/ns/net", "net:[4026531840]").
		Symlink("/proc/1/ns/pid", "pid:[4026531836]").
		// PID 2, a kernel thread: no exe, cwd or root link.
		File("/proc/2/stat", statLine(2, "kthreadd", 'S', 0, 6)).
		File("/proc/2/status", "Name:\tkthreadd\n").
		File("/proc/2/cmdline", "").
		File("/proc/2/comm", "kthreadd\n").
		File("/proc/2/cgroup", "0::/\n").
		File("/proc/2/mountinfo", mountinfo).
		Dir("/proc/2/fd").
		Symlink("/proc/2/ns/net", "net:[4026531840]").
		File("/proc/2/net/tcp", tcpHeader). // not captured: PID 1's tables are the namespace's
		// PID 300, a container's process owned by UID 1000, whose root
		// link points into an overlay (the magic link is recorded, not
		// entered), running a deleted binary.
		File("/proc/300/stat", statLine(300, "sleep", 'S', 290, 9000)).
		File("/proc/300/status", "Name:\tsleep\nUid:\t1000\t1000\t1000\t1000\nNSpid:\t300\t1\n").
		File("/proc/300/cmdline", "sleep\x00infinity\x00").
		File("/proc/300/comm", "sleep\n").
		File("/proc/300/cgroup", "0::/system.slice/docker-"+dockerID+".scope\n").
		File("/proc/300/mountinfo", "500 400 0:50 / / rw - overlay overlay rw\n").
		FileMode("/proc/300/environ", "PATH=/bin\x00", 0o400).
		Symlink("/proc/300/exe", "/bin/sleep (deleted)").
		Symlink("/proc/300/cwd", "/home/app").
		Symlink("/proc/300/root", "/").
		Symlink("/proc/300/ns/mnt", "mnt:[4026532400]").
		Symlink("/proc/300/ns/net", "net:[4026532500]").
		File("/proc/300/uid_map", "         0     100000      65536\n").
		Symlink("/proc/300/fd/1", "socket:[2001]").
		File("/proc/300/fdinfo/1", "pos:\t0\nflags:\t02\nmnt_id:\t8\nino:\t2001\n").
		File("/proc/300/net/tcp6", tcpHeader+
			"   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 2001 1 0000000000000000 100 0 0 10 0\n").
		ProcRoot(300, "/data/docker/overlay2/abc/merged").
		File("/data/docker/overlay2/abc/merged/etc/passwd", "root:x:0:0::/:/bin/sh\n"). // not captured
		Device("/data/docker/overlay2/abc/merged/dev/null", hostroottest.Char, 1, 3, 0o666).
		Device("/data/docker/overlay2/abc/merged/dev/fuse", hostroottest.Char, 10, 229, 0o600).
		Symlink("/data/docker/overlay2/abc/merged/dev/stdout", "/proc/self/fd/1").
		Dir("/data/docker/overlay2/abc/merged/dev/pts").
		File("/data/docker/overlay2/abc/merged/dev/shm/x", "not captured\n").
		File("/data/docker/overlay2/abc/merged/dev/termination-log", "not captured\n").
		// PID 301, another process of the same container: its tables and
		// its root are PID 300's.
		File("/proc/301/stat", statLine(301, "sh", 'S', 300, 9100)).
		File("/proc/301/cmdline", "sh\x00").
		Symlink("/proc/301/ns/mnt", "mnt:[4026532400]").
		Symlink("/proc/301/ns/net", "net:[4026532500]").
		File("/proc/301/net/tcp6", tcpHeader). // not captured: PID 300's are the namespace's
		ProcRoot(301, "/data/docker/overlay2/abc/merged").
		// cgroup v2, plus a v1-style link that must be kept, not walked.
		File("/sys/fs/cgroup/cgroup.controllers", "cpu memory pids\n").
		File("/sys/fs/cgroup/cgroup.procs", "1\n2\n").
		File("/sys/fs/cgroup/cgroup.subtree_control", "cpu memory pids\n"). // not captured
		File("/sys/fs/cgroup/init.scope/cgroup.procs", "1\n").
		File("/sys/fs/cgroup/system.slice/docker-"+dockerID+".scope/cgroup.procs", "300\n").
		File("/sys/fs/cgroup/system.slice/docker-"+dockerID+".scope/memory.max", "max\n").
		File("/sys/fs/cgroup/system.slice/docker-"+dockerID+".scope/memory.current", "1048576\n").
		File("/sys/fs/cgroup/system.slice/docker-"+dockerID+".scope/memory.stat", "anon 4096\nfile 8192\n").
		File("/sys/fs/cgroup/system.slice/docker-"+dockerID+".scope/cpu.max", "max 100000\n").
		File("/sys/fs/cgroup/system.slice/docker-"+dockerID+".scope/cpu.stat", "usage_usec 1000\n").
		File("/sys/fs/cgroup/system.slice/docker-"+dockerID+".scope/pids.current", "1\n").
		File("/sys/fs/cgroup/system.slice/docker-"+dockerID+".scope/io.max", "").                    // not captured
		FileMode("/sys/fs/cgroup/system.slice/docker-"+dockerID+".scope/memory.reclaim", "", 0o200). // write-only
		Dir("/sys/fs/cgroup/cpu,cpuacct").
		Symlink("/sys/fs/cgroup/cpu", "cpu,cpuacct").
		// Block devices: a disk, its partition, a dm volume on it.
		File(sdaDir+"/dev", "8:0\n").
		File(sdaDir+"/size", "41943040\n").
		File(sdaDir+"/ro", "0\n").
		File(sdaDir+"/removable", "0\n").
		File(sdaDir+"/uevent", "MAJOR=8\nMINOR=0\nDEVNAME=sda\nDEVTYPE=disk\n").
		File(sdaDir+"/queue/rotational", "1\n").
		File(sdaDir+"/queue/logical_block_size", "512\n").
		File(sdaDir+"/stat", "1 2 3\n"). // not captured
		Symlink(sdaDir+"/device", "../../../0:0:0:0").
		File(scsiDev+"/model", "QEMU HARDDISK   \n").
		File(scsiDev+"/vendor", "ATA     \n").
		File(scsiDev+"/wwid", "t10.ATA     QEMU HARDDISK                           QM00001\n").
		File(scsiDev+"/rescan", ""). // not captured
		File(sdaDir+"/sda1/dev", "8:1\n").
		File(sdaDir+"/sda1/partition", "1\n").
		File(sdaDir+"/sda1/size", "41940992\n").
		Symlink(sdaDir+"/sda1/holders/dm-0", "../../../../../../../../../../virtual/block/dm-0").
		Dir(sdaDir+"/holders").
		Dir(sdaDir+"/slaves").
		File(dmDir+"/dev", "253:0\n").
		File(dmDir+"/size", "41940992\n").
		File(dmDir+"/dm/name", "vg-root\n").
		File(dmDir+"/dm/uuid", "LVM-abc\n").
		Symlink(dmDir+"/slaves/sda1", "../../../../pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda/sda1").
		Symlink("/sys/block/sda", "../devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda").
		Symlink("/sys/class/block/sda", "../../devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda").
		Symlink("/sys/class/block/sda1", "../../devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda/sda1").
		Symlink("/sys/class/block/dm-0", "../../devices/virtual/block/dm-0").
		Symlink("/sys/dev/block/8:0", "../../devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda").
		Symlink("/sys/dev/block/253:0", "../../devices/virtual/block/dm-0").
		Symlink("/sys/dev/char/1:3", "../../devices/virtual/mem/null").
		File(nullDir+"/dev", "1:3\n").
		File(nullDir+"/uevent", "MAJOR=1\nMINOR=3\nDEVNAME=null\nDEVMODE=0666\n").
		File(nullDir+"/power/async", "disabled\n"). // not captured
		// udev: block records only.
		File("/run/udev/data/b8:0", "S:disk/by-id/ata-QEMU_HARDDISK_QM00001\nE:ID_SERIAL=QEMU_HARDDISK_QM00001\n").
		File("/run/udev/data/b253:0", "S:mapper/vg-root\nE:DM_NAME=vg-root\n").
		File("/run/udev/data/c1:3", "E:X=1\n").   // not captured
		File("/run/udev/data/+usb:1-1", "I:1\n"). // not captured
		// Runtimes. Docker's data root is a symlink, as with data-root
		// moved to another disk: the link and the real files are kept.
		Symlink("/var/lib/docker", "/data/docker").
		FileMode("/data/docker/containers/"+dockerID+"/config.v2.json", `{"ID":"`+dockerID+`","Name":"/web"}`, 0o600).
		File("/data/docker/containers/"+dockerID+"/hostconfig.json", `{"Privileged":false}`).
		File("/data/docker/containers/"+dockerID+"/"+dockerID+"-json.log", "secret log\n"). // not captured
		File("/run/containerd/io.containerd.runtime.v2.task/k8s.io/"+ctrdID+"/config.json", `{"ociVersion":"1.0.2"}`).
		File("/run/containerd/io.containerd.runtime.v2.task/k8s.io/"+ctrdID+"/rootfs/etc/passwd", "x\n"). // not captured
		File("/var/lib/containers/storage/overlay-containers/containers.json", `[{"id":"`+podmanID+`"}]`).
		File("/var/lib/containers/storage/overlay-containers/containers.lock", ""). // not captured
		File("/var/lib/containers/storage/overlay-containers/"+podmanID+"/userdata/config.json", `{"ociVersion":"1.0.0"}`).
		File("/var/lib/containers/storage/overlay-containers/"+podmanID+"/userdata/conmon.pid", "299\n"). // not captured
		// /dev: captured only with Options.Dev, and never opened.
		Device("/dev/sda", hostroottest.Block, 8, 0, 0o660).
		Owner("/dev/sda", 0, 6).
		Device("/dev/null", hostroottest.Char, 1, 3, 0o666).
		FIFO("/dev/initctl").
		Symlink("/dev/disk/by-uuid/1234-ABCD", "../../sda1").
		Dir("/dev/pts").
		File("/dev/shm/payload", "never\n").
		// Special files where a regular file is expected: counted, never read.
		FIFO("/run/udev/data/b8:16").
		Device("/sys/fs/cgroup/init.scope/memory.stat", hostroottest.Char, 1, 3, 0o444)
	h.Owner("/proc/300", 1000, 1000).
		Owner("/proc/300/stat", 1000, 1000).
		Owner("/proc/300/environ", 1000, 1000).
		Owner("/proc/300/exe", 1000, 1000)
	return h
}

// uidMapIdentity is the initial user namespace's uid_map and gid_map.
const uidMapIdentity = "         0          0 4294967295\n"

// tcpHeader is the first line of /proc/PID/net/tcp and tcp6.
const tcpHeader = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"

// wantNames is what a default capture of fixtureHost holds, in archive
// order-independent form.
var wantNames = []string{
	"/data", "/data/docker", "/data/docker/containers", "/data/docker/containers/" + dockerID,
	"/data/docker/containers/" + dockerID + "/config.v2.json",
	"/data/docker/containers/" + dockerID + "/hostconfig.json",
	"/etc", "/etc/hostname", "/etc/os-release",
	"/.procroots", "/.procroots/300", "/.procroots/300/dev", "/.procroots/300/dev/fuse",
	"/.procroots/300/dev/null", "/.procroots/300/dev/pts", "/.procroots/300/dev/stdout", "/.procroots/301",
	"/proc",
	"/proc/1", "/proc/1/cgroup", "/proc/1/cmdline", "/proc/1/comm", "/proc/1/cwd", "/proc/1/exe",
	"/proc/1/fd", "/proc/1/fd/0", "/proc/1/fd/3", "/proc/1/fdinfo", "/proc/1/fdinfo/0", "/proc/1/fdinfo/3",
	"/proc/1/gid_map", "/proc/1/mountinfo", "/proc/1/net", "/proc/1/net/tcp", "/proc/1/net/unix",
	"/proc/1/ns", "/proc/1/ns/mnt", "/proc/1/ns/net", "/proc/1/ns/pid",
	"/proc/1/root", "/proc/1/stat", "/proc/1/status", "/proc/1/uid_map",
	"/proc/2", "/proc/2/cgroup", "/proc/2/cmdline", "/proc/2/comm", "/proc/2/fd", "/proc/2/mountinfo",
	"/proc/2/net", "/proc/2/ns", "/proc/2/ns/net", "/proc/2/stat", "/proc/2/status",
	"/proc/300", "/proc/300/cgroup", "/proc/300/cmdline", "/proc/300/comm", "/proc/300/cwd",
	"/proc/300/exe", "/proc/300/fd", "/proc/300/fd/1", "/proc/300/fdinfo", "/proc/300/fdinfo/1",
	"/proc/300/mountinfo", "/proc/300/net", "/proc/300/net/tcp6",
	"/proc/300/ns", "/proc/300/ns/mnt", "/proc/300/ns/net", "/proc/300/root",
	"/proc/300/stat", "/proc/300/status", "/proc/300/uid_map",
	"/proc/301", "/proc/301/cmdline", "/proc/301/net", "/proc/301/ns", "/proc/301/ns/mnt", "/proc/301/ns/net",
	"/proc/301/stat",
	"/proc/cgroups", "/proc/devices", "/proc/self", "/proc/stat",
	"/proc/sys", "/proc/sys/kernel", "/proc/sys/kernel/cap_last_cap", "/proc/sys/kernel/hostname",
	"/proc/sys/kernel/osrelease", "/proc/sys/kernel/pid_max", "/proc/uptime",
	"/run", "/run/containerd", "/run/containerd/io.containerd.runtime.v2.task",
	"/run/containerd/io.containerd.runtime.v2.task/k8s.io",
	"/run/containerd/io.containerd.runtime.v2.task/k8s.io/" + ctrdID,
	"/run/containerd/io.containerd.runtime.v2.task/k8s.io/" + ctrdID + "/config.json",
	"/run/udev", "/run/udev/data", "/run/udev/data/b253:0", "/run/udev/data/b8:0",
	"/sys", "/sys/block", "/sys/block/sda",
	"/sys/class", "/sys/class/block", "/sys/class/block/dm-0", "/sys/class/block/sda", "/sys/class/block/sda1",
	"/sys/dev", "/sys/dev/block", "/sys/dev/block/253:0", "/sys/dev/block/8:0", "/sys/dev/char", "/sys/dev/char/1:3",
	"/sys/devices",
	"/sys/devices/pci0000:00", "/sys/devices/pci0000:00/0000:00:1f.2", "/sys/devices/pci0000:00/0000:00:1f.2/ata1",
	"/sys/devices/pci0000:00/0000:00:1f.2/ata1/host0", "/sys/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0",
	scsiDev, scsiDev + "/block", scsiDev + "/model", scsiDev + "/vendor", scsiDev + "/wwid",
	sdaDir, sdaDir + "/dev", sdaDir + "/device", sdaDir + "/holders", sdaDir + "/queue",
	sdaDir + "/queue/logical_block_size", sdaDir + "/queue/rotational", sdaDir + "/removable", sdaDir + "/ro",
	sdaDir + "/sda1", sdaDir + "/sda1/dev", sdaDir + "/sda1/holders", sdaDir + "/sda1/holders/dm-0",
	sdaDir + "/sda1/partition", sdaDir + "/sda1/size",
	sdaDir + "/size", sdaDir + "/slaves", sdaDir + "/uevent",
	"/sys/devices/virtual", "/sys/devices/virtual/block",
	dmDir, dmDir + "/dev", dmDir + "/dm", dmDir + "/dm/name", dmDir + "/dm/uuid", dmDir + "/size",
	dmDir + "/slaves", dmDir + "/slaves/sda1",
	"/sys/devices/virtual/mem", nullDir, nullDir + "/dev", nullDir + "/uevent",
	"/sys/fs", "/sys/fs/cgroup", "/sys/fs/cgroup/cgroup.controllers", "/sys/fs/cgroup/cgroup.procs",
	"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct",
	"/sys/fs/cgroup/init.scope", "/sys/fs/cgroup/init.scope/cgroup.procs",
	"/sys/fs/cgroup/system.slice",
	"/sys/fs/cgroup/system.slice/docker-" + dockerID + ".scope",
	"/sys/fs/cgroup/system.slice/docker-" + dockerID + ".scope/cgroup.procs",
	"/sys/fs/cgroup/system.slice/docker-" + dockerID + ".scope/cpu.max",
	"/sys/fs/cgroup/system.slice/docker-" + dockerID + ".scope/cpu.stat",
	"/sys/fs/cgroup/system.slice/docker-" + dockerID + ".scope/memory.current",
	"/sys/fs/cgroup/system.slice/docker-" + dockerID + ".scope/memory.max",
	"/sys/fs/cgroup/system.slice/docker-" + dockerID + ".scope/memory.stat",
	"/sys/fs/cgroup/system.slice/docker-" + dockerID + ".scope/pids.current",
	"/usr", "/usr/lib", "/usr/lib/os-release",
	"/var", "/var/lib", "/var/lib/containers", "/var/lib/containers/storage",
	"/var/lib/containers/storage/overlay-containers",
	"/var/lib/containers/storage/overlay-containers/" + podmanID,
	"/var/lib/containers/storage/overlay-containers/" + podmanID + "/userdata",
	"/var/lib/containers/storage/overlay-containers/" + podmanID + "/userdata/config.json",
	"/var/lib/containers/storage/overlay-containers/containers.json",
	"/var/lib/docker",
}

// node is what the tests compare of a name seen through a Root.
type node struct {
	Type         string
	Perm         fs.FileMode
	Content      string
	UID, GID     uint32
	Major, Minor uint32
}

func describe(tb testing.TB, r *hostroot.Root, name string) node {
	tb.Helper()
	fi, err := r.Lstat(name)
	if err != nil {
		tb.Fatalf("Lstat(%s): %v", name, err)
	}
	st, _ := hostroot.StatOf(fi)
	n := node{Perm: fi.Mode().Perm()}
	if st != nil {
		n.UID, n.GID, n.Major, n.Minor = st.UID, st.GID, st.RdevMajor, st.RdevMinor
	}
	switch m := fi.Mode(); {
	case m.IsDir():
		n.Type = "dir"
	case m.IsRegular():
		n.Type = "file"
		b, err := r.ReadFile(name)
		if err != nil {
			tb.Fatalf("ReadFile(%s): %v", name, err)
		}
		n.Content = string(b)
	case m&fs.ModeSymlink != 0:
		n.Type = "symlink"
		n.Content, err = r.Readlink(name)
		if err != nil {
			tb.Fatalf("Readlink(%s): %v", name, err)
		}
		n.Perm = 0
	case m&fs.ModeNamedPipe != 0:
		n.Type = "fifo"
	case m&fs.ModeCharDevice != 0:
		n.Type = "char"
	case m&fs.ModeDevice != 0:
		n.Type = "block"
	default:
		n.Type = m.Type().String()
	}
	return n
}

// allNames lists every name under "/" in r, without following symlinks.
func allNames(tb testing.TB, r *hostroot.Root) []string {
	tb.Helper()
	var names []string
	var walk func(dir string)
	walk = func(dir string) {
		entries, err := r.ReadDir(dir)
		if err != nil {
			tb.Fatalf("ReadDir(%s): %v", dir, err)
		}
		for _, e := range entries {
			name := path.Join(dir, e.Name())
			names = append(names, name)
			if e.IsDir() {
				walk(name)
			}
		}
	}
	walk("/")
	sort.Strings(names)
	return names
}

// spy wraps a Host and reports any open of a device node or FIFO: a
// snapshot never opens one, not even to fail reading it. hook, when set,
// runs before each open (to make a process vanish mid-capture).
type spy struct {
	*hostroottest.Host
	tb testing.TB

	mu     sync.Mutex
	hook   func(name string) error
	opened []string
}

func (s *spy) Open(name string) (afero.File, error) {
	name = path.Clean("/" + name)
	s.mu.Lock()
	s.opened = append(s.opened, name)
	hook := s.hook
	s.mu.Unlock()
	if fi, _, err := s.Host.LstatIfPossible(name); err == nil && fi.Mode()&(fs.ModeDevice|fs.ModeNamedPipe) != 0 {
		s.tb.Errorf("opened %s, a %v", name, fi.Mode().Type())
	}
	if hook != nil {
		if err := hook(name); err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
	}
	return s.Host.Open(name)
}

func (s *spy) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	if flag == os.O_RDONLY {
		return s.Open(name)
	}
	return s.Host.OpenFile(name, flag, perm)
}

func spyRoot(tb testing.TB, h *hostroottest.Host) (*spy, *hostroot.Root) {
	tb.Helper()
	if err := h.Err(); err != nil {
		tb.Fatalf("building the host: %v", err)
	}
	s := &spy{Host: h, tb: tb}
	return s, hostroot.FromAfero(s)
}

// fixed is the mtime of test captures.
var fixed = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// captureBytes runs Capture into memory.
func captureBytes(tb testing.TB, r *hostroot.Root, opts *Options) ([]byte, *Summary) {
	tb.Helper()
	var buf bytes.Buffer
	sum, err := Capture(context.Background(), r, &buf, opts)
	if err != nil {
		tb.Fatalf("Capture: %v", err)
	}
	return buf.Bytes(), sum
}

// load reads an archive back with hostroottest, as a maintainer would.
func load(tb testing.TB, archive []byte) *hostroot.Root {
	tb.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		tb.Fatal(err)
	}
	h := hostroottest.New()
	if err := h.LoadTar(zr); err != nil {
		tb.Fatalf("LoadTar: %v", err)
	}
	return hostroottest.MustRoot(tb, h)
}

// headers lists an archive's tar headers in order.
func headers(tb testing.TB, archive []byte) []*tar.Header {
	tb.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		tb.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var hdrs []*tar.Header
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return hdrs
		}
		if err != nil {
			tb.Fatal(err)
		}
		hdrs = append(hdrs, hdr)
	}
}
