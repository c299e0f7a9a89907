package proc

import (
	"fmt"
	"strings"

	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/internal/parse"
)

// nsLinks lists the /proc/PID/ns links read for Namespaces, with the
// namespace type each link's text names (the *_for_children links name the
// type they are for).
var nsLinks = [...]struct{ link, kind string }{
	{"cgroup", "cgroup"},
	{"ipc", "ipc"},
	{"mnt", "mnt"},
	{"net", "net"},
	{"pid", "pid"},
	{"pid_for_children", "pid"},
	{"time", "time"},
	{"time_for_children", "time"},
	{"user", "user"},
	{"uts", "uts"},
}

// slot returns the field of n for nsLinks[i].
func (n *Namespaces) slot(i int) *uint64 {
	return [...]*uint64{
		&n.Cgroup, &n.IPC, &n.Mnt, &n.Net, &n.PID, &n.PIDForChildren,
		&n.Time, &n.TimeForChildren, &n.User, &n.UTS,
	}[i]
}

// parseNSLink parses the text of a /proc/PID/ns/* link, "type:[inode]",
// checking that the type is kind. name is the link's host name, for errors.
func parseNSLink(link, kind, name string) (uint64, error) {
	typ, rest, ok := strings.Cut(link, ":[")
	if !ok || !strings.HasSuffix(rest, "]") {
		return 0, fmt.Errorf("%w: %s line 1: link %q is not type:[inode]", hostroot.ErrMalformed, name, link)
	}
	if typ != kind {
		return 0, fmt.Errorf("%w: %s line 1: link %q names a %s namespace, want %s", hostroot.ErrMalformed, name, link, typ, kind)
	}
	digits := rest[:len(rest)-1]
	var buf [20]byte
	if len(digits) > len(buf) {
		return 0, fmt.Errorf("%w: %s line 1: inode in %q is out of range", hostroot.ErrMalformed, name, link)
	}
	ino, err := parse.Uint(append(buf[:0], digits...))
	if err != nil || ino == 0 {
		return 0, fmt.Errorf("%w: %s line 1: inode in %q is not a number", hostroot.ErrMalformed, name, link)
	}
	return ino, nil
}
