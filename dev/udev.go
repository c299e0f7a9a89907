package dev

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hostscope/hostscope/hostroot"
)

// UdevRecord is one device's entry in the udev database,
// /run/udev/data/b<MAJOR>:<MINOR> (block) or c<MAJOR>:<MINOR> (character),
// written by systemd-udevd. Each line there is "<letter>:<value>".
type UdevRecord struct {
	// Properties are the E: lines, KEY=VALUE: ID_FS_TYPE, ID_FS_UUID,
	// ID_FS_LABEL_ENC, ID_PART_ENTRY_UUID, ID_MODEL, ID_SERIAL_SHORT,
	// ID_WWN, DM_NAME, ... Values are as udev wrote them (the *_ENC ones
	// hex-escaped, see DecodeUdevEnc).
	Properties map[string]string
	// Symlinks are the S: lines, /dev links relative to /dev
	// ("disk/by-uuid/…"), in file order.
	Symlinks []string
	// Tags and CurrentTags are the G: and Q: lines.
	Tags, CurrentTags []string
	// LinkPriority is the L: line, the priority of this device's claim on
	// shared links; 0 when absent.
	LinkPriority int
	// InitializedUsec is the I: line: CLOCK_MONOTONIC microseconds at which
	// udev first saw the device; 0 when absent.
	InitializedUsec uint64
	// Other holds the lines of any other letter as written ("V:1", "W:3",
	// "N:sda" from older udev), so nothing is lost.
	Other []string
}

// udevName is the database file for a device.
func udevName(kind Kind, major, minor uint32) string {
	c := "b"
	if kind == KindChar {
		c = "c"
	}
	return "/run/udev/data/" + c + strconv.FormatUint(uint64(major), 10) + ":" + strconv.FormatUint(uint64(minor), 10)
}

// Udev reads the udev database record of a device. A device udev has not
// recorded (or a host without udev) fails with an error matching
// fs.ErrNotExist.
func Udev(r *hostroot.Root, kind Kind, major, minor uint32) (*UdevRecord, error) {
	name := udevName(kind, major, minor)
	data, err := r.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return ParseUdev(data, name)
}

// ParseUdev parses the content of a udev database file; name is used in
// errors only. A line without the "<letter>:" shape, a property without '=',
// or a bad number is an error wrapping hostroot.ErrMalformed that names the
// file and line. Blank lines are ignored.
func ParseUdev(data []byte, name string) (*UdevRecord, error) {
	rec := &UdevRecord{Properties: map[string]string{}}
	for i, line := range strings.Split(string(data), "\n") {
		if line == "" {
			continue
		}
		if err := rec.addLine(line); err != nil {
			return nil, fmt.Errorf("%w: %s line %d: %v", hostroot.ErrMalformed, name, i+1, err)
		}
	}
	return rec, nil
}

func (rec *UdevRecord) addLine(line string) error {
	if len(line) < 2 || line[1] != ':' {
		return fmt.Errorf("%q: want <letter>:<value>", line)
	}
	val := line[2:]
	switch line[0] {
	case 'E':
		k, v, ok := strings.Cut(val, "=")
		if !ok || k == "" {
			return fmt.Errorf("property %q: want KEY=VALUE", val)
		}
		rec.Properties[k] = v
	case 'S':
		rec.Symlinks = append(rec.Symlinks, val)
	case 'G':
		rec.Tags = append(rec.Tags, val)
	case 'Q':
		rec.CurrentTags = append(rec.CurrentTags, val)
	case 'L':
		n, err := strconv.Atoi(val)
		if err != nil || val == "" || val[0] == '+' {
			return fmt.Errorf("bad link priority %q", val)
		}
		rec.LinkPriority = n
	case 'I':
		n, err := strconv.ParseUint(val, 10, 64)
		if err != nil || val[0] == '+' {
			return fmt.Errorf("bad initialization time %q", val)
		}
		rec.InitializedUsec = n
	default:
		rec.Other = append(rec.Other, line)
	}
	return nil
}

// DecodeUdevEnc decodes the \xNN escapes udev writes in *_ENC properties
// (ID_FS_LABEL_ENC, ID_MODEL_ENC, ...) for bytes unsafe in a property
// value, such as a space. Malformed escapes are kept as written.
func DecodeUdevEnc(s string) string {
	if !strings.Contains(s, `\x`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' {
			if n, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// property returns the first of keys present in rec, decoding *_ENC ones.
func (rec *UdevRecord) property(keys ...string) string {
	if rec == nil {
		return ""
	}
	for _, k := range keys {
		if v, ok := rec.Properties[k]; ok && v != "" {
			if strings.HasSuffix(k, "_ENC") {
				return DecodeUdevEnc(v)
			}
			return v
		}
	}
	return ""
}
