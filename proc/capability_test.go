package proc

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
)

func TestCapabilityNames(t *testing.T) {
	for _, tc := range []struct {
		set  uint64
		want []string
	}{
		{0, nil},
		// docker's default set, from a container's CapBnd.
		{0xa80425fb, []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
			"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW",
			"CAP_SYS_CHROOT", "CAP_MKNOD", "CAP_AUDIT_WRITE", "CAP_SETFCAP"}},
		{1 << 21, []string{"CAP_SYS_ADMIN"}},
		{1<<40 | 1<<41 | 1<<63, []string{"CAP_CHECKPOINT_RESTORE", "CAP_41", "CAP_63"}},
	} {
		got := CapabilityNames(tc.set)
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("CapabilityNames(%#x) (-want +got):\n%s", tc.set, diff)
		}
		back, ok := CapabilitySet(got...)
		if !ok || back != tc.set {
			t.Errorf("CapabilitySet(CapabilityNames(%#x)) = %#x, %v", tc.set, back, ok)
		}
	}
	// Every bit round-trips, so no capability is ever named twice.
	full, ok := CapabilitySet(CapabilityNames(^uint64(0))...)
	if !ok || full != ^uint64(0) {
		t.Errorf("all 64 bits: %#x, %v", full, ok)
	}
	for _, bad := range []string{"SYS_ADMIN", "CAP_", "CAP_64", "CAP_x", "cap_sys_admin"} {
		if set, ok := CapabilitySet("CAP_KILL", bad); ok || set != 1<<5 {
			t.Errorf("CapabilitySet(CAP_KILL, %q) = %#x, %v; want the known name only and false", bad, set, ok)
		}
	}
}

func TestLastCapability(t *testing.T) {
	for _, tc := range []struct {
		content string
		want    int
		bad     bool
	}{
		{"40\n", 40, false},
		{"37", 37, false},
		{"", 0, true},
		{"40\n41\n", 0, true},
		{"-1\n", 0, true},
		{"64\n", 0, true},
		{" 40\n", 0, true},
	} {
		r := hostroottest.MustRoot(t, hostroottest.New().File("/proc/sys/kernel/cap_last_cap", tc.content))
		got, err := LastCapability(r)
		if tc.bad != (err != nil) || got != tc.want {
			t.Errorf("LastCapability(%q) = %d, %v; want %d, error %v", tc.content, got, err, tc.want, tc.bad)
		}
		if tc.bad && !errors.Is(err, hostroot.ErrMalformed) {
			t.Errorf("LastCapability(%q): %v does not wrap ErrMalformed", tc.content, err)
		}
	}
}

func FuzzParseLastCap(f *testing.F) {
	for _, s := range []string{"40\n", "63", "64\n", "x", "1\n\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := parseLastCap(data, "cap_last_cap")
		if err != nil {
			if !errors.Is(err, hostroot.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if n < 0 || n > 63 {
			t.Fatalf("accepted %d", n)
		}
	})
}
