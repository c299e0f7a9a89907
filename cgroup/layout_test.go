package cgroup

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
	"github.com/hostscope/hostscope/mounts"
)

// Host mount tables for the fixtures.
const (
	// v2MountInfo is a cgroup v2 host's (Debian 12, systemd 252).
	v2MountInfo = "22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n" +
		"23 22 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw\n" +
		"24 22 0:22 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n" +
		"26 23 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n"

	// hybridMountInfo is this machine's: systemd hybrid layout with cpu and
	// cpuacct on separate hierarchies.
	hybridMountInfo = "26 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard\n" +
		"21 26 0:20 / /proc rw,relatime - proc proc rw\n" +
		"22 26 0:21 / /sys rw,relatime - sysfs sysfs rw\n" +
		"30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n" +
		"31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n" +
		"32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n" +
		"33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n" +
		"34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n" +
		"35 30 0:32 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n" +
		"36 30 0:33 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n" +
		"37 30 0:34 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n" +
		"38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n" +
		"39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n" +
		"40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"

	// v1MountInfo is a cgroup v1 host's (CentOS 7): co-mounted controllers,
	// no cgroup2.
	v1MountInfo = "1 0 253:0 / / rw,relatime - xfs /dev/mapper/centos-root rw\n" +
		"24 1 0:20 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:8 - tmpfs tmpfs ro,mode=755\n" +
		"25 24 0:21 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd\n" +
		"28 24 0:24 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,cpuacct,cpu\n" +
		"29 24 0:25 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,memory\n" +
		"30 24 0:26 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,pids\n"
)

func TestLayoutOf(t *testing.T) {
	tests := []struct {
		name, source, mountinfo string
		want                    *Layout
	}{
		{
			name:      "v2",
			source:    "Debian 12 host (unified layout)",
			mountinfo: v2MountInfo,
			want:      &Layout{Mode: V2, Hierarchies: []Hierarchy{{Version: 2, MountPoint: "/sys/fs/cgroup", Root: "/"}}},
		},
		{
			name:      "v1",
			source:    "CentOS 7 host (legacy layout, co-mounted cpuacct,cpu)",
			mountinfo: v1MountInfo,
			want: &Layout{Mode: V1, Hierarchies: []Hierarchy{
				{Version: 1, Controllers: []string{"name=systemd"}, MountPoint: "/sys/fs/cgroup/systemd", Root: "/"},
				{Version: 1, Controllers: []string{"cpuacct", "cpu"}, MountPoint: "/sys/fs/cgroup/cpu,cpuacct", Root: "/"},
				{Version: 1, Controllers: []string{"memory"}, MountPoint: "/sys/fs/cgroup/memory", Root: "/"},
				{Version: 1, Controllers: []string{"pids"}, MountPoint: "/sys/fs/cgroup/pids", Root: "/"},
			}},
		},
		{
			name:      "hybrid",
			source:    "this machine",
			mountinfo: hybridMountInfo,
			want: &Layout{Mode: Hybrid, Hierarchies: []Hierarchy{
				{Version: 1, Controllers: []string{"cpu"}, MountPoint: "/sys/fs/cgroup/cpu", Root: "/"},
				{Version: 1, Controllers: []string{"cpuacct"}, MountPoint: "/sys/fs/cgroup/cpuacct", Root: "/"},
				{Version: 1, Controllers: []string{"cpuset"}, MountPoint: "/sys/fs/cgroup/cpuset", Root: "/"},
				{Version: 1, Controllers: []string{"memory"}, MountPoint: "/sys/fs/cgroup/memory", Root: "/"},
				{Version: 1, Controllers: []string{"devices"}, MountPoint: "/sys/fs/cgroup/devices", Root: "/"},
				{Version: 1, Controllers: []string{"freezer"}, MountPoint: "/sys/fs/cgroup/freezer", Root: "/"},
				{Version: 1, Controllers: []string{"blkio"}, MountPoint: "/sys/fs/cgroup/blkio", Root: "/"},
				{Version: 1, Controllers: []string{"pids"}, MountPoint: "/sys/fs/cgroup/pids", Root: "/"},
				{Version: 1, Controllers: []string{"name=systemd"}, MountPoint: "/sys/fs/cgroup/systemd", Root: "/"},
				{Version: 2, MountPoint: "/sys/fs/cgroup/unified", Root: "/"},
			}},
		},
		{
			name:   "container's view: sub-tree roots",
			source: "this machine: a docker container's own mount table on the hybrid host",
			mountinfo: "73 72 0:44 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,mode=755\n" +
				"77 73 0:31 /docker/" + idA + " /sys/fs/cgroup/memory ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,memory\n",
			want: &Layout{Mode: V1, Hierarchies: []Hierarchy{{Version: 1, Controllers: []string{"memory"}, MountPoint: "/sys/fs/cgroup/memory", Root: "/docker/" + idA}}},
		},
		{
			name:      "name=systemd alone on a v2 host",
			source:    "a v2 host that also mounts a named v1 hierarchy for old software: still v2",
			mountinfo: v2MountInfo + "40 26 0:40 / /run/systemd/cgroup-v1 rw - cgroup cgroup rw,name=systemd\n",
			want: &Layout{Mode: V2, Hierarchies: []Hierarchy{
				{Version: 2, MountPoint: "/sys/fs/cgroup", Root: "/"},
				{Version: 1, Controllers: []string{"name=systemd"}, MountPoint: "/run/systemd/cgroup-v1", Root: "/"},
			}},
		},
		{
			name:      "no cgroup mounts",
			source:    "a table without cgroups (a minimal container)",
			mountinfo: "1 0 0:1 / / rw - rootfs rootfs rw\n",
			want:      &Layout{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := mounts.Parse([]byte(tc.mountinfo), "/proc/1/mountinfo", nil)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, LayoutOf(ms)); diff != "" {
				t.Errorf("LayoutOf() mismatch (-want +got):\n%s\n(shape: %s)", diff, tc.source)
			}
		})
	}
}

func TestDetectLayout(t *testing.T) {
	tests := []struct {
		name string
		host *hostroottest.Host
		want *Layout
	}{
		{
			name: "v2 from PID 1's table",
			host: hostroottest.New().
				File("/proc/1/comm", "systemd\n").
				File("/proc/1/mountinfo", v2MountInfo).
				File("/sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n"),
			want: &Layout{Mode: V2, Hierarchies: []Hierarchy{{Version: 2, Controllers: []string{"cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc"}, MountPoint: "/sys/fs/cgroup", Root: "/"}}},
		},
		{
			name: "hybrid: the unified mount offers no controller",
			host: hostroottest.New().
				File("/proc/1/comm", "systemd\n").
				File("/proc/1/mountinfo", "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"+
					"34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n").
				File("/sys/fs/cgroup/unified/cgroup.controllers", "\n"),
			want: &Layout{Mode: Hybrid, Hierarchies: []Hierarchy{
				{Version: 2, Controllers: []string{}, MountPoint: "/sys/fs/cgroup/unified", Root: "/"},
				{Version: 1, Controllers: []string{"memory"}, MountPoint: "/sys/fs/cgroup/memory", Root: "/"},
			}},
		},
		{
			name: "no mount table: v2 probed",
			host: hostroottest.New().
				File("/sys/fs/cgroup/cgroup.controllers", "memory pids\n"),
			want: &Layout{Mode: V2, Probed: true, Hierarchies: []Hierarchy{{Version: 2, Controllers: []string{"memory", "pids"}, MountPoint: "/sys/fs/cgroup", Root: "/"}}},
		},
		{
			name: "no mount table: hybrid probed",
			host: hostroottest.New().
				File("/sys/fs/cgroup/cpu,cpuacct/cgroup.procs", "1\n").
				Symlink("/sys/fs/cgroup/cpu", "cpu,cpuacct").
				File("/sys/fs/cgroup/memory/cgroup.procs", "1\n").
				File("/sys/fs/cgroup/systemd/cgroup.procs", "1\n").
				File("/sys/fs/cgroup/unified/cgroup.controllers", "\n").
				Dir("/sys/fs/cgroup/empty"),
			want: &Layout{Mode: Hybrid, Probed: true, Hierarchies: []Hierarchy{
				{Version: 1, Controllers: []string{"cpu", "cpuacct"}, MountPoint: "/sys/fs/cgroup/cpu,cpuacct", Root: "/"},
				{Version: 1, Controllers: []string{"memory"}, MountPoint: "/sys/fs/cgroup/memory", Root: "/"},
				{Version: 1, Controllers: []string{"name=systemd"}, MountPoint: "/sys/fs/cgroup/systemd", Root: "/"},
				{Version: 2, Controllers: []string{}, MountPoint: "/sys/fs/cgroup/unified", Root: "/"},
			}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DetectLayout(context.Background(), hostroottest.MustRoot(t, tc.host))
			if err != nil {
				t.Fatalf("DetectLayout: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("DetectLayout() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDetectLayoutFails(t *testing.T) {
	_, err := DetectLayout(context.Background(), hostroottest.MustRoot(t, hostroottest.New().Dir("/etc")))
	if err == nil {
		t.Fatal("DetectLayout of an empty host: no error")
	}
	bad := hostroottest.New().File("/proc/1/comm", "init\n").File("/proc/1/mountinfo", "26 1 0:24 / /sys/fs/cgroup rw - cgroup2\n")
	if _, err := DetectLayout(context.Background(), hostroottest.MustRoot(t, bad)); err == nil {
		t.Error("DetectLayout of a malformed mount table: no error")
	}
}

func TestHierarchyDir(t *testing.T) {
	tests := []struct {
		name, root, ns, path, want string
		wantErr                    error
	}{
		{name: "whole hierarchy", root: "/", path: "/system.slice/docker-x.scope", want: "/sys/fs/cgroup/system.slice/docker-x.scope"},
		{name: "hierarchy root", root: "/", path: "/", want: "/sys/fs/cgroup"},
		{name: "sub-tree mount", root: "/docker/abc", path: "/docker/abc/sub", want: "/sys/fs/cgroup/sub"},
		{name: "sub-tree mount, its root", root: "/docker/abc", path: "/docker/abc", want: "/sys/fs/cgroup"},
		{name: "outside a sub-tree mount", root: "/docker/abc", path: "/docker/abd", wantErr: errors.ErrUnsupported},
		{name: "name prefix is not a path prefix", root: "/docker/ab", path: "/docker/abc", wantErr: errors.ErrUnsupported},
		{name: "both outside the namespace, same depth", root: "/../..", path: "/../../kubepods.slice/x.scope", want: "/sys/fs/cgroup/kubepods.slice/x.scope"},
		{name: "relative without a slash", root: "/..", path: "../pod/ctr", want: "/sys/fs/cgroup/pod/ctr"},
		{name: "names above the namespace unknown", root: "/../../..", path: "/../sibling", wantErr: errors.ErrUnsupported},
		{name: "above the mount", root: "/..", path: "/../../x", wantErr: errors.ErrUnsupported},
		{name: "dot-dot inside the path", root: "/", path: "/a/../../etc", wantErr: errors.ErrUnsupported},
		{name: "dot inside the path", root: "/", path: "/a/./b", wantErr: errors.ErrUnsupported},
		{name: "repeated slashes", root: "/", path: "//a//b/", want: "/sys/fs/cgroup/a/b"},
		{name: "sibling with the namespace's names known", root: "/../../..", ns: "/k.slice/b.slice/p.slice", path: "/../../q.slice/c.scope", want: "/sys/fs/cgroup/k.slice/q.slice/c.scope"},
		{name: "the namespace itself", root: "/../../..", ns: "/k.slice/b.slice/p.slice", path: "/", want: "/sys/fs/cgroup/k.slice/b.slice/p.slice"},
		{name: "above the namespace's known depth", root: "/..", ns: "/k.slice", path: "/../../x", wantErr: errors.ErrUnsupported},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := Hierarchy{Version: 2, MountPoint: "/sys/fs/cgroup", Root: tc.root, NamespacePath: tc.ns}
			got, err := h.Dir(tc.path)
			if diff := cmp.Diff(tc.wantErr, err, cmpopts.EquateErrors()); diff != "" {
				t.Errorf("Dir(%q) error mismatch (-want +got):\n%s", tc.path, diff)
			}
			if got != tc.want {
				t.Errorf("Dir(%q) = %q, want %q", tc.path, got, tc.want)
			}
		})
	}
}

func TestLocate(t *testing.T) {
	ms, err := mounts.Parse([]byte(hybridMountInfo), "x", nil)
	if err != nil {
		t.Fatal(err)
	}
	hybrid := LayoutOf(ms)
	hybrid.Hierarchies[len(hybrid.Hierarchies)-1].Controllers = []string{}
	entries, _ := ParseEntries([]byte(v1File("/docker/"+idA, "/system.slice/docker.service")), "x")
	tests := []struct {
		controller, want string
		version          int
		wantErr          error
	}{
		{controller: "memory", want: "/sys/fs/cgroup/memory/docker/" + idA, version: 1},
		{controller: "cpuacct", want: "/sys/fs/cgroup/cpuacct/docker/" + idA, version: 1},
		{controller: "name=systemd", want: "/sys/fs/cgroup/systemd/docker/" + idA, version: 1},
		{controller: "io", wantErr: errors.ErrUnsupported}, // v2 only, and the unified mount offers none
	}
	for _, tc := range tests {
		dir, v, err := hybrid.Locate(entries, tc.controller)
		if diff := cmp.Diff(tc.wantErr, err, cmpopts.EquateErrors()); diff != "" {
			t.Errorf("Locate(%s) error mismatch (-want +got):\n%s", tc.controller, diff)
		}
		if dir != tc.want || v != tc.version {
			t.Errorf("Locate(%s) = %q, %d; want %q, %d", tc.controller, dir, v, tc.want, tc.version)
		}
	}
	// A v1 hierarchy without the process's line for it.
	if _, _, err := hybrid.Locate([]Entry{{Path: "/x"}}, "memory"); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Locate without a memory line: %v, want ErrUnsupported", err)
	}
}

// TestDetectLayoutNamespace is the DaemonSet on a cgroup v2 node: the agent
// runs in a private cgroup namespace four levels deep, sees the host's
// cgroup2 mount as "/../../../.." and other pods as "/../../../...", and
// still reaches their resource files.
func TestDetectLayoutNamespace(t *testing.T) {
	agent := "/sys/fs/cgroup/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + strings.ReplaceAll(uidA, "-", "_") + ".slice/cri-containerd-" + idA + ".scope"
	other := "/sys/fs/cgroup/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + strings.ReplaceAll(uidB, "-", "_") + ".slice/cri-containerd-" + idB + ".scope"
	decoy := "/sys/fs/cgroup/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + strings.ReplaceAll(uidC, "-", "_") + ".slice/cri-containerd-" + idC + ".scope"
	h := hostroottest.New().
		File("/proc/1/comm", "systemd\n").
		File("/proc/1/mountinfo", "26 23 0:24 /../../../.. /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw\n").
		Symlink("/proc/self", "4242").
		File("/proc/4242/cgroup", "0::/\n").
		File("/sys/fs/cgroup/cgroup.controllers", "cpu memory pids\n").
		File("/sys/fs/cgroup/init.scope/cgroup.procs", "1\n").
		File(agent+"/cgroup.procs", "4242\n4243\n").
		File(decoy+"/cgroup.procs", "42420\n").
		File(other+"/cgroup.procs", "777\n").
		File(other+"/memory.current", "8192\n").File(other+"/memory.max", "max\n").
		File(other+"/cpu.stat", "usage_usec 9\n").
		File(other+"/pids.current", "1\n").File(other+"/pids.max", "max\n")
	r := hostroottest.MustRoot(t, h)
	l, err := DetectLayout(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	want := &Layout{Mode: V2, Hierarchies: []Hierarchy{{
		Version: 2, Controllers: []string{"cpu", "memory", "pids"}, MountPoint: "/sys/fs/cgroup", Root: "/../../../..",
		NamespacePath: strings.TrimPrefix(agent, "/sys/fs/cgroup"),
	}}}
	if diff := cmp.Diff(want, l); diff != "" {
		t.Fatalf("DetectLayout() mismatch (-want +got):\n%s", diff)
	}
	line := "0::/../../../kubepods-besteffort.slice/kubepods-besteffort-pod" + strings.ReplaceAll(uidB, "-", "_") + ".slice/cri-containerd-" + idB + ".scope\n"
	entries, _ := ParseEntries([]byte(line), "/proc/777/cgroup")
	s, err := l.Resources(r, entries)
	if err != nil {
		t.Fatal(err)
	}
	wantRes := &Resources{Memory: &Memory{Usage: 8192, Limit: Unlimited}, CPU: &CPU{Usage: 9 * time.Microsecond}, Pids: &Pids{Current: 1, Max: Unlimited}}
	if diff := cmp.Diff(wantRes, s); diff != "" {
		t.Errorf("Resources() mismatch (-want +got):\n%s", diff)
	}
}
