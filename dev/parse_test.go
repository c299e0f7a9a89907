package dev

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
)

// This VM runs no udev, so the records below are written from the format
// systemd-udevd writes (src/libsystemd/sd-device/device-private.c,
// device_update_db): one "<letter>:<value>" per line, S: links relative to
// /dev, E: properties, G:/Q: tags, I: initialisation time, L: link
// priority, V: database version; older udev wrote W: (watch handle) and N:.
const udevNVMePartition = `S:disk/by-id/nvme-Samsung_SSD_970_EVO_Plus_1TB_S4EWNX0N123456-part1
S:disk/by-partuuid/6a8b3f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b
S:disk/by-uuid/8d1c2b3a-4e5f-6a7b-8c9d-0e1f2a3b4c5d
S:disk/by-path/pci-0000:3d:00.0-nvme-1-part1
S:disk/by-label/data\x20disk
I:4321987
E:ID_SERIAL_SHORT=S4EWNX0N123456
E:ID_WWN=eui.0025388b71b2c3d4
E:ID_PART_TABLE_TYPE=gpt
E:ID_FS_LABEL=data_disk
E:ID_FS_LABEL_ENC=data\x20disk
E:ID_FS_TYPE=btrfs
E:ID_FS_USAGE=filesystem
E:ID_PART_ENTRY_NAME=Linux\x20filesystem
E:ID_PART_ENTRY_NUMBER=1
E:ID_PART_ENTRY_UUID=6a8b3f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b
E:DEVLINKS=/dev/disk/by-uuid/8d1c2b3a-4e5f-6a7b-8c9d-0e1f2a3b4c5d /dev/disk/by-label/data\x20disk
E:TAGS=:systemd:
E:EMPTY=
E:EQUALS=a=b
G:systemd
Q:systemd
V:1
`

func TestParseUdev(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    *UdevRecord
		wantErr error
	}{
		{
			name: "nvme partition",
			in:   udevNVMePartition,
			want: &UdevRecord{
				Properties: map[string]string{
					"ID_SERIAL_SHORT": "S4EWNX0N123456", "ID_WWN": "eui.0025388b71b2c3d4", "ID_PART_TABLE_TYPE": "gpt",
					"ID_FS_LABEL": "data_disk", "ID_FS_LABEL_ENC": `data\x20disk`, "ID_FS_TYPE": "btrfs",
					"ID_FS_USAGE": "filesystem", "ID_PART_ENTRY_NAME": `Linux\x20filesystem`, "ID_PART_ENTRY_NUMBER": "1",
					"ID_PART_ENTRY_UUID": "6a8b3f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
					"DEVLINKS":           `/dev/disk/by-uuid/8d1c2b3a-4e5f-6a7b-8c9d-0e1f2a3b4c5d /dev/disk/by-label/data\x20disk`,
					"TAGS":               ":systemd:", "EMPTY": "", "EQUALS": "a=b",
				},
				Symlinks: []string{
					"disk/by-id/nvme-Samsung_SSD_970_EVO_Plus_1TB_S4EWNX0N123456-part1",
					"disk/by-partuuid/6a8b3f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
					"disk/by-uuid/8d1c2b3a-4e5f-6a7b-8c9d-0e1f2a3b4c5d",
					"disk/by-path/pci-0000:3d:00.0-nvme-1-part1",
					`disk/by-label/data\x20disk`,
				},
				Tags: []string{"systemd"}, CurrentTags: []string{"systemd"},
				InitializedUsec: 4321987, Other: []string{"V:1"},
			},
		},
		{
			name: "older udev with watch handle, node name, negative priority",
			in:   "N:sdb\nW:7\nL:-100\nS:disk/by-id/usb-Stick\nE:ID_BUS=usb\n",
			want: &UdevRecord{Properties: map[string]string{"ID_BUS": "usb"}, Symlinks: []string{"disk/by-id/usb-Stick"},
				LinkPriority: -100, Other: []string{"N:sdb", "W:7"}},
		},
		{name: "empty file", in: "", want: &UdevRecord{Properties: map[string]string{}}},
		{name: "no trailing newline", in: "E:A=1", want: &UdevRecord{Properties: map[string]string{"A": "1"}}},
		{name: "line without letter", in: "E:A=1\nID_FS_TYPE=ext4\n", wantErr: hostroot.ErrMalformed},
		{name: "single character", in: "E\n", wantErr: hostroot.ErrMalformed},
		{name: "property without =", in: "E:ID_FS_TYPE\n", wantErr: hostroot.ErrMalformed},
		{name: "property without key", in: "E:=ext4\n", wantErr: hostroot.ErrMalformed},
		{name: "bad link priority", in: "L:high\n", wantErr: hostroot.ErrMalformed},
		{name: "empty link priority", in: "L:\n", wantErr: hostroot.ErrMalformed},
		{name: "signed init time", in: "I:+5\n", wantErr: hostroot.ErrMalformed},
		{name: "bad init time", in: "I:12s\n", wantErr: hostroot.ErrMalformed},
		{name: "negative init time", in: "I:-1\n", wantErr: hostroot.ErrMalformed},
		{name: "empty init time", in: "I:\n", wantErr: hostroot.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseUdev([]byte(tt.in), "/run/udev/data/b259:1")
			if diff := cmp.Diff(tt.wantErr, err, cmpopts.EquateErrors()); diff != "" {
				t.Fatalf("ParseUdev() error mismatch (-want +got):\n%s\nerror: %v", diff, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseUdev() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseUdevErrorNamesFileAndLine(t *testing.T) {
	_, err := ParseUdev([]byte("E:A=1\n\nL:x\n"), "/run/udev/data/b8:0")
	if !errors.Is(err, hostroot.ErrMalformed) || !strings.Contains(err.Error(), "/run/udev/data/b8:0 line 3:") {
		t.Errorf("error = %v", err)
	}
}

func TestUdev(t *testing.T) {
	h := hostroottest.New().File("/run/udev/data/b259:1", udevNVMePartition).File("/run/udev/data/c13:64", "E:ID_INPUT=1\n")
	r := hostroottest.MustRoot(t, h)
	rec, err := Udev(r, KindBlock, 259, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.property("ID_FS_LABEL_ENC", "ID_FS_LABEL"); got != "data disk" {
		t.Errorf("label = %q, want decoded %q", got, "data disk")
	}
	if rec, err := Udev(r, KindChar, 13, 64); err != nil || rec.Properties["ID_INPUT"] != "1" {
		t.Errorf("Udev(char 13:64) = %v, %v", rec, err)
	}
	if _, err := Udev(r, KindBlock, 8, 0); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Udev(missing) error = %v, want fs.ErrNotExist", err)
	}
}

func TestDecodeUdevEnc(t *testing.T) {
	tests := []struct{ in, want string }{
		{`root\x20fs`, "root fs"},
		{`a\x2fb`, "a/b"},
		{`\x5cx20`, `\x20`}, // an escaped backslash is not decoded twice
		{`bad\xZZ`, `bad\xZZ`},
		{`short\x2`, `short\x2`},
		{`plain`, `plain`},
		{`\x`, `\x`},
	}
	for _, tt := range tests {
		if got := DecodeUdevEnc(tt.in); got != tt.want {
			t.Errorf("DecodeUdevEnc(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseProcDevices(t *testing.T) {
	vm, err := os.ReadFile("testdata/vm/proc/devices")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		in      string
		want    *Drivers
		wantErr error
	}{
		{
			name: "captured on the VM",
			in:   string(vm),
			want: &Drivers{
				Char: map[uint32][]string{1: {"mem"}, 4: {"/dev/vc/0", "tty", "ttyS"}, 5: {"/dev/tty", "/dev/console", "/dev/ptmx"},
					7: {"vcs"}, 10: {"misc"}, 13: {"input"}, 128: {"ptm"}, 136: {"pts"}, 203: {"cpu/cpuid"}, 245: {"hidraw"},
					246: {"macvtap"}, 247: {"mei"}, 248: {"bsg"}, 249: {"watchdog"}, 250: {"ptp"}, 251: {"pps"}, 252: {"dax"},
					253: {"dimmctl"}, 254: {"ndctl"}},
				Block: map[uint32][]string{7: {"loop"}, 253: {"zram"}, 254: {"virtblk"}, 259: {"blkext"}},
			},
		},
		{
			name: "wide majors and a name with a space",
			in:   "Character devices:\n4095 big one\n\nBlock devices:\n  8 sd\n 65 sd\n",
			want: &Drivers{Char: map[uint32][]string{4095: {"big one"}}, Block: map[uint32][]string{8: {"sd"}, 65: {"sd"}}},
		},
		{name: "empty", in: "", want: &Drivers{Char: map[uint32][]string{}, Block: map[uint32][]string{}}},
		{name: "line before a section", in: "  1 mem\n", wantErr: hostroot.ErrMalformed},
		{name: "bad major", in: "Block devices:\n  x sd\n", wantErr: hostroot.ErrMalformed},
		{name: "negative major", in: "Block devices:\n -8 sd\n", wantErr: hostroot.ErrMalformed},
		{name: "major over 32 bits", in: "Block devices:\n4294967296 sd\n", wantErr: hostroot.ErrMalformed},
		{name: "missing name", in: "Block devices:\n  8\n", wantErr: hostroot.ErrMalformed},
		{name: "missing name after space", in: "Block devices:\n  8 \n", wantErr: hostroot.ErrMalformed},
		{name: "unknown header", in: "Misc devices:\n", wantErr: hostroot.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseProcDevices([]byte(tt.in), "/proc/devices")
			if diff := cmp.Diff(tt.wantErr, err, cmpopts.EquateErrors()); diff != "" {
				t.Fatalf("ParseProcDevices() error mismatch (-want +got):\n%s\nerror: %v", diff, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseProcDevices() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseUevent(t *testing.T) {
	got := parseUevent([]byte("MAJOR=13\nMINOR=64\nDEVNAME=input/event0\nnoequals\n=x\nEMPTY=\n"))
	want := map[string]string{"MAJOR": "13", "MINOR": "64", "DEVNAME": "input/event0", "EMPTY": ""}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseUevent() mismatch (-want +got):\n%s", diff)
	}
}

func FuzzParseUdev(f *testing.F) {
	f.Add([]byte(udevNVMePartition))
	f.Add([]byte("N:sdb\nW:7\nL:-100\nS:x\nE:A=\nI:0\n"))
	f.Add([]byte("E:\nL:\nI:\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := ParseUdev(data, "fuzz")
		if err != nil {
			if !errors.Is(err, hostroot.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		for k, v := range rec.Properties {
			DecodeUdevEnc(k)
			DecodeUdevEnc(v)
		}
	})
}

func FuzzParseProcDevices(f *testing.F) {
	if vm, err := os.ReadFile("testdata/vm/proc/devices"); err == nil {
		f.Add(vm)
	}
	f.Add([]byte("Character devices:\n  1 mem\n\nBlock devices:\n259 blkext\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := ParseProcDevices(data, "fuzz"); err != nil && !errors.Is(err, hostroot.ErrMalformed) {
			t.Fatalf("error %v does not wrap ErrMalformed", err)
		}
	})
}
