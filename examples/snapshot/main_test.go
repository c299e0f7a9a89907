package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
)

// The command captures a host tree on disk (--root) into a file that
// hostroottest.LoadArchive reads back.
func TestRunDir(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"proc/stat":            "btime 1700000000\n",
		"proc/1/stat":          statLine(1, "init", 'S', 0, 1),
		"proc/42/stat":         statLine(42, "sleep", 'S', 1, 100),
		"proc/42/cmdline":      "sleep\x00600\x00",
		"proc/42/fdinfo/0":     "pos:\t0\nflags:\t02\nmnt_id:\t1\nino:\t5\n",
		"etc/hostname":         "disk-host\n",
		"run/udev/data/b8:0":   "E:ID_SERIAL=x\n",
		"sys/fs/cgroup/a/b/c/": "",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("/bin/sleep", filepath.Join(dir, "proc/42/exe")); err != nil {
		t.Fatal(err)
	}
	// Two mount namespaces: a copy of /proc is not a procfs, so PID 42's
	// root cannot be entered, which is no error.
	for pid, ns := range map[string]string{"1": "mnt:[4026531841]", "42": "mnt:[4026532400]"} {
		if err := os.MkdirAll(filepath.Join(dir, "proc", pid, "ns"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(ns, filepath.Join(dir, "proc", pid, "ns/mnt")); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "proc/42/fd"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/null", filepath.Join(dir, "proc/42/fd/0")); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "snap.tar.gz")
	var stdout, stderr bytes.Buffer
	code := run([]string{"--root", dir, "-o", out, "--redact-cmdline", "--mtime", "@1700000000", "--cgroup-depth", "2", "--fdinfo"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("run: exit %d, stderr:\n%s", code, stderr.String())
	}
	for _, want := range []string{"written to " + out, "processes: 2 (0 vanished", "skipped:   too-deep 1\n"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, stderr.String())
		}
	}
	h := hostroottest.New()
	if err := h.LoadArchive(out); err != nil {
		t.Fatal(err)
	}
	r := hostroottest.MustRoot(t, h)
	got := map[string]node{}
	for _, n := range []string{"/proc/42/cmdline", "/proc/42/exe", "/proc/42/fd/0", "/proc/42/fdinfo/0", "/etc/hostname", "/run/udev/data/b8:0", "/sys/fs/cgroup/a/b"} {
		got[n] = describe(t, r, n)
	}
	uid, gid := uint32(os.Getuid()), uint32(os.Getgid())
	want := map[string]node{
		"/proc/42/cmdline":    {Type: "file", Perm: 0o644, Content: "sleep\x00REDACTED\x00", UID: uid, GID: gid},
		"/proc/42/exe":        {Type: "symlink", Content: "/bin/sleep", UID: uid, GID: gid},
		"/proc/42/fd/0":       {Type: "symlink", Content: "/dev/null", UID: uid, GID: gid},
		"/proc/42/fdinfo/0":   {Type: "file", Perm: 0o644, Content: "pos:\t0\nflags:\t02\nmnt_id:\t1\nino:\t5\n", UID: uid, GID: gid},
		"/etc/hostname":       {Type: "file", Perm: 0o644, Content: "disk-host\n", UID: uid, GID: gid},
		"/run/udev/data/b8:0": {Type: "file", Perm: 0o644, Content: "E:ID_SERIAL=x\n", UID: uid, GID: gid},
		"/sys/fs/cgroup/a/b":  {Type: "dir", Perm: 0o755, UID: uid, GID: gid},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := r.Lstat("/sys/fs/cgroup/a/b/c"); err == nil {
		t.Error("/sys/fs/cgroup/a/b/c is below --cgroup-depth 2 and was captured")
	}
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		args     []string
		wantCode int
		wantErr  string
	}{
		{[]string{"--max-file", "0"}, 2, "want a positive number"},
		{[]string{"--max-file", "2G", "--max-total", "1G"}, 2, "larger than --max-total"},
		{[]string{"--level", "12"}, 2, "want 0 to 9"},
		{[]string{"--mtime", "yesterday"}, 2, "want RFC 3339 or @SECONDS"},
		{[]string{"--cgroup-depth", "0"}, 2, "want at least 1"},
		{[]string{"extra"}, 2, `unexpected argument "extra"`},
		{[]string{"--root", "/nonexistent/host", "-o", "-"}, 1, "/nonexistent/host"},
		{[]string{"--root", "/", "-o", "/nonexistent/dir/x.tar.gz"}, 1, "no such file or directory"},
		{[]string{"-h"}, 0, "usage: snapshot"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run(tt.args, &stdout, &stderr)
		if code != tt.wantCode || !strings.Contains(stderr.String(), tt.wantErr) {
			t.Errorf("run(%q) = %d, stderr %q; want %d and %q", tt.args, code, stderr.String(), tt.wantCode, tt.wantErr)
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"4096", 4096, false},
		{"4k", 4 << 10, false},
		{"4M", 4 << 20, false},
		{"1G", 1 << 30, false},
		{"", 0, true},
		{"M", 0, true},
		{"-1", 0, true},
		{"0", 0, true},
		{"1.5M", 0, true},
		{"9999999999999G", 0, true},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("parseSize(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseTime(t *testing.T) {
	for in, want := range map[string]time.Time{
		"@0":                   time.Unix(0, 0).UTC(),
		"@1700000000":          time.Unix(1700000000, 0).UTC(),
		"2024-05-01T12:00:00Z": fixed,
	} {
		got, err := parseTime(in)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "@x", "2024-05-01"} {
		if _, err := parseTime(in); err == nil {
			t.Errorf("parseTime(%q) succeeded", in)
		}
	}
}

func TestWriteSummary(t *testing.T) {
	var b bytes.Buffer
	writeSummary(&b, "-", "native /", &Summary{
		Entries: 10, Files: 5, Dirs: 3, Symlinks: 2, Bytes: 3 << 20, Compressed: 300 << 10,
		Processes: 4, Vanished: 1, Skipped: map[string]int{SkipTooLarge: 1, SkipPermission: 2},
	}, 1500*time.Millisecond)
	want := `snapshot of native / written to standard output in 1.5s
  entries:   10 (5 files, 3 directories, 2 symlinks, 0 nodes)
  processes: 4 (1 vanished during the capture)
  size:      3.0 MiB raw, 300.0 KiB compressed (10.2x)
  skipped:   permission 2, too-large 1
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// The bar redraws one line on a terminal and prints plain lines, rarely,
// elsewhere.
func TestProgressPrinter(t *testing.T) {
	var tty bytes.Buffer
	p := newProgressPrinter(&tty, true)
	p.last = time.Time{}
	p.update(Progress{Phase: "processes", Processes: 50, ProcessesTotal: 100, Entries: 700, Bytes: 2 << 20})
	p.clear()
	want := "\r\x1b[K[============            ] processes 50/100 processes  700 entries  2.0 MiB\r\x1b[K"
	if diff := cmp.Diff(want, tty.String()); diff != "" {
		t.Errorf("terminal (-want +got):\n%s", diff)
	}
	var plain bytes.Buffer
	p = newProgressPrinter(&plain, false)
	p.update(Progress{Phase: "processes", Processes: 1, ProcessesTotal: 100})
	p.last = time.Time{}
	p.update(Progress{Phase: "cgroups", Processes: 100, ProcessesTotal: 100, Entries: 9, Bytes: 10})
	p.clear()
	if diff := cmp.Diff("snapshot: cgroups, 100/100 processes, 9 entries, 10 B\n", plain.String()); diff != "" {
		t.Errorf("plain (-want +got):\n%s", diff)
	}
	if isTerminal(&plain) {
		t.Error("a buffer is a terminal")
	}
}
