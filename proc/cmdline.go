package proc

import (
	"bytes"
	"strings"
)

// parseCmdline splits the content of /proc/PID/cmdline into arguments.
// Trailing NULs are dropped first (the terminator of the last argument, and
// the padding setproctitle leaves), then the rest is split at each NUL, so
// empty arguments inside the list survive. A buffer with no NUL left is one
// argument, which is what a process that overwrote its argv area with a
// title shows. The arguments share one string allocation; nil when empty.
// Every byte sequence is a valid command line, so there is no error.
func parseCmdline(data []byte) []string {
	data = bytes.TrimRight(data, "\x00")
	if len(data) == 0 {
		return nil
	}
	args := make([]string, 0, bytes.Count(data, []byte{0})+1)
	s := string(data)
	for {
		i := strings.IndexByte(s, 0)
		if i < 0 {
			return append(args, s)
		}
		args = append(args, s[:i])
		s = s[i+1:]
	}
}
