package dev

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hostscope/hostscope/hostroot"
)

// Drivers is /proc/devices: the driver names registered for each major
// number, for character and block devices. A major can carry several names
// (character major 4 is "/dev/vc/0", "tty" and "ttyS"), each registered for
// a range of minors the file does not show; they are kept in file order.
type Drivers struct {
	Char  map[uint32][]string
	Block map[uint32][]string
}

// ProcDevices reads /proc/devices.
func ProcDevices(r *hostroot.Root) (*Drivers, error) {
	const name = "/proc/devices"
	data, err := r.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return ParseProcDevices(data, name)
}

// ParseProcDevices parses the content of /proc/devices; name is used in
// errors only. The file has two sections, "Character devices:" and "Block
// devices:", each a list of "%3d %s" lines. A line outside a section, a
// bad major or a missing name is an error wrapping hostroot.ErrMalformed.
func ParseProcDevices(data []byte, name string) (*Drivers, error) {
	d := &Drivers{Char: map[uint32][]string{}, Block: map[uint32][]string{}}
	var cur map[uint32][]string
	for i, line := range strings.Split(string(data), "\n") {
		fail := func(format string, args ...any) error {
			return fmt.Errorf("%w: %s line %d: %s", hostroot.ErrMalformed, name, i+1, fmt.Sprintf(format, args...))
		}
		switch line {
		case "":
			continue
		case "Character devices:":
			cur = d.Char
			continue
		case "Block devices:":
			cur = d.Block
			continue
		}
		if cur == nil {
			return nil, fail("%q before a section header", line)
		}
		num, drv, ok := strings.Cut(strings.TrimLeft(line, " "), " ")
		if !ok || drv == "" {
			return nil, fail("%q: want MAJOR NAME", line)
		}
		major, err := parseUint32(num)
		if err != nil {
			return nil, fail("bad major %q: %v", num, err)
		}
		cur[major] = append(cur[major], drv)
	}
	return d, nil
}

// parseUint32 parses a decimal without sign or spaces.
func parseUint32(s string) (uint32, error) {
	if s == "" {
		return 0, fmt.Errorf("empty")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("not a decimal number")
		}
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("out of range")
	}
	return uint32(n), nil
}

// parseUint64 is parseUint32 for 64 bits.
func parseUint64(s string) (uint64, error) {
	if s == "" {
		return 0, fmt.Errorf("empty")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("not a decimal number")
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("out of range")
	}
	return n, nil
}
