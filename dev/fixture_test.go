package dev

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
)

// builder is what a fixture needs from a host tree: hostroottest.Host in
// memory, diskTree on disk.
type builder interface {
	file(name, content string)
	symlink(name, target string)
	device(name string, kind Kind, major, minor uint32, perm fs.FileMode, uid, gid uint32)
}

type memTree struct{ h *hostroottest.Host }

func (m memTree) file(name, content string)   { m.h.File(name, content) }
func (m memTree) symlink(name, target string) { m.h.Symlink(name, target) }
func (m memTree) device(name string, kind Kind, major, minor uint32, perm fs.FileMode, uid, gid uint32) {
	k := hostroottest.Block
	if kind == KindChar {
		k = hostroottest.Char
	}
	m.h.Device(name, k, major, minor, perm).Owner(name, uid, gid)
}

// diskTree writes the fixture under dir, to be read with hostroot.Dir: the
// host mounted at a prefix. Device nodes need root (mknod).
type diskTree struct {
	tb  testing.TB
	dir string
}

func (d diskTree) path(name string) string {
	p := filepath.Join(d.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		d.tb.Fatal(err)
	}
	return p
}

func (d diskTree) file(name, content string) {
	if err := os.WriteFile(d.path(name), []byte(content), 0o644); err != nil {
		d.tb.Fatal(err)
	}
}

func (d diskTree) symlink(name, target string) {
	if err := os.Symlink(target, d.path(name)); err != nil {
		d.tb.Fatal(err)
	}
}

func (d diskTree) device(name string, kind Kind, major, minor uint32, perm fs.FileMode, uid, gid uint32) {
	mode := uint32(unix.S_IFBLK)
	if kind == KindChar {
		mode = unix.S_IFCHR
	}
	p := d.path(name)
	if err := unix.Mknod(p, mode|uint32(perm.Perm()), int(unix.Mkdev(major, minor))); err != nil {
		d.tb.Fatal(err)
	}
	if err := os.Chmod(p, perm.Perm()); err != nil { // the umask narrowed it
		d.tb.Fatal(err)
	}
	if err := os.Lchown(p, int(uid), int(gid)); err != nil {
		d.tb.Fatal(err)
	}
}

// The crafted server: paths and attribute shapes follow a real SATA SSD
// with an EFI partition and an LVM physical volume, an NVMe disk with a
// btrfs partition, a SATA DVD drive, an idle loop device and an md RAID1,
// as sysfs lays them out (Documentation/ABI/stable/sysfs-block).
const (
	sdaDir   = "/sys/devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda"
	nvmeDir  = "/sys/devices/pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0/nvme0n1"
	srDir    = "/sys/devices/pci0000:00/0000:00:17.0/ata2/host1/target1:0:0/1:0:0:0/block/sr0"
	dmDir    = "/sys/devices/virtual/block/dm-0"
	loopDir  = "/sys/devices/virtual/block/loop0"
	mdDir    = "/sys/devices/virtual/block/md0"
	serverFS = "26 1 253:0 / / rw,relatime shared:1 - ext4 /dev/mapper/vg0-root rw\n" +
		"30 26 8:1 / /boot/efi rw,relatime shared:2 - vfat /dev/sda1 rw,fmask=0077\n" +
		"31 26 0:45 /@data /data rw,relatime shared:3 - btrfs /dev/nvme0n1p1 rw,ssd,subvol=/@data\n" +
		"32 26 253:0 /var/lib/kubelet /var/lib/kubelet rw,relatime shared:1 - ext4 /dev/mapper/vg0-root rw\n" +
		"33 26 0:20 / /proc rw,nosuid - proc proc rw\n"
)

func buildServer(b builder) {
	b.file("/proc/devices", "Character devices:\n  1 mem\n  4 /dev/vc/0\n  4 tty\n  5 /dev/tty\n  5 /dev/console\n 13 input\n\n"+
		"Block devices:\n  7 loop\n  8 sd\n  9 md\n 11 sr\n253 device-mapper\n259 blkext\n")
	b.file("/proc/1/comm", "systemd\n")
	b.file("/proc/1/mountinfo", serverFS)

	// sda: a SATA SSD, with udev data.
	b.symlink("/sys/class/block/sda", "../../devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda")
	attrs(b, sdaDir, map[string]string{"dev": "8:0", "size": "976773168", "ro": "0", "removable": "0",
		"queue/rotational": "0", "queue/logical_block_size": "512"})
	b.symlink(sdaDir+"/device", "../../../0:0:0:0")
	attrs(b, "/sys/devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0", map[string]string{
		"model": "Samsung SSD 860 ", "vendor": "ATA     ", "type": "0", "wwid": "naa.5002538e40a1b2c3"})
	b.file("/run/udev/data/b8:0", "S:disk/by-id/ata-Samsung_SSD_860_EVO_500GB_S3Z9NB0K123456X\n"+
		"S:disk/by-id/wwn-0x5002538e40a1b2c3\nL:0\nI:1612345678\nE:ID_ATA=1\nE:ID_TYPE=disk\n"+
		"E:ID_MODEL=Samsung_SSD_860_EVO_500GB\nE:ID_MODEL_ENC=Samsung\\x20SSD\\x20860\\x20EVO\\x20500GB\\x20\\x20\n"+
		"E:ID_SERIAL=Samsung_SSD_860_EVO_500GB_S3Z9NB0K123456X\nE:ID_SERIAL_SHORT=S3Z9NB0K123456X\n"+
		"E:ID_WWN=0x5002538e40a1b2c3\nE:ID_PART_TABLE_TYPE=gpt\nG:systemd\nQ:systemd\nV:1\n")
	// sda1: EFI system partition.
	b.symlink("/sys/class/block/sda1", "../../devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda/sda1")
	attrs(b, sdaDir+"/sda1", map[string]string{"dev": "8:1", "partition": "1", "start": "2048", "size": "1048576", "ro": "0"})
	b.file("/run/udev/data/b8:1", "S:disk/by-uuid/5A3B-1C2D\nS:disk/by-partuuid/0f3c1d52-1a2b-4c3d-9e8f-0123456789ab\n"+
		"E:ID_FS_TYPE=vfat\nE:ID_FS_UUID=5A3B-1C2D\nE:ID_FS_UUID_ENC=5A3B-1C2D\nE:ID_FS_LABEL=EFI\nE:ID_FS_LABEL_ENC=EFI\n"+
		"E:ID_PART_ENTRY_UUID=0f3c1d52-1a2b-4c3d-9e8f-0123456789ab\nE:ID_PART_ENTRY_NAME=EFI\\x20System\\x20Partition\n"+
		"E:ID_PART_ENTRY_NUMBER=1\n")
	// sda2: an LVM physical volume held by dm-0.
	b.symlink("/sys/class/block/sda2", "../../devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda/sda2")
	attrs(b, sdaDir+"/sda2", map[string]string{"dev": "8:2", "partition": "2", "start": "1050624", "size": "975720448", "ro": "0"})
	b.symlink(sdaDir+"/sda2/holders/dm-0", "../../../../../../../../../../virtual/block/dm-0")
	b.file("/run/udev/data/b8:2", "E:ID_FS_TYPE=LVM2_member\nE:ID_FS_UUID=Xq3b1e-aaaa-bbbb-cccc-dddd-eeee-ffffff\n"+
		"E:ID_PART_ENTRY_UUID=7a1e2c3d-0000-4000-8000-000000000002\n")

	// dm-0: an LVM logical volume on sda2, with a label that needs escaping.
	b.symlink("/sys/class/block/dm-0", "../../devices/virtual/block/dm-0")
	attrs(b, dmDir, map[string]string{"dev": "253:0", "size": "975716352", "ro": "0", "removable": "0",
		"queue/rotational": "0", "queue/logical_block_size": "512", "dm/name": "vg0-root",
		"dm/uuid": "LVM-k3L2mN4oP5qR6sT7uV8wX9yZ0aB1cD2eF3gH4iJ5kL6mN7oP8qR9sT0uV1wX2"})
	b.symlink(dmDir+"/slaves/sda2", "../../../../pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda/sda2")
	b.file("/run/udev/data/b253:0", "S:disk/by-uuid/2f8e7c41-5d3a-4b6e-9f10-a1b2c3d4e5f6\nS:disk/by-label/root\\x20fs\n"+
		"S:mapper/vg0-root\nS:disk/by-id/dm-name-vg0-root\nE:DM_NAME=vg0-root\nE:ID_FS_TYPE=ext4\n"+
		"E:ID_FS_UUID=2f8e7c41-5d3a-4b6e-9f10-a1b2c3d4e5f6\nE:ID_FS_LABEL=root_fs\nE:ID_FS_LABEL_ENC=root\\x20fs\n")

	// nvme0n1: no udev data at all (a container without the host's /run).
	b.symlink("/sys/class/block/nvme0n1", "../../devices/pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0/nvme0n1")
	attrs(b, nvmeDir, map[string]string{"dev": "259:0", "size": "1953525168", "ro": "0", "removable": "0",
		"queue/rotational": "0", "queue/logical_block_size": "4096", "wwid": "eui.0025388b71b2c3d4"})
	b.symlink(nvmeDir+"/device", "../../nvme0")
	attrs(b, "/sys/devices/pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0", map[string]string{
		"model": "Samsung SSD 970 EVO Plus 1TB            ", "serial": "S4EWNX0N123456  "})
	b.symlink("/sys/class/block/nvme0n1p1", "../../devices/pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0/nvme0n1/nvme0n1p1")
	attrs(b, nvmeDir+"/nvme0n1p1", map[string]string{"dev": "259:1", "partition": "1", "start": "2048", "size": "1953523120", "ro": "0"})

	// sr0: a DVD drive, SCSI type 5, removable.
	b.symlink("/sys/class/block/sr0", "../../devices/pci0000:00/0000:00:17.0/ata2/host1/target1:0:0/1:0:0:0/block/sr0")
	attrs(b, srDir, map[string]string{"dev": "11:0", "size": "2097151", "ro": "0", "removable": "1",
		"queue/rotational": "1", "queue/logical_block_size": "2048"})
	b.symlink(srDir+"/device", "../../../1:0:0:0")
	attrs(b, "/sys/devices/pci0000:00/0000:00:17.0/ata2/host1/target1:0:0/1:0:0:0", map[string]string{
		"model": "DVD-RAM UJ8E2   ", "vendor": "MATSHITA", "type": "5"})

	// loop0: idle.
	b.symlink("/sys/class/block/loop0", "../../devices/virtual/block/loop0")
	attrs(b, loopDir, map[string]string{"dev": "7:0", "size": "0", "ro": "0", "removable": "0",
		"queue/rotational": "1", "queue/logical_block_size": "512"})
	// md0: RAID1, no members in the fixture.
	b.symlink("/sys/class/block/md0", "../../devices/virtual/block/md0")
	attrs(b, mdDir, map[string]string{"dev": "9:0", "size": "2048", "ro": "1", "removable": "0", "md/level": "raid1"})

	// /dev: nodes, a mapper link and udev's by-* links (one absolute and
	// chained through /dev/mapper, one dangling).
	b.device("/dev/sda", KindBlock, 8, 0, 0o660, 0, 6)
	b.device("/dev/sda1", KindBlock, 8, 1, 0o660, 0, 6)
	b.device("/dev/sda2", KindBlock, 8, 2, 0o660, 0, 6)
	b.device("/dev/dm-0", KindBlock, 253, 0, 0o660, 0, 6)
	b.device("/dev/null", KindChar, 1, 3, 0o666, 0, 0)
	b.device("/dev/tty", KindChar, 5, 0, 0o666, 0, 5)
	b.device("/dev/input/event0", KindChar, 13, 64, 0o660, 0, 104)
	b.device("/dev/shm/not-walked", KindChar, 1, 3, 0o666, 0, 0)
	b.file("/dev/shm/data", "user data")
	b.symlink("/dev/mapper/vg0-root", "../dm-0")
	b.symlink("/dev/disk/by-uuid/2f8e7c41-5d3a-4b6e-9f10-a1b2c3d4e5f6", "../../dm-0")
	b.symlink("/dev/disk/by-uuid/5A3B-1C2D", "../../sda1")
	b.symlink("/dev/disk/by-label/root\\x20fs", "../../dm-0")
	b.symlink("/dev/disk/by-id/dm-name-vg0-root", "/dev/mapper/vg0-root")
	b.symlink("/dev/disk/by-id/wwn-0x5002538e40a1b2c3", "../../sda")
	b.symlink("/dev/disk/by-id/usb-gone", "../../sdz")

	// Character devices.
	b.symlink("/sys/dev/char/1:3", "../../devices/virtual/mem/null")
	b.file("/sys/devices/virtual/mem/null/uevent", "MAJOR=1\nMINOR=3\nDEVNAME=null\nDEVMODE=0666\n")
	b.symlink("/sys/devices/virtual/mem/null/subsystem", "../../../../class/mem")
	b.file("/sys/class/mem/.keep", "")
	b.symlink("/sys/dev/char/13:64", "../../devices/platform/i8042/serio0/input/input0/event0")
	b.file("/sys/devices/platform/i8042/serio0/input/input0/event0/uevent", "MAJOR=13\nMINOR=64\nDEVNAME=input/event0\n")
	b.symlink("/sys/devices/platform/i8042/serio0/input/input0/event0/subsystem", "../../../../../../../class/input")
	b.file("/sys/class/input/.keep", "")
	b.symlink("/sys/dev/char/5:0", "../../devices/virtual/tty/tty")
	b.file("/sys/devices/virtual/tty/tty/uevent", "MAJOR=5\nMINOR=0\nDEVNAME=tty\n")
}

func attrs(b builder, dir string, kv map[string]string) {
	for k, v := range kv {
		b.file(dir+"/"+k, v+"\n")
	}
}

// serverRoot builds the server in memory.
func serverRoot(tb testing.TB) *hostroot.Root {
	tb.Helper()
	h := hostroottest.New()
	buildServer(memTree{h})
	return hostroottest.MustRoot(tb, h)
}

// captureRoot loads a capture made by testdata/capture.sh: plain files,
// with links.txt recreated as symlinks.
func captureRoot(tb testing.TB, dir string) *hostroot.Root {
	tb.Helper()
	h := hostroottest.New()
	if err := h.LoadDir(dir); err != nil {
		tb.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "links.txt"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		link, target, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			tb.Fatalf("links.txt: %q", sc.Text())
		}
		h.Symlink(link, target)
	}
	return hostroottest.MustRoot(tb, h)
}
