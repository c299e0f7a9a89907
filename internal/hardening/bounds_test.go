package hardening

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hostscope/hostscope/cgroup"
	"github.com/hostscope/hostscope/dev"
	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/internal/alloccount"
	"github.com/hostscope/hostscope/mounts"
)

// allocBound is what parsing n bytes may allocate: a small multiple of n
// plus a constant for whatever else runs meanwhile (the fuzzing machinery).
func allocBound(n int) uint64 { return 48*uint64(n) + 64<<10 }

// exportedParsers are the parsers other packages export, each taking a
// whole file's bytes.
var exportedParsers = map[string]func([]byte) error{
	"mounts.Parse": func(b []byte) error { _, err := mounts.Parse(b, "/proc/1/mountinfo", nil); return err },
	"cgroup.ParseEntries": func(b []byte) error {
		_, err := cgroup.ParseEntries(b, "/proc/1/cgroup")
		return err
	},
	"dev.ParseUdev":        func(b []byte) error { _, err := dev.ParseUdev(b, "/run/udev/data/b8:0"); return err },
	"dev.ParseProcDevices": func(b []byte) error { _, err := dev.ParseProcDevices(b, "/proc/devices"); return err },
}

// FuzzExportedParsersBounded holds the exported parsers (mount tables,
// cgroup files, udev records, /proc/devices) to linear memory on any input,
// and to the one error sentinel.
func FuzzExportedParsersBounded(f *testing.F) {
	for _, glob := range []string{"../../mounts/testdata/mountinfo-*.txt", "../../proc/testdata/*.cgroup", "../../dev/testdata/vm/proc/devices"} {
		files, _ := filepath.Glob(glob)
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte("S:disk/by-id/x\nE:ID_SERIAL=y\nI:1\nL:0\nG:systemd\nQ:systemd\nV:1\n"))
	f.Add([]byte("0::/a\n1:name=systemd:/b\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for label, parse := range exportedParsers {
			var err error
			if n := alloccount.Bytes(func() { err = parse(data) }); n > allocBound(len(data)) {
				t.Fatalf("%s: parsing %d bytes allocated %d", label, len(data), n)
			}
			if err != nil && !errors.Is(err, hostroot.ErrMalformed) {
				t.Fatalf("%s: error %v does not wrap ErrMalformed", label, err)
			}
		}
	})
}

// TestExportedParsersLargeInputs gives each exported parser worst-case
// inputs at the scale of the read cap and bounds memory and time, as
// proc's TestParseLargeInputs does for its parsers.
func TestExportedParsersLargeInputs(t *testing.T) {
	const size = 2 << 20
	line := []byte("36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n")
	inputs := map[string][]byte{
		"one long line":    bytes.Repeat([]byte("x"), size),
		"empty lines":      bytes.Repeat([]byte("\n"), size),
		"many mounts":      bytes.Repeat(line, size/len(line)),
		"escapes":          bytes.Repeat([]byte(`\040`), size/4),
		"many fields":      bytes.Repeat([]byte("a "), size/2),
		"many colons":      bytes.Repeat([]byte(":"), size),
		"cgroup lines":     bytes.Repeat([]byte("1:cpu,cpuacct:/a/b\n"), size/19),
		"udev properties":  bytes.Repeat([]byte("E:K=V\n"), size/6),
		"udev links":       bytes.Repeat([]byte("S:disk/by-id/x\n"), size/15),
		"device lines":     append([]byte("Character devices:\n"), bytes.Repeat([]byte("  1 mem\n"), size/8)...),
		"optional fields":  append([]byte("1 0 8:1 / / rw"), append(bytes.Repeat([]byte(" shared:1"), size/9), []byte(" - ext4 /dev/sda rw\n")...)...),
		"super options":    append([]byte("1 0 8:1 / / rw - ext4 /dev/sda "), bytes.Repeat([]byte("a,"), size/2)...),
		"controller names": append([]byte("1:"), append(bytes.Repeat([]byte("c,"), size/2), []byte(":/\n")...)...),
	}
	for label, data := range inputs {
		for parser, parse := range exportedParsers {
			var err error
			start := time.Now()
			n := alloccount.Bytes(func() { err = parse(data) })
			took := time.Since(start)
			if err != nil && !errors.Is(err, hostroot.ErrMalformed) {
				t.Errorf("%s of %s: error %v does not wrap ErrMalformed", parser, label, err)
			}
			if n > allocBound(len(data)) {
				t.Errorf("%s of %s (%d bytes) allocated %d bytes", parser, label, len(data), n)
			}
			if took > 10*time.Second {
				t.Errorf("%s of %s (%d bytes) took %v", parser, label, len(data), took)
			}
		}
	}
}
