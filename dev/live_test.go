package dev

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/mounts"
)

// lsblkDevice is one entry of `lsblk --json --bytes --list`.
type lsblkDevice struct {
	Name        string    `json:"name"`
	KName       string    `json:"kname"`
	Size        uint64    `json:"size"`
	Type        string    `json:"type"`
	MountPoints []*string `json:"mountpoints"`
	MajMin      string    `json:"maj:min"`
	RO          bool      `json:"ro"`
	RM          bool      `json:"rm"`
	Rota        bool      `json:"rota"`
	LogSec      uint32    `json:"log-sec"`
	PKName      *string   `json:"pkname"`
}

// liveBlock is what both tools report about a device.
type liveBlock struct {
	Name, MajMin, Type           string
	Size                         uint64
	ReadOnly, Removable, Rotates bool
	LogicalBlockSize             uint32
	Parent                       string
	MountPoints                  []string
}

// TestLiveLsblk compares Blocks on hostroot.Native() with util-linux's
// lsblk, every device in both directions.
//
// Normalisation:
//   - lsblk takes mount points from the mount table of its own process, not
//     PID 1's, so Blocks is given the test process's own table
//     (mounts.Process for os.Getpid()). Both are compared as sorted sets:
//     lsblk lists them in reverse table order. A null entry means none, and
//     "[SWAP]" (from /proc/swaps, not a mount) is dropped.
//   - NAME is the device-mapper name for dm devices; KNAME is the kernel
//     name and is what Name holds.
//   - PKNAME is compared for partitions only: for a dm or md device lsblk
//     names one of its slaves, which Slaves lists.
//   - --all includes empty devices; lsblk still leaves out RAM disks
//     (major 1), so a device only Blocks reports must be one.
//
// Mount points can change while the test runs (other packages' tests start
// containers, and podman remounts its storage): the table is read before
// and after lsblk, and devices whose mount points differ between the two
// reads are not compared. A mount that goes and comes back while lsblk
// alone runs is not seen by either read, so a comparison that differs is
// made again, up to five times: a real difference stays, churn does not.
func TestLiveLsblk(t *testing.T) {
	lsblk, err := exec.LookPath("lsblk")
	if err != nil {
		t.Skip("lsblk not installed (Debian package util-linux)")
	}
	r, err := hostroot.Native()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.ReadDirNames("/sys/class/block"); err != nil {
		t.Skipf("no /sys/class/block: %v", err)
	}
	ctx := context.Background()
	read := func() []BlockDevice {
		table, err := mounts.Process(r, os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		devs, err := Blocks(ctx, r, &BlockOptions{Mounts: table})
		if err != nil {
			t.Fatalf("Blocks() error = %v", err)
		}
		return devs
	}
	// compare runs lsblk between two reads of Blocks and returns what
	// differs, and how many devices it compared and left out as unstable.
	compare := func() (problems []string, compared, unstableCount int) {
		before := read()
		out, err := exec.Command(lsblk, "--json", "--bytes", "--list", "--all",
			"-o", "NAME,KNAME,SIZE,TYPE,MOUNTPOINTS,MAJ:MIN,RO,RM,ROTA,LOG-SEC,PKNAME").Output()
		if err != nil {
			t.Fatalf("lsblk: %v", err)
		}
		after := read()
		var doc struct {
			BlockDevices []lsblkDevice `json:"blockdevices"`
		}
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatalf("lsblk output: %v", err)
		}

		ours := map[string]BlockDevice{}
		unstable := map[string]bool{}
		for _, d := range before {
			ours[d.Name] = d
		}
		for _, d := range after {
			if !slices.Equal(d.MountPoints, ours[d.Name].MountPoints) {
				unstable[d.Name] = true
			}
		}
		seen := map[string]bool{}
		for _, l := range doc.BlockDevices {
			if seen[l.KName] {
				continue // --list repeats a device held by several slaves
			}
			seen[l.KName] = true
			d, ok := ours[l.KName]
			if !ok {
				problems = append(problems, fmt.Sprintf("lsblk reports %s (%s), Blocks does not", l.KName, l.MajMin))
				continue
			}
			if unstable[l.KName] {
				continue
			}
			if diff := cmp.Diff(fromLsblk(l), comparableBlock(d)); diff != "" {
				problems = append(problems, fmt.Sprintf("%s: lsblk and Blocks differ (-lsblk +hostscope):\n%s", l.KName, diff))
			}
		}
		for name, d := range ours {
			if !seen[name] && d.Major != 1 {
				problems = append(problems, fmt.Sprintf("Blocks reports %s (%d:%d), lsblk --all does not", name, d.Major, d.Minor))
			}
		}
		return problems, len(seen), len(unstable)
	}
	var problems []string
	var compared, unstable int
	for attempt := 1; attempt <= 5; attempt++ {
		if problems, compared, unstable = compare(); len(problems) == 0 {
			break
		}
		t.Logf("attempt %d: %d differences; comparing again", attempt, len(problems))
	}
	for _, p := range problems {
		t.Error(p)
	}
	if compared == 0 {
		t.Skip("lsblk reports no block device")
	}
	t.Logf("compared %d block devices with lsblk; %d changed mount points during the test", compared, unstable)
}

func fromLsblk(l lsblkDevice) liveBlock {
	b := liveBlock{Name: l.KName, MajMin: l.MajMin, Type: l.Type, Size: l.Size, ReadOnly: l.RO,
		Removable: l.RM, Rotates: l.Rota, LogicalBlockSize: l.LogSec}
	if l.Type == "part" && l.PKName != nil {
		b.Parent = *l.PKName
	}
	for _, m := range l.MountPoints {
		if m != nil && *m != "[SWAP]" {
			b.MountPoints = append(b.MountPoints, *m)
		}
	}
	slices.Sort(b.MountPoints)
	return b
}

func comparableBlock(d BlockDevice) liveBlock {
	b := liveBlock{Name: d.Name, MajMin: strconv.FormatUint(uint64(d.Major), 10) + ":" + strconv.FormatUint(uint64(d.Minor), 10),
		Type: d.Type, Size: d.Size, ReadOnly: d.ReadOnly, Removable: d.Removable, Rotates: d.Rotational,
		LogicalBlockSize: d.LogicalBlockSize, MountPoints: slices.Clone(d.MountPoints)}
	if d.Type == "part" {
		b.Parent = d.Parent
	}
	slices.Sort(b.MountPoints)
	return b
}
