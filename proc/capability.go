package proc

import (
	"fmt"
	"math/bits"
	"strconv"

	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/internal/parse"
)

// capNames holds the kernel's capability names by number, as
// include/uapi/linux/capability.h defines them (Linux 5.9 added the last
// one, CAP_CHECKPOINT_RESTORE, 40).
var capNames = [...]string{
	"CAP_CHOWN",              // 0
	"CAP_DAC_OVERRIDE",       // 1
	"CAP_DAC_READ_SEARCH",    // 2
	"CAP_FOWNER",             // 3
	"CAP_FSETID",             // 4
	"CAP_KILL",               // 5
	"CAP_SETGID",             // 6
	"CAP_SETUID",             // 7
	"CAP_SETPCAP",            // 8
	"CAP_LINUX_IMMUTABLE",    // 9
	"CAP_NET_BIND_SERVICE",   // 10
	"CAP_NET_BROADCAST",      // 11
	"CAP_NET_ADMIN",          // 12
	"CAP_NET_RAW",            // 13
	"CAP_IPC_LOCK",           // 14
	"CAP_IPC_OWNER",          // 15
	"CAP_SYS_MODULE",         // 16
	"CAP_SYS_RAWIO",          // 17
	"CAP_SYS_CHROOT",         // 18
	"CAP_SYS_PTRACE",         // 19
	"CAP_SYS_PACCT",          // 20
	"CAP_SYS_ADMIN",          // 21
	"CAP_SYS_BOOT",           // 22
	"CAP_SYS_NICE",           // 23
	"CAP_SYS_RESOURCE",       // 24
	"CAP_SYS_TIME",           // 25
	"CAP_SYS_TTY_CONFIG",     // 26
	"CAP_MKNOD",              // 27
	"CAP_LEASE",              // 28
	"CAP_AUDIT_WRITE",        // 29
	"CAP_AUDIT_CONTROL",      // 30
	"CAP_SETFCAP",            // 31
	"CAP_MAC_OVERRIDE",       // 32
	"CAP_MAC_ADMIN",          // 33
	"CAP_SYSLOG",             // 34
	"CAP_WAKE_ALARM",         // 35
	"CAP_BLOCK_SUSPEND",      // 36
	"CAP_AUDIT_READ",         // 37
	"CAP_PERFMON",            // 38
	"CAP_BPF",                // 39
	"CAP_CHECKPOINT_RESTORE", // 40
}

// CapabilityName returns the kernel's name of capability number n
// ("CAP_SYS_ADMIN" for 21). A number newer than this package knows is
// named "CAP_" and its number ("CAP_41"), so no bit of a set is lost.
func CapabilityName(n int) string {
	if n >= 0 && n < len(capNames) {
		return capNames[n]
	}
	return "CAP_" + strconv.Itoa(n)
}

// CapabilityNames decodes a capability set as status writes it (CapEff,
// CapBnd, ...: bit N for capability N) into names, in ascending capability
// number. An empty set gives nil.
func CapabilityNames(set uint64) []string {
	if set == 0 {
		return nil
	}
	out := make([]string, 0, bits.OnesCount64(set))
	for set != 0 {
		n := bits.TrailingZeros64(set)
		out = append(out, CapabilityName(n))
		set &^= 1 << n
	}
	return out
}

// CapabilitySet is the inverse of CapabilityNames: the set holding each
// named capability. Names are the kernel's ("CAP_SYS_ADMIN") or the
// "CAP_N" form CapabilityName gives unknown numbers; ok is false, and the
// set holds the other names, when a name is neither or its number does
// not fit a 64-bit set.
func CapabilitySet(names ...string) (set uint64, ok bool) {
	ok = true
	for _, name := range names {
		n, known := capabilityNumber(name)
		if !known {
			ok = false
			continue
		}
		set |= 1 << n
	}
	return set, ok
}

func capabilityNumber(name string) (int, bool) {
	for i, c := range capNames {
		if c == name {
			return i, true
		}
	}
	if len(name) > 4 && name[:4] == "CAP_" && parse.Digits(name[4:]) {
		if n, err := strconv.Atoi(name[4:]); err == nil && n < 64 {
			return n, true
		}
	}
	return 0, false
}

// capLastCapName is the file LastCapability reads.
const capLastCapName = "/proc/sys/kernel/cap_last_cap"

// LastCapability returns the highest capability number the Root's kernel
// knows, from /proc/sys/kernel/cap_last_cap (40 on Linux 5.9 and later):
// a set holding bits 0 to that number holds every capability the kernel
// can grant.
func LastCapability(r *hostroot.Root) (int, error) {
	data, err := r.ReadFile(capLastCapName)
	if err != nil {
		return 0, err
	}
	return parseLastCap(data, capLastCapName)
}

// parseLastCap parses cap_last_cap: one decimal number and a newline. The
// number must fit a 64-bit capability set, as the kernel's own do.
func parseLastCap(data []byte, name string) (int, error) {
	line, rest := parse.Line(data)
	if len(rest) != 0 {
		return 0, fmt.Errorf("%w: %s line 2: want one line", hostroot.ErrMalformed, name)
	}
	n, err := parse.Uint(line)
	if err == nil && n > 63 {
		err = fmt.Errorf("%d does not fit a 64-bit capability set", n)
	}
	if err != nil {
		return 0, fmt.Errorf("%w: %s line 1: %v", hostroot.ErrMalformed, name, err)
	}
	return int(n), nil
}
