package cgroup

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hostscope/hostscope/mounts"
)

// Lines every container's mount table has; the cases add the ones that
// name (or fail to name) the container.
const (
	miRootOverlay = "650 600 0:61 / / rw,relatime - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/AB12:/var/lib/docker/overlay2/l/CD34,upperdir=/var/lib/docker/overlay2/" + idF + "/diff,workdir=/var/lib/docker/overlay2/" + idF + "/work\n"
	miProc        = "651 650 0:64 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"
	miDev         = "652 650 0:65 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755\n"
	miSys         = "653 650 0:66 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro\n"
	miCgroup2     = "654 653 0:27 / /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup rw,nsdelegate,memory_recursiveprot\n"
	miShm         = "655 652 0:67 / /dev/shm rw,nosuid,nodev,noexec,relatime - tmpfs shm rw,size=65536k\n"
	miBase        = miRootOverlay + miProc + miDev + miSys
)

type mountCase struct {
	name, source, mountinfo string
	want                    *Container
}

var mountCases = []mountCase{
	{
		name:   "docker, cgroup v2, private cgroupns",
		source: "docker 20.10+ on cgroup v2 (cgroupns=private): cgroup2 root /, resolv.conf, hostname, hosts from /var/lib/docker/containers/<id>/; a named volume at /data",
		mountinfo: miBase + miCgroup2 + miShm +
			"656 650 254:1 /var/lib/docker/containers/<A>/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/vda1 rw\n" +
			"657 650 254:1 /var/lib/docker/containers/<A>/hostname /etc/hostname rw,relatime - ext4 /dev/vda1 rw\n" +
			"658 650 254:1 /var/lib/docker/containers/<A>/hosts /etc/hosts rw,relatime - ext4 /dev/vda1 rw\n" +
			"659 650 254:1 /var/lib/docker/volumes/<B>/_data /data rw,relatime - ext4 /dev/vda1 rw\n",
		want: &Container{ID: idA, Runtime: Docker},
	},
	{
		name:   "docker on a v1 host: cgroup mount roots",
		source: "this machine: docker cgroupfs on a hybrid host mounts each v1 controller with root /docker/<id>",
		mountinfo: miBase +
			"73 653 0:44 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,mode=755\n" +
			"74 73 0:28 /docker/<A> /sys/fs/cgroup/cpu ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,cpu\n" +
			"77 73 0:31 /docker/<A> /sys/fs/cgroup/memory ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,memory\n" +
			"82 73 0:36 /docker/<A> /sys/fs/cgroup/systemd ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,name=systemd\n" +
			"85 650 254:0 /var/lib/docker/containers/<A>/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/vda rw\n" +
			"86 650 254:0 /var/lib/docker/containers/<A>/hostname /etc/hostname rw,relatime - ext4 /dev/vda rw\n",
		want: &Container{ID: idA, Runtime: Docker, CgroupPath: "/docker/" + idA},
	},
	{
		name:   "docker on btrfs with a subvolume prefix",
		source: "openSUSE btrfs root: bind-mount roots carry the /@ subvolume; the cgroup2 root is outside the reader's namespace",
		mountinfo: miBase +
			"654 653 0:27 /../docker-<B>.scope /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup rw\n" +
			"657 650 0:40 /@/var/lib/docker/containers/<B>/hostname /etc/hostname rw,relatime - btrfs /dev/vda2 rw,subvolid=5,subvol=/@\n",
		want: &Container{ID: idB, Runtime: Docker, CgroupPath: "/../docker-" + idB + ".scope"},
	},
	{
		name:   "docker desktop",
		source: "Docker Desktop VM: /var/lib is its own file system, roots start at /docker/containers/<id>/",
		mountinfo: miBase + miCgroup2 +
			"657 650 254:1 /docker/containers/<C>/hostname /etc/hostname rw,relatime - ext4 /dev/vda1 rw\n" +
			"658 650 254:1 /docker/containers/notAnID/hosts /etc/hosts rw,relatime - ext4 /dev/vda1 rw\n",
		want: &Container{ID: idC, Runtime: Docker},
	},
	{
		name:   "docker in a Kubernetes pod: hostname is the sandbox's",
		source: "dockershim: containers share the pause container's resolv.conf and hostname; /etc/hosts is the kubelet's etc-hosts",
		mountinfo: miBase + miCgroup2 +
			"656 650 254:1 /var/lib/docker/containers/<D>/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/vda1 rw\n" +
			"657 650 254:1 /var/lib/docker/containers/<D>/hostname /etc/hostname rw,relatime - ext4 /dev/vda1 rw\n" +
			"658 650 254:1 /var/lib/kubelet/pods/<UA>/etc-hosts /etc/hosts rw,relatime - ext4 /dev/vda1 rw\n" +
			"659 652 254:1 /var/lib/kubelet/pods/<UA>/containers/app/2e8f1a3c /dev/termination-log rw,relatime - ext4 /dev/vda1 rw\n",
		want: &Container{Runtime: Docker, PodUID: uidA, SandboxID: idD},
	},
	{
		name:   "podman rootful in a pod",
		source: "this machine: podman 4 pod container, resolv.conf and hosts from the infra container's userdata, hostname and .containerenv from its own",
		mountinfo: miBase +
			"193 650 254:0 /run/containers/storage/overlay-containers/<A>/userdata/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/vda rw\n" +
			"194 650 254:0 /run/containers/storage/overlay-containers/<A>/userdata/hosts /etc/hosts rw,relatime - ext4 /dev/vda rw\n" +
			"196 650 254:0 /run/containers/storage/overlay-containers/<B>/userdata/.containerenv /run/.containerenv rw,relatime - ext4 /dev/vda rw\n" +
			"197 650 254:0 /run/containers/storage/overlay-containers/<B>/userdata/hostname /etc/hostname rw,relatime - ext4 /dev/vda rw\n",
		want: &Container{ID: idB, Runtime: Podman},
	},
	{
		name:   "podman rootless, cgroup v2",
		source: "rootless podman: userdata under ~/.local/share/containers/storage; the cgroup2 root is / in the container's namespace",
		mountinfo: miBase + miCgroup2 +
			"700 650 0:45 /home/ann/.local/share/containers/storage/overlay-containers/<C>/userdata/hostname /etc/hostname rw,nosuid,nodev,relatime - ext4 /dev/vda1 rw\n" +
			"701 650 0:45 /home/ann/.local/share/containers/storage/overlay-containers/<C>/userdata/.containerenv /run/.containerenv rw,nosuid,nodev,relatime - ext4 /dev/vda1 rw\n" +
			"702 650 0:45 /home/ann/.local/share/containers/storage/overlay-containers/<C>/userdata/run/secrets /run/secrets rw,nosuid,nodev,relatime - ext4 /dev/vda1 rw\n",
		want: &Container{ID: idC, Runtime: Podman},
	},
	{
		name:   "podman rootless v1: cgroup roots show the podman CLI's scope",
		source: "rootless podman on cgroup v1 cannot create cgroups: the roots name podman-<pid>.scope, no container",
		mountinfo: miBase +
			"660 653 0:30 /user.slice/user-1000.slice/user@1000.service/user.slice/podman-5094.scope /sys/fs/cgroup/systemd ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,xattr,name=systemd\n" +
			"700 650 0:45 /home/ann/.local/share/containers/storage/vfs-containers/<D>/userdata/hosts /etc/hosts rw,nosuid,nodev,relatime - ext4 /dev/vda1 rw\n" +
			"701 650 0:45 /home/ann/.local/share/containers/storage/vfs-containers/<D>/userdata/.containerenv /run/.containerenv rw,nosuid,nodev,relatime - ext4 /dev/vda1 rw\n",
		want: &Container{ID: idD, Runtime: Podman},
	},
	{
		name:   "cri-o pod: only secrets are the container's",
		source: "CRI-O (OpenShift, cgroup v2 private ns): hostname, resolv.conf and .containerenv from the sandbox's userdata, /run/secrets from the container's own",
		mountinfo: miBase + miCgroup2 +
			"800 650 0:25 /containers/storage/overlay-containers/<E>/userdata/resolv.conf /etc/resolv.conf rw,nosuid,nodev,noexec - tmpfs tmpfs rw,mode=755\n" +
			"801 650 0:25 /containers/storage/overlay-containers/<E>/userdata/hostname /etc/hostname rw,nosuid,nodev - tmpfs tmpfs rw,mode=755\n" +
			"802 650 0:25 /containers/storage/overlay-containers/<E>/userdata/.containerenv /run/.containerenv rw,nosuid,nodev - tmpfs tmpfs rw,mode=755\n" +
			"803 650 252:4 /ostree/deploy/rhcos/var/lib/kubelet/pods/<UB>/etc-hosts /etc/hosts rw,relatime - xfs /dev/vda4 rw\n" +
			"804 650 0:25 /containers/storage/overlay-containers/<F>/userdata/run/secrets /run/secrets rw,nosuid,nodev - tmpfs tmpfs rw,mode=755\n",
		want: &Container{ID: idF, Runtime: CRIO, PodUID: uidB, SandboxID: idE},
	},
	{
		name:   "cri-o pod without a secrets mount",
		source: "CRI-O: every userdata mount is the sandbox's, the container ID is not in the table",
		mountinfo: miBase + miCgroup2 +
			"801 650 0:25 /containers/storage/btrfs-containers/<E>/userdata/hostname /etc/hostname rw,nosuid,nodev - tmpfs tmpfs rw,mode=755\n" +
			"803 650 0:40 /lib/kubelet/pods/<UB>/etc-hosts /etc/hosts rw,relatime - btrfs /dev/vda2 rw,subvol=/@/var\n",
		want: &Container{Runtime: CRIO, PodUID: uidB, SandboxID: idE},
	},
	{
		name:   "cri-o pod on v1: the cgroup roots name the container",
		source: "CRI-O on cgroup v1 (OpenShift 3/4.6): controller mounts show the pod slice and crio-<id>.scope; userdata is the sandbox's",
		mountinfo: miBase +
			"660 653 0:30 /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<UC_>.slice/crio-<A>.scope /sys/fs/cgroup/memory ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,memory\n" +
			"661 653 0:31 /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<UC_>.slice/crio-<A>.scope /sys/fs/cgroup/cpu,cpuacct ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,cpu,cpuacct\n" +
			"801 650 0:25 /containers/storage/overlay-containers/<E>/userdata/hostname /etc/hostname rw,nosuid,nodev - tmpfs tmpfs rw,mode=755\n",
		want: &Container{ID: idA, Runtime: CRIO, PodUID: uidC, QoS: Burstable,
			CgroupPath: expand("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<UC_>.slice/crio-<A>.scope")},
	},
	{
		name:   "containerd pod: sandbox only",
		source: "containerd CRI: hostname and resolv.conf in io.containerd.grpc.v1.cri/sandboxes/<sandbox>/, hosts from the kubelet, service account volume",
		mountinfo: miBase + miCgroup2 +
			"900 650 259:1 /var/lib/kubelet/pods/<UA>/etc-hosts /etc/hosts rw,relatime - ext4 /dev/nvme0n1p1 rw\n" +
			"901 652 259:1 /var/lib/kubelet/pods/<UA>/containers/web/a1b2c3d4 /dev/termination-log rw,relatime - ext4 /dev/nvme0n1p1 rw\n" +
			"902 650 259:1 /var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/<B>/hostname /etc/hostname rw,relatime - ext4 /dev/nvme0n1p1 rw\n" +
			"903 650 259:1 /var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/<B>/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/nvme0n1p1 rw\n" +
			"904 650 0:70 / /var/run/secrets/kubernetes.io/serviceaccount ro,relatime - tmpfs tmpfs rw,size=1024k\n",
		want: &Container{Runtime: Containerd, PodUID: uidA, SandboxID: idB},
	},
	{
		name:   "containerd pod with an image volume",
		source: "containerd CRI mounts an image's VOLUME from io.containerd.grpc.v1.cri/containers/<id>/volumes/<hash>",
		mountinfo: miBase + miCgroup2 +
			"900 650 259:1 /var/lib/kubelet/pods/<UA>/etc-hosts /etc/hosts rw,relatime - ext4 /dev/nvme0n1p1 rw\n" +
			"902 650 259:1 /var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/<B>/hostname /etc/hostname rw,relatime - ext4 /dev/nvme0n1p1 rw\n" +
			"905 650 259:1 /var/lib/containerd/io.containerd.grpc.v1.cri/containers/<C>/volumes/<D> /var/lib/app rw,relatime - ext4 /dev/nvme0n1p1 rw\n",
		want: &Container{ID: idC, Runtime: Containerd, PodUID: uidA, SandboxID: idB},
	},
	{
		name:   "agent pod with the host's /run mounted",
		source: "a DaemonSet with hostPath /var/run at /host/var/run: other containers' rootfs and volume mounts propagate below it and are not this process's",
		mountinfo: miBase + miCgroup2 +
			"900 650 259:1 /var/lib/kubelet/pods/<UA>/etc-hosts /etc/hosts rw,relatime - ext4 /dev/nvme0n1p1 rw\n" +
			"902 650 259:1 /var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/<B>/hostname /etc/hostname rw,relatime - ext4 /dev/nvme0n1p1 rw\n" +
			"910 650 0:23 / /host/var/run rw,nosuid,nodev - tmpfs tmpfs rw,mode=755\n" +
			"911 910 0:80 / /host/var/run/containerd/io.containerd.runtime.v2.task/k8s.io/<E>/rootfs rw,relatime - overlay overlay rw,lowerdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/7/fs\n" +
			"912 911 259:1 /var/lib/containerd/io.containerd.grpc.v1.cri/containers/<E>/volumes/<F> /host/var/run/containerd/io.containerd.runtime.v2.task/k8s.io/<E>/rootfs/data rw,relatime - ext4 /dev/nvme0n1p1 rw\n" +
			"913 911 259:1 /var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/<D>/hostname /host/var/run/containerd/io.containerd.runtime.v2.task/k8s.io/<E>/rootfs/etc/hostname rw,relatime - ext4 /dev/nvme0n1p1 rw\n",
		want: &Container{Runtime: Containerd, PodUID: uidA, SandboxID: idB},
	},
	{
		name:   "k3s in docker: kubelet state in a docker volume",
		source: "k3s node in a docker container: the kubelet's pods directory lives in a docker named volume",
		mountinfo: miBase + miCgroup2 +
			"900 650 254:1 /var/lib/docker/volumes/<A>/_data/agent/containerd/io.containerd.grpc.v1.cri/sandboxes/<B>/hostname /etc/hostname rw,relatime - ext4 /dev/vda1 rw\n" +
			"901 650 254:1 /var/lib/docker/volumes/<C>/_data/pods/<UC>/etc-hosts /etc/hosts rw,relatime - ext4 /dev/vda1 rw\n",
		want: &Container{Runtime: Containerd, PodUID: uidC, SandboxID: idB},
	},
	{
		name:   "kind node's docker volume is not a container",
		source: "kind: /var is a docker volume (64 hex digits) mounted into the node container",
		mountinfo: miBase + miCgroup2 +
			"920 650 254:1 /var/lib/docker/volumes/<A>/_data /var rw,relatime - ext4 /dev/vda1 rw\n",
	},
	{
		name:   "this machine: host PID 1",
		source: "this machine's /proc/1/mountinfo (hybrid host running docker and podman): other containers' shm and overlay mounts are not PID 1's",
		mountinfo: "26 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard\n" +
			"24 23 0:22 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24683620k\n" +
			"30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n" +
			"34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n" +
			"39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n" +
			"40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n" +
			"41 26 254:0 /var/lib/docker /var/lib/docker rw,relatime shared:1 - ext4 /dev/vda rw,discard\n" +
			"55 26 0:48 / /var/lib/containers/storage/overlay-containers/<A>/userdata/shm rw,nosuid,nodev,noexec,relatime - tmpfs shm rw,size=64000k\n" +
			"58 43 0:49 / /var/lib/containers/storage/overlay/<B>/merged rw,relatime - overlay overlay rw,lowerdir=/var/lib/containers/storage/overlay/l/LOHA,upperdir=/var/lib/containers/storage/overlay/<B>/diff,workdir=/var/lib/containers/storage/overlay/<B>/work\n",
	},
	{
		name:   "a CRI-O node's host table",
		source: "host mountinfo of a CRI-O node: userdata shm and kubelet volume mounts at their own paths",
		mountinfo: "26 1 254:0 / / rw,relatime - btrfs /dev/vda2 rw\n" +
			"300 26 0:90 / /run/containers/storage/btrfs-containers/<A>/userdata/shm rw,nosuid,nodev,noexec,relatime - tmpfs shm rw,size=65536k\n" +
			"301 26 0:91 / /var/lib/kubelet/pods/<UA>/volumes/kubernetes.io~projected/kube-api-access-x7k2 rw,relatime - tmpfs tmpfs rw,size=3979820k\n",
	},
	{
		name:      "truncated table",
		source:    "a mountinfo cut after the root line",
		mountinfo: miRootOverlay,
	},
}

func TestIdentifyFromMounts(t *testing.T) {
	for _, tc := range mountCases {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := mounts.Parse([]byte(expand(tc.mountinfo)), "/proc/9/mountinfo", nil)
			if err != nil {
				t.Fatalf("mounts.Parse: %v", err)
			}
			got, ok := IdentifyFromMounts(ms)
			if ok != (tc.want != nil) {
				t.Fatalf("IdentifyFromMounts() ok = %v (%+v), want %+v\n(shape: %s)", ok, got, tc.want, tc.source)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("IdentifyFromMounts() mismatch (-want +got):\n%s\n(shape: %s)", diff, tc.source)
			}
			if got != nil {
				checkContainer(t, got)
			}
		})
	}
}

func TestMajority(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"a"}, "a"},
		{[]string{"a", "b"}, ""},
		{[]string{"a", "b", "a"}, "a"},
		{[]string{"b", "a", "a", "b", "b"}, "b"},
	} {
		if got := majority(tc.in); got != tc.want {
			t.Errorf("majority(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
