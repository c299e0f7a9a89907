package proc

import (
	"bytes"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/internal/alloccount"
)

// allocBound is what parsing n bytes may allocate: a small multiple of n
// (error messages quote the bad field, slices grow by doubling) plus a
// constant for the fuzzing machinery's own allocations in between.
func allocBound(n int) uint64 { return 32*uint64(n) + 64<<10 }

// FuzzParseBounded holds every per-process parser to linear memory: a
// parse of N bytes, valid or not, allocates O(N), so a hostile file at the
// read cap cannot make a scan allocate more than a small multiple of it.
func FuzzParseBounded(f *testing.F) {
	for _, name := range []string{"init", "container", "kworker", "groups"} {
		for _, ext := range []string{".stat", ".status", ".cmdline"} {
			if b, err := os.ReadFile("testdata/" + name + ext); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte("Groups:\t" + string(bytes.Repeat([]byte("1 "), 500)) + "\nNSpid:\t1\t2\t3\n"))
	f.Add(bytes.Repeat([]byte("a\x00"), 500))
	f.Add([]byte("btime 1700000000\n"))
	for _, name := range []string{"tcp", "tcp6", "udp", "udp6", "unix"} {
		if b, err := os.ReadFile("testdata/sockets/net/" + name); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for label, parse := range map[string]func(){
			"stat":     func() { parseStat(data, "/proc/1/stat") },
			"status":   func() { parseStatus(data, "/proc/1/status") },
			"cmdline":  func() { parseCmdline(data) },
			"btime":    func() { parseBootTime(data, "/proc/stat") },
			"ns link":  func() { parseNSLink(string(data), "net", "/proc/1/ns/net") },
			"exe link": func() { _, _ = parseExe(string(data)) },
			"fd link":  func() { _ = parseFDLink(string(data), "/proc/1/fd/3", &FD{}) },
			"fdinfo":   func() { _, _ = parseFDInfo(data, "/proc/1/fdinfo/3") },
			"tcp":      func() { _, _ = parseNetTable(data, "tcp", "/proc/1/net/tcp") },
			"udp6":     func() { _, _ = parseNetTable(data, "udp6", "/proc/1/net/udp6") },
			"unix":     func() { _, _ = parseNetUnix(data, "/proc/1/net/unix") },
			"uid_map":  func() { _, _ = parseIDMap(data, "/proc/1/uid_map") },
			"cap_last": func() { _, _ = parseLastCap(data, "/proc/sys/kernel/cap_last_cap") },
		} {
			if n := alloccount.Bytes(parse); n > allocBound(len(data)) {
				t.Fatalf("%s: parsing %d bytes allocated %d", label, len(data), n)
			}
		}
	})
}

// TestParseLargeInputs feeds each parser inputs at the scale of the read
// cap, shaped to be worst cases (one huge field, millions of short lines
// or arguments), and bounds both memory (as FuzzParseBounded) and time: a
// parser that is quadratic anywhere takes hours on these, a linear one well
// under a second.
func TestParseLargeInputs(t *testing.T) {
	const size = 2 << 20
	inputs := map[string][]byte{
		"one long line":        bytes.Repeat([]byte("x"), size),
		"NULs":                 bytes.Repeat([]byte{0}, size),
		"short args":           bytes.Repeat([]byte("a\x00"), size/2),
		"empty lines":          bytes.Repeat([]byte("\n"), size),
		"status lines":         bytes.Repeat([]byte("Foo:\tbar\n"), size/9),
		"huge Groups":          append([]byte("Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t"), bytes.Repeat([]byte("7 "), size/2)...),
		"huge NSpid":           append([]byte("Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nNSpid:\t"), bytes.Repeat([]byte("7\t"), size/2)...),
		"comm of parentheses":  append(append([]byte("1 ("), bytes.Repeat([]byte(")("), size/2)...), []byte(") S 0")...),
		"stat with long field": append([]byte("1 (x) S "), bytes.Repeat([]byte("9"), size)...),
		"btime lines":          bytes.Repeat([]byte("btime 1\n"), size/8),
		"tcp lines": append([]byte(tcpHeader), bytes.Repeat(
			[]byte("0: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 9001\n"), size/82)...),
		"unix lines": append([]byte("Num RefCount Protocol Flags Type St Inode Path\n"), bytes.Repeat(
			[]byte("0: 00000002 00000000 00010000 0001 01 9004 /run/a\n"), size/50)...),
		"fdinfo lines": bytes.Repeat([]byte("pos:\t1\n"), size/7),
	}
	for label, data := range inputs {
		for parser, parse := range map[string]func() error{
			"stat":    func() error { _, err := parseStat(data, "/proc/1/stat"); return err },
			"status":  func() error { _, err := parseStatus(data, "/proc/1/status"); return err },
			"cmdline": func() error { parseCmdline(data); return nil },
			"btime":   func() error { _, err := parseBootTime(data, "/proc/stat"); return err },
			"tcp":     func() error { _, err := parseNetTable(data, "tcp", "/proc/1/net/tcp"); return err },
			"unix":    func() error { _, err := parseNetUnix(data, "/proc/1/net/unix"); return err },
			"fdinfo":  func() error { _, err := parseFDInfo(data, "/proc/1/fdinfo/3"); return err },
			"uid_map": func() error { _, err := parseIDMap(data, "/proc/1/uid_map"); return err },
		} {
			var err error
			start := time.Now()
			n := alloccount.Bytes(func() { err = parse() })
			took := time.Since(start)
			if err != nil && !errors.Is(err, hostroot.ErrMalformed) {
				t.Errorf("%s of %s: error %v does not wrap ErrMalformed", parser, label, err)
			}
			if n > allocBound(len(data)) {
				t.Errorf("%s of %s (%d bytes) allocated %d bytes", parser, label, len(data), n)
			}
			if took > 10*time.Second {
				t.Errorf("%s of %s (%d bytes) took %v", parser, label, len(data), took)
			}
		}
	}
}
