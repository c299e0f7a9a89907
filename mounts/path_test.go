package mounts

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// pointsOf lists mount points, for compact expectations.
func pointsOf(ms []Mount) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.MountPoint)
	}
	return out
}

func TestFilters(t *testing.T) {
	vm := parseFile(t, "mountinfo-vm.txt")
	tests := []struct {
		name string
		f    Filter
		want []string
	}{
		{"prefix on a boundary", PathPrefix("/sys/fs/cgroup/cpu"), []string{"/sys/fs/cgroup/cpu"}},
		{"prefix with trailing slash", PathPrefix("/dev/"), []string{"/dev", "/dev/shm", "/dev/pts", "/dev/pts", "/dev/shm"}},
		{"prefix that is not a mount", PathPrefix("/run"), []string{
			"/run/docker/netns/653093462ca6", "/run/netns",
			"/run/netns/netns-f38beb64-999e-fb10-30a5-92966ebe1655",
			"/run/netns/netns-4a87c055-5c38-50b6-3a9d-34d88bf178b8",
			"/run/netns/netns-b1c2bd44-b2cd-b256-835e-68023348f731",
			"/run/docker/netns/4fe990554d24"}},
		{"prefix matching no boundary", PathPrefix("/sy"), nil},
		{"fs types", FSType("cgroup2", "devpts"), []string{"/dev/pts", "/dev/pts", "/sys/fs/cgroup/unified"}},
		{"fs type is exact", FSType("fuse"), nil},
		{"mount point with stacked mounts", MountPoint("/dev/shm"), []string{"/dev/shm", "/dev/shm"}},
		{"mount point cleaned", MountPoint("/var//lib/docker/"), []string{"/var/lib/docker"}},
		{"parents of a path", ParentsOf("/sys/fs/cgroup/memory/x/y"), []string{"/sys", "/", "/sys/fs/cgroup", "/sys/fs/cgroup/memory"}},
		{"parents on a boundary", ParentsOf("/sys/fs/cgroupX"), []string{"/sys", "/"}},
		{"and", And(PathPrefix("/sys"), FSType("cgroup")), []string{
			"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpuacct", "/sys/fs/cgroup/cpuset", "/sys/fs/cgroup/memory",
			"/sys/fs/cgroup/devices", "/sys/fs/cgroup/freezer", "/sys/fs/cgroup/blkio", "/sys/fs/cgroup/pids",
			"/sys/fs/cgroup/systemd"}},
		{"first stops", First(FSType("overlay")), []string{
			"/var/lib/containers/storage/overlay/d5ccbf3fc47e3312320a24b6680ae73a8fbc63b1ce136f94d0ea310f416c5675/merged"}},
		{"custom filter stopping at /", func(m *Mount) (bool, bool) { return false, m.MountPoint == "/" },
			[]string{"/proc", "/sys", "/dev", "/dev/shm", "/dev/pts", "/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, pointsOf(Select(vm, tt.f))); diff != "" {
				t.Errorf("Select() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHolding(t *testing.T) {
	vm := parseFile(t, "mountinfo-vm.txt")
	// A crafted table for the cases a real one rarely shows: /a/b mounted,
	// then /a over-mounted, which hides /a/b; and /c mounted twice.
	crafted := []Mount{
		{ID: 10, ParentID: 1, MountPoint: "/", Source: "root"},
		{ID: 11, ParentID: 10, MountPoint: "/a", Source: "a-first"},
		{ID: 12, ParentID: 11, MountPoint: "/a/b", Source: "b-on-first-a"},
		{ID: 13, ParentID: 11, MountPoint: "/a", Source: "a-second"},
		{ID: 14, ParentID: 10, MountPoint: "/c", Source: "c-first"},
		{ID: 15, ParentID: 14, MountPoint: "/c", Source: "c-second"},
		{ID: 16, ParentID: 15, MountPoint: "/c/d", Source: "d"},
		{ID: 17, ParentID: 10, MountPoint: "/ab", Source: "ab"},
	}
	tests := []struct {
		name   string
		table  []Mount
		path   string
		wantID int
		wantOK bool
	}{
		{"root", vm, "/", 26, true},
		{"plain file on root", vm, "/etc/passwd", 26, true},
		{"deepest mount", vm, "/sys/fs/cgroup/memory/memory.limit_in_bytes", 34, true},
		{"boundary: cgroupX is on /sys", vm, "/sys/fs/cgroupX", 22, true},
		{"stacked /dev/pts: the later wins", vm, "/dev/pts/0", 28, true},
		{"stacked /dev/shm", vm, "/dev/shm", 29, true},
		{"unclean path", vm, "/var/lib//docker/../docker/x", 41, true},
		{"over-mount hides a child", crafted, "/a/b/file", 13, true},
		{"over-mount itself", crafted, "/a", 13, true},
		{"child of the top of a stack", crafted, "/c/d/e", 16, true},
		{"top of a stack", crafted, "/c/x", 15, true},
		{"not a prefix of /ab", crafted, "/ab/x", 17, true},
		{"empty table", nil, "/x", 0, false},
		{"filtered table with missing parent", []Mount{
			{ID: 26, ParentID: 1, MountPoint: "/"},
			{ID: 34, ParentID: 30, MountPoint: "/sys/fs/cgroup/memory"},
		}, "/sys/fs/cgroup/memory/x", 34, true},
		{"no mount holds it", []Mount{{ID: 2, ParentID: 1, MountPoint: "/x"}}, "/y", 0, false},
		{"corrupt: no root", []Mount{
			{ID: 1, ParentID: 2, MountPoint: "/"}, {ID: 2, ParentID: 1, MountPoint: "/"},
		}, "/z", 0, false},
		{"corrupt: a cycle below the root terminates", []Mount{
			{ID: 1, ParentID: 0, MountPoint: "/"}, {ID: 2, ParentID: 3, MountPoint: "/"}, {ID: 3, ParentID: 2, MountPoint: "/"},
		}, "/z", 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Holding(tt.table, tt.path)
			if ok != tt.wantOK || got.ID != tt.wantID {
				t.Errorf("Holding(%q) = mount %d (%q), %v; want mount %d, %v", tt.path, got.ID, got.MountPoint, ok, tt.wantID, tt.wantOK)
			}
		})
	}
}

func TestPathMap(t *testing.T) {
	type result struct {
		Path string
		OK   bool
	}
	tests := []struct {
		prefix, in     string
		reader, toHost result
	}{
		{"/host", "/etc/hosts", result{"/host/etc/hosts", true}, result{}},
		{"/host", "/", result{"/host", true}, result{}},
		{"/host", "/host", result{"/host/host", true}, result{"/", true}},
		{"/host", "/host/var/lib", result{"/host/host/var/lib", true}, result{"/var/lib", true}},
		{"/host", "/hostile/x", result{"/host/hostile/x", true}, result{}},
		{"/host/", "/host/./a/../b/", result{"/host/host/b", true}, result{"/b", true}},
		{"/host", "/host/../etc", result{"/host/etc", true}, result{}},
		{"/host", "relative", result{}, result{}},
		{"", "/etc", result{"/etc", true}, result{"/etc", true}},
		{"/", "/etc", result{"/etc", true}, result{"/etc", true}},
		{"/mnt/host root", "/etc", result{"/mnt/host root/etc", true}, result{}},
	}
	for _, tt := range tests {
		pm := PathMap{Prefix: tt.prefix}
		var got result
		got.Path, got.OK = pm.ReaderPath(tt.in)
		if got != tt.reader {
			t.Errorf("PathMap{%q}.ReaderPath(%q) = %v, want %v", tt.prefix, tt.in, got, tt.reader)
		}
		got.Path, got.OK = pm.HostPath(tt.in)
		if got != tt.toHost {
			t.Errorf("PathMap{%q}.HostPath(%q) = %v, want %v", tt.prefix, tt.in, got, tt.toHost)
		}
	}
}

func TestDetectPrefix(t *testing.T) {
	host := parseFile(t, "mountinfo-vm.txt")
	// What a DaemonSet pod that mounts the node's / at /host (hostPath,
	// HostToContainer propagation) sees, in the shape of the container
	// capture: an overlay root, and the node's root device at /host.
	reader := []Mount{
		{ID: 296, ParentID: 214, Major: 0, Minor: 102, Root: "/", MountPoint: "/", FSType: "overlay"},
		{ID: 313, ParentID: 296, Major: 254, Root: "/var/lib/docker/containers/x/hosts", MountPoint: "/etc/hosts", FSType: "ext4"},
		{ID: 320, ParentID: 296, Major: 254, Root: "/", MountPoint: "/host", FSType: "ext4"},
		{ID: 321, ParentID: 320, Major: 254, Root: "/", MountPoint: "/host/mnt/again", FSType: "ext4"},
		{ID: 322, ParentID: 320, Major: 0, Minor: 20, Root: "/", MountPoint: "/host/proc", FSType: "proc"},
	}
	got, ok := DetectPrefix(reader, host)
	if diff := cmp.Diff(PathMap{Prefix: "/host"}, got); diff != "" || !ok {
		t.Errorf("DetectPrefix() = %v, %v; want /host (-want +got):\n%s", got, ok, diff)
	}
	// Same namespace: the host's own table is the reader's.
	if got, ok := DetectPrefix(host, host); !ok || got.Prefix != "/" {
		t.Errorf("DetectPrefix(host, host) = %v, %v; want /, true", got, ok)
	}
	// Only /proc shared: no prefix.
	if got, ok := DetectPrefix(reader[:2], host); ok {
		t.Errorf("DetectPrefix(no host root) = %v, true; want false", got)
	}
}
