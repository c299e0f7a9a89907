package proc

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hostscope/hostscope/hostroot"
)

// TestParseFDLinkCaptures parses the link texts of the capture
// (testdata/sockets/fdinfo/links.txt).
func TestParseFDLinkCaptures(t *testing.T) {
	want := map[string]FD{
		"deleted": {Target: "/tmp/hostscope-appendfile", Type: FDFile, Deleted: true},
		"socket":  {Target: "socket:[187742]", Type: FDSocket, Inode: 187742},
		"file":    {Target: "/usr/lib/os-release", Type: FDFile},
		"eventfd": {Target: "anon_inode:[eventfd]", Type: FDAnonInode},
		"epoll":   {Target: "anon_inode:[eventpoll]", Type: FDAnonInode},
		"inotify": {Target: "anon_inode:inotify", Type: FDAnonInode},
		"timerfd": {Target: "anon_inode:[timerfd]", Type: FDAnonInode},
		"memfd":   {Target: "/memfd:hostscope-memfd", Type: FDMemfd, Deleted: true},
	}
	got := map[string]FD{}
	for _, line := range strings.Split(strings.TrimSpace(string(capture(t, "sockets/fdinfo/links.txt"))), "\n") {
		kind, link, _ := strings.Cut(line, "\t")
		var fd FD
		if err := parseFDLink(link, "/proc/1/fd/3", &fd); err != nil {
			t.Errorf("parseFDLink(%q): %v", link, err)
		}
		got[kind] = fd
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseFDLink mismatch (-want +got):\n%s", diff)
	}
}

func TestParseFDLink(t *testing.T) {
	tests := []struct {
		link    string
		want    FD
		wantErr string
	}{
		{link: "pipe:[10577]", want: FD{Target: "pipe:[10577]", Type: FDPipe, Inode: 10577}},
		{link: "net:[4026531840]", want: FD{Target: "net:[4026531840]", Type: FDOther, Inode: 4026531840}},
		{link: "/dev/pts/0", want: FD{Target: "/dev/pts/0", Type: FDFile}},
		{link: "/a (deleted) (deleted)", want: FD{Target: "/a (deleted)", Type: FDFile, Deleted: true}},
		{link: "anon_inode:bpf-map", want: FD{Target: "anon_inode:bpf-map", Type: FDAnonInode}},
		{link: "pidfd:[1234]", want: FD{Target: "pidfd:[1234]", Type: FDOther, Inode: 1234}},
		{link: "something new", want: FD{Target: "something new", Type: FDOther}},
		{link: "socket:[]", wantErr: `/proc/1/fd/3 line 1: inode in link "socket:[]"`},
		{link: "socket:[12a]", wantErr: `/proc/1/fd/3 line 1: inode in link "socket:[12a]"`},
		{link: "pipe:[99999999999999999999]", wantErr: `/proc/1/fd/3 line 1: inode in link`},
		{link: "anon_inode:", wantErr: `/proc/1/fd/3 line 1: link "anon_inode:" names no`},
		{link: "", wantErr: "/proc/1/fd/3 line 1: empty link"},
	}
	for _, tt := range tests {
		var got FD
		err := parseFDLink(tt.link, "/proc/1/fd/3", &got)
		if tt.wantErr != "" {
			if !errors.Is(err, hostroot.ErrMalformed) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseFDLink(%q) error = %v, want ErrMalformed saying %q", tt.link, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseFDLink(%q): %v", tt.link, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("parseFDLink(%q) mismatch (-want +got):\n%s", tt.link, diff)
		}
	}
}

func TestFDTypeString(t *testing.T) {
	var got []string
	for ty := FDOther; ty <= FDMemfd+1; ty++ {
		got = append(got, ty.String())
	}
	want := []string{"other", "file", "pipe", "socket", "anon_inode", "memfd", "fdtype(6)"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("FDType.String mismatch (-want +got):\n%s", diff)
	}
}

func TestParseFDInfoCaptures(t *testing.T) {
	want := map[string]fdinfo{
		"file":    {pos: 10, flags: 0o2100000, mntID: 27, ino: 318705},
		"eventfd": {flags: 0o2000002, mntID: 17, ino: 1038},
		"epoll":   {flags: 0o2000002, mntID: 17, ino: 1038},
		"inotify": {flags: 0o2000000, mntID: 17, ino: 1038},
		"timerfd": {flags: 0o2, mntID: 17, ino: 1038},
		"memfd":   {flags: 0o100002, mntID: 0, ino: 1025},
		"deleted": {pos: 5, flags: 0o2102001, mntID: 27, ino: 9981683},
		"socket":  {flags: 0o2, mntID: 10, ino: 187742},
	}
	got := map[string]fdinfo{}
	for kind := range want {
		info, err := parseFDInfo(capture(t, "sockets/fdinfo/"+kind), "/proc/1/fdinfo/3")
		if err != nil {
			t.Errorf("%s: %v", kind, err)
		}
		got[kind] = info
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(fdinfo{})); diff != "" {
		t.Errorf("parseFDInfo mismatch (-want +got):\n%s", diff)
	}
}

func TestParseFDInfoMalformed(t *testing.T) {
	tests := []struct{ name, data, wantErr string }{
		{"octal 8", "pos:\t0\nflags:\t0108\n", "line 2: flags"},
		{"flags too big", "pos:\t0\nflags:\t077777777777\n", "line 2: flags"},
		{"negative pos", "pos:\t-1\nflags:\t02\n", "line 1: pos"},
		{"pos not a number", "pos:\tx\nflags:\t02\n", "line 1: pos"},
		{"bad mnt_id", "pos:\t0\nflags:\t02\nmnt_id:\t1x\n", "line 3: mnt_id"},
		{"bad ino", "pos:\t0\nflags:\t02\nmnt_id:\t1\nino:\t-3\n", "line 4: ino"},
		{"no flags", "pos:\t0\nmnt_id:\t1\n", "line 1: no pos and flags"},
		{"empty", "", "line 1: no pos and flags"},
	}
	for _, tt := range tests {
		_, err := parseFDInfo([]byte(tt.data), "/proc/1/fdinfo/3")
		if want := "/proc/1/fdinfo/3 " + tt.wantErr; !errors.Is(err, hostroot.ErrMalformed) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error = %v, want ErrMalformed saying %q", tt.name, err, want)
		}
	}
}

func FuzzParseFDInfo(f *testing.F) {
	for _, k := range []string{"file", "eventfd", "epoll", "inotify", "timerfd", "memfd", "deleted", "socket"} {
		f.Add(capture(f, "sockets/fdinfo/"+k))
	}
	f.Add([]byte("pos:\t0\nflags:\t0108\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := parseFDInfo(data, "fdinfo")
		if err != nil {
			if !errors.Is(err, hostroot.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			if info != (fdinfo{}) {
				t.Fatalf("error %v with a non-zero result %+v", err, info)
			}
			return
		}
		if info.pos < 0 {
			t.Fatalf("negative position %d", info.pos)
		}
	})
}

func FuzzParseFDLink(f *testing.F) {
	for _, l := range []string{"socket:[1]", "pipe:[2]", "/a (deleted)", "/memfd:x (deleted)", "anon_inode:[eventfd]", "net:[3]", "", "x:[", "anon_inode:"} {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, link string) {
		var fd FD
		err := parseFDLink(link, "fd", &fd)
		if err != nil {
			if !errors.Is(err, hostroot.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if (fd.Type == FDSocket || fd.Type == FDPipe) && !strings.HasSuffix(link, "]") {
			t.Fatalf("%q parsed as %v without an inode", link, fd.Type)
		}
		if fd.Deleted != strings.HasSuffix(link, deletedSuffix) && link[0] == '/' {
			t.Fatalf("%q: Deleted = %v", link, fd.Deleted)
		}
	})
}
