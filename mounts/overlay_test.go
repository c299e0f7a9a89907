package mounts

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOverlay(t *testing.T) {
	escapes := parseFile(t, "mountinfo-escapes.txt")
	stacked := parseFile(t, "mountinfo-overlay-stacked.txt")
	vm := parseFile(t, "mountinfo-vm.txt")
	podman, _ := Holding(vm, "/var/lib/containers/storage/overlay/d5ccbf3fc47e3312320a24b6680ae73a8fbc63b1ce136f94d0ea310f416c5675/merged/etc")
	const store = "/var/lib/containers/storage/overlay/"
	tests := []struct {
		name   string
		m      Mount
		want   Overlay
		wantOK bool
	}{
		{
			// Real: the kernel shows "\:" as "\134:" and "\," as "\134\054".
			name: "captured escapes in lowerdir", m: escapes[0], wantOK: true,
			want: Overlay{LowerDirs: []string{"/tmp/ovl/l1", "/tmp/ovl/l:2", "/tmp/ovl/l,3"},
				UpperDir: "/tmp/ovl/up", WorkDir: "/tmp/ovl/work"},
		},
		{
			name: "captured data-only layer", m: stacked[0], wantOK: true,
			want: Overlay{LowerDirs: []string{"/tmp/ovl/l1"}, DataDirs: []string{"/tmp/ovl/d1"}},
		},
		{
			name: "captured read-only overlay", m: stacked[1], wantOK: true,
			want: Overlay{LowerDirs: []string{"/tmp/ovl/l1", "/tmp/ovl/d1"}},
		},
		{
			name: "captured podman container root", m: podman, wantOK: true,
			want: Overlay{LowerDirs: []string{store + "l/LOHAYGODVTM7LXY6SHXCUOUOAT"},
				UpperDir: store + "d5ccbf3fc47e3312320a24b6680ae73a8fbc63b1ce136f94d0ea310f416c5675/diff",
				WorkDir:  store + "d5ccbf3fc47e3312320a24b6680ae73a8fbc63b1ce136f94d0ea310f416c5675/work"},
		},
		{
			// Kernel 6.8+ with the new mount API: one option per layer, not
			// split at ':'.
			name: "lowerdir+ and datadir+", wantOK: true,
			m: Mount{FSType: "overlay", SuperOptions: []string{"rw", "lowerdir+=/l:1", "lowerdir+=/l2",
				"datadir+=/d1", `upperdir=/u\\x`, `workdir=/w\:`}},
			want: Overlay{LowerDirs: []string{"/l:1", "/l2"}, DataDirs: []string{"/d1"}, UpperDir: `/u\x`, WorkDir: "/w:"},
		},
		{
			name: "several data-only layers and a trailing backslash", wantOK: true,
			m:    Mount{FSType: "overlay", SuperOptions: []string{`lowerdir=/a:/b::/c::/d\`}},
			want: Overlay{LowerDirs: []string{"/a", "/b"}, DataDirs: []string{"/c", `/d\`}},
		},
		{name: "fuse-overlayfs shows no layers", m: vm[21], want: Overlay{}, wantOK: false},
		{name: "not an overlay", m: vm[0], want: Overlay{}, wantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.m.Overlay()
			if ok != tt.wantOK {
				t.Errorf("Overlay() ok = %v, want %v", ok, tt.wantOK)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Overlay() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
