package proc

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
)

func TestParseIDMap(t *testing.T) {
	for _, tc := range []struct {
		name, content string
		want          []IDMapping
		bad           bool
	}{
		// As the kernel writes them ("%10u %10u %10u\n").
		{"host", "         0          0 4294967295\n", []IDMapping{{0, 0, 4294967295}}, false},
		{"podman --uidmap", "         0     100000      65536\n", []IDMapping{{0, 100000, 65536}}, false},
		{"rootless", "         0       1000          1\n         1     100000      65536\n",
			[]IDMapping{{0, 1000, 1}, {1, 100000, 65536}}, false},
		{"unwritten", "", nil, false},
		{"two fields", "0 0\n", nil, true},
		{"four fields", "0 0 1 1\n", nil, true},
		{"zero count", "0 0 0\n", nil, true},
		{"past 2^32", "1 0 4294967295\n", nil, true},
		{"negative", "0 -1 1\n", nil, true},
		{"too large", "0 4294967296 1\n", nil, true},
		{"outside overlaps", "2 1000 1\n0 1000 1\n", nil, true},
		{"inside overlaps", "0 1000 10\n9 2000 1\n", nil, true},
		{"adjacent", "0 1000 10\n10 1010 1\n", []IDMapping{{0, 1000, 10}, {10, 1010, 1}}, false},
		{"341 lines", strings.Repeat("0 0 1\n", 1) + manyLines(340), nil, true},
	} {
		got, err := parseIDMap([]byte(tc.content), "/proc/7/uid_map")
		if tc.bad {
			if !errors.Is(err, hostroot.ErrMalformed) {
				t.Errorf("%s: error %v, want ErrMalformed", tc.name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

// manyLines is n distinct one-ID mappings from ID 1 on.
func manyLines(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "%d %d 1\n", i, i)
	}
	return b.String()
}

func TestMapToInside(t *testing.T) {
	ms := []IDMapping{{0, 1000, 1}, {1, 100000, 65536}}
	for _, tc := range []struct {
		outside, inside uint32
		ok              bool
	}{
		{1000, 0, true}, {100000, 1, true}, {165535, 65536, true},
		{165536, 0, false}, {0, 0, false}, {999, 0, false},
	} {
		got, ok := MapToInside(ms, tc.outside)
		if got != tc.inside || ok != tc.ok {
			t.Errorf("MapToInside(%d) = %d, %v; want %d, %v", tc.outside, got, ok, tc.inside, tc.ok)
		}
	}
	if !IsIdentity([]IDMapping{{0, 0, 4294967295}}) || IsIdentity(ms) || IsIdentity(nil) {
		t.Error("IsIdentity")
	}
}

func TestUIDMap(t *testing.T) {
	r := hostroottest.MustRoot(t, hostroottest.New().File("/proc/7/uid_map", "         0     100000      65536\n"))
	got, err := UIDMap(r, 7)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]IDMapping{{0, 100000, 65536}}, got); diff != "" {
		t.Errorf("UIDMap (-want +got):\n%s", diff)
	}
	if _, err := UIDMap(r, 8); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("UIDMap of a missing process: %v, want ErrNotExist", err)
	}
}

func FuzzParseIDMap(f *testing.F) {
	for _, s := range []string{"         0          0 4294967295\n", "0 1000 1\n1 100000 65536\n", "0 0 0\n", "\n\n1 2 3"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ms, err := parseIDMap(data, "uid_map")
		if err != nil {
			if !errors.Is(err, hostroot.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		for _, m := range ms {
			if m.Count == 0 || uint64(m.Inside)+uint64(m.Count) >= 1<<32 || uint64(m.Outside)+uint64(m.Count) >= 1<<32 {
				t.Fatalf("accepted %+v", m)
			}
			if in, ok := MapToInside(ms, m.Outside); !ok || in != m.Inside {
				t.Fatalf("MapToInside(%d) = %d, %v for %+v", m.Outside, in, ok, m)
			}
		}
	})
}
