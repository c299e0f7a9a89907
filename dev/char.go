package dev

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/hostscope/hostscope/hostroot"
)

// CharDevice is one character device, from /sys/dev/char/MAJOR:MINOR and
// its uevent file.
type CharDevice struct {
	Name         string // kernel name, the sysfs directory's: "ttyS0", "null", "event3"
	Major, Minor uint32
	// DevName is the node's path relative to /dev as the kernel suggests it
	// (uevent DEVNAME): "null", "input/event3", "bus/usb/001/002".
	DevName string
	// Subsystem is the class or bus: "mem", "tty", "input", "misc", ...
	Subsystem string
	// Drivers are the names /proc/devices registers for the major, in file
	// order; a major can be shared ("/dev/tty", "/dev/console", "/dev/ptmx"
	// on major 5), and the file does not say which minors each covers.
	Drivers []string
	// SysPath is the device's directory under /sys/devices, resolved inside
	// the Root.
	SysPath string
}

// Chars lists the character devices of /sys/dev/char, sorted by major and
// minor. As with Blocks, a device that vanishes is left out and other
// problems are returned, joined, beside every device read.
func Chars(ctx context.Context, r *hostroot.Root) ([]CharDevice, error) {
	names, err := r.ReadDirNames("/sys/dev/char")
	if err != nil {
		return nil, err
	}
	var errs []error
	drivers, err := ProcDevices(r)
	if err != nil {
		errs = append(errs, err)
		drivers = &Drivers{}
	}
	var buf []byte
	var devs []CharDevice
	for _, n := range names {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		link := "/sys/dev/char/" + n
		var d CharDevice
		if d.Major, d.Minor, err = parseDevNum(n); err != nil {
			errs = append(errs, fmt.Errorf("%w: /sys/dev/char: entry %v", hostroot.ErrMalformed, err))
			continue
		}
		p, err := r.Resolve(link)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
			continue
		}
		d.SysPath, d.Name = p, path.Base(p)
		buf, err = r.AppendFile(buf[:0], p+"/uevent", 1<<16)
		switch {
		case err == nil:
			d.DevName = parseUevent(buf)["DEVNAME"]
		case !errors.Is(err, fs.ErrNotExist):
			errs = append(errs, err)
		}
		if sub, err := r.Resolve(p + "/subsystem"); err == nil {
			d.Subsystem = path.Base(sub)
		}
		d.Drivers = slices.Clone(drivers.Char[d.Major])
		devs = append(devs, d)
	}
	slices.SortFunc(devs, func(a, b CharDevice) int {
		if a.Major != b.Major {
			return cmpUint(a.Major, b.Major)
		}
		return cmpUint(a.Minor, b.Minor)
	})
	return devs, errors.Join(errs...)
}

// parseUevent parses a sysfs uevent file: KEY=VALUE lines. Lines without
// '=' carry nothing and are skipped.
func parseUevent(data []byte) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && k != "" {
			out[k] = v
		}
	}
	return out
}
