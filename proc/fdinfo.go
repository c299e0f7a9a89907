package proc

import (
	"bytes"
	"fmt"

	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/internal/parse"
)

// fdinfo is what parseFDInfo takes from /proc/PID/fdinfo/N.
type fdinfo struct {
	pos   int64  // bytes
	flags uint32 // O_* bits
	mntID int
	ino   uint64 // 0 when the kernel writes no ino line
}

// parseFDInfo parses /proc/PID/fdinfo/N:
//
//	pos:	0
//	flags:	02004002
//	mnt_id:	15
//	ino:	1057
//
// followed by lines particular to the file's kind (eventfd-count, tfd,
// inotify...), which are skipped. pos and flags are required; mnt_id
// (Linux 3.15) and ino (5.14) are taken when present. flags is octal. name
// is the file's host name, for errors.
func parseFDInfo(data []byte, name string) (fdinfo, error) {
	var info fdinfo
	var havePos, haveFlags bool
	for n := 1; len(data) > 0; n++ {
		var line []byte
		line, data = parse.Line(data)
		key, val, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			continue
		}
		val = bytes.TrimLeft(val, " \t")
		var err error
		switch string(key) {
		case "pos":
			var v int64
			v, err = parse.Int(val)
			if err == nil && v < 0 {
				err = fmt.Errorf("negative position %d", v)
			}
			info.pos, havePos = v, true
		case "flags":
			var v uint64
			v, err = octal(val)
			if err == nil && v > 1<<32-1 {
				err = fmt.Errorf("flags %q out of range", val)
			}
			info.flags, haveFlags = uint32(v), true
		case "mnt_id":
			var v int32
			v, err = parse.Int32(val)
			info.mntID = int(v)
		case "ino":
			info.ino, err = parse.Uint(val)
		default:
			continue
		}
		if err != nil {
			return fdinfo{}, fmt.Errorf("%w: %s line %d: %s: %v", hostroot.ErrMalformed, name, n, key, err)
		}
	}
	if !havePos || !haveFlags {
		return fdinfo{}, fmt.Errorf("%w: %s line 1: no pos and flags lines", hostroot.ErrMalformed, name)
	}
	return info, nil
}

// octal parses b as an unsigned octal number of at most 64 bits.
func octal(b []byte) (uint64, error) {
	if len(b) == 0 {
		return 0, fmt.Errorf("empty number")
	}
	var n uint64
	for _, c := range b {
		d := uint64(c) - '0'
		if d > 7 {
			return 0, fmt.Errorf("%q is not octal", b)
		}
		if n>>61 != 0 {
			return 0, fmt.Errorf("%q out of range", b)
		}
		n = n<<3 | d
	}
	return n, nil
}
