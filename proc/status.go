package proc

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/internal/parse"
)

var (
	errNegative = errors.New("negative")
	errCount    = errors.New("wrong number of values")
	errUnit     = errors.New("unit is not kB")
)

// status is what parseStatus takes from /proc/PID/status.
type status struct {
	name       []byte // escaped as the kernel writes it; aliases the buffer
	state      byte
	ppid       int
	uids       IDs
	gids       IDs
	groups     []uint32
	nspid      []int
	capInh     uint64
	capPrm     uint64
	capEff     uint64
	capBnd     uint64
	capAmb     uint64
	noNewPrivs bool
	seccomp    SeccompMode
	threads    int
	vmRSS      uint64 // bytes
	vmSize     uint64 // bytes
	kthread    bool
}

// parseStatus parses /proc/PID/status, "Key:\tvalue" lines. Lines it does
// not use are skipped unparsed; those it uses must parse. Uid and Gid lines
// are required, every kernel writes them and a status without them would
// otherwise read as root's. Lines that some kernels lack (NSpid before 4.1,
// CapAmb before 4.3, Kthread before 6.x, Vm* for kernel threads and zombies)
// leave their values zero.
func parseStatus(data []byte, name string) (status, error) {
	var s status
	var seen uint8
	const seenUID, seenGID = 1, 2
	for lineNo := 1; len(data) > 0; lineNo++ {
		var line []byte
		line, data = parse.Line(data)
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			if len(line) == 0 {
				continue
			}
			return s, fmt.Errorf("%w: %s line %d: no ':'", hostroot.ErrMalformed, name, lineNo)
		}
		key, val := line[:colon], line[colon+1:]
		var err error
		// switch on string(key) compiles to comparisons, no allocation.
		switch string(key) {
		case "Name":
			// One tab, then the name, which may begin or end with spaces.
			s.name = bytes.TrimPrefix(val, []byte{'\t'})
		case "State":
			f, _ := parse.Field(val)
			if len(f) == 0 || !isStateLetter(f[0]) {
				err = fmt.Errorf("state %q is not a letter", val)
			} else {
				s.state = f[0]
			}
		case "PPid":
			f, _ := parse.Field(val)
			s.ppid, err = pidField(f)
		case "Uid":
			s.uids, err = parseIDs(val)
			seen |= seenUID
		case "Gid":
			s.gids, err = parseIDs(val)
			seen |= seenGID
		case "Groups":
			s.groups, err = parseGroups(val)
		case "NSpid":
			s.nspid, err = parseNSpid(val)
		case "Threads":
			f, _ := parse.Field(val)
			var n int32
			n, err = parse.Int32(f)
			s.threads = int(n)
			if err == nil && n < 0 {
				err = errNegative
			}
		case "VmRSS":
			s.vmRSS, err = parseKB(val)
		case "VmSize":
			s.vmSize, err = parseKB(val)
		case "CapInh":
			s.capInh, err = parseHexField(val)
		case "CapPrm":
			s.capPrm, err = parseHexField(val)
		case "CapEff":
			s.capEff, err = parseHexField(val)
		case "CapBnd":
			s.capBnd, err = parseHexField(val)
		case "CapAmb":
			s.capAmb, err = parseHexField(val)
		case "NoNewPrivs":
			s.noNewPrivs, err = parseFlag(val)
		case "Kthread":
			s.kthread, err = parseFlag(val)
		case "Seccomp":
			f, _ := parse.Field(val)
			var n uint64
			n, err = parse.Uint(f)
			if err == nil && n > 255 {
				err = fmt.Errorf("mode %d out of range", n)
			}
			s.seccomp = SeccompMode(n)
		}
		if err != nil {
			return s, fmt.Errorf("%w: %s line %d: %s: %v", hostroot.ErrMalformed, name, lineNo, key, err)
		}
	}
	if seen&seenUID == 0 {
		return s, fmt.Errorf("%w: %s: no Uid line", hostroot.ErrMalformed, name)
	}
	if seen&seenGID == 0 {
		return s, fmt.Errorf("%w: %s: no Gid line", hostroot.ErrMalformed, name)
	}
	return s, nil
}

// parseIDs parses the four IDs of a Uid or Gid line.
func parseIDs(val []byte) (IDs, error) {
	var ids [4]uint32
	for i := range ids {
		var f []byte
		f, val = parse.Field(val)
		n, err := parse.Uint32(f)
		if err != nil {
			if len(f) == 0 {
				return IDs{}, errCount
			}
			return IDs{}, fmt.Errorf("%q: %v", f, err)
		}
		ids[i] = n
	}
	if f, _ := parse.Field(val); len(f) != 0 {
		return IDs{}, errCount
	}
	return IDs{Real: ids[0], Effective: ids[1], Saved: ids[2], FS: ids[3]}, nil
}

// parseGroups parses the space-separated supplementary groups; nil when
// there are none.
func parseGroups(val []byte) ([]uint32, error) {
	n := parse.CountFields(val)
	if n == 0 {
		return nil, nil
	}
	groups := make([]uint32, 0, n)
	for {
		var f []byte
		f, val = parse.Field(val)
		if len(f) == 0 {
			return groups, nil
		}
		g, err := parse.Uint32(f)
		if err != nil {
			return nil, fmt.Errorf("%q: %v", f, err)
		}
		groups = append(groups, g)
	}
}

// parseNSpid parses the tab-separated PIDs of an NSpid line, outermost first.
func parseNSpid(val []byte) ([]int, error) {
	n := parse.CountFields(val)
	if n == 0 {
		return nil, errCount
	}
	pids := make([]int, 0, n)
	for {
		var f []byte
		f, val = parse.Field(val)
		if len(f) == 0 {
			return pids, nil
		}
		p, err := pidField(f)
		if err != nil {
			return nil, fmt.Errorf("%q: %v", f, err)
		}
		if p == 0 {
			return nil, fmt.Errorf("%q: not a PID", f)
		}
		pids = append(pids, p)
	}
}

// parseKB parses "   1672 kB" into bytes.
func parseKB(val []byte) (uint64, error) {
	f, rest := parse.Field(val)
	n, err := parse.Uint(f)
	if err != nil {
		return 0, fmt.Errorf("%q: %v", f, err)
	}
	if unit, rest := parse.Field(rest); string(unit) != "kB" || parse.CountFields(rest) != 0 {
		return 0, errUnit
	}
	if n > (1<<64-1)>>10 {
		return 0, fmt.Errorf("%d kB: out of range", n)
	}
	return n << 10, nil
}

// parseHexField parses the one hexadecimal mask of a Cap line.
func parseHexField(val []byte) (uint64, error) {
	f, rest := parse.Field(val)
	n, err := parse.Hex(f)
	if err != nil {
		return 0, fmt.Errorf("%q: %v", f, err)
	}
	if parse.CountFields(rest) != 0 {
		return 0, errCount
	}
	return n, nil
}

// parseFlag parses a 0 or 1 line.
func parseFlag(val []byte) (bool, error) {
	f, rest := parse.Field(val)
	if len(f) != 1 || (f[0] != '0' && f[0] != '1') || parse.CountFields(rest) != 0 {
		return false, fmt.Errorf("%q is not 0 or 1", val)
	}
	return f[0] == '1', nil
}

// unescapeName undoes the escaping status applies to the command name: the
// kernel writes a newline as `\n` and a backslash as `\\` (and, on some
// versions, other control characters as C escapes or octal `\ooo`).
func unescapeName(b []byte) []byte {
	i := bytes.IndexByte(b, '\\')
	if i < 0 {
		return b
	}
	out := make([]byte, 0, len(b))
	out = append(out, b[:i]...)
	for ; i < len(b); i++ {
		c := b[i]
		if c != '\\' || i+1 == len(b) {
			out = append(out, c)
			continue
		}
		i++
		switch e := b[i]; e {
		case 'n':
			out = append(out, '\n')
		case 't':
			out = append(out, '\t')
		case 'r':
			out = append(out, '\r')
		case 'f':
			out = append(out, '\f')
		case 'v':
			out = append(out, '\v')
		case 'e':
			out = append(out, 0x1b)
		case '0', '1', '2', '3':
			if i+2 < len(b) && isOctal(b[i+1]) && isOctal(b[i+2]) {
				out = append(out, (e-'0')<<6|(b[i+1]-'0')<<3|(b[i+2]-'0'))
				i += 2
			} else {
				out = append(out, '\\', e)
			}
		default: // `\\`, `\"` and anything unknown: the character itself
			out = append(out, e)
		}
	}
	return out
}

func isOctal(c byte) bool { return '0' <= c && c <= '7' }
