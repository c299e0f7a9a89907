package dev_test

import (
	"context"
	"fmt"

	"github.com/hostscope/hostscope/dev"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
)

// A virtio disk with one partition mounted on /, and its udev record.
func ExampleBlocks() {
	const disk = "/sys/devices/pci0000:00/0000:00:02.0/virtio1/block/vda"
	h := hostroottest.New().
		File("/proc/devices", "Block devices:\n254 virtblk\n").
		File("/proc/1/mountinfo", "26 1 254:1 / / rw,relatime - ext4 /dev/vda1 rw\n").
		Symlink("/sys/class/block/vda", "../../devices/pci0000:00/0000:00:02.0/virtio1/block/vda").
		File(disk+"/dev", "254:0\n").
		File(disk+"/size", "41943040\n").
		File(disk+"/queue/logical_block_size", "512\n").
		Symlink("/sys/class/block/vda1", "../../devices/pci0000:00/0000:00:02.0/virtio1/block/vda/vda1").
		File(disk+"/vda1/dev", "254:1\n").
		File(disk+"/vda1/partition", "1\n").
		File(disk+"/vda1/size", "41940992\n").
		File("/run/udev/data/b254:1", "E:ID_FS_TYPE=ext4\nE:ID_FS_LABEL_ENC=cloudimg\\x2drootfs\n")
	root, err := h.Root()
	if err != nil {
		panic(err)
	}
	devs, err := dev.Blocks(context.Background(), root, nil)
	if err != nil {
		panic(err)
	}
	for _, d := range devs {
		fmt.Printf("%s %d:%d %s %d bytes parent=%q fs=%s label=%q mounted=%v\n",
			d.Name, d.Major, d.Minor, d.Type, d.Size, d.Parent, d.FSType, d.Label, d.MountPoints)
	}
	// Output:
	// vda 254:0 disk 21474836480 bytes parent="" fs= label="" mounted=[]
	// vda1 254:1 part 21473787904 bytes parent="vda" fs=ext4 label="cloudimg-rootfs" mounted=[/]
}

func ExampleParseUdev() {
	rec, err := dev.ParseUdev([]byte("S:disk/by-uuid/5A3B-1C2D\nE:ID_FS_TYPE=vfat\nE:ID_FS_LABEL_ENC=EFI\\x20boot\nI:1612345678\n"),
		"/run/udev/data/b8:1")
	if err != nil {
		panic(err)
	}
	fmt.Println(rec.Symlinks, rec.Properties["ID_FS_TYPE"], dev.DecodeUdevEnc(rec.Properties["ID_FS_LABEL_ENC"]))
	// Output:
	// [disk/by-uuid/5A3B-1C2D] vfat EFI boot
}
