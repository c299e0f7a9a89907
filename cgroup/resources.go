package cgroup

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"strconv"

	"github.com/hostscope/hostscope/hostroot"
)

// Unlimited is the value of a limit the cgroup does not set: "max" in a v2
// file, and in v1 the kernel's "no limit" figure (memory.limit_in_bytes
// then shows the largest page-aligned value a long holds,
// 9223372036854771712 with 4 KiB pages).
const Unlimited uint64 = math.MaxUint64

// v1NoLimit is the smallest v1 memory limit read as Unlimited: LONG_MAX
// rounded down to a 64 KiB page, the largest page size Linux uses, so the
// "no limit" figure of every page size is at or above it.
const v1NoLimit = math.MaxInt64 &^ (64<<10 - 1)

// Resources are the resource figures of one cgroup: a container's, when the
// entries come from ContainerEntries.
type Resources struct {
	Memory *Memory // nil when the memory controller is not mounted or not enabled for the cgroup
	CPU    *CPU    // nil when CPU accounting is not available for the cgroup
	Pids   *Pids   // nil when the pids controller is not mounted or not enabled for the cgroup
}

// Resources reads the memory, CPU and pids figures of the cgroup that
// entries place a process in, through the hierarchies of l. A family whose
// controller no mounted hierarchy offers, or whose files are absent from a
// cgroup that exists (a v2 controller not enabled for that sub-tree), is
// left nil and is no error. Other failures are joined into the error,
// beside the families that could be read: a cgroup that has gone (the
// container stopped) gives an error wrapping fs.ErrNotExist, malformed
// content one wrapping hostroot.ErrMalformed. With no entries at all (a
// ContainerEntries that kept none) it says so with an error wrapping
// errors.ErrUnsupported.
func (l *Layout) Resources(r *hostroot.Root, entries []Entry) (*Resources, error) {
	var s Resources
	if len(entries) == 0 {
		return &s, fmt.Errorf("cgroup figures: %w: no cgroup line to locate the cgroup by", errors.ErrUnsupported)
	}
	var errs []error
	keep := func(err error, dirs ...string) {
		switch {
		case err == nil, errors.Is(err, errors.ErrUnsupported):
			return
		case errors.Is(err, fs.ErrNotExist):
			if len(dirs) == 0 {
				errs = append(errs, err)
				return
			}
			for _, d := range dirs {
				if _, serr := r.Stat(d); serr != nil {
					errs = append(errs, serr)
					return
				}
			}
			return // the cgroup exists without this controller's files
		}
		errs = append(errs, err)
	}
	var err error
	s.Memory, err = l.Memory(r, entries)
	keep(err, locateAll(l, entries, "memory")...)
	s.CPU, err = l.CPU(r, entries)
	keep(err, locateAll(l, entries, "cpu", "cpuacct")...)
	s.Pids, err = l.Pids(r, entries)
	keep(err, locateAll(l, entries, "pids")...)
	return &s, errors.Join(errs...)
}

// locateAll returns the directories of the controllers that can be located.
func locateAll(l *Layout, entries []Entry, controllers ...string) []string {
	var out []string
	for _, c := range controllers {
		if d, _, err := l.Locate(entries, c); err == nil {
			out = append(out, d)
		}
	}
	return out
}

// readValue reads a one-number file such as memory.current.
func readValue(r *hostroot.Root, name string) (uint64, error) {
	b, err := r.ReadFile(name)
	if err != nil {
		return 0, err
	}
	return parseValue(b, name)
}

// readLimit reads a limit file: a number, or "max" for Unlimited.
func readLimit(r *hostroot.Root, name string) (uint64, error) {
	b, err := r.ReadFile(name)
	if err != nil {
		return 0, err
	}
	return parseLimit(b, name)
}

// parseValue parses a file holding one unsigned decimal number and a
// newline.
func parseValue(b []byte, name string) (uint64, error) {
	s, err := oneLine(b, name)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %s line 1: %q is not a number", hostroot.ErrMalformed, name, s)
	}
	return n, nil
}

// parseLimit parses a limit file: "max" is Unlimited, as is a v1
// memory limit at the kernel's "no limit" figure.
func parseLimit(b []byte, name string) (uint64, error) {
	s, err := oneLine(b, name)
	if err != nil {
		return 0, err
	}
	if s == "max" {
		return Unlimited, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %s line 1: %q is neither a number nor \"max\"", hostroot.ErrMalformed, name, s)
	}
	if n >= v1NoLimit {
		return Unlimited, nil
	}
	return n, nil
}

// oneLine returns the single line of a one-value file.
func oneLine(b []byte, name string) (string, error) {
	line, rest, _ := bytes.Cut(b, []byte{'\n'})
	if len(rest) > 0 {
		return "", fmt.Errorf("%w: %s line 2: one line expected", hostroot.ErrMalformed, name)
	}
	if len(line) == 0 {
		return "", fmt.Errorf("%w: %s line 1: empty", hostroot.ErrMalformed, name)
	}
	return string(line), nil
}

// parseKeyed parses a flat-keyed file ("key value" lines, such as
// cpu.stat) and returns the values of the keys asked for; keys the kernel
// adds later are skipped. A line that is not "key number" is an error.
func parseKeyed(b []byte, name string, keys ...string) (map[string]uint64, error) {
	out := make(map[string]uint64, len(keys))
	for lineNo := 1; len(b) > 0; lineNo++ {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte{'\n'})
		if len(line) == 0 {
			continue
		}
		k, v, ok := bytes.Cut(line, []byte{' '})
		if !ok || len(k) == 0 {
			return nil, fmt.Errorf("%w: %s line %d: not \"key value\"", hostroot.ErrMalformed, name, lineNo)
		}
		n, err := strconv.ParseUint(string(v), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: %s line %d: value of %s %q is not a number", hostroot.ErrMalformed, name, lineNo, k, v)
		}
		for _, want := range keys {
			if string(k) == want {
				out[want] = n
			}
		}
	}
	return out, nil
}
