package cgroup

import (
	"errors"
	"path"
	"strings"
	"testing"

	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/mounts"
)

func FuzzParseEntries(f *testing.F) {
	for _, tc := range identCases {
		f.Add([]byte(expand(tc.cgroup)))
	}
	f.Add([]byte("1:name=systemd\n:x:/\n-1::/\n3:cpu,,cpuacct:/\n\r\n\t0::/a:b:c\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := ParseEntries(data, "/proc/1/cgroup")
		if err != nil && !errors.Is(err, hostroot.ErrMalformed) {
			t.Fatalf("error %v does not wrap ErrMalformed", err)
		}
		for _, e := range entries {
			if strings.Contains(e.Path, "\n") || e.HierarchyID < 0 {
				t.Fatalf("bad entry %+v", e)
			}
		}
	})
}

// FuzzIdentify feeds arbitrary cgroup files to Identify: it must not panic
// and every ID it returns must have its runtime's shape.
func FuzzIdentify(f *testing.F) {
	for _, tc := range identCases {
		f.Add(expand(tc.cgroup))
	}
	f.Add("0::/a:b:" + idA + "/lxc.payload./machine-\\x.scope/supervisor\n")
	f.Add("0::/ecs/" + hexA + "-1/garden/x/../lxc/./pod" + uidA + "\n")
	f.Fuzz(func(t *testing.T, data string) {
		entries, _ := ParseEntries([]byte(data), "/proc/1/cgroup")
		c, ok := Identify(entries)
		if ok != (c != nil) {
			t.Fatalf("Identify() = %v, %v", c, ok)
		}
		if !ok {
			return
		}
		checkContainer(t, c)
		prefix := false
		for _, e := range entries {
			if strings.HasPrefix(e.Path, c.CgroupPath) {
				prefix = true
			}
		}
		if !prefix {
			t.Errorf("CgroupPath %q is no line's prefix", c.CgroupPath)
		}
		for _, ce := range ContainerEntries(entries, c) {
			cut := false
			for _, e := range entries {
				if e.HierarchyID == ce.HierarchyID && strings.HasPrefix(e.Path, ce.Path) {
					cut = true
				}
			}
			if !cut {
				t.Errorf("ContainerEntries gave %+v, no line's prefix", ce)
			}
		}
	})
}

// FuzzIdentifyFromMounts feeds arbitrary mount tables to IdentifyFromMounts.
func FuzzIdentifyFromMounts(f *testing.F) {
	for _, tc := range mountCases {
		f.Add(expand(tc.mountinfo))
	}
	f.Fuzz(func(t *testing.T, data string) {
		ms, _ := mounts.Parse([]byte(data), "/proc/1/mountinfo", nil)
		c, ok := IdentifyFromMounts(ms)
		if ok != (c != nil) {
			t.Fatalf("IdentifyFromMounts() = %v, %v", c, ok)
		}
		if ok {
			checkContainer(t, c)
		}
	})
}

// FuzzParseValues feeds arbitrary content to the resource file parsers.
func FuzzParseValues(f *testing.F) {
	for _, s := range []string{"123\n", "max\n", "9223372036854771712\n", "", "\n", "1\n2\n", v2CPUStat, "nr_periods 1\nnr_throttled 1\nthrottled_time 18446744073709551615\n", "usage_usec x\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		check := func(err error) {
			if err != nil && !errors.Is(err, hostroot.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
		}
		_, err := parseValue(data, "f")
		check(err)
		_, err = parseLimit(data, "f")
		check(err)
		c, err := parseCPUStatV2(data, "f")
		check(err)
		if err == nil && (c.Usage < 0 || c.Throttling != nil && c.Throttling.ThrottledTime < 0) {
			t.Fatalf("negative duration in %+v", c)
		}
		_, err = parseThrottling(data, "f", "throttled_time", 1)
		check(err)
	})
}

// FuzzHierarchyDir checks that Dir never leaves the mount point.
func FuzzHierarchyDir(f *testing.F) {
	f.Add("/", "", "/a/b")
	f.Add("/../..", "/k/b/p", "/../x/y")
	f.Add("/docker/x", "", "/docker/x/../../etc")
	f.Fuzz(func(t *testing.T, root, ns, p string) {
		h := Hierarchy{Version: 2, MountPoint: "/sys/fs/cgroup", Root: root, NamespacePath: ns}
		d, err := h.Dir(p)
		if err != nil {
			if !errors.Is(err, errors.ErrUnsupported) {
				t.Fatalf("Dir error %v does not wrap ErrUnsupported", err)
			}
			return
		}
		if d != path.Clean(d) || (d != h.MountPoint && !strings.HasPrefix(d, h.MountPoint+"/")) {
			t.Fatalf("Dir(%q) = %q, outside %s", p, d, h.MountPoint)
		}
	})
}
