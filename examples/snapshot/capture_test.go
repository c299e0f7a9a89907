package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hostscope/hostscope/dev"
	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
	"github.com/hostscope/hostscope/internal/parse"
	"github.com/hostscope/hostscope/internal/runtimestate"
	"github.com/hostscope/hostscope/proc"
)

var update = flag.Bool("update", false, "rewrite testdata/layout.golden")

// The archive loads back into an in-memory host holding exactly the
// expected names, each identical to the original: content, link text,
// type, permissions, owner.
func TestCaptureRoundTrip(t *testing.T) {
	s, r := spyRoot(t, fixtureHost())
	archive, sum := captureBytes(t, r, &Options{ModTime: fixed, FDInfo: true})
	loaded := load(t, archive)

	got := allNames(t, loaded)
	if diff := cmp.Diff(sortedCopy(wantNames), got); diff != "" {
		t.Errorf("names in the snapshot (-want +got):\n%s", diff)
	}
	// A namespace's socket tables are captured once, through its first
	// process; the others' net directories link there. Process roots are
	// compared through ProcRoot below.
	netLinks := map[string]string{"/proc/2/net": "../1/net", "/proc/301/net": "../300/net"}
	for _, name := range got {
		if link, ok := netLinks[name]; ok {
			if got, err := loaded.Readlink(name); err != nil || got != link {
				t.Errorf("Readlink(%s) = %q, %v; want %q", name, got, err, link)
			}
			continue
		}
		if name == procRootsDir || strings.HasPrefix(name, procRootsDir+"/") {
			continue
		}
		if diff := cmp.Diff(describe(t, r, name), describe(t, loaded, name)); diff != "" {
			t.Errorf("%s (-host +snapshot):\n%s", name, diff)
		}
	}
	for _, pid := range []int{1, 2, 300, 301} {
		want, werr := proc.NetSockets(r, pid)
		if pid == 2 || pid == 301 {
			// The namespace's tables, as its first process shows them.
			want, werr = proc.NetSockets(r, map[int]int{2: 1, 301: 300}[pid])
			for i := range want {
				want[i].NetNS = map[int]uint64{2: 4026531840, 301: 4026532500}[pid]
			}
		}
		got, err := proc.NetSockets(loaded, pid)
		if diff := cmp.Diff(want, got, cmpopts.EquateComparable(netip.Addr{})); diff != "" || (err == nil) != (werr == nil) {
			t.Errorf("NetSockets(%d) (-host +snapshot):\n%s\nerr %v, host's %v", pid, diff, err, werr)
		}
	}
	hostPR, err := r.ProcRoot(300)
	if err != nil {
		t.Fatal(err)
	}
	wantNodes, err := dev.Nodes(context.Background(), hostPR)
	if err != nil || len(wantNodes) != 2 {
		t.Fatalf("the fixture's container /dev: %v, %v", wantNodes, err)
	}
	for _, pid := range []int{300, 301} {
		pr, err := loaded.ProcRoot(pid)
		if err != nil {
			t.Errorf("ProcRoot(%d) of the snapshot: %v", pid, err)
			continue
		}
		nodes, err := dev.Nodes(context.Background(), pr)
		if diff := cmp.Diff(wantNodes, nodes); diff != "" || err != nil {
			t.Errorf("dev.Nodes in process %d's root (-host +snapshot), err %v:\n%s", pid, err, diff)
		}
		if _, err := pr.Lstat("/etc/passwd"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("process %d's /etc/passwd: err = %v, want only /dev captured", pid, err)
		}
	}
	if _, err := loaded.ProcRoot(1); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ProcRoot(1), in the host's mount namespace: err = %v, want ErrNotExist", err)
	}
	if procRootsDir != hostroottest.ProcRootsDir {
		t.Errorf("procRootsDir %q, hostroottest loads %q", procRootsDir, hostroottest.ProcRootsDir)
	}

	wantSum := &Summary{
		Entries: len(wantNames), Files: 75, Dirs: 77, Symlinks: 35, Nodes: 2,
		Processes: 4,
		Skipped: map[string]int{
			SkipWriteOnly:  1, // memory.reclaim
			SkipNotRegular: 2, // the FIFO in /run/udev/data, the device in a cgroup
		},
	}
	if diff := cmp.Diff(wantSum, sum, cmpopts.IgnoreFields(Summary{}, "Bytes", "Compressed")); diff != "" {
		t.Errorf("Summary (-want +got):\n%s", diff)
	}
	if sum.Files+sum.Dirs+sum.Symlinks+sum.Nodes != sum.Entries {
		t.Errorf("Summary counts do not add up: %+v", sum)
	}
	if sum.Compressed != int64(len(archive)) {
		t.Errorf("Summary.Compressed = %d, archive is %d bytes", sum.Compressed, len(archive))
	}
	var content int64
	for _, h := range headers(t, archive) {
		content += h.Size
	}
	if sum.Bytes != content {
		t.Errorf("Summary.Bytes = %d, entries hold %d", sum.Bytes, content)
	}

	// What readers do with the snapshot: the magic links are links, not
	// entered (ProcRoot enters the recorded root).
	if _, err := loaded.ReadFile("/proc/300/root/etc/passwd"); !errors.Is(err, syscall.ELOOP) {
		t.Errorf("reading through /proc/300/root: err = %v, want ELOOP", err)
	}
	if b, err := loaded.ReadFile("/etc/os-release"); err != nil || !strings.HasPrefix(string(b), "ID=debian") {
		t.Errorf("/etc/os-release through its link: %q, %v", b, err)
	}
	if b, err := loaded.ReadFile("/var/lib/docker/containers/" + dockerID + "/config.v2.json"); err != nil || !strings.Contains(string(b), `"/web"`) {
		t.Errorf("docker state through the data-root link: %q, %v", b, err)
	}
	if len(s.opened) == 0 {
		t.Error("the spy saw no open: is it wired in?")
	}
}

// Archive shape: relative names, directories before their contents, no
// entry below a symlink, one entry per name, the fixed mtime.
func TestCaptureLayout(t *testing.T) {
	_, r := spyRoot(t, fixtureHost())
	archive, _ := captureBytes(t, r, &Options{ModTime: fixed, Dev: true, FDInfo: true})
	seen := map[string]byte{}
	var lines []string
	for _, h := range headers(t, archive) {
		name := strings.TrimSuffix(h.Name, "/")
		if strings.HasPrefix(h.Name, "/") || strings.Contains("/"+h.Name+"/", "/../") {
			t.Errorf("%s: not a clean relative name", h.Name)
		}
		if _, dup := seen[name]; dup {
			t.Errorf("%s: two entries", h.Name)
		}
		if dir := path.Dir(name); dir != "." {
			if typ, ok := seen[dir]; !ok || typ != '5' {
				t.Errorf("%s: comes before its directory %s (type %q)", h.Name, dir, typ)
			}
		}
		if (h.Typeflag == '5') != strings.HasSuffix(h.Name, "/") {
			t.Errorf("%s: directories, and only they, end in /", h.Name)
		}
		if !h.ModTime.Equal(fixed) {
			t.Errorf("%s: mtime %v, want %v", h.Name, h.ModTime, fixed)
		}
		seen[name] = h.Typeflag
		line := fmt.Sprintf("%c %04o %d:%d %s", h.Typeflag, h.Mode, h.Uid, h.Gid, h.Name)
		switch h.Typeflag {
		case '0':
			line += fmt.Sprintf(" (%d bytes)", h.Size)
		case '2':
			line += " -> " + h.Linkname
		case '3', '4':
			line += fmt.Sprintf(" %d:%d", h.Devmajor, h.Devminor)
		}
		lines = append(lines, line)
	}
	got := strings.Join(lines, "\n") + "\n"
	golden := filepath.Join("testdata", "layout.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("archive layout (-%s +got):\n%s", golden, diff)
	}

	// The same tree with a fixed mtime gives the same bytes.
	again, _ := captureBytes(t, r, &Options{ModTime: fixed, Dev: true, FDInfo: true})
	if !bytes.Equal(archive, again) {
		t.Error("two captures of the same tree with a fixed mtime differ")
	}
}

// Descriptors' fdinfo files are left out unless asked for; the fd links
// always go in. Either way proc reads the descriptors of the snapshot as
// it does the host's, with their position, flags and (but for a socket)
// inode only from fdinfo.
func TestCaptureFDInfo(t *testing.T) {
	fields := proc.FieldFDs | proc.FieldFDInfo
	for _, fdinfo := range []bool{false, true} {
		t.Run(fmt.Sprintf("FDInfo=%v", fdinfo), func(t *testing.T) {
			_, r := spyRoot(t, fixtureHost())
			archive, _ := captureBytes(t, r, &Options{FDInfo: fdinfo})
			loaded := load(t, archive)
			want, err := proc.Read(r, 1, fields)
			if err != nil {
				t.Fatal(err)
			}
			if want.FDs[1].Flags == 0 || want.FDs[1].Inode != 1001 {
				t.Fatalf("the fixture's descriptors: %+v", want.FDs)
			}
			got, err := proc.Read(loaded, 1, fields)
			if err != nil {
				t.Fatal(err)
			}
			if !fdinfo {
				for i := range want.FDs {
					want.FDs[i].Flags, want.FDs[i].Pos, want.FDs[i].MntID = 0, 0, 0
					if want.FDs[i].Type != proc.FDSocket {
						want.FDs[i].Inode = 0 // a file's inode is fdinfo's; a socket's is in its link
					}
				}
				if !errors.Is(got.Missing[proc.FieldFDInfo], fs.ErrNotExist) {
					t.Errorf("Missing[FieldFDInfo] = %v, want ErrNotExist", got.Missing[proc.FieldFDInfo])
				}
			}
			if diff := cmp.Diff(want.FDs, got.FDs); diff != "" {
				t.Errorf("FDs (-host +snapshot):\n%s", diff)
			}
		})
	}
}

// /dev is left out unless asked for; then its nodes, FIFOs and links are
// recorded with their numbers and never opened (the spy fails the test on
// any open of a node), and /dev/shm's files are not captured.
func TestCaptureDev(t *testing.T) {
	for _, dev := range []bool{false, true} {
		t.Run(fmt.Sprintf("Dev=%v", dev), func(t *testing.T) {
			_, r := spyRoot(t, fixtureHost())
			archive, sum := captureBytes(t, r, &Options{Dev: dev})
			loaded := load(t, archive)
			var got []string
			for _, n := range allNames(t, loaded) {
				if strings.HasPrefix(n, "/dev/") || n == "/dev" {
					got = append(got, n)
				}
			}
			var want []string
			if dev {
				want = []string{"/dev", "/dev/disk", "/dev/disk/by-uuid", "/dev/disk/by-uuid/1234-ABCD", "/dev/initctl", "/dev/null", "/dev/pts", "/dev/sda"}
			}
			// The container's /dev is captured either way, through its root.
			if wantNodes := map[bool]int{false: 2, true: 5}[dev]; sum.Nodes != wantNodes {
				t.Errorf("Summary.Nodes = %d, want %d", sum.Nodes, wantNodes)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("/dev in the snapshot (-want +got):\n%s", diff)
			}
			for _, n := range got {
				if diff := cmp.Diff(describe(t, r, n), describe(t, loaded, n)); diff != "" {
					t.Errorf("%s (-host +snapshot):\n%s", n, diff)
				}
			}
		})
	}
}

func TestCaptureRedaction(t *testing.T) {
	type files struct{ Cmdline1, Cmdline300, Environ1, Environ300 string }
	tests := []struct {
		name string
		opts Options
		want files
	}{
		{"default", Options{}, files{
			Cmdline1:   "/sbin/init\x00splash\x00--log-level=debug\x00",
			Cmdline300: "sleep\x00infinity\x00",
			Environ1:   "(absent)", Environ300: "(absent)",
		}},
		{"environ", Options{Environ: true}, files{
			Cmdline1:   "/sbin/init\x00splash\x00--log-level=debug\x00",
			Cmdline300: "sleep\x00infinity\x00",
			Environ1:   "HOME=/\x00TERM=linux\x00TOKEN=s3cr3t\x00",
			Environ300: "PATH=/bin\x00",
		}},
		{"redact both", Options{RedactCmdline: true, RedactEnviron: true}, files{
			Cmdline1:   "/sbin/init\x00REDACTED\x00REDACTED\x00",
			Cmdline300: "sleep\x00REDACTED\x00",
			Environ1:   "HOME=\x00TERM=\x00TOKEN=\x00",
			Environ300: "PATH=\x00",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, r := spyRoot(t, fixtureHost())
			archive, _ := captureBytes(t, r, &tt.opts)
			loaded := load(t, archive)
			read := func(name string) string {
				b, err := loaded.ReadFile(name)
				if errors.Is(err, fs.ErrNotExist) {
					return "(absent)"
				}
				if err != nil {
					t.Fatal(err)
				}
				return string(b)
			}
			got := files{read("/proc/1/cmdline"), read("/proc/300/cmdline"), read("/proc/1/environ"), read("/proc/300/environ")}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if tt.opts.Environ || tt.opts.RedactEnviron {
				// Permissions and owner survive redaction.
				if diff := cmp.Diff(node{Type: "file", Perm: 0o400, UID: 1000, GID: 1000, Content: got.Environ300}, describe(t, loaded, "/proc/300/environ")); diff != "" {
					t.Errorf("environ metadata (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestCaptureCaps(t *testing.T) {
	big := strings.Repeat("99 22 0:99 / /mnt/x rw - tmpfs tmpfs rw\n", 30000) // 1.2 MB
	tests := []struct {
		name        string
		opts        Options
		wantSkipped map[string]int
		absent      []string
	}{
		{
			name:        "huge file skipped",
			opts:        Options{MaxFileSize: 1 << 20},
			wantSkipped: map[string]int{SkipTooLarge: 1, SkipWriteOnly: 1, SkipNotRegular: 2},
			absent:      []string{"/proc/2/mountinfo"},
		},
		{
			name: "huge file within the cap",
			opts: Options{MaxFileSize: 2 << 20},
			wantSkipped: map[string]int{
				SkipWriteOnly: 1, SkipNotRegular: 2,
			},
		},
		{
			// PID 2's mountinfo does not fit in what is left; smaller
			// files after it still do.
			name:        "total cap, one file over",
			opts:        Options{MaxTotalSize: 1 << 20},
			wantSkipped: map[string]int{SkipTotalCap: 1, SkipWriteOnly: 1, SkipNotRegular: 2},
			absent:      []string{"/proc/2/mountinfo"},
		},
		{
			// Full after a few files: every later file is skipped,
			// links and directories still go in.
			name:   "total cap, full",
			opts:   Options{MaxTotalSize: 200},
			absent: []string{"/proc/1/stat", "/proc/300/stat", sdaDir + "/size", "/run/udev/data/b8:0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := fixtureHost().File("/proc/2/mountinfo", big)
			_, r := spyRoot(t, h)
			archive, sum := captureBytes(t, r, &tt.opts)
			loaded := load(t, archive)
			for _, name := range tt.absent {
				if _, err := loaded.Lstat(name); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s: in the snapshot (err %v), want it skipped", name, err)
				}
			}
			if sum.Bytes > tt.opts.MaxTotalSize && tt.opts.MaxTotalSize > 0 {
				t.Errorf("Summary.Bytes = %d, over the cap %d", sum.Bytes, tt.opts.MaxTotalSize)
			}
			if tt.wantSkipped == nil {
				if sum.Bytes > tt.opts.MaxTotalSize {
					t.Errorf("Summary.Bytes = %d, over the cap %d", sum.Bytes, tt.opts.MaxTotalSize)
				}
				if sum.Skipped[SkipTotalCap] < 20 {
					t.Errorf("Skipped[total-cap] = %d, want every later file", sum.Skipped[SkipTotalCap])
				}
				// Links and directories still go in.
				if _, err := loaded.Readlink("/proc/300/exe"); err != nil {
					t.Errorf("Readlink(/proc/300/exe) after the cap: %v", err)
				}
				return
			}
			if diff := cmp.Diff(tt.wantSkipped, sum.Skipped); diff != "" {
				t.Errorf("Skipped (-want +got):\n%s", diff)
			}
			if sum.Processes != 4 {
				t.Errorf("Processes = %d, want 4: a skipped file does not drop its process", sum.Processes)
			}
		})
	}
}

// A process that exits while it is read, or whose PID is reused by a new
// process, is left out whole; an unreadable file is skipped and counted.
func TestCaptureVanishing(t *testing.T) {
	tests := []struct {
		name          string
		hook          func(h *hostroottest.Host) func(name string) error
		wantProcesses []string
		wantSum       Summary
		check         func(t *testing.T, loaded *hostroot.Root)
	}{
		{
			name: "exits mid-capture",
			hook: func(h *hostroottest.Host) func(string) error {
				return func(name string) error {
					if name == "/proc/300/mountinfo" {
						h.RemoveAll("/proc/300")
						return syscall.ENOENT
					}
					return nil
				}
			},
			wantProcesses: []string{"/proc/1", "/proc/2", "/proc/301"},
			wantSum:       Summary{Processes: 3, Vanished: 1},
			// PID 301 stands for the container in PID 300's place.
			check: func(t *testing.T, loaded *hostroot.Root) {
				for _, name := range []string{"/proc/301/net/tcp6", procRootsDir + "/301/dev/fuse"} {
					if _, err := loaded.Lstat(name); err != nil {
						t.Errorf("%s: %v", name, err)
					}
				}
				if _, err := loaded.Lstat(procRootsDir + "/300"); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("the vanished process's root is in the snapshot: %v", err)
				}
			},
		},
		{
			name: "PID reused mid-capture",
			hook: func(h *hostroottest.Host) func(string) error {
				return func(name string) error {
					if name == "/proc/1/cgroup" {
						f, _ := h.OpenFile("/proc/1/stat", os.O_WRONLY|os.O_TRUNC, 0o444)
						f.WriteString(statLine(1, "systemd", 'S', 0, 777))
						f.Close()
					}
					return nil
				}
			},
			wantProcesses: []string{"/proc/2", "/proc/300", "/proc/301"},
			wantSum:       Summary{Processes: 3, Vanished: 1},
			// PID 2 stands for the host's network namespace.
			check: func(t *testing.T, loaded *hostroot.Root) {
				if _, err := loaded.Lstat("/proc/2/net/tcp"); err != nil {
					t.Errorf("PID 2's tables: %v", err)
				}
			},
		},
		{
			name: "permission denied",
			hook: func(h *hostroottest.Host) func(string) error {
				return func(name string) error {
					if name == "/proc/300/cmdline" || name == "/proc/1/status" {
						return syscall.EACCES
					}
					return nil
				}
			},
			wantProcesses: []string{"/proc/1", "/proc/2", "/proc/300", "/proc/301"},
			wantSum:       Summary{Processes: 4, Skipped: map[string]int{SkipPermission: 2}},
		},
		{
			name: "kernel thread's environ",
			hook: func(h *hostroottest.Host) func(string) error {
				return func(name string) error {
					if name == "/proc/2/cmdline" {
						return syscall.ESRCH // as procfs answers for environ without an mm
					}
					return nil
				}
			},
			wantProcesses: []string{"/proc/1", "/proc/2", "/proc/300", "/proc/301"},
			wantSum:       Summary{Processes: 4},
		},
		{
			name: "I/O error",
			hook: func(h *hostroottest.Host) func(string) error {
				return func(name string) error {
					if name == "/proc/2/mountinfo" {
						return syscall.EIO
					}
					return nil
				}
			},
			wantProcesses: []string{"/proc/1", "/proc/2", "/proc/300", "/proc/301"},
			wantSum:       Summary{Processes: 4, Skipped: map[string]int{SkipError: 1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := fixtureHost()
			s, r := spyRoot(t, h)
			s.hook = tt.hook(h)
			archive, sum := captureBytes(t, r, nil)
			loaded := load(t, archive)
			var procs []string
			for _, n := range allNames(t, loaded) {
				if strings.Count(n, "/") == 2 && parse.Digits(path.Base(n)) && strings.HasPrefix(n, "/proc/") {
					procs = append(procs, n)
				}
			}
			if diff := cmp.Diff(tt.wantProcesses, procs); diff != "" {
				t.Errorf("processes in the snapshot (-want +got):\n%s", diff)
			}
			got := Summary{Processes: sum.Processes, Vanished: sum.Vanished, Skipped: sum.Skipped}
			delete(got.Skipped, SkipWriteOnly) // the fixture's own
			delete(got.Skipped, SkipNotRegular)
			if diff := cmp.Diff(tt.wantSum, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Summary (-want +got):\n%s", diff)
			}
			if tt.check != nil {
				tt.check(t, loaded)
			}
		})
	}
}

// Progress is reported in order, ending with "done".
func TestCaptureProgress(t *testing.T) {
	_, r := spyRoot(t, fixtureHost())
	var got []Progress
	_, sum := captureBytes(t, r, &Options{Progress: func(p Progress) { got = append(got, p) }})
	if len(got) < 5 {
		t.Fatalf("%d progress reports, want one per batch", len(got))
	}
	last := got[len(got)-1]
	if diff := cmp.Diff(Progress{Phase: "done", Processes: 4, ProcessesTotal: 4, Entries: sum.Entries, Bytes: sum.Bytes}, last); diff != "" {
		t.Errorf("last report (-want +got):\n%s", diff)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Entries < got[i-1].Entries || got[i].Bytes < got[i-1].Bytes || got[i].Processes < got[i-1].Processes {
			t.Errorf("report %d went backwards: %+v after %+v", i, got[i], got[i-1])
		}
	}
}

func TestCaptureCanceled(t *testing.T) {
	_, r := spyRoot(t, fixtureHost())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var buf bytes.Buffer
	if _, err := Capture(ctx, r, &buf, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Capture with a canceled context: err = %v, want context.Canceled", err)
	}
}

// A writer that fails ends the capture with its error.
func TestCaptureWriteError(t *testing.T) {
	_, r := spyRoot(t, fixtureHost())
	errFull := errors.New("disk full")
	if _, err := Capture(context.Background(), r, failingWriter{errFull}, nil); !errors.Is(err, errFull) {
		t.Errorf("err = %v, want %v", err, errFull)
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

// Symlinks are followed within the root, as the kernel would in a chroot:
// an absolute link, a ".." past the root, a loop. Nothing escapes, and the
// archive still loads.
func TestCaptureHostileLinks(t *testing.T) {
	h := hostroottest.New().
		File("/proc/stat", "btime 1\n").
		Symlink("/etc/os-release", "../../../../../../etc/real-os-release").
		File("/etc/real-os-release", "ID=x\n").
		Symlink("/etc/hostname", "/etc/hostname"). // a loop
		Symlink("/sys/class/block/evil", "../../../../../../../../proc/1").
		Symlink("/sys/dev/block/1:1", "/sys/dev/block/1:1").
		Symlink("/run/udev", "/run/udev").
		Symlink("/var/lib/docker", "../../..").
		File("/containers/x/config.v2.json", "{}")
	_, r := spyRoot(t, h)
	archive, _ := captureBytes(t, r, nil)
	loaded := load(t, archive)
	got := allNames(t, loaded)
	want := []string{
		"/containers", "/containers/x", "/containers/x/config.v2.json",
		"/etc", "/etc/hostname", "/etc/os-release", "/etc/real-os-release",
		"/proc", "/proc/stat",
		"/run", "/run/udev",
		"/sys", "/sys/class", "/sys/class/block", "/sys/class/block/evil",
		"/sys/dev", "/sys/dev/block", "/sys/dev/block/1:1",
		"/var", "/var/lib", "/var/lib/docker",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
}

// The runtime state locations cover internal/runtimestate's defaults, so
// a snapshot names the containers the library would.
func TestRuntimeLocations(t *testing.T) {
	for _, c := range []struct {
		ours, lib []string
	}{
		{dockerRoots, rootsOf(t, runtimestate.DefaultDockerRoots)},
		{taskRoots, rootsOf(t, runtimestate.DefaultTaskRoots)},
		{storageRoots, rootsOf(t, runtimestate.DefaultStorageRoots)},
	} {
		for _, root := range c.lib {
			found := false
			for _, o := range c.ours {
				found = found || o == root
			}
			if !found {
				t.Errorf("runtimestate reads %s, the snapshot does not", root)
			}
		}
	}
}

// rootsOf accepts runtimestate's defaults as a slice or as a function
// returning one (the package is moving from the first to the second).
func rootsOf(tb testing.TB, v any) []string {
	tb.Helper()
	switch v := v.(type) {
	case []string:
		return v
	case func() []string:
		return v()
	}
	tb.Fatalf("runtimestate default of type %T", v)
	return nil
}

func TestStartTime(t *testing.T) {
	tests := []struct {
		in     string
		want   uint64
		wantOK bool
	}{
		{statLine(1, "systemd", 'S', 0, 5), 5, true},
		{statLine(42, "we ird) (na me", 'S', 1, 123456789), 123456789, true},
		// A real line (a sleeping sleep(1), captured on Linux 6.18).
		{"4242 (sleep) S 18879 18879 7940 0 -1 4194560 252 0 1 0 7 9 0 0 20 0 1 0 103418 2990080 412 18446744073709551615 94443776864256 94443776882185 140735822341040 0 0 0 0 6 0 1 0 0 17 0 0 0 0 0 0 94443776896272 94443776897536 94443805306880 140735822342634 140735822342643 140735822342643 140735822344169 0\n", 103418, true},
		{"", 0, false},
		{"1 (x) S 0", 0, false},
		{"1 x S 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 5", 0, false},
		{"1 (x) S 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 -5", 0, false},
	}
	for _, tt := range tests {
		got, ok := startTime([]byte(tt.in))
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("startTime(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func FuzzStartTime(f *testing.F) {
	f.Add([]byte(statLine(1, "systemd", 'S', 0, 5)))
	f.Add([]byte("1 ())) S"))
	f.Fuzz(func(t *testing.T, b []byte) {
		startTime(b)
	})
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	slices.Sort(out)
	return out
}

// Kernels built with CONFIG_SYSFS_DEPRECATED have directories, not links,
// in /sys/class/block: their attributes are captured all the same.
func TestCaptureBlockDirectories(t *testing.T) {
	h := hostroottest.New().
		File("/sys/class/block/vdb/size", "2048\n").
		File("/sys/class/block/vdb/dev", "254:16\n").
		File("/sys/class/block/vdb/stat", "not captured\n")
	_, r := spyRoot(t, h)
	archive, _ := captureBytes(t, r, nil)
	got := allNames(t, load(t, archive))
	want := []string{"/sys", "/sys/class", "/sys/class/block", "/sys/class/block/vdb", "/sys/class/block/vdb/dev", "/sys/class/block/vdb/size"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
}
