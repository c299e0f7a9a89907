package dev

import (
	"context"
	"errors"
	"io/fs"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
)

func serverLinks() []DiskLink {
	return []DiskLink{
		{Path: "/dev/disk/by-id/dm-name-vg0-root", Scheme: "by-id", Name: "dm-name-vg0-root",
			Target: "/dev/dm-0", Kind: KindBlock, Major: 253},
		{Path: "/dev/disk/by-id/usb-gone", Scheme: "by-id", Name: "usb-gone"},
		{Path: "/dev/disk/by-id/wwn-0x5002538e40a1b2c3", Scheme: "by-id", Name: "wwn-0x5002538e40a1b2c3",
			Target: "/dev/sda", Kind: KindBlock, Major: 8},
		{Path: `/dev/disk/by-label/root\x20fs`, Scheme: "by-label", Name: "root fs",
			Target: "/dev/dm-0", Kind: KindBlock, Major: 253},
		{Path: "/dev/disk/by-uuid/2f8e7c41-5d3a-4b6e-9f10-a1b2c3d4e5f6", Scheme: "by-uuid",
			Name: "2f8e7c41-5d3a-4b6e-9f10-a1b2c3d4e5f6", Target: "/dev/dm-0", Kind: KindBlock, Major: 253},
		{Path: "/dev/disk/by-uuid/5A3B-1C2D", Scheme: "by-uuid", Name: "5A3B-1C2D",
			Target: "/dev/sda1", Kind: KindBlock, Major: 8, Minor: 1},
	}
}

func serverNodes() []Node {
	return []Node{
		{Path: "/dev/dm-0", Kind: KindBlock, Major: 253, Mode: fs.ModeDevice | 0o660, GID: 6},
		{Path: "/dev/input/event0", Kind: KindChar, Major: 13, Minor: 64, Mode: fs.ModeDevice | fs.ModeCharDevice | 0o660, GID: 104},
		{Path: "/dev/null", Kind: KindChar, Major: 1, Minor: 3, Mode: fs.ModeDevice | fs.ModeCharDevice | 0o666},
		{Path: "/dev/sda", Kind: KindBlock, Major: 8, Mode: fs.ModeDevice | 0o660, GID: 6},
		{Path: "/dev/sda1", Kind: KindBlock, Major: 8, Minor: 1, Mode: fs.ModeDevice | 0o660, GID: 6},
		{Path: "/dev/sda2", Kind: KindBlock, Major: 8, Minor: 2, Mode: fs.ModeDevice | 0o660, GID: 6},
		{Path: "/dev/tty", Kind: KindChar, Major: 5, Mode: fs.ModeDevice | fs.ModeCharDevice | 0o666, GID: 5},
	}
}

func TestNodes(t *testing.T) {
	got, err := Nodes(context.Background(), serverRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(serverNodes(), got); diff != "" {
		t.Errorf("Nodes() mismatch (-want +got):\n%s", diff)
	}
	if _, err := Nodes(context.Background(), hostroottest.MustRoot(t, hostroottest.New().Dir("/proc"))); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Nodes(no /dev) error = %v, want fs.ErrNotExist", err)
	}
}

func TestDiskLinks(t *testing.T) {
	got, err := DiskLinks(context.Background(), serverRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(serverLinks(), got); diff != "" {
		t.Errorf("DiskLinks() mismatch (-want +got):\n%s", diff)
	}
}

func TestChars(t *testing.T) {
	got, err := Chars(context.Background(), serverRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []CharDevice{
		{Name: "null", Major: 1, Minor: 3, DevName: "null", Subsystem: "mem", Drivers: []string{"mem"},
			SysPath: "/sys/devices/virtual/mem/null"},
		{Name: "tty", Major: 5, DevName: "tty", Drivers: []string{"/dev/tty", "/dev/console"},
			SysPath: "/sys/devices/virtual/tty/tty"},
		{Name: "event0", Major: 13, Minor: 64, DevName: "input/event0", Subsystem: "input", Drivers: []string{"input"},
			SysPath: "/sys/devices/platform/i8042/serio0/input/input0/event0"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Chars() mismatch (-want +got):\n%s", diff)
	}
}

func TestCharsProblems(t *testing.T) {
	h := hostroottest.New().File("/proc/devices", "Character devices:\n  1 mem\n")
	h.Symlink("/sys/dev/char/1:x", "../../devices/virtual/mem/bad")
	h.Symlink("/sys/dev/char/1:5", "../../devices/virtual/mem/gone") // dangling: removed mid-scan
	got, err := Chars(context.Background(), hostroottest.MustRoot(t, h))
	if !errors.Is(err, hostroot.ErrMalformed) {
		t.Errorf("Chars() error = %v, want ErrMalformed for 1:x", err)
	}
	if len(got) != 0 {
		t.Errorf("Chars() = %v, want none", got)
	}
}
