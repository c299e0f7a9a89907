package dev

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
	"github.com/hostscope/hostscope/mounts"
)

// serverBlocks is what Blocks reports for buildServer's host, udev records
// aside (TestBlocksUdevRecords checks those).
func serverBlocks() []BlockDevice {
	return []BlockDevice{
		{Name: "loop0", Major: 7, Minor: 0, Type: "loop", Rotational: true, LogicalBlockSize: 512,
			Driver: "loop", SysPath: loopDir},
		{Name: "sda", Major: 8, Minor: 0, Type: "disk", Size: 976773168 * 512, LogicalBlockSize: 512,
			Model: "Samsung SSD 860 EVO 500GB", Vendor: "ATA", Serial: "S3Z9NB0K123456X",
			WWN: "0x5002538e40a1b2c3", WWID: "naa.5002538e40a1b2c3", Partitions: []string{"sda1", "sda2"},
			Driver: "sd", Links: []string{"/dev/disk/by-id/wwn-0x5002538e40a1b2c3"}, SysPath: sdaDir},
		{Name: "sda1", Major: 8, Minor: 1, Type: "part", Size: 1048576 * 512, LogicalBlockSize: 512,
			Partition: 1, Start: 2048 * 512, Parent: "sda", Driver: "sd",
			FSType: "vfat", UUID: "5A3B-1C2D", Label: "EFI", PartUUID: "0f3c1d52-1a2b-4c3d-9e8f-0123456789ab",
			PartLabel: "EFI System Partition", Links: []string{"/dev/disk/by-uuid/5A3B-1C2D"},
			MountPoints: []string{"/boot/efi"}, SysPath: sdaDir + "/sda1"},
		{Name: "sda2", Major: 8, Minor: 2, Type: "part", Size: 975720448 * 512, LogicalBlockSize: 512,
			Partition: 2, Start: 1050624 * 512, Parent: "sda", Holders: []string{"dm-0"}, Driver: "sd",
			FSType: "LVM2_member", UUID: "Xq3b1e-aaaa-bbbb-cccc-dddd-eeee-ffffff",
			PartUUID: "7a1e2c3d-0000-4000-8000-000000000002", SysPath: sdaDir + "/sda2"},
		{Name: "md0", Major: 9, Minor: 0, Type: "raid1", Size: 2048 * 512, ReadOnly: true, MDLevel: "raid1",
			Driver: "md", SysPath: mdDir},
		{Name: "sr0", Major: 11, Minor: 0, Type: "rom", Size: 2097151 * 512, Removable: true, Rotational: true,
			LogicalBlockSize: 2048, Model: "DVD-RAM UJ8E2", Vendor: "MATSHITA", Driver: "sr", SysPath: srDir},
		{Name: "dm-0", Major: 253, Minor: 0, Type: "lvm", Size: 975716352 * 512, LogicalBlockSize: 512,
			Slaves: []string{"sda2"}, DMName: "vg0-root",
			DMUUID: "LVM-k3L2mN4oP5qR6sT7uV8wX9yZ0aB1cD2eF3gH4iJ5kL6mN7oP8qR9sT0uV1wX2",
			Driver: "device-mapper", FSType: "ext4", UUID: "2f8e7c41-5d3a-4b6e-9f10-a1b2c3d4e5f6", Label: "root fs",
			Links: []string{"/dev/disk/by-id/dm-name-vg0-root", `/dev/disk/by-label/root\x20fs`,
				"/dev/disk/by-uuid/2f8e7c41-5d3a-4b6e-9f10-a1b2c3d4e5f6"},
			MountPoints: []string{"/", "/var/lib/kubelet"}, SysPath: dmDir},
		{Name: "nvme0n1", Major: 259, Minor: 0, Type: "disk", Size: 1953525168 * 512, LogicalBlockSize: 4096,
			Model: "Samsung SSD 970 EVO Plus 1TB", Serial: "S4EWNX0N123456", WWID: "eui.0025388b71b2c3d4",
			Partitions: []string{"nvme0n1p1"}, Driver: "blkext", SysPath: nvmeDir},
		{Name: "nvme0n1p1", Major: 259, Minor: 1, Type: "part", Size: 1953523120 * 512, LogicalBlockSize: 4096,
			Partition: 1, Start: 2048 * 512, Parent: "nvme0n1", Driver: "blkext",
			MountPoints: []string{"/data"}, SysPath: nvmeDir + "/nvme0n1p1"},
	}
}

var ignoreUdev = cmpopts.IgnoreFields(BlockDevice{}, "Udev")

func TestBlocks(t *testing.T) {
	got, err := Blocks(context.Background(), serverRoot(t), nil)
	if err != nil {
		t.Fatalf("Blocks() error = %v", err)
	}
	if diff := cmp.Diff(serverBlocks(), got, ignoreUdev); diff != "" {
		t.Errorf("Blocks() mismatch (-want +got):\n%s", diff)
	}
}

func TestBlocksUdevRecords(t *testing.T) {
	got, err := Blocks(context.Background(), serverRoot(t), &BlockOptions{NoMounts: true})
	if err != nil {
		t.Fatal(err)
	}
	has := map[string]bool{}
	for _, d := range got {
		has[d.Name] = d.Udev != nil
	}
	want := map[string]bool{"loop0": false, "sda": true, "sda1": true, "sda2": true, "md0": false,
		"sr0": false, "dm-0": true, "nvme0n1": false, "nvme0n1p1": false}
	if diff := cmp.Diff(want, has); diff != "" {
		t.Errorf("devices with a udev record (-want +got):\n%s", diff)
	}
	for _, d := range got {
		if d.Name != "sda" {
			continue
		}
		wantRec := &UdevRecord{
			Properties: map[string]string{"ID_ATA": "1", "ID_TYPE": "disk", "ID_MODEL": "Samsung_SSD_860_EVO_500GB",
				"ID_MODEL_ENC": `Samsung\x20SSD\x20860\x20EVO\x20500GB\x20\x20`,
				"ID_SERIAL":    "Samsung_SSD_860_EVO_500GB_S3Z9NB0K123456X", "ID_SERIAL_SHORT": "S3Z9NB0K123456X",
				"ID_WWN": "0x5002538e40a1b2c3", "ID_PART_TABLE_TYPE": "gpt"},
			Symlinks:        []string{"disk/by-id/ata-Samsung_SSD_860_EVO_500GB_S3Z9NB0K123456X", "disk/by-id/wwn-0x5002538e40a1b2c3"},
			Tags:            []string{"systemd"},
			CurrentTags:     []string{"systemd"},
			InitializedUsec: 1612345678,
			Other:           []string{"V:1"},
		}
		if diff := cmp.Diff(wantRec, d.Udev); diff != "" {
			t.Errorf("sda udev record (-want +got):\n%s", diff)
		}
	}
}

// TestBlocksHostAtPrefix writes the same server to a directory and reads it
// with hostroot.Dir, as a DaemonSet reads the node's / mounted at /host:
// every answer must match the in-memory one, including /dev/disk links with
// absolute targets ("/dev/mapper/vg0-root"), which must resolve inside the
// prefix and not in the reader's /dev.
func TestBlocksHostAtPrefix(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create device nodes (mknod)")
	}
	dir := t.TempDir() + "/host"
	buildServer(diskTree{t, dir})
	r, err := hostroot.Dir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	got, err := Blocks(ctx, r, nil)
	if err != nil {
		t.Fatalf("Blocks() error = %v", err)
	}
	want, err := Blocks(ctx, serverRoot(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Blocks(on disk) differs from Blocks(in memory) (-memory +disk):\n%s", diff)
	}
	gotLinks, err := DiskLinks(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(serverLinks(), gotLinks); diff != "" {
		t.Errorf("DiskLinks(on disk) mismatch (-want +got):\n%s", diff)
	}
	gotNodes, err := Nodes(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(serverNodes(), gotNodes); diff != "" {
		t.Errorf("Nodes(on disk) mismatch (-want +got):\n%s", diff)
	}
	// Host paths translate to where the reader finds them.
	pm := mounts.PathMap{Prefix: dir}
	if p, _ := pm.ReaderPath(got[2].SysPath); p != dir+sdaDir+"/sda1" {
		t.Errorf("ReaderPath(%q) = %q", got[2].SysPath, p)
	}
}

func TestBlocksOptions(t *testing.T) {
	r := serverRoot(t)
	table := []mounts.Mount{{ID: 1, Major: 8, Minor: 2, MountPoint: "/mnt/raw"}}
	got, err := Blocks(context.Background(), r, &BlockOptions{Mounts: table})
	if err != nil {
		t.Fatal(err)
	}
	points := map[string][]string{}
	for _, d := range got {
		if d.MountPoints != nil {
			points[d.Name] = d.MountPoints
		}
	}
	if diff := cmp.Diff(map[string][]string{"sda2": {"/mnt/raw"}}, points); diff != "" {
		t.Errorf("mount points from a given table (-want +got):\n%s", diff)
	}
	got, err = Blocks(context.Background(), r, &BlockOptions{NoMounts: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range got {
		if d.MountPoints != nil {
			t.Errorf("%s: MountPoints = %v with NoMounts", d.Name, d.MountPoints)
		}
	}
}

// TestBlocksSysBlockLayout reads a kernel without /sys/class/block: disks in
// /sys/block, partitions as their subdirectories.
func TestBlocksSysBlockLayout(t *testing.T) {
	h := hostroottest.New()
	h.Symlink("/sys/block/sda", "../devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda")
	attrs(memTree{h}, sdaDir, map[string]string{"dev": "8:0", "size": "100", "queue/rotational": "1", "queue/logical_block_size": "512", "removable": "0"})
	attrs(memTree{h}, sdaDir+"/sda1", map[string]string{"dev": "8:1", "partition": "1", "start": "34", "size": "66"})
	h.Dir(sdaDir + "/queue").Dir(sdaDir + "/power") // directories that are not partitions
	got, err := Blocks(context.Background(), hostroottest.MustRoot(t, h), &BlockOptions{NoMounts: true})
	if !errors.Is(err, fs.ErrNotExist) { // no /proc/devices in this fixture
		t.Errorf("Blocks() error = %v, want the missing /proc/devices reported", err)
	}
	want := []BlockDevice{
		{Name: "sda", Major: 8, Type: "disk", Size: 100 * 512, Rotational: true, LogicalBlockSize: 512,
			Partitions: []string{"sda1"}, SysPath: sdaDir},
		{Name: "sda1", Major: 8, Minor: 1, Type: "part", Size: 66 * 512, Rotational: true, LogicalBlockSize: 512,
			Partition: 1, Start: 34 * 512, Parent: "sda", SysPath: sdaDir + "/sda1"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Blocks() mismatch (-want +got):\n%s", diff)
	}
}

func TestBlocksProblems(t *testing.T) {
	tests := []struct {
		name    string
		build   func(h *hostroottest.Host)
		want    []BlockDevice
		wantErr error
	}{
		{
			name: "bad size is an error, never 0 silently",
			build: func(h *hostroottest.Host) {
				attrs(memTree{h}, "/sys/class/block/vdb", map[string]string{"dev": "254:16", "size": "12x"})
			},
			want:    []BlockDevice{{Name: "vdb", Major: 254, Minor: 16, Type: "disk", SysPath: "/sys/class/block/vdb"}},
			wantErr: hostroot.ErrMalformed,
		},
		{
			name: "size overflowing bytes",
			build: func(h *hostroottest.Host) {
				attrs(memTree{h}, "/sys/class/block/vdb", map[string]string{"dev": "254:16", "size": "36028797018963968"})
			},
			want:    []BlockDevice{{Name: "vdb", Major: 254, Minor: 16, Type: "disk", SysPath: "/sys/class/block/vdb"}},
			wantErr: hostroot.ErrMalformed,
		},
		{
			name: "bad ro flag",
			build: func(h *hostroottest.Host) {
				attrs(memTree{h}, "/sys/class/block/vdb", map[string]string{"dev": "254:16", "ro": "yes"})
			},
			want:    []BlockDevice{{Name: "vdb", Major: 254, Minor: 16, Type: "disk", SysPath: "/sys/class/block/vdb"}},
			wantErr: hostroot.ErrMalformed,
		},
		{
			name: "bad dev number drops the device",
			build: func(h *hostroottest.Host) {
				attrs(memTree{h}, "/sys/class/block/vdb", map[string]string{"dev": "254-16"})
				attrs(memTree{h}, "/sys/class/block/vdc", map[string]string{"dev": "254:32"})
			},
			want:    []BlockDevice{{Name: "vdc", Major: 254, Minor: 32, Type: "disk", SysPath: "/sys/class/block/vdc"}},
			wantErr: hostroot.ErrMalformed,
		},
		{
			name: "vanished device (no dev) is skipped silently",
			build: func(h *hostroottest.Host) {
				h.Dir("/sys/class/block/vdb")
				attrs(memTree{h}, "/sys/class/block/vdc", map[string]string{"dev": "254:32"})
			},
			want: []BlockDevice{{Name: "vdc", Major: 254, Minor: 32, Type: "disk", SysPath: "/sys/class/block/vdc"}},
		},
		{
			name: "malformed udev record reported, device kept",
			build: func(h *hostroottest.Host) {
				attrs(memTree{h}, "/sys/class/block/vdb", map[string]string{"dev": "254:16"})
				h.File("/run/udev/data/b254:16", "E:ID_FS_TYPE=ext4\ngarbage\n")
			},
			want:    []BlockDevice{{Name: "vdb", Major: 254, Minor: 16, Type: "disk", SysPath: "/sys/class/block/vdb"}},
			wantErr: hostroot.ErrMalformed,
		},
		{
			name:    "no sysfs at all",
			build:   func(h *hostroottest.Host) { h.Dir("/proc") },
			wantErr: fs.ErrNotExist,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := hostroottest.New()
			h.File("/proc/devices", "Block devices:\n")
			tt.build(h)
			got, err := Blocks(context.Background(), hostroottest.MustRoot(t, h), &BlockOptions{NoMounts: true})
			if diff := cmp.Diff(tt.wantErr, err, cmpopts.EquateErrors()); diff != "" {
				t.Errorf("Blocks() error mismatch (-want +got):\n%s\nerror: %v", diff, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Blocks() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBlocksWithoutProc(t *testing.T) {
	// A DaemonSet that mounts only the host's /sys: devices are listed, and
	// the missing mount table and driver names are reported.
	h := hostroottest.New()
	attrs(memTree{h}, "/sys/class/block/vdb", map[string]string{"dev": "254:16", "size": "8"})
	got, err := Blocks(context.Background(), hostroottest.MustRoot(t, h), nil)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Blocks() error = %v, want fs.ErrNotExist for /proc", err)
	}
	want := []BlockDevice{{Name: "vdb", Major: 254, Minor: 16, Type: "disk", Size: 4096, SysPath: "/sys/class/block/vdb"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Blocks() mismatch (-want +got):\n%s", diff)
	}
}

// TestBlocksCapture reads sysfs and /proc/devices captured on the project's
// VM (testdata/capture.sh): a virtio disk and idle zram and loop devices.
func TestBlocksCapture(t *testing.T) {
	got, err := Blocks(context.Background(), captureRoot(t, "testdata/vm"), &BlockOptions{NoMounts: true})
	if err != nil {
		t.Fatal(err)
	}
	var want []BlockDevice
	for i := uint32(0); i < 8; i++ {
		n := "loop" + string(rune('0'+i))
		want = append(want, BlockDevice{Name: n, Major: 7, Minor: i, Type: "loop", LogicalBlockSize: 512,
			Driver: "loop", SysPath: "/sys/devices/virtual/block/" + n})
	}
	want = append(want,
		BlockDevice{Name: "zram0", Major: 253, Type: "disk", LogicalBlockSize: 4096, Driver: "zram",
			SysPath: "/sys/devices/virtual/block/zram0"},
		BlockDevice{Name: "vda", Major: 254, Type: "disk", Size: 274877906944, Rotational: true, LogicalBlockSize: 512,
			Vendor: "0x1af4", Serial: "1756631990570941", Driver: "virtblk",
			SysPath: "/sys/devices/pci0000:00/0000:00:02.0/virtio1/block/vda"})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Blocks(capture) mismatch (-want +got):\n%s", diff)
	}
}

func TestBlocksCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Blocks(ctx, serverRoot(t), nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Blocks(canceled) error = %v, want context.Canceled", err)
	}
}
