package mounts

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/hostscope/hostscope/hostroot"
)

// ext4Super is the super options of this VM's root file system, repeated on
// every ext4 line of the captures.
var ext4Super = []string{"rw", "discard", "resv_strict", "resuid=65534", "resgid=65534"}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Mount
		wantErr error
	}{
		{
			// Captured on this project's VM (/proc/1/mountinfo).
			name: "real root ext4",
			in:   "26 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard,resv_strict,resuid=65534,resgid=65534\n",
			want: []Mount{{ID: 26, ParentID: 1, Major: 254, Minor: 0, Root: "/", MountPoint: "/",
				Options: []string{"rw", "relatime"}, FSType: "ext4", Source: "/dev/vda", SuperOptions: ext4Super}},
		},
		{
			name: "real bind mount with shared peer group",
			in:   "41 26 254:0 /var/lib/docker /var/lib/docker rw,relatime shared:1 - ext4 /dev/vda rw,discard,resv_strict,resuid=65534,resgid=65534",
			want: []Mount{{ID: 41, ParentID: 26, Major: 254, Root: "/var/lib/docker", MountPoint: "/var/lib/docker",
				Options: []string{"rw", "relatime"}, Shared: 1, FSType: "ext4", Source: "/dev/vda", SuperOptions: ext4Super}},
		},
		{
			// From a docker container on the VM: master peer group, FUSE subtype.
			name: "real container root on fuse-overlayfs",
			in:   "296 214 0:102 / / rw,nodev,noatime master:7 - fuse.fuse-overlayfs fuse-overlayfs rw,user_id=0,group_id=0,default_permissions,allow_other",
			want: []Mount{{ID: 296, ParentID: 214, Major: 0, Minor: 102, Root: "/", MountPoint: "/",
				Options: []string{"rw", "nodev", "noatime"}, Master: 7, FSType: "fuse.fuse-overlayfs", Source: "fuse-overlayfs",
				SuperOptions: []string{"rw", "user_id=0", "group_id=0", "default_permissions", "allow_other"}}},
		},
		{
			// The example line of proc(5), with every propagation field.
			name: "all optional fields and unknown ones kept",
			in:   "36 35 98:0 /mnt1 /mnt2 rw,noatime shared:3 master:1 propagate_from:2 unbindable future:9 flag - ext3 /dev/root rw,errors=continue",
			want: []Mount{{ID: 36, ParentID: 35, Major: 98, Root: "/mnt1", MountPoint: "/mnt2",
				Options: []string{"rw", "noatime"}, Shared: 3, Master: 1, PropagateFrom: 2, Unbindable: true,
				OtherOptional: []string{"future:9", "flag"}, FSType: "ext3", Source: "/dev/root",
				SuperOptions: []string{"rw", "errors=continue"}}},
		},
		{
			name: "escapes in every string field",
			in:   `1 0 8:1 /a\040b /c\011d\012e\134f rw - my\040fs sr\134c rw,opt=x\054y`,
			want: []Mount{{ID: 1, ParentID: 0, Major: 8, Minor: 1, Root: "/a b", MountPoint: "/c\td\ne\\f",
				Options: []string{"rw"}, FSType: "my fs", Source: `sr\c`, SuperOptions: []string{"rw", "opt=x,y"}}},
		},
		{
			name: "backslash without octal digits kept",
			in:   `1 0 8:1 / /x\9ab\400\ rw - t s\ rw`,
			want: []Mount{{ID: 1, Major: 8, Minor: 1, Root: "/", MountPoint: `/x\9ab\400\`,
				Options: []string{"rw"}, FSType: "t", Source: `s\`, SuperOptions: []string{"rw"}}},
		},
		{
			name: "empty source kept empty",
			in:   "5 1 0:50 / /mnt rw - fuse.x  rw",
			want: []Mount{{ID: 5, ParentID: 1, Minor: 50, Root: "/", MountPoint: "/mnt",
				Options: []string{"rw"}, FSType: "fuse.x", Source: "", SuperOptions: []string{"rw"}}},
		},
		{
			name: "source none kept",
			in:   "5 1 0:50 / /mnt rw - tmpfs none rw",
			want: []Mount{{ID: 5, ParentID: 1, Minor: 50, Root: "/", MountPoint: "/mnt",
				Options: []string{"rw"}, FSType: "tmpfs", Source: "none", SuperOptions: []string{"rw"}}},
		},
		{
			name: "nsfs root is not a path",
			in:   "600 30 0:4 net:[4026532281] /run/netns/a rw - nsfs nsfs rw",
			want: []Mount{{ID: 600, ParentID: 30, Minor: 4, Root: "net:[4026532281]", MountPoint: "/run/netns/a",
				Options: []string{"rw"}, FSType: "nsfs", Source: "nsfs", SuperOptions: []string{"rw"}}},
		},
		{
			name: "blank lines ignored",
			in:   "\n1 0 8:1 / / rw - ext4 /dev/sda1 rw\n\n",
			want: []Mount{{ID: 1, Major: 8, Minor: 1, Root: "/", MountPoint: "/", Options: []string{"rw"},
				FSType: "ext4", Source: "/dev/sda1", SuperOptions: []string{"rw"}}},
		},
		{name: "empty file", in: "", want: nil},

		// Malformed lines: each is an error naming the line, never a zero.
		{name: "missing separator", in: "1 0 8:1 / / rw ext4 /dev/sda1 rw", wantErr: hostroot.ErrMalformed},
		{name: "separator too early", in: "1 0 8:1 / - rw ext4 /dev/sda1 rw", wantErr: hostroot.ErrMalformed},
		{name: "truncated before separator", in: "36 35 98:0 /mnt1", wantErr: hostroot.ErrMalformed},
		{name: "truncated after separator", in: "36 35 98:0 /mnt1 /mnt2 rw - ext3 /dev/root", wantErr: hostroot.ErrMalformed},
		{name: "extra field after separator", in: "1 0 8:1 / / rw - ext4 /dev/sda1 rw extra", wantErr: hostroot.ErrMalformed},
		{name: "bad mount ID", in: "x 0 8:1 / / rw - ext4 /dev/sda1 rw", wantErr: hostroot.ErrMalformed},
		{name: "signed mount ID", in: "+1 0 8:1 / / rw - ext4 /dev/sda1 rw", wantErr: hostroot.ErrMalformed},
		{name: "negative parent ID", in: "1 -1 8:1 / / rw - ext4 /dev/sda1 rw", wantErr: hostroot.ErrMalformed},
		{name: "huge mount ID", in: "99999999999999999999 0 8:1 / / rw - ext4 /dev/sda1 rw", wantErr: hostroot.ErrMalformed},
		{name: "device without colon", in: "1 0 801 / / rw - ext4 /dev/sda1 rw", wantErr: hostroot.ErrMalformed},
		{name: "bad major", in: "1 0 a:1 / / rw - ext4 /dev/sda1 rw", wantErr: hostroot.ErrMalformed},
		{name: "empty minor", in: "1 0 8: / / rw - ext4 /dev/sda1 rw", wantErr: hostroot.ErrMalformed},
		{name: "minor over 32 bits", in: "1 0 8:4294967296 / / rw - ext4 /dev/sda1 rw", wantErr: hostroot.ErrMalformed},
		{name: "bad shared group", in: "1 0 8:1 / / rw shared:x - ext4 /dev/sda1 rw", wantErr: hostroot.ErrMalformed},
		{name: "empty master group", in: "1 0 8:1 / / rw master: - ext4 /dev/sda1 rw", wantErr: hostroot.ErrMalformed},
		{name: "zero peer group", in: "1 0 8:1 / / rw shared:0 - ext4 /dev/sda1 rw", wantErr: hostroot.ErrMalformed},
		{name: "empty optional field", in: "1 0 8:1 / / rw  - ext4 /dev/sda1 rw", wantErr: hostroot.ErrMalformed},
		{name: "empty mount point", in: "1 0 8:1 /  rw - ext4 /dev/sda1 rw", wantErr: hostroot.ErrMalformed},
		{name: "empty options", in: "1 0 8:1 / /  - ext4 /dev/sda1 rw", wantErr: hostroot.ErrMalformed},
		{name: "empty fstype", in: "1 0 8:1 / / rw -  /dev/sda1 rw", wantErr: hostroot.ErrMalformed},
		{name: "empty super options", in: "1 0 8:1 / / rw - ext4 /dev/sda1 ", wantErr: hostroot.ErrMalformed},
		{name: "tab instead of space", in: "1\t0 8:1 / / rw - ext4 /dev/sda1 rw", wantErr: hostroot.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.in), "/proc/1/mountinfo", nil)
			if diff := cmp.Diff(tt.wantErr, err, cmpopts.EquateErrors()); diff != "" {
				t.Fatalf("Parse() error mismatch (-want +got):\n%s\nerror: %v", diff, err)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrorNamesFileAndLine(t *testing.T) {
	in := "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n2 1 8:x / /a rw - ext4 /dev/sda1 rw\n"
	got, err := Parse([]byte(in), "/proc/42/mountinfo", nil)
	if !errors.Is(err, hostroot.ErrMalformed) {
		t.Fatalf("err = %v, want ErrMalformed", err)
	}
	if want := "/proc/42/mountinfo line 2:"; !strings.Contains(err.Error(), want) {
		t.Errorf("err = %q, want it to contain %q", err, want)
	}
	if len(got) != 1 {
		t.Errorf("got %d mounts before the bad line, want 1", len(got))
	}
}

// TestParseEscapesCapture checks a table captured from the kernel in a
// private mount namespace, with names chosen to need every escape:
//
//	mount -t overlay overlay -o 'lowerdir=/tmp/ovl/l1:/tmp/ovl/l\:2:/tmp/ovl/l\,3,...' '/tmp/ovl/m nt'
//	mount -t tmpfs -o size=1m 'my src' '/tmp/ovl/tab<TAB>dir'
//	mount -t tmpfs 'back\slash' '/tmp/ovl/tab<TAB>dir/new<NL>line'
//	mount --bind /tmp/ovl/l1 /tmp/ovl/l1; mount --make-unbindable /tmp/ovl/l1
//	mount --bind '/tmp/ovl/l 4' /tmp/ovl/l1
func TestParseEscapesCapture(t *testing.T) {
	got := parseFile(t, "mountinfo-escapes.txt")
	want := []Mount{
		{ID: 296, ParentID: 213, Major: 0, Minor: 102, Root: "/", MountPoint: "/tmp/ovl/m nt",
			Options: []string{"rw", "relatime"}, FSType: "overlay", Source: "overlay",
			SuperOptions: []string{"rw", `lowerdir=/tmp/ovl/l1:/tmp/ovl/l\:2:/tmp/ovl/l\,3`,
				"upperdir=/tmp/ovl/up", "workdir=/tmp/ovl/work", "uuid=on"}},
		{ID: 297, ParentID: 213, Minor: 104, Root: "/", MountPoint: "/tmp/ovl/tab\tdir",
			Options: []string{"rw", "relatime"}, FSType: "tmpfs", Source: "my src",
			SuperOptions: []string{"rw", "size=1024k"}},
		{ID: 298, ParentID: 297, Minor: 105, Root: "/", MountPoint: "/tmp/ovl/tab\tdir/new\nline",
			Options: []string{"rw", "relatime"}, FSType: "tmpfs", Source: `back\slash`,
			SuperOptions: []string{"rw"}},
		{ID: 299, ParentID: 213, Major: 254, Root: "/tmp/ovl/l1", MountPoint: "/tmp/ovl/l1",
			Options: []string{"rw", "relatime"}, Unbindable: true, FSType: "ext4", Source: "/dev/vda",
			SuperOptions: ext4Super},
		{ID: 300, ParentID: 299, Major: 254, Root: "/tmp/ovl/l 4", MountPoint: "/tmp/ovl/l1",
			Options: []string{"rw", "relatime"}, FSType: "ext4", Source: "/dev/vda",
			SuperOptions: ext4Super},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parse(mountinfo-escapes.txt) mismatch (-want +got):\n%s", diff)
	}
}

// TestParseCapturesRoundTrip parses every captured table and writes each
// mount back in the kernel's format: getting every line back byte for byte
// shows that no field was lost, misplaced or mis-decoded.
func TestParseCapturesRoundTrip(t *testing.T) {
	files, err := filepath.Glob("testdata/mountinfo-*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no captures: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			ms, err := Parse(data, file, nil)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
			if len(ms) != len(lines) {
				t.Fatalf("got %d mounts, want %d", len(ms), len(lines))
			}
			for i, m := range ms {
				if got := formatMount(m); got != lines[i] {
					t.Errorf("line %d round trip:\n got %s\nwant %s", i+1, got, lines[i])
				}
			}
		})
	}
}

// formatMount writes m as the kernel does (fs/proc_namespace.c): names
// escaped with mangle's " \t\n\\", options also escaping ',' as
// seq_show_option does. Tests only.
func formatMount(m Mount) string {
	esc := func(s, set string) string {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			if strings.IndexByte(set, s[i]) >= 0 {
				b.WriteString(`\` + strconv.FormatUint(uint64(s[i])+01000, 8)[1:])
			} else {
				b.WriteByte(s[i])
			}
		}
		return b.String()
	}
	opts := func(o []string) string {
		out := make([]string, len(o))
		for i, s := range o {
			out[i] = esc(s, " \t\n\\,")
		}
		return strings.Join(out, ",")
	}
	f := []string{strconv.Itoa(m.ID), strconv.Itoa(m.ParentID),
		strconv.FormatUint(uint64(m.Major), 10) + ":" + strconv.FormatUint(uint64(m.Minor), 10),
		esc(m.Root, " \t\n\\"), esc(m.MountPoint, " \t\n\\"), opts(m.Options)}
	if m.Shared != 0 {
		f = append(f, "shared:"+strconv.Itoa(m.Shared))
	}
	if m.Master != 0 {
		f = append(f, "master:"+strconv.Itoa(m.Master))
	}
	if m.PropagateFrom != 0 {
		f = append(f, "propagate_from:"+strconv.Itoa(m.PropagateFrom))
	}
	if m.Unbindable {
		f = append(f, "unbindable")
	}
	f = append(f, m.OtherOptional...)
	f = append(f, "-", esc(m.FSType, " \t\n\\"), esc(m.Source, " \t\n\\"), opts(m.SuperOptions))
	return strings.Join(f, " ")
}

func TestParseFilterStopsParsing(t *testing.T) {
	// The third line is malformed; a filter that stops at the second means it
	// is never parsed.
	in := "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n2 1 0:5 / /proc rw - proc proc rw\nbroken\n"
	got, err := Parse([]byte(in), "mountinfo", First(FSType("proc")))
	if err != nil {
		t.Fatalf("Parse() error = %v, want nil (the scan should have stopped)", err)
	}
	want := []Mount{{ID: 2, ParentID: 1, Minor: 5, Root: "/", MountPoint: "/proc", Options: []string{"rw"},
		FSType: "proc", Source: "proc", SuperOptions: []string{"rw"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parse() mismatch (-want +got):\n%s", diff)
	}
}

// parseFile parses a capture under testdata.
func parseFile(tb testing.TB, name string) []Mount {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	ms, err := Parse(data, name, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return ms
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/mountinfo-*.txt")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("36 35 98:0 /mnt1 /mnt2 rw,noatime shared:3 master:1 propagate_from:2 unbindable x - ext3 /dev/root rw"))
	f.Add([]byte(`1 0 8:1 /a\040b /c\011d rw - t \134 rw,a\054b`))
	f.Add([]byte("1 0 8:1 / / rw -  fs rw\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ms, err := Parse(data, "fuzz", nil)
		if err != nil {
			if !errors.Is(err, hostroot.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		// Every mount the parser accepts must survive a round trip through
		// the kernel's format, unless a kept backslash makes the text
		// ambiguous.
		for _, m := range ms {
			if bytes.Contains(data, []byte(`\`)) {
				continue
			}
			again, err := Parse([]byte(formatMount(m)), "again", nil)
			if err != nil {
				t.Fatalf("reparse of %q: %v", formatMount(m), err)
			}
			if diff := cmp.Diff([]Mount{m}, again); diff != "" {
				t.Fatalf("round trip mismatch (-first +again):\n%s", diff)
			}
		}
		// Holding and Overlay must not panic on any parsed table.
		Holding(ms, "/a/b")
		for _, m := range ms {
			m.Overlay()
		}
	})
}
