package proc

import (
	"bytes"
	"fmt"

	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/internal/parse"
)

// pfKthread is the PF_KTHREAD bit of the flags field of stat.
const pfKthread = 0x00200000

// stat is what parseStat takes from /proc/PID/stat, in the kernel's units.
type stat struct {
	pid       int
	comm      []byte // aliases the parsed buffer
	state     byte
	ppid      int
	pgid      int
	sid       int
	ttyNr     uint32
	flags     uint32
	utime     uint64 // clock ticks
	stime     uint64 // clock ticks
	priority  int
	nice      int
	threads   int
	starttime uint64 // clock ticks after boot
	vsize     uint64 // bytes
	rss       uint64 // pages
}

// statFields is how many fields after the comm parseStat needs: state
// (field 3 of proc(5)) to rss (field 24). Kernels since 2.6 write 49 or more.
const statFields = 22

// parseStat parses the one line of /proc/PID/stat:
//
//	pid (comm) state ppid pgrp session tty_nr tpgid flags ... rss ...
//
// comm may hold spaces, parentheses and newlines, so it ends at the last
// ')'. comm in the result aliases data.
func parseStat(data []byte, name string) (stat, error) {
	var s stat
	open := bytes.IndexByte(data, '(')
	closing := bytes.LastIndexByte(data, ')')
	if open < 0 || closing < open {
		return s, fmt.Errorf("%w: %s line 1: no (comm)", hostroot.ErrMalformed, name)
	}
	pid, err := parse.Int32(bytes.TrimRight(data[:open], " "))
	if err != nil || pid <= 0 {
		return s, fmt.Errorf("%w: %s line 1: pid %q is not a PID", hostroot.ErrMalformed, name, data[:open])
	}
	s.pid = int(pid)
	s.comm = data[open+1 : closing]
	// The kernel separates the fields after the comm by exactly one space
	// and ends the line with a newline; anything else would shift fields.
	rest := bytes.TrimSuffix(data[closing+1:], []byte{'\n'})
	// Fields are numbered as in proc(5), state being 3.
	for i := 3; i < 3+statFields; i++ {
		var f []byte
		if len(rest) == 0 {
			return s, fmt.Errorf("%w: %s line 1: %d fields after the comm, want at least %d", hostroot.ErrMalformed, name, i-3, statFields)
		}
		if rest[0] != ' ' {
			return s, fmt.Errorf("%w: %s line 1: no space before field %d", hostroot.ErrMalformed, name, i)
		}
		f, rest = rest[1:], nil
		if j := bytes.IndexByte(f, ' '); j >= 0 {
			f, rest = f[:j], f[j:]
		}
		if len(f) == 0 {
			return s, fmt.Errorf("%w: %s line 1: field %d is empty", hostroot.ErrMalformed, name, i)
		}
		var err error
		switch i {
		case 3:
			if len(f) != 1 || !isStateLetter(f[0]) {
				return s, fmt.Errorf("%w: %s line 1: state %q is not a letter", hostroot.ErrMalformed, name, f)
			}
			s.state = f[0]
		case 4:
			s.ppid, err = pidField(f)
		case 5:
			s.pgid, err = pidField(f)
		case 6:
			s.sid, err = pidField(f)
		case 7:
			// An int in the kernel, printed signed; the encoding uses 32 bits.
			var n int32
			n, err = parse.Int32(f)
			s.ttyNr = uint32(n)
		case 9:
			s.flags, err = parse.Uint32(f)
		case 14:
			s.utime, err = parse.Uint(f)
		case 15:
			s.stime, err = parse.Uint(f)
		case 18:
			var n int32
			n, err = parse.Int32(f)
			s.priority = int(n)
		case 19:
			var n int32
			n, err = parse.Int32(f)
			s.nice = int(n)
		case 20:
			var n int32
			n, err = parse.Int32(f)
			s.threads = int(n)
			if n < 0 {
				err = errNegative
			}
		case 22:
			s.starttime, err = parse.Uint(f)
		case 23:
			s.vsize, err = parse.Uint(f)
		case 24:
			s.rss, err = parse.Uint(f)
		default:
			continue // fields we do not keep are not even checked
		}
		if err != nil {
			return s, fmt.Errorf("%w: %s line 1: field %d %q: %v", hostroot.ErrMalformed, name, i, f, err)
		}
	}
	return s, nil
}

// pidField parses a PID-valued field: 0 (none) or a positive pid_t.
func pidField(f []byte) (int, error) {
	n, err := parse.Int32(f)
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, errNegative
	}
	return int(n), nil
}

// isStateLetter accepts the letters the kernel uses for task states, and any
// other ASCII letter a future kernel might add.
func isStateLetter(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z'
}
