package proc

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// capture returns a file captured from a live /proc into testdata
// (see testdata/README.md).
func capture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// statLine builds a stat line from a real one (a sleeping sleep(1) of the
// capture host) with some fields, numbered as in proc(5), replaced.
func statLine(fields map[int]string) string {
	const base = "4242 (sleep) S 18879 18879 7940 0 -1 4194560 252 0 1 0 7 9 0 0 20 0 1 0 103418 2990080 412 18446744073709551615 94443776864256 94443776882185 140735822341040 0 0 0 0 6 0 1 0 0 17 0 0 0 0 0 0 94443776896272 94443776897536 94443805306880 140735822342634 140735822342643 140735822342643 140735822344169 0"
	rest := strings.Fields(base[strings.LastIndexByte(base, ')')+1:])
	for i, v := range fields {
		rest[i-3] = v
	}
	return "4242 (sleep) " + strings.Join(rest, " ") + "\n"
}

func pageSize() int { return os.Getpagesize() }
