package mounts

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"syscall"

	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/internal/parse"
)

// Mount is one line of /proc/PID/mountinfo (proc(5)): one mount as the
// process's mount namespace shows it, with every escape decoded.
type Mount struct {
	ID, ParentID int // mount IDs; the root mount's parent is outside the table
	// Major and Minor are the st_dev of files on the mount: the block device
	// for disk file systems, an anonymous 0:N for pseudo file systems and
	// btrfs.
	Major, Minor uint32
	Root         string   // root of the mount within its file system (decoded)
	MountPoint   string   // decoded, relative to the process's root directory
	Options      []string // per-mount options ("rw", "nosuid", "relatime", ...)
	// Shared, Master and PropagateFrom are the peer group IDs of the optional
	// fields shared:N, master:N and propagate_from:N; 0 when absent (the
	// kernel numbers groups from 1).
	Shared, Master, PropagateFrom int
	Unbindable                    bool     // the optional field "unbindable"
	OtherOptional                 []string // optional fields this package does not know, as written
	FSType                        string   // "ext4", or "type.subtype" for FUSE ("fuse.sshfs")
	Source                        string   // decoded; "none" kept as written
	SuperOptions                  []string // per-superblock options, each decoded
}

// mountinfoName is the file Process reads for pid.
func mountinfoName(pid int) string {
	return "/proc/" + strconv.Itoa(pid) + "/mountinfo"
}

// Process returns the mount table of process pid, from /proc/PID/mountinfo.
// The paths are those of the process's mount namespace, relative to its root
// directory. A process that has exited fails with an error matching
// fs.ErrNotExist; malformed content with one wrapping hostroot.ErrMalformed.
func Process(r *hostroot.Root, pid int) ([]Mount, error) {
	return ProcessFiltered(r, pid, nil)
}

// ProcessFiltered is Process keeping only the mounts f keeps; f may stop the
// scan early, leaving the rest of the file unparsed. A nil f keeps all.
func ProcessFiltered(r *hostroot.Root, pid int, f Filter) ([]Mount, error) {
	name := mountinfoName(pid)
	data, err := r.ReadFile(name)
	if errors.Is(err, syscall.EINVAL) {
		// procfs refuses the mount table of a process that has exited (a
		// zombie, or one part-way through exiting) with EINVAL: it has no
		// mount namespace any more.
		err = &fs.PathError{Op: "read", Path: name, Err: syscall.ENOENT}
	}
	if err != nil {
		return nil, err
	}
	return Parse(data, name, f)
}

// Parse parses mountinfo content, such as a copy of /proc/PID/mountinfo
// saved elsewhere. name is the file it came from, used in errors only. Lines
// are parsed in order and handed to f (nil keeps all) as they are parsed, so a
// filter that stops early also stops the parsing. Blank lines are ignored; any
// other line that is not a well-formed mount is an error wrapping
// hostroot.ErrMalformed that names the file and line.
func Parse(data []byte, name string, f Filter) ([]Mount, error) {
	var out []Mount
	if f == nil {
		// One allocation for the whole table instead of log2(n) regrowths
		// of a slice of 200-byte structs. Blank lines must not inflate it
		// (a file of newlines would cost 200 bytes per byte), so no more
		// lines are assumed than minLine-byte mounts fit in data.
		out = make([]Mount, 0, min(bytes.Count(data, []byte{'\n'}), len(data)/minLine)+1)
	}
	lineNo := 0
	for len(data) > 0 {
		lineNo++
		var raw []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			raw, data = data[:i], data[i+1:]
		} else {
			raw, data = data, nil
		}
		if len(raw) == 0 {
			continue
		}
		m, err := parseLine(string(raw))
		if err != nil {
			return out, fmt.Errorf("%w: %s line %d: %v", hostroot.ErrMalformed, name, lineNo, err)
		}
		skip, stop := false, false
		if f != nil {
			skip, stop = f(&m)
		}
		if !skip {
			out = append(out, m)
		}
		if stop {
			break
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// minLine is about the shortest line parseLine accepts
// ("1 1 0:0 / / r - t s o").
const minLine = 16

// parseLine parses one mountinfo line:
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//
// Fields are separated by exactly one space; a field may be empty (a mount
// whose source is the empty string), so the line is split on every space.
func parseLine(line string) (Mount, error) {
	var m Mount
	fields := strings.Split(line, " ")
	sep := -1
	for i := 6; i < len(fields); i++ {
		if fields[i] == "-" {
			sep = i
			break
		}
	}
	if len(fields) < 6 {
		return m, fmt.Errorf("%d fields before the separator, want at least 6", len(fields))
	}
	if sep < 0 {
		return m, fmt.Errorf(`no " - " separator`)
	}
	if n := len(fields) - sep - 1; n != 3 {
		return m, fmt.Errorf("%d fields after the separator, want 3", n)
	}
	var err error
	if m.ID, err = parseID("mount ID", fields[0]); err != nil {
		return m, err
	}
	if m.ParentID, err = parseID("parent ID", fields[1]); err != nil {
		return m, err
	}
	if m.Major, m.Minor, err = parseDevice(fields[2]); err != nil {
		return m, err
	}
	if fields[3] == "" {
		return m, fmt.Errorf("empty root")
	}
	m.Root = unescape(fields[3])
	if fields[4] == "" {
		return m, fmt.Errorf("empty mount point")
	}
	m.MountPoint = unescape(fields[4])
	if m.Options, err = splitOptions("mount options", fields[5]); err != nil {
		return m, err
	}
	for _, opt := range fields[6:sep] {
		if err := m.addOptional(opt); err != nil {
			return m, err
		}
	}
	post := fields[sep+1:]
	if post[0] == "" {
		return m, fmt.Errorf("empty file system type")
	}
	m.FSType = unescape(post[0])
	m.Source = unescape(post[1])
	if m.SuperOptions, err = splitOptions("super options", post[2]); err != nil {
		return m, err
	}
	return m, nil
}

// addOptional records one optional field. The kernel writes the tags below
// (fs/proc_namespace.c); anything else is kept as written so that a newer
// kernel's fields are not lost.
func (m *Mount) addOptional(opt string) error {
	if opt == "" {
		return fmt.Errorf("empty optional field")
	}
	if opt == "unbindable" {
		m.Unbindable = true
		return nil
	}
	tag, val, ok := strings.Cut(opt, ":")
	var dst *int
	switch tag {
	case "shared":
		dst = &m.Shared
	case "master":
		dst = &m.Master
	case "propagate_from":
		dst = &m.PropagateFrom
	}
	if dst == nil || !ok {
		m.OtherOptional = append(m.OtherOptional, opt)
		return nil
	}
	n, err := parseID(tag+" peer group", val)
	if err != nil {
		return err
	}
	if n == 0 {
		// Peer groups are numbered from 1; 0 means "absent" in Mount.
		return fmt.Errorf("%s peer group 0", tag)
	}
	*dst = n
	return nil
}

// parseID parses a non-negative decimal without sign or spaces, which
// strconv.Atoi alone would let through.
func parseID(what, s string) (int, error) {
	if !parse.Digits(s) {
		return 0, fmt.Errorf("bad %s %q", what, s)
	}
	n, err := strconv.ParseInt(s, 10, 0)
	if err != nil {
		return 0, fmt.Errorf("bad %s %q: out of range", what, s)
	}
	return int(n), nil
}

// parseDevice parses "MAJOR:MINOR".
func parseDevice(s string) (major, minor uint32, err error) {
	a, b, ok := strings.Cut(s, ":")
	if !ok {
		return 0, 0, fmt.Errorf("bad device %q: no colon", s)
	}
	if major, err = parseUint32(a); err != nil {
		return 0, 0, fmt.Errorf("bad device %q: major: %v", s, err)
	}
	if minor, err = parseUint32(b); err != nil {
		return 0, 0, fmt.Errorf("bad device %q: minor: %v", s, err)
	}
	return major, minor, nil
}

func parseUint32(s string) (uint32, error) {
	if !parse.Digits(s) {
		return 0, fmt.Errorf("not a decimal number")
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("out of range")
	}
	return uint32(n), nil
}

// splitOptions splits a comma-separated option field and decodes each
// option. Splitting comes first: file systems that print options with
// seq_show_option (overlayfs's lowerdir, for one) escape a comma inside a
// value as \054, so only raw commas separate options.
func splitOptions(what, s string) ([]string, error) {
	if s == "" {
		return nil, fmt.Errorf("empty %s", what) // the kernel always writes at least "rw" or "ro"
	}
	opts := strings.Split(s, ",")
	for i, o := range opts {
		opts[i] = unescape(o)
	}
	return opts, nil
}

// unescape decodes the octal escapes the kernel writes for space, tab,
// newline and backslash (\040 \011 \012 \134), and any other \ooo. A
// backslash not followed by three octal digits naming a byte is kept as is:
// the kernel never writes one, but a file system printing its own options
// might, and the text is more useful than an error.
func unescape(s string) string {
	i := strings.IndexByte(s, '\\')
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) && s[i+1] <= '3' {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }
