package proc

import (
	"bytes"
	"fmt"
	"time"

	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/internal/parse"
)

// userHZ is the unit of the clock-tick fields of /proc (USER_HZ,
// sysconf(_SC_CLK_TCK)). It is part of the kernel's ABI and 100 on every
// architecture Go supports, whatever the kernel's internal HZ, so it is a
// constant rather than something read from the host.
const userHZ = 100

// BootTime returns when the host booted, from the btime line of the Root's
// /proc/stat. The kernel derives btime from the wall clock at read time, so
// it can move by a second between reads and jumps when the clock is set.
func BootTime(r *hostroot.Root) (time.Time, error) {
	data, err := r.ReadFile("/proc/stat")
	if err != nil {
		return time.Time{}, err
	}
	return parseBootTime(data, "/proc/stat")
}

// parseBootTime finds the "btime SECONDS" line of /proc/stat.
func parseBootTime(data []byte, name string) (time.Time, error) {
	for lineNo := 1; len(data) > 0; lineNo++ {
		var line []byte
		line, data = parse.Line(data)
		rest, ok := bytes.CutPrefix(line, []byte("btime "))
		if !ok {
			continue
		}
		f, tail := parse.Field(rest)
		n, err := parse.Int(f)
		if err != nil || len(bytes.TrimSpace(tail)) != 0 {
			return time.Time{}, fmt.Errorf("%w: %s line %d: btime %q is not a number", hostroot.ErrMalformed, name, lineNo, rest)
		}
		return time.Unix(n, 0), nil
	}
	return time.Time{}, fmt.Errorf("%w: %s: no btime line", hostroot.ErrMalformed, name)
}
