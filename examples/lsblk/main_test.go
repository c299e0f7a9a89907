package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
)

// server is a disk with an EFI partition and an LVM volume mounted twice,
// an NVMe disk and an idle loop device, in memory.
func server(t *testing.T) *hostroot.Root {
	t.Helper()
	const sda = "/sys/devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda"
	const nvme = "/sys/devices/pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0/nvme0n1"
	h := hostroottest.New().
		File("/proc/devices", "Block devices:\n  7 loop\n  8 sd\n253 device-mapper\n259 blkext\n").
		File("/proc/1/mountinfo", "26 1 253:0 / / rw - ext4 /dev/mapper/vg0-root rw\n"+
			"30 26 8:1 / /boot/efi rw - vfat /dev/sda1 rw\n"+
			"32 26 253:0 /var/lib/kubelet /var/lib/kubelet rw - ext4 /dev/mapper/vg0-root rw\n").
		Symlink("/sys/class/block/sda", "../../devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda").
		File(sda+"/dev", "8:0\n").File(sda+"/size", "976773168\n").File(sda+"/queue/rotational", "0\n").
		Symlink("/sys/class/block/sda1", "../../devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda/sda1").
		File(sda+"/sda1/dev", "8:1\n").File(sda+"/sda1/partition", "1\n").File(sda+"/sda1/size", "1048576\n").
		Symlink("/sys/class/block/sda2", "../../devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda/sda2").
		File(sda+"/sda2/dev", "8:2\n").File(sda+"/sda2/partition", "2\n").File(sda+"/sda2/size", "975720448\n").
		Symlink(sda+"/sda2/holders/dm-0", "../../../../../../../../../../virtual/block/dm-0").
		Symlink("/sys/class/block/dm-0", "../../devices/virtual/block/dm-0").
		File("/sys/devices/virtual/block/dm-0/dev", "253:0\n").
		File("/sys/devices/virtual/block/dm-0/size", "975716352\n").
		File("/sys/devices/virtual/block/dm-0/dm/name", "vg0-root\n").
		File("/sys/devices/virtual/block/dm-0/dm/uuid", "LVM-abc\n").
		Symlink("/sys/devices/virtual/block/dm-0/slaves/sda2", "../../../../pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda/sda2").
		File("/run/udev/data/b253:0", "E:ID_FS_TYPE=ext4\nE:ID_FS_UUID=2f8e7c41\n").
		Symlink("/sys/class/block/nvme0n1", "../../devices/pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0/nvme0n1").
		File(nvme+"/dev", "259:0\n").File(nvme+"/size", "1953525168\n").
		Symlink("/sys/class/block/nvme0n1p1", "../../devices/pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0/nvme0n1/nvme0n1p1").
		File(nvme+"/nvme0n1p1/dev", "259:1\n").File(nvme+"/nvme0n1p1/partition", "1\n").File(nvme+"/nvme0n1p1/size", "2048\n").
		Symlink("/sys/class/block/loop0", "../../devices/virtual/block/loop0").
		File("/sys/devices/virtual/block/loop0/dev", "7:0\n").File("/sys/devices/virtual/block/loop0/size", "0\n")
	return hostroottest.MustRoot(t, h)
}

func TestRunTable(t *testing.T) {
	tests := []struct {
		name string
		o    options
		want string
	}{
		{
			name: "default",
			want: `NAME         MAJ:MIN   SIZE RO TYPE MOUNTPOINTS
sda              8:0 465.8G  0 disk
├─sda1           8:1   512M  0 part /boot/efi
└─sda2           8:2 465.3G  0 part
  └─vg0-root   253:0 465.3G  0 lvm  /
                                    /var/lib/kubelet
nvme0n1        259:0 931.5G  0 disk
└─nvme0n1p1    259:1     1M  0 part
`,
		},
		{
			name: "all, in bytes",
			o:    options{all: true, bytes: true},
			want: `NAME         MAJ:MIN          SIZE RO TYPE MOUNTPOINTS
loop0            7:0             0  0 loop
sda              8:0  500107862016  0 disk
├─sda1           8:1     536870912  0 part /boot/efi
└─sda2           8:2  499568869376  0 part
  └─vg0-root   253:0  499566772224  0 lvm  /
                                           /var/lib/kubelet
nvme0n1        259:0 1000204886016  0 disk
└─nvme0n1p1    259:1       1048576  0 part
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errs bytes.Buffer
			if err := run(context.Background(), server(t), &out, &errs, tt.o); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, out.String()); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
			if errs.Len() != 0 {
				t.Errorf("warnings: %s", errs.String())
			}
		})
	}
}

func TestRunJSON(t *testing.T) {
	var out, errs bytes.Buffer
	if err := run(context.Background(), server(t), &out, &errs, options{json: true}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		BlockDevices []*node `json:"blockdevices"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out.String())
	}
	vg := &node{Name: "vg0-root", KName: "dm-0", MajMin: "253:0", Size: 975716352 * 512, Type: "lvm",
		FSType: "ext4", UUID: "2f8e7c41", MountPoints: []string{"/", "/var/lib/kubelet"}}
	want := []*node{
		{Name: "sda", KName: "sda", MajMin: "8:0", Size: 976773168 * 512, Type: "disk", MountPoints: []string{},
			Children: []*node{
				{Name: "sda1", KName: "sda1", MajMin: "8:1", Size: 1048576 * 512, Type: "part", MountPoints: []string{"/boot/efi"}},
				{Name: "sda2", KName: "sda2", MajMin: "8:2", Size: 975720448 * 512, Type: "part", MountPoints: []string{},
					Children: []*node{vg}},
			}},
		{Name: "nvme0n1", KName: "nvme0n1", MajMin: "259:0", Size: 1953525168 * 512, Type: "disk", MountPoints: []string{},
			Children: []*node{{Name: "nvme0n1p1", KName: "nvme0n1p1", MajMin: "259:1", Size: 1048576, Type: "part", MountPoints: []string{}}}},
	}
	if diff := cmp.Diff(want, doc.BlockDevices); diff != "" {
		t.Errorf("JSON (-want +got):\n%s", diff)
	}
}

// A malformed attribute is a warning; the listing goes on.
func TestRunWarning(t *testing.T) {
	h := hostroottest.New().
		File("/proc/devices", "Block devices:\n").
		File("/proc/1/mountinfo", "26 1 254:0 / / rw - ext4 /dev/vda rw\n").
		File("/sys/class/block/vda/dev", "254:0\n").File("/sys/class/block/vda/size", "8\n").
		File("/sys/class/block/vda/ro", "maybe\n")
	var out, errs bytes.Buffer
	if err := run(context.Background(), hostroottest.MustRoot(t, h), &out, &errs, options{}); err != nil {
		t.Fatal(err)
	}
	if want := "vda    254:0   4K  0 disk /\n"; !strings.HasSuffix(out.String(), want) {
		t.Errorf("output:\n%s", out.String())
	}
	if !strings.Contains(errs.String(), "/sys/class/block/vda/ro") {
		t.Errorf("warnings = %q, want the bad attribute named", errs.String())
	}
}

func TestRunNoSysfs(t *testing.T) {
	var out, errs bytes.Buffer
	err := run(context.Background(), hostroottest.MustRoot(t, hostroottest.New().Dir("/proc")), &out, &errs, options{})
	if err == nil {
		t.Errorf("run() without /sys succeeded:\n%s", out.String())
	}
}

// TestRunNative runs the command for real and checks it lists what
// util-linux's lsblk lists.
func TestRunNative(t *testing.T) {
	lsblk, err := exec.LookPath("lsblk")
	if err != nil {
		t.Skip("lsblk not installed (Debian package util-linux)")
	}
	r, err := hostroot.Native()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out, errs bytes.Buffer
	if err := run(context.Background(), r, &out, &errs, options{json: true}); err != nil {
		t.Fatal(err)
	}
	var ours struct {
		BlockDevices []*node `json:"blockdevices"`
	}
	if err := json.Unmarshal(out.Bytes(), &ours); err != nil {
		t.Fatal(err)
	}
	ref, err := exec.Command(lsblk, "--json", "--list", "-o", "KNAME,SIZE").Output()
	if err != nil {
		t.Fatal(err)
	}
	var theirs struct {
		BlockDevices []struct {
			KName string `json:"kname"`
		} `json:"blockdevices"`
	}
	if err := json.Unmarshal(ref, &theirs); err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	var walk func(ns []*node)
	walk = func(ns []*node) {
		for _, n := range ns {
			have[n.KName] = true
			walk(n.Children)
		}
	}
	walk(ours.BlockDevices)
	for _, d := range theirs.BlockDevices {
		if !have[d.KName] && !strings.HasPrefix(d.KName, "zram") {
			t.Errorf("lsblk lists %s, the example does not:\n%s", d.KName, out.String())
		}
	}
}
