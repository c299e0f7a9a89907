package mounts

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/spf13/afero"

	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
)

// deniedHost is a hostroottest.Host whose named files cannot be opened, as
// /proc/1/mountinfo on a host where the reader lacks ptrace rights, or under
// hidepid=noaccess. Lstat still works, as it does there.
type deniedHost struct {
	*hostroottest.Host
	deny map[string]bool
}

func (d *deniedHost) Open(name string) (afero.File, error) {
	if d.deny[name] {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return d.Host.Open(name)
}

// Table lines, each a whole mount table, telling which process's table Host
// returned.
const (
	hostTable    = "26 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n21 26 0:20 / /proc rw - proc proc rw\n"
	kthreadTable = "26 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
	sandboxTable = "300 200 0:90 / / ro - overlay overlay rw,lowerdir=/pause/l\n"
	appTable     = "400 200 0:91 / / rw - overlay overlay rw,lowerdir=/app/l,upperdir=/app/u,workdir=/app/w\n"
)

func TestHost(t *testing.T) {
	host := []Mount{
		{ID: 26, ParentID: 1, Major: 254, Root: "/", MountPoint: "/", Options: []string{"rw", "relatime"}, Shared: 1,
			FSType: "ext4", Source: "/dev/vda", SuperOptions: []string{"rw"}},
		{ID: 21, ParentID: 26, Minor: 20, Root: "/", MountPoint: "/proc", Options: []string{"rw"},
			FSType: "proc", Source: "proc", SuperOptions: []string{"rw"}},
	}
	app := []Mount{{ID: 400, ParentID: 200, Minor: 91, Root: "/", MountPoint: "/", Options: []string{"rw"},
		FSType: "overlay", Source: "overlay", SuperOptions: []string{"rw", "lowerdir=/app/l", "upperdir=/app/u", "workdir=/app/w"}}}
	sandbox := []Mount{{ID: 300, ParentID: 200, Minor: 90, Root: "/", MountPoint: "/", Options: []string{"ro"},
		FSType: "overlay", Source: "overlay", SuperOptions: []string{"rw", "lowerdir=/pause/l"}}}

	tests := []struct {
		name    string
		build   func(h *hostroottest.Host)
		deny    []string
		filter  Filter
		want    *HostTable
		detail  string // a substring of want.Detail
		wantErr error
	}{
		{
			name: "PID 1 readable",
			build: func(h *hostroottest.Host) {
				h.File("/proc/1/comm", "systemd\n").File("/proc/1/mountinfo", hostTable)
				h.File("/proc/2/mountinfo", appTable)
			},
			want: &HostTable{Mounts: host, PID: 1, Reason: ReasonInit},
		},
		{
			name: "PID 1 readable, filtered",
			build: func(h *hostroottest.Host) {
				h.File("/proc/1/mountinfo", hostTable)
			},
			filter: FSType("proc"),
			want:   &HostTable{Mounts: host[1:], PID: 1, Reason: ReasonInit},
		},
		{
			name: "hidepid=invisible: lowest visible PID, self last",
			build: func(h *hostroottest.Host) {
				h.File("/proc/40/mountinfo", appTable)      // the reader itself
				h.File("/proc/700/mountinfo", kthreadTable) // another of its user's processes
				h.Symlink("/proc/self", "40")
			},
			want:   &HostTable{Mounts: host[:1], PID: 700, Reason: ReasonInitHidden},
			detail: "/proc/1/mountinfo",
		},
		{
			name: "hidepid: only the reader itself",
			build: func(h *hostroottest.Host) {
				h.File("/proc/40/mountinfo", appTable)
				h.Symlink("/proc/self", "40")
			},
			want: &HostTable{Mounts: app, PID: 40, Reason: ReasonInitHidden},
		},
		{
			name: "PID 1 unreadable: kthreadd's table",
			build: func(h *hostroottest.Host) {
				h.File("/proc/1/comm", "systemd\n").File("/proc/1/mountinfo", hostTable)
				h.File("/proc/2/comm", "kthreadd\n").File("/proc/2/mountinfo", kthreadTable)
			},
			deny:   []string{"/proc/1/mountinfo"},
			want:   &HostTable{Mounts: host[:1], PID: 2, Reason: ReasonInitUnreadable},
			detail: "permission denied",
		},
		{
			name: "PID 1 and 2 unreadable, a later one readable",
			build: func(h *hostroottest.Host) {
				h.File("/proc/1/mountinfo", hostTable)
				h.File("/proc/2/mountinfo", kthreadTable)
				h.Dir("/proc/3") // exited or sparse
				h.File("/proc/1200/mountinfo", appTable)
			},
			deny: []string{"/proc/1/mountinfo", "/proc/2/mountinfo"},
			want: &HostTable{Mounts: app, PID: 1200, Reason: ReasonInitUnreadable},
		},
		{
			name: "pause PID 1: skip its namespace and other pause processes",
			build: func(h *hostroottest.Host) {
				h.File("/proc/1/comm", "pause\n").File("/proc/1/mountinfo", sandboxTable).Symlink("/proc/1/ns/mnt", "mnt:[4026532500]")
				h.File("/proc/7/comm", "sh\n").File("/proc/7/mountinfo", sandboxTable).Symlink("/proc/7/ns/mnt", "mnt:[4026532500]")
				h.File("/proc/8/comm", "pause\n").File("/proc/8/mountinfo", sandboxTable)
				h.File("/proc/9/comm", "app\n").File("/proc/9/mountinfo", appTable).Symlink("/proc/9/ns/mnt", "mnt:[4026532600]")
			},
			want:   &HostTable{Mounts: app, PID: 9, Reason: ReasonInitPause},
			detail: `PID 1 is "pause"`,
		},
		{
			name: "pause PID 1 alone: its own table",
			build: func(h *hostroottest.Host) {
				h.File("/proc/1/comm", "pause\n").File("/proc/1/mountinfo", sandboxTable).Symlink("/proc/1/ns/mnt", "mnt:[4026532500]")
				h.File("/proc/7/comm", "sh\n").File("/proc/7/mountinfo", sandboxTable).Symlink("/proc/7/ns/mnt", "mnt:[4026532500]")
			},
			want:   &HostTable{Mounts: sandbox, PID: 1, Reason: ReasonInitPause},
			detail: "no process outside its mount namespace",
		},
		{
			name: "podman infra PID 1 (catatonit)",
			build: func(h *hostroottest.Host) {
				h.File("/proc/1/comm", "catatonit\n").File("/proc/1/mountinfo", sandboxTable)
				h.File("/proc/2/comm", "app\n").File("/proc/2/mountinfo", appTable)
			},
			want: &HostTable{Mounts: app, PID: 2, Reason: ReasonInitPause},
		},
		{
			name: "a stateful filter sees only the table returned",
			build: func(h *hostroottest.Host) {
				h.File("/proc/1/comm", "pause\n").File("/proc/1/mountinfo", sandboxTable)
				h.File("/proc/2/mountinfo", hostTable)
			},
			filter: First(FSType("ext4", "overlay")),
			want:   &HostTable{Mounts: host[:1], PID: 2, Reason: ReasonInitPause},
		},
		{
			name: "malformed PID 1 table is an error, not a fallback",
			build: func(h *hostroottest.Host) {
				h.File("/proc/1/mountinfo", "26 1 254:x / / rw - ext4 /dev/vda rw\n")
				h.File("/proc/2/mountinfo", kthreadTable)
			},
			wantErr: hostroot.ErrMalformed,
		},
		{
			name: "malformed fallback table is an error",
			build: func(h *hostroottest.Host) {
				h.File("/proc/2/mountinfo", "26 1 254:0 / /\n")
			},
			wantErr: hostroot.ErrMalformed,
		},
		{
			name:    "no /proc at all",
			build:   func(h *hostroottest.Host) { h.Dir("/etc") },
			wantErr: fs.ErrNotExist,
		},
		{
			name: "nothing readable",
			build: func(h *hostroottest.Host) {
				h.File("/proc/1/mountinfo", hostTable).File("/proc/2/mountinfo", hostTable)
			},
			deny:    []string{"/proc/1/mountinfo", "/proc/2/mountinfo"},
			wantErr: fs.ErrPermission,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := hostroottest.New()
			tt.build(h)
			if err := h.Err(); err != nil {
				t.Fatal(err)
			}
			d := &deniedHost{Host: h, deny: map[string]bool{}}
			for _, n := range tt.deny {
				d.deny[n] = true
			}
			got, err := Host(context.Background(), hostroot.FromAfero(d), tt.filter)
			if diff := cmp.Diff(tt.wantErr, err, cmpopts.EquateErrors()); diff != "" {
				t.Fatalf("Host() error mismatch (-want +got):\n%s\nerror: %v", diff, err)
			}
			if err != nil {
				return
			}
			if !strings.Contains(got.Detail, tt.detail) {
				t.Errorf("Detail = %q, want it to contain %q", got.Detail, tt.detail)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(HostTable{}, "Detail")); diff != "" {
				t.Errorf("Host() mismatch (-want +got):\n%s", diff)
			}
			if got.Reason == ReasonInit && got.Detail != "" {
				t.Errorf("Detail = %q for ReasonInit, want empty", got.Detail)
			}
		})
	}
}

func TestHostCanceled(t *testing.T) {
	h := hostroottest.New().File("/proc/2/mountinfo", hostTable)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Host(ctx, hostroottest.MustRoot(t, h), nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Host(canceled) error = %v, want context.Canceled", err)
	}
}

func TestProcess(t *testing.T) {
	h := hostroottest.New().File("/proc/42/mountinfo", hostTable)
	r := hostroottest.MustRoot(t, h)
	got, err := Process(r, 42)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"/", "/proc"}, pointsOf(got)); diff != "" {
		t.Errorf("Process(42) mismatch (-want +got):\n%s", diff)
	}
	if _, err := Process(r, 43); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Process(43) error = %v, want fs.ErrNotExist", err)
	}
	var pe *fs.PathError
	if _, err := Process(r, 43); !errors.As(err, &pe) || pe.Path != "/proc/43/mountinfo" {
		t.Errorf("Process(43) error = %v, want a PathError naming /proc/43/mountinfo", err)
	}
}
