package mounts_test

import (
	"context"
	"fmt"

	"github.com/hostscope/hostscope/hostroot/hostroottest"
	"github.com/hostscope/hostscope/mounts"
)

// A node whose /proc is mounted with hidepid=invisible: PID 1 is not
// listed, so Host falls back to the lowest visible process and says why.
func ExampleHost() {
	h := hostroottest.New().
		File("/proc/812/comm", "agent\n").
		File("/proc/812/mountinfo",
			"26 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"+
				"41 26 254:0 /var/lib/docker /var/lib/docker rw,relatime shared:1 - ext4 /dev/vda rw\n"+
				"58 41 0:49 / /var/lib/docker/overlay2/abc/merged rw,relatime - overlay overlay rw,lowerdir=/l/A:/l/B,upperdir=/u,workdir=/w\n")
	root, err := h.Root()
	if err != nil {
		panic(err)
	}
	t, err := mounts.Host(context.Background(), root, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println("PID", t.PID, t.Reason)
	for _, m := range t.Mounts {
		fmt.Println(m.MountPoint, m.FSType, m.Source)
	}
	m, _ := mounts.Holding(t.Mounts, "/var/lib/docker/overlay2/abc/merged/etc/passwd")
	o, _ := m.Overlay()
	fmt.Println("lower", o.LowerDirs, "upper", o.UpperDir)
	// Output:
	// PID 812 init-hidden
	// / ext4 /dev/vda
	// /var/lib/docker ext4 /dev/vda
	// /var/lib/docker/overlay2/abc/merged overlay overlay
	// lower [/l/A /l/B] upper /u
}

func ExampleParse() {
	table := []byte(`22 26 0:21 / /sys rw,relatime - sysfs sysfs rw
30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
26 1 254:0 / / rw,relatime - ext4 /dev/vda rw
297 26 0:104 / /mnt/my\040disk rw,relatime - tmpfs my\040src rw
`)
	// Mounts below /sys/fs/cgroup (not /sys/fs/cgroupX), stopping at the
	// first cgroup v1 hierarchy.
	ms, err := mounts.Parse(table, "mountinfo", mounts.And(
		mounts.PathPrefix("/sys/fs/cgroup"),
		mounts.First(mounts.FSType("cgroup"))))
	if err != nil {
		panic(err)
	}
	for _, m := range ms {
		fmt.Printf("%d %s %v\n", m.ID, m.MountPoint, m.SuperOptions)
	}
	all, _ := mounts.Parse(table, "mountinfo", nil)
	fmt.Printf("%q from %q\n", all[4].MountPoint, all[4].Source)
	// Output:
	// 31 /sys/fs/cgroup/cpu [rw cpu]
	// "/mnt/my disk" from "my src"
}

// A DaemonSet container sees the node's root at /host.
func ExamplePathMap() {
	pm := mounts.PathMap{Prefix: "/host"}
	p, _ := pm.ReaderPath("/var/lib/kubelet")
	fmt.Println(p)
	h, ok := pm.HostPath("/host/etc/hosts")
	fmt.Println(h, ok)
	_, ok = pm.HostPath("/hostile")
	fmt.Println(ok)
	// Output:
	// /host/var/lib/kubelet
	// /etc/hosts true
	// false
}
