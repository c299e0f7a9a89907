package proc

import (
	"errors"
	"strings"
	"testing"

	"github.com/hostscope/hostscope/hostroot"
)

func TestParseNSLink(t *testing.T) {
	tests := []struct {
		link, kind string
		want       uint64
		wantMsg    string // empty: no error
	}{
		{link: "net:[4026531840]", kind: "net", want: 4026531840},
		{link: "pid:[4026532404]", kind: "pid", want: 4026532404}, // pid_for_children's text names "pid"
		{link: "time:[4026531834]", kind: "time", want: 4026531834},
		{link: "cgroup:[18446744073709551615]", kind: "cgroup", want: 1<<64 - 1},
		{link: "net:[4026531840]", kind: "pid", wantMsg: "names a net namespace, want pid"},
		{link: "net:4026531840", kind: "net", wantMsg: "is not type:[inode]"},
		{link: "net:[4026531840", kind: "net", wantMsg: "is not type:[inode]"},
		{link: "", kind: "net", wantMsg: "is not type:[inode]"},
		{link: "net:[]", kind: "net", wantMsg: "is not a number"},
		{link: "net:[0]", kind: "net", wantMsg: "is not a number"},
		{link: "net:[-1]", kind: "net", wantMsg: "is not a number"},
		{link: "net:[0x10]", kind: "net", wantMsg: "is not a number"},
		{link: "net:[18446744073709551616]", kind: "net", wantMsg: "is not a number"},
		{link: "net:[123456789012345678901234567890]", kind: "net", wantMsg: "out of range"},
		{link: "/some/file", kind: "net", wantMsg: "is not type:[inode]"},
	}
	for _, tt := range tests {
		got, err := parseNSLink(tt.link, tt.kind, "/proc/9/ns/x")
		if tt.wantMsg == "" {
			if err != nil || got != tt.want {
				t.Errorf("parseNSLink(%q) = %d, %v, want %d", tt.link, got, err, tt.want)
			}
			continue
		}
		if !errors.Is(err, hostroot.ErrMalformed) || !strings.Contains(err.Error(), "/proc/9/ns/x line 1") || !strings.Contains(err.Error(), tt.wantMsg) {
			t.Errorf("parseNSLink(%q) error = %v, want ErrMalformed naming the link and %q", tt.link, err, tt.wantMsg)
		}
	}
}

func TestNamespacesSlot(t *testing.T) {
	var n Namespaces
	for i := range nsLinks {
		*n.slot(i) = uint64(i + 1)
	}
	want := Namespaces{Cgroup: 1, IPC: 2, Mnt: 3, Net: 4, PID: 5, PIDForChildren: 6, Time: 7, TimeForChildren: 8, User: 9, UTS: 10}
	if n != want {
		t.Errorf("slots filled %+v, want %+v", n, want)
	}
}

func FuzzParseNSLink(f *testing.F) {
	f.Add("net:[4026531840]", "net")
	f.Add("pid:[1]", "pid")
	f.Add("x:[", "x")
	f.Fuzz(func(t *testing.T, link, kind string) {
		ino, err := parseNSLink(link, kind, "/proc/1/ns/x")
		if err != nil {
			if !errors.Is(err, hostroot.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if ino == 0 || !strings.HasPrefix(link, kind+":[") {
			t.Fatalf("parseNSLink(%q, %q) = %d", link, kind, ino)
		}
	})
}
