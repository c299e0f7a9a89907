package hostscope

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hostscope/hostscope/mounts"
)

func TestSensitive(t *testing.T) {
	for p, want := range map[string]string{
		"/":                                   "/",
		"/proc":                               "/proc",
		"/proc/sys/kernel":                    "/proc",
		"/procfs":                             "",
		"/sys/fs/cgroup":                      "/sys",
		"/dev/kvm":                            "/dev",
		"/dev/shm":                            "/dev",
		"/etc/kubernetes/pki":                 "/etc",
		"/root/.ssh":                          "/root",
		"/home/alice/src":                     "/home",
		"/var/lib/kubelet/pods/x/volumes":     "/var/lib/kubelet",
		"/var/lib/kubeletx":                   "",
		"/var":                                "/var/lib/kubelet",
		"/var/lib":                            "/var/lib/kubelet",
		"/run/docker.sock":                    "docker.sock",
		"/var/run/docker.sock":                "docker.sock",
		"/run/k3s/containerd/containerd.sock": "containerd.sock",
		"/run/user/1000/podman/podman.sock":   "podman.sock",
		"/var/run/crio/crio.sock":             "crio.sock",
		"/run":                                "runtime sockets",
		"/var/run":                            "runtime sockets",
		"/run/containerd":                     "runtime sockets",
		"/run/udev":                           "",
		"/srv/data":                           "",
		"/var/lib/docker/volumes/v/_data":     "",
		"/tmp/docker.socket":                  "",
	} {
		if got := sensitive(p); got != want {
			t.Errorf("sensitive(%q) = %q, want %q", p, got, want)
		}
	}
}

func TestHostPath(t *testing.T) {
	host := []mounts.Mount{
		{ID: 1, ParentID: 0, Major: 254, Minor: 0, Root: "/", MountPoint: "/"},
		{ID: 2, ParentID: 1, Major: 254, Minor: 0, Root: "/var/lib/docker", MountPoint: "/var/lib/docker"},
		{ID: 3, ParentID: 1, Major: 254, Minor: 1, Root: "/data", MountPoint: "/srv"},
		{ID: 4, ParentID: 1, Major: 0, Minor: 4, Root: "net:[4026531833]", MountPoint: "/run/docker/netns/default"},
		{ID: 5, ParentID: 1, Major: 254, Minor: 1, Root: "/data", MountPoint: "/mnt/data"},
	}
	for _, tc := range []struct {
		major, minor uint32
		root, want   string
		ok           bool
	}{
		{254, 0, "/etc", "/etc", true},
		{254, 0, "/", "/", true},
		// The longest root wins: the bind of /var/lib/docker names the
		// same place as the root mount would.
		{254, 0, "/var/lib/docker/volumes/v/_data", "/var/lib/docker/volumes/v/_data", true},
		// Two mounts of one root: the shorter mount point.
		{254, 1, "/data/www", "/srv/www", true},
		{254, 1, "/other", "", false},
		{0, 4, "net:[4026531833]", "/run/docker/netns/default", true},
		{0, 4, "net:[1]", "", false},
		{0, 99, "/", "", false},
	} {
		got, ok := hostPath(host, &mounts.Mount{Major: tc.major, Minor: tc.minor, Root: tc.root})
		if got != tc.want || ok != tc.ok {
			t.Errorf("hostPath(%d:%d %s) = %q, %v; want %q, %v", tc.major, tc.minor, tc.root, got, ok, tc.want, tc.ok)
		}
	}
}

// A container whose root is the host's own "/" (a chroot-style runtime
// given the host's root) is listed; its submounts fold into it.
func TestHostMountsRootShared(t *testing.T) {
	host := []mounts.Mount{
		{ID: 1, Major: 254, Minor: 0, Root: "/", MountPoint: "/", Options: []string{"rw"}},
		{ID: 2, ParentID: 1, Major: 0, Minor: 25, Root: "/", MountPoint: "/run", Options: []string{"rw"}},
	}
	ctr := []mounts.Mount{
		{ID: 10, Major: 254, Minor: 0, Root: "/", MountPoint: "/", Options: []string{"ro"}},
		{ID: 11, ParentID: 10, Major: 0, Minor: 25, Root: "/", MountPoint: "/run", Options: []string{"rw"}},
		{ID: 12, ParentID: 10, Major: 0, Minor: 25, Root: "/docker.sock", MountPoint: "/sock", Options: []string{"rw"}},
	}
	want := []HostMount{
		{Source: "/", Target: "/", ReadOnly: true, Sensitive: "/"},
		{Source: "/run/docker.sock", Target: "/sock", Sensitive: "docker.sock"},
	}
	if diff := cmp.Diff(want, hostMounts(ctr, host, nil)); diff != "" {
		t.Errorf("hostMounts (-want +got):\n%s", diff)
	}
}
