package cgroup_test

import (
	"context"
	"fmt"

	"github.com/hostscope/hostscope/cgroup"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
	"github.com/hostscope/hostscope/mounts"
)

func ExampleIdentify() {
	data := []byte("0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0c5b7e2a_6f1d_4c8e_9a3b_2d4f6e8a1c3e.slice/cri-containerd-9f2c4e6a8b0d1f3a5c7e9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a.scope\n")
	entries, err := cgroup.ParseEntries(data, "/proc/4711/cgroup")
	if err != nil {
		fmt.Println(err)
		return
	}
	c, ok := cgroup.Identify(entries)
	if !ok {
		fmt.Println("not in a container")
		return
	}
	fmt.Println(c.Runtime, c.ID[:12], c.PodUID, c.QoS)
	// Output: containerd 9f2c4e6a8b0d 0c5b7e2a-6f1d-4c8e-9a3b-2d4f6e8a1c3e burstable
}

// A process in its own private cgroup namespace shows only "0::/"; its mount
// table names the container.
func ExampleIdentifyFromMounts() {
	entries, _ := cgroup.ParseEntries([]byte("0::/\n"), "/proc/self/cgroup")
	if !cgroup.AtNamespaceRoot(entries) {
		return
	}
	table := "610 600 0:27 / /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup rw\n" +
		"611 600 254:1 /var/lib/docker/containers/2f4e6a8c0b1d3f5a7c9e0b2d4f6a8c1e3b5d7f9a0c2e4b6d8f1a3c5e7b9d0f2a/hostname /etc/hostname rw,relatime - ext4 /dev/vda1 rw\n"
	ms, err := mounts.Parse([]byte(table), "/proc/self/mountinfo", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	if c, ok := cgroup.IdentifyFromMounts(ms); ok {
		fmt.Println(c.Runtime, c.ID[:12])
	}
	// Output: docker 2f4e6a8c0b1d
}

func ExampleLayout_Resources() {
	scope := "/sys/fs/cgroup/system.slice/docker-2f4e6a8c0b1d3f5a7c9e0b2d4f6a8c1e3b5d7f9a0c2e4b6d8f1a3c5e7b9d0f2a.scope"
	host := hostroottest.New().
		File("/proc/1/mountinfo", "26 23 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw\n").
		File("/sys/fs/cgroup/cgroup.controllers", "cpu memory pids\n").
		File(scope+"/memory.current", "104857600\n").
		File(scope+"/memory.max", "max\n").
		File(scope+"/cpu.stat", "usage_usec 2500000\nnr_periods 40\nnr_throttled 3\nthrottled_usec 120000\n").
		File(scope+"/pids.current", "12\n").
		File(scope+"/pids.max", "1024\n").
		File("/proc/4711/cgroup", "0::/system.slice/docker-2f4e6a8c0b1d3f5a7c9e0b2d4f6a8c1e3b5d7f9a0c2e4b6d8f1a3c5e7b9d0f2a.scope\n")
	r, err := host.Root()
	if err != nil {
		fmt.Println(err)
		return
	}
	layout, err := cgroup.DetectLayout(context.Background(), r)
	if err != nil {
		fmt.Println(err)
		return
	}
	data, _ := r.ReadFile("/proc/4711/cgroup")
	entries, _ := cgroup.ParseEntries(data, "/proc/4711/cgroup")
	c, _ := cgroup.Identify(entries)
	s, err := layout.Resources(r, cgroup.ContainerEntries(entries, c))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("mode:", layout.Mode)
	fmt.Println("memory:", s.Memory.Usage, "bytes, limited:", s.Memory.Limit != cgroup.Unlimited)
	fmt.Println("cpu:", s.CPU.Usage, "throttled", s.CPU.Throttling.Throttled, "of", s.CPU.Throttling.Periods, "periods")
	fmt.Println("pids:", s.Pids.Current, "of", s.Pids.Max)
	// Output:
	// mode: v2
	// memory: 104857600 bytes, limited: false
	// cpu: 2.5s throttled 3 of 40 periods
	// pids: 12 of 1024
}
