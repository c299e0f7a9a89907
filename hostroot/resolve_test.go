package hostroot_test

import (
	"io/fs"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
)

func TestResolve(t *testing.T) {
	h := hostroottest.New().
		File("/dev/sda", "").
		Symlink("/dev/disk/by-id/abs", "/dev/mapper/x").
		Symlink("/dev/mapper/x", "../sda").
		Symlink("/dev/disk/by-id/escape", "../../../../../../dev/sda").
		Symlink("/dev/disk/by-id/loop", "loop2").
		Symlink("/dev/disk/by-id/loop2", "loop").
		Symlink("/dev/disk/by-id/proc", "/proc/1/root/etc").
		Symlink("/proc/1/root", "/").
		Symlink("/dev/disk/by-id/dangling", "../../nothing").
		Symlink("/dev/dir", "disk/by-id").
		Dir("/etc")
	r := hostroottest.MustRoot(t, h)
	tests := []struct {
		in      string
		want    string
		wantErr error
	}{
		{"/dev/disk/by-id/abs", "/dev/sda", nil},
		{"/dev/disk/by-id/escape", "/dev/sda", nil}, // ".." stops at the root
		{"/dev/dir/abs", "/dev/sda", nil},           // a symlink in the middle
		{"/dev/dir/../../sda", "/dev/sda", nil},     // ".." after a link is physical
		{"/dev/dir/../sda", "", fs.ErrNotExist},     // /dev/disk/sda, not /dev/sda
		{"/dev/disk/by-id/loop", "", syscall.ELOOP},
		{"/dev/disk/by-id/proc", "", syscall.ELOOP}, // a magic link is never followed
		{"/dev/disk/by-id/dangling", "", fs.ErrNotExist},
		{"/", "/", nil},
		{"/etc/", "/etc", nil},
		{"relative", "", fs.ErrInvalid},
	}
	for _, tt := range tests {
		got, err := r.Resolve(tt.in)
		if diff := cmp.Diff(tt.wantErr, err, cmpopts.EquateErrors()); diff != "" {
			t.Errorf("Resolve(%q) error = %v, want %v", tt.in, err, tt.wantErr)
		}
		if got != tt.want {
			t.Errorf("Resolve(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
