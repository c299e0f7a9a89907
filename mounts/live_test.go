package mounts

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hostscope/hostscope/hostroot"
)

// findmntColumns are the findmnt (util-linux) columns compared with Mount.
const findmntColumns = "ID,PARENT,MAJ:MIN,FSROOT,TARGET,SOURCE,FSTYPE,VFS-OPTIONS,FS-OPTIONS,OPTIONS,OPT-FIELDS"

// findmntFS is one entry of `findmnt --json`; absent values are null.
type findmntFS struct {
	ID         int     `json:"id"`
	Parent     int     `json:"parent"`
	MajMin     string  `json:"maj:min"`
	FSRoot     *string `json:"fsroot"`
	Target     *string `json:"target"`
	Source     *string `json:"source"`
	FSType     *string `json:"fstype"`
	VFSOptions *string `json:"vfs-options"`
	FSOptions  *string `json:"fs-options"`
	Options    *string `json:"options"`
	OptFields  *string `json:"opt-fields"`
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// TestLiveFindmnt compares the host table Host reads through
// hostroot.Native() with what util-linux's findmnt reports for PID 1, every
// mount in both directions.
//
// Normalisation, because findmnt is not a raw view of mountinfo:
//   - --nofsroot stops findmnt from appending "[/dir]" to the source of bind
//     and btrfs subvolume mounts; FSROOT is compared with Root instead.
//   - OPTIONS is libmount's merge of the per-mount and super options: the
//     per-mount options followed by the super options without their leading
//     "rw"/"ro". VFS-OPTIONS and FS-OPTIONS, compared with Options and
//     SuperOptions joined by commas, are the unmerged fields.
//   - libmount splits options on raw commas after decoding \054, so an
//     option holding an escaped comma or backslash (an overlay lowerdir)
//     can come out cut short: for those, findmnt's text need only be a
//     prefix of ours.
//   - null (an empty source, no optional fields) is the empty string.
//
// The host's table can change while the test runs (containers start and
// stop): the table is read before and after findmnt, and only mounts that
// are identical in both reads are compared; the rest are counted as churn.
func TestLiveFindmnt(t *testing.T) {
	findmnt := lookFindmnt(t)
	r := nativeRoot(t)
	ctx := context.Background()
	probe, err := Host(ctx, r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if probe.Reason != ReasonInit {
		t.Skipf("PID 1's mount table is not readable here (%s: %s)", probe.Reason, probe.Detail)
	}
	compareFindmnt(t, findmnt, 1, func() []Mount {
		ht, err := Host(ctx, r, nil)
		if err != nil {
			t.Fatal(err)
		}
		return ht.Mounts
	})
}

// TestLiveFindmntEscapes builds, in a private mount namespace, mounts whose
// names need every escape the kernel writes (space, tab, newline,
// backslash), an empty source, a read-only bind of a subdirectory and an
// overlay with escaped lower directories, then compares Process for that
// namespace's process with findmnt --task.
func TestLiveFindmntEscapes(t *testing.T) {
	findmnt := lookFindmnt(t)
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("unshare not installed (Debian package util-linux)")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a mount namespace")
	}
	dir := t.TempDir()
	names := []string{"a b", "tab\tdir", "new\nline", `back\\slash`, "l1", "l:2", "l,3", "up", "work", "ovl", "e", "bind", "sub/dir"}
	var script strings.Builder
	script.WriteString("set -e\ncd \"$1\"\n")
	for _, n := range names {
		fmt.Fprintf(&script, "mkdir -p \"$(printf '%s')\"\n", n)
	}
	script.WriteString(`mount -t tmpfs "my src" "a b"
mount -t tmpfs -o size=1m 'back\slash' "$(printf 'tab\tdir')"
mkdir -p "$(printf 'tab\tdir/new\nline')"
mount -t tmpfs none "$(printf 'tab\tdir/new\nline')"
mount -t tmpfs "" e
mount --bind -o ro sub/dir bind
mount -o remount,bind,ro,nosuid bind
mount -t overlay overlay -o "lowerdir=$1/l1:$1/l\:2:$1/l\,3,upperdir=$1/up,workdir=$1/work" ovl
echo ready
exec sleep 120
`)
	cmd := exec.Command(unshare, "-m", "--propagation", "private", "sh", "-c", script.String(), "sh", dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if line != "ready\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Skipf("could not build the mounts (%v): %s", err, stderr.String())
	}
	r := nativeRoot(t)
	pid := cmd.Process.Pid
	compareFindmnt(t, findmnt, pid, func() []Mount {
		ms, err := Process(r, pid)
		if err != nil {
			t.Fatal(err)
		}
		return ms
	})
	ms, _ := Process(r, pid)
	got := pointsOf(Select(ms, PathPrefix(dir)))
	want := []string{dir + "/a b", dir + "/tab\tdir", dir + "/tab\tdir/new\nline", dir + "/e", dir + "/bind", dir + "/ovl"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mounts under %s (-want +got):\n%s", dir, diff)
	}
	ovl, _ := Holding(ms, dir+"/ovl")
	o, _ := ovl.Overlay()
	if diff := cmp.Diff(Overlay{LowerDirs: []string{dir + "/l1", dir + "/l:2", dir + "/l,3"}, UpperDir: dir + "/up", WorkDir: dir + "/work"}, o); diff != "" {
		t.Errorf("overlay layers (-want +got):\n%s", diff)
	}
}

func lookFindmnt(t *testing.T) string {
	t.Helper()
	findmnt, err := exec.LookPath("findmnt")
	if err != nil {
		t.Skip("findmnt not installed (Debian package util-linux, or mount on older releases)")
	}
	return findmnt
}

func nativeRoot(t *testing.T) *hostroot.Root {
	t.Helper()
	r, err := hostroot.Native()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// compareFindmnt compares findmnt --task pid with the table read returns,
// read before and after findmnt runs.
func compareFindmnt(t *testing.T, findmnt string, pid int, read func() []Mount) {
	t.Helper()
	before := read()
	out, err := exec.Command(findmnt, "--json", "--list", "--task", strconv.Itoa(pid), "--nofsroot", "-o", findmntColumns).Output()
	if err != nil {
		t.Fatalf("findmnt: %v", err)
	}
	after := read()
	var doc struct {
		Filesystems []findmntFS `json:"filesystems"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("findmnt output: %v", err)
	}
	stable := map[int]Mount{}
	afterByID := map[int]Mount{}
	for _, m := range after {
		afterByID[m.ID] = m
	}
	for _, m := range before {
		if a, ok := afterByID[m.ID]; ok && cmp.Equal(a, m) {
			stable[m.ID] = m
		}
	}
	seen := map[int]bool{}
	churn := 0
	for _, f := range doc.Filesystems {
		m, ok := stable[f.ID]
		if !ok {
			churn++
			continue
		}
		seen[f.ID] = true
		if diff := cmp.Diff(fromFindmnt(f), comparable(m, f)); diff != "" {
			t.Errorf("mount %d %q: findmnt and hostscope differ (-findmnt +hostscope):\n%s", m.ID, m.MountPoint, diff)
		}
	}
	for id, m := range stable {
		if !seen[id] {
			t.Errorf("mount %d %q: hostscope reports it, findmnt does not", id, m.MountPoint)
		}
	}
	if len(seen) == 0 {
		t.Fatal("no mount compared")
	}
	t.Logf("compared %d mounts of PID %d with findmnt; %d changed during the test", len(seen), pid, churn)
}

// liveMount is the part of a mount both tools report.
type liveMount struct {
	Parent                 int
	MajMin, FSRoot, Target string
	Source, FSType         string
	VFSOptions, FSOptions  string
	Options, OptFields     string
}

func fromFindmnt(f findmntFS) liveMount {
	return liveMount{
		Parent: f.Parent, MajMin: f.MajMin, FSRoot: str(f.FSRoot), Target: str(f.Target),
		Source: str(f.Source), FSType: str(f.FSType), VFSOptions: str(f.VFSOptions),
		FSOptions: str(f.FSOptions), Options: str(f.Options), OptFields: str(f.OptFields),
	}
}

// comparable renders m as findmnt would, given findmnt's own entry f for
// the prefix rule on escaped options.
func comparable(m Mount, f findmntFS) liveMount {
	var opt []string
	if m.Shared != 0 {
		opt = append(opt, "shared:"+strconv.Itoa(m.Shared))
	}
	if m.Master != 0 {
		opt = append(opt, "master:"+strconv.Itoa(m.Master))
	}
	if m.PropagateFrom != 0 {
		opt = append(opt, "propagate_from:"+strconv.Itoa(m.PropagateFrom))
	}
	if m.Unbindable {
		opt = append(opt, "unbindable")
	}
	opt = append(opt, m.OtherOptional...)
	vfs := strings.Join(m.Options, ",")
	fsOpts := strings.Join(m.SuperOptions, ",")
	merged := vfs
	if len(m.SuperOptions) > 1 {
		merged += "," + strings.Join(m.SuperOptions[1:], ",")
	}
	if strings.Contains(fsOpts, `\`) {
		fsOpts = prefixIfShorter(fsOpts, str(f.FSOptions))
		merged = prefixIfShorter(merged, str(f.Options))
	}
	return liveMount{
		Parent: m.ParentID, MajMin: strconv.FormatUint(uint64(m.Major), 10) + ":" + strconv.FormatUint(uint64(m.Minor), 10),
		FSRoot: m.Root, Target: m.MountPoint, Source: m.Source, FSType: m.FSType,
		VFSOptions: vfs, FSOptions: fsOpts, Options: merged, OptFields: strings.Join(opt, " "),
	}
}

// prefixIfShorter returns theirs when it is a prefix of ours (libmount cut
// an escaped option list short), else ours, so a real difference shows.
func prefixIfShorter(ours, theirs string) string {
	if strings.HasPrefix(ours, theirs) {
		return theirs
	}
	return ours
}
