package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
)

func TestRunMemory(t *testing.T) {
	h := hostroottest.New().
		File("/proc/sys/kernel/hostname", "node-7\n").
		File("/proc/sys/kernel/osrelease", "6.1.0-test\n").
		File("/proc/stat", "cpu  1 2 3 4\nbtime 1700000000\nprocesses 10\n").
		File("/proc/1/stat", "1 (init) S").
		File("/proc/300/stat", "300 (sh) S").
		Dir("/proc/sys/fs").
		File("/usr/lib/os-release", "ID=debian\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n").
		Symlink("/etc/os-release", "../usr/lib/os-release")
	var out bytes.Buffer
	if err := run(hostroottest.MustRoot(t, h), &out); err != nil {
		t.Fatal(err)
	}
	want := `root:      afero hostroottest.Host
hostname:  node-7
os:        Debian GNU/Linux 12 (bookworm)
kernel:    6.1.0-test
booted:    2023-11-14T22:13:20Z
processes: 2
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}

// A sparse root reports what it lacks instead of failing.
func TestRunSparse(t *testing.T) {
	h := hostroottest.New().File("/proc/stat", "btime nonsense\n")
	var out bytes.Buffer
	if err := run(hostroottest.MustRoot(t, h), &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"hostname:  unknown (", "booted:    unknown (malformed content: /proc/stat line 1", "processes: 0"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// The README's first command runs this program against the machine.
func TestRunNative(t *testing.T) {
	root, err := hostroot.Native()
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	var out bytes.Buffer
	if err := run(root, &out); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	if !strings.Contains(out.String(), "kernel:    "+strings.TrimSpace(string(want))) {
		t.Errorf("native output does not name this kernel:\n%s", out.String())
	}
}
