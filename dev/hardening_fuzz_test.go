package dev

import (
	"strconv"
	"strings"
	"testing"
)

// FuzzParseUevent feeds arbitrary sysfs uevent files to parseUevent: no
// panic, and every key it returns is a non-empty name from a line of the
// input, its value the rest of that line.
func FuzzParseUevent(f *testing.F) {
	f.Add([]byte("MAJOR=13\nMINOR=64\nDEVNAME=input/event0\n"))
	f.Add([]byte("MAJOR=8\nMINOR=0\nDEVNAME=sda\nDEVTYPE=disk\nDISKSEQ=9\n"))
	f.Add([]byte("noequals\n=x\nEMPTY=\nA=b=c\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got := parseUevent(data)
		lines := strings.Split(string(data), "\n")
		for k, v := range got {
			if k == "" || strings.Contains(k, "\n") || strings.Contains(v, "\n") {
				t.Fatalf("parseUevent gave %q=%q", k, v)
			}
			found := false
			for _, l := range lines {
				found = found || l == k+"="+v
			}
			if !found {
				t.Fatalf("parseUevent gave %q=%q, no line of the input", k, v)
			}
		}
	})
}

// FuzzParseDevNum: "MAJOR:MINOR" as sysfs dev files write it. Whatever it
// accepts must print back to the same numbers, and nothing it accepts may
// be out of range.
func FuzzParseDevNum(f *testing.F) {
	for _, s := range []string{"8:0", "259:3", "0:0", "4294967295:4294967295", "4294967296:0", "8:", ":0", "8:0:1", "-1:2", "+8:0", " 8:0", "08:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		major, minor, err := parseDevNum(s)
		if err != nil {
			if major != 0 || minor != 0 {
				t.Fatalf("parseDevNum(%q) failed but gave %d:%d", s, major, minor)
			}
			return
		}
		again, err := func() (string, error) {
			m, n, err := parseDevNum(strconv.FormatUint(uint64(major), 10) + ":" + strconv.FormatUint(uint64(minor), 10))
			if err != nil || m != major || n != minor {
				return "", err
			}
			return "ok", nil
		}()
		if again != "ok" {
			t.Fatalf("parseDevNum(%q) = %d:%d, which does not parse back: %v", s, major, minor, err)
		}
	})
}
