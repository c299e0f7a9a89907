package cgroup

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hostscope/hostscope/hostroot"
)

// IDs made up for these tests, in the shapes the runtimes use.
const (
	idA = "5d96cf7f265beda9cf0c26ef4243ed52566bf9d7c55a45f8d1a6e55e9b9b1325"
	idB = "b37523a53b4a3ee20463513755ac0ecd5e6a0a2edd70e34dc1d77cffb7decc0c"
	idC = "683447c10cc8af11dd4eabbd1fcfb9809823beb1e6ba3ad74de45321ad915a36"
	idD = "1ff135342e825ce1158d003d9a0b2361aed09b824ca87fc2bfb637dd5bae2d26"
	idE = "d330a5494d14cf1a4cc346363c23403800d9f4ad53a2f2b633f5f28807f0cbd4"
	idF = "af5d8bb09f2e9ea4765890e0f94855d0d178403035c9a8c4668dc8f46a423cf9"

	hexA = "535f2002b9f7f89ec689c846b6b81ec6" // 32 hex digits: static pod UIDs, ECS task IDs
	hexB = "857ce06bf9a21be1355cca5db3c7b88e"

	uidA = "8d1eac03-0bab-4534-b2a5-7e606d09cf94"
	uidB = "ed20eb98-ea70-4f2d-a560-9be3c444a62e"
	uidC = "40ba6f09-be38-4cbb-9339-45bae4114d10"
)

// expand replaces the placeholders <A>..<F> (container IDs), <HA>, <HB>
// (32 hex digits), <UA>..<UC> (pod UIDs) and <UA_>..<UC_> (pod UIDs as the
// systemd driver escapes them) in a test text.
var expand = strings.NewReplacer(
	"<A>", idA, "<B>", idB, "<C>", idC, "<D>", idD, "<E>", idE, "<F>", idF,
	"<HA>", hexA, "<HB>", hexB,
	"<UA>", uidA, "<UB>", uidB, "<UC>", uidC,
	"<UA_>", strings.ReplaceAll(uidA, "-", "_"), "<UB_>", strings.ReplaceAll(uidB, "-", "_"), "<UC_>", strings.ReplaceAll(uidC, "-", "_"),
).Replace

// v1File returns a cgroup v1 /proc/PID/cgroup with every controller at
// path, the layout of a cgroup v1 host with the usual controllers (order as
// a 5.x kernel writes them), plus a 0:: line when unified is not empty (a
// hybrid host).
func v1File(path, unified string) string {
	s := "12:rdma:/\n" +
		"11:memory:" + path + "\n" +
		"10:hugetlb:" + path + "\n" +
		"9:devices:" + path + "\n" +
		"8:perf_event:" + path + "\n" +
		"7:cpuset:" + path + "\n" +
		"6:net_cls,net_prio:" + path + "\n" +
		"5:cpu,cpuacct:" + path + "\n" +
		"4:blkio:" + path + "\n" +
		"3:freezer:" + path + "\n" +
		"2:pids:" + path + "\n" +
		"1:name=systemd:" + path + "\n"
	if unified != "" {
		s += "0::" + unified + "\n"
	}
	return s
}

type identCase struct {
	name   string
	source string // where the shape comes from
	cgroup string // /proc/PID/cgroup content, placeholders expanded
	want   *Container
}

// identCases is the corpus of cgroup texts, positives and negatives, for
// every runtime and layout Identify knows.
var identCases = []identCase{
	// docker
	{
		name:   "docker cgroupfs v1 hybrid",
		source: "dockerd --exec-opt native.cgroupdriver=cgroupfs, default cgroup-parent /docker; on a hybrid host the 0:: line stays the daemon's unit",
		cgroup: v1File("/docker/<A>", "/system.slice/docker.service"),
		want:   &Container{ID: idA, Runtime: Docker, CgroupPath: "/docker/" + idA},
	},
	{
		name:   "docker systemd v1",
		source: "dockerd native.cgroupdriver=systemd: system.slice/docker-<id>.scope in every hierarchy",
		cgroup: v1File("/system.slice/docker-<A>.scope", ""),
		want:   &Container{ID: idA, Runtime: Docker, CgroupPath: "/system.slice/docker-" + idA + ".scope"},
	},
	{
		name:   "docker systemd v2",
		source: "docker on a cgroup v2 host with cgroupns=host (docker run --cgroupns=host)",
		cgroup: "0::/system.slice/docker-<A>.scope\n",
		want:   &Container{ID: idA, Runtime: Docker, CgroupPath: "/system.slice/docker-" + idA + ".scope"},
	},
	{
		name:   "docker cgroupfs v2",
		source: "dockerd cgroupfs driver on cgroup v2: /docker/<id>",
		cgroup: "0::/docker/<A>\n",
		want:   &Container{ID: idA, Runtime: Docker, CgroupPath: "/docker/" + idA},
	},
	{
		name:   "docker systemd v2 seen from a sibling cgroup namespace",
		source: "kernel cgroup_namespaces(7): paths outside the reader's namespace start with /..",
		cgroup: "0::/../docker-<A>.scope\n",
		want:   &Container{ID: idA, Runtime: Docker, CgroupPath: "/../docker-" + idA + ".scope"},
	},
	{
		name:   "docker cgroupfs v2 from a sibling namespace: parent hidden",
		source: "cgroup_namespaces(7): /docker is above the common ancestor, only ../<id> shows; runtime unknown",
		cgroup: "0::/../<A>\n",
		want:   &Container{ID: idA, CgroupPath: "/../" + idA},
	},
	{
		name:   "docker cgroupfs with a custom parent",
		source: "docker run --cgroup-parent=/batch: /batch/<id>; the bare ID still names the container",
		cgroup: v1File("/batch/<A>", ""),
		want:   &Container{ID: idA, CgroupPath: "/batch/" + idA},
	},
	{
		name:   "docker-in-docker cgroupfs: innermost wins",
		source: "docker:dind image inside docker, both cgroupfs: /docker/<outer>/docker/<inner>",
		cgroup: v1File("/docker/<A>/docker/<B>", ""),
		want:   &Container{ID: idB, Runtime: Docker, CgroupPath: "/docker/" + idA + "/docker/" + idB},
	},
	{
		name:   "docker v1 centos co-mount order cpuacct,cpu",
		source: "CentOS 7 kernels list the co-mounted controllers as cpuacct,cpu",
		cgroup: expand("2:cpuacct,cpu:/system.slice/docker-<C>.scope\n1:name=systemd:/system.slice/docker-<C>.scope\n"),
		want:   &Container{ID: idC, Runtime: Docker, CgroupPath: "/system.slice/docker-" + idC + ".scope"},
	},

	// containerd
	{
		name:   "containerd CRI systemd v2 burstable",
		source: "kubelet --cgroup-driver=systemd (pkg/kubelet/cm: kubepods-<qos>-pod<uid, - as _>.slice) with containerd SystemdCgroup=true: cri-containerd-<id>.scope",
		cgroup: "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<UA_>.slice/cri-containerd-<A>.scope\n",
		want: &Container{ID: idA, Runtime: Containerd, PodUID: uidA, QoS: Burstable,
			CgroupPath: expand("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<UA_>.slice/cri-containerd-<A>.scope")},
	},
	{
		name:   "containerd CRI systemd guaranteed",
		source: "kubelet systemd driver: Guaranteed pods sit directly in kubepods.slice as kubepods-pod<uid>.slice",
		cgroup: "0::/kubepods.slice/kubepods-pod<UB_>.slice/cri-containerd-<B>.scope\n",
		want: &Container{ID: idB, Runtime: Containerd, PodUID: uidB, QoS: Guaranteed,
			CgroupPath: expand("/kubepods.slice/kubepods-pod<UB_>.slice/cri-containerd-<B>.scope")},
	},
	{
		name:   "containerd CRI cgroupfs v1 besteffort",
		source: "kubelet --cgroup-driver=cgroupfs: /kubepods/<qos>/pod<uid>/<id>; docker (dockershim) and containerd write the same path, so no runtime",
		cgroup: v1File("/kubepods/besteffort/pod<UC>/<C>", ""),
		want:   &Container{ID: idC, PodUID: uidC, QoS: BestEffort, CgroupPath: expand("/kubepods/besteffort/pod<UC>/<C>")},
	},
	{
		name:   "containerd CRI cgroupfs v2 guaranteed static pod",
		source: "kubelet cgroupfs driver, static pod: UID is the 32-hex hash kubelet computes (pkg/kubelet/config), no QoS level for Guaranteed",
		cgroup: "0::/kubepods/pod<HA>/<D>\n",
		want:   &Container{ID: idD, PodUID: hexA, QoS: Guaranteed, CgroupPath: expand("/kubepods/pod<HA>/<D>")},
	},
	{
		name:   "containerd slice:prefix:id under containerd.service",
		source: "runc given a systemd cgroupsPath \"slice:cri-containerd:id\" without the systemd driver uses it literally (containerd SystemdCgroup=false, kubelet systemd driver)",
		cgroup: v1File("/system.slice/containerd.service/kubepods-burstable-pod<UA_>.slice:cri-containerd:<A>", "/"),
		want: &Container{ID: idA, Runtime: Containerd, PodUID: uidA, QoS: Burstable,
			CgroupPath: expand("/system.slice/containerd.service/kubepods-burstable-pod<UA_>.slice:cri-containerd:<A>")},
	},
	{
		name:   "containerd slice:prefix:id guaranteed without .slice",
		source: "the same runc fallback, with a cgroup parent given without its .slice suffix",
		cgroup: "1:name=systemd:/kuberuntime/containerd/kubepods-pod<UB_>:cri-containerd:<B>\n",
		want: &Container{ID: idB, Runtime: Containerd, PodUID: uidB, QoS: Guaranteed,
			CgroupPath: expand("/kuberuntime/containerd/kubepods-pod<UB_>:cri-containerd:<B>")},
	},
	{
		name:   "containerd slice:prefix:id, static pod",
		source: "runc cgroupsPath fallback with a static pod's hash UID",
		cgroup: "0::/kubepods-besteffort-pod<HB>.slice:cri-containerd:<C>\n",
		want:   &Container{ID: idC, Runtime: Containerd, PodUID: hexB, QoS: BestEffort, CgroupPath: expand("/kubepods-besteffort-pod<HB>.slice:cri-containerd:<C>")},
	},
	{
		name:   "nerdctl systemd",
		source: "nerdctl run with the systemd cgroup manager: system.slice/nerdctl-<id>.scope (containerd client)",
		cgroup: "0::/system.slice/nerdctl-<D>.scope\n",
		want:   &Container{ID: idD, Runtime: Containerd, CgroupPath: "/system.slice/nerdctl-" + idD + ".scope"},
	},
	{
		name:   "containerd namespace as cgroupfs parent",
		source: "containerd CRI with cgroupfs and no kubelet parent: /<namespace>/<id>, here k8s.io",
		cgroup: "0::/k8s.io/<E>\n",
		want:   &Container{ID: idE, Runtime: Containerd, CgroupPath: "/k8s.io/" + idE},
	},
	{
		name:   "containerd systemd seen from another pod's cgroup namespace",
		source: "a DaemonSet pod with a private cgroupns (containerd default on v2) reading another pod's /proc/PID/cgroup",
		cgroup: "0::/../../kubepods-besteffort.slice/kubepods-besteffort-pod<UC_>.slice/cri-containerd-<F>.scope\n",
		want: &Container{ID: idF, Runtime: Containerd, PodUID: uidC, QoS: BestEffort,
			CgroupPath: expand("/../../kubepods-besteffort.slice/kubepods-besteffort-pod<UC_>.slice/cri-containerd-<F>.scope")},
	},
	{
		name:   "relative path without the pod's QoS level",
		source: "cgroup_namespaces(7): a reader inside the same QoS slice sees the path from the pod level down",
		cgroup: "0::/../pod<UA>/<A>\n",
		want:   &Container{ID: idA, PodUID: uidA, CgroupPath: expand("/../pod<UA>/<A>")},
	},

	// CRI-O
	{
		name:   "cri-o systemd v2 besteffort",
		source: "CRI-O conmon_cgroup/cgroup_manager=systemd: crio-<id>.scope in the pod slice (cri-o issue 811: crio- for containers)",
		cgroup: "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod<UB_>.slice/crio-<B>.scope\n",
		want: &Container{ID: idB, Runtime: CRIO, PodUID: uidB, QoS: BestEffort,
			CgroupPath: expand("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod<UB_>.slice/crio-<B>.scope")},
	},
	{
		name:   "cri-o systemd v1 static pod",
		source: "CRI-O on an OpenShift master: static pods' 32-hex UID in the systemd slice",
		cgroup: v1File("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<HA>.slice/crio-<C>.scope", ""),
		want: &Container{ID: idC, Runtime: CRIO, PodUID: hexA, QoS: Burstable,
			CgroupPath: expand("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<HA>.slice/crio-<C>.scope")},
	},
	{
		name:   "cri-o cgroupfs",
		source: "CRI-O cgroup_manager=cgroupfs: crio-<id> below /kubepods/<qos>/pod<uid>",
		cgroup: "0::/kubepods/burstable/pod<UA>/crio-<D>\n",
		want:   &Container{ID: idD, Runtime: CRIO, PodUID: uidA, QoS: Burstable, CgroupPath: expand("/kubepods/burstable/pod<UA>/crio-<D>")},
	},
	{
		name:   "cri-o conmon is the pod's, not the container's",
		source: "cri-o issue 811: crio-conmon-<id> is the monitor's scope; the kubelet charges it to the pod",
		cgroup: "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<UA_>.slice/crio-conmon-<A>.scope\n",
		want:   &Container{PodUID: uidA, QoS: Burstable, CgroupPath: expand("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<UA_>.slice")},
	},
	{
		name:   "cri-o sandbox cgroup under the systemd driver",
		source: "cAdvisor crio handler (PR 3838): with the systemd driver a crio-<id> without .scope in the pod slice is the sandbox",
		cgroup: "0::/kubepods.slice/kubepods-pod<UB_>.slice/crio-<E>\n",
		want: &Container{ID: idE, Runtime: CRIO, PodUID: uidB, QoS: Guaranteed, Sandbox: true,
			CgroupPath: expand("/kubepods.slice/kubepods-pod<UB_>.slice/crio-<E>")},
	},
	{
		name:   "cri-o rootfs .mount unit is not the container",
		source: "systemd mount units for container rootfs live beside the container (cAdvisor ignores .mount)",
		cgroup: "0::/kubepods/pod<UC>/crio-<F>.mount\n",
		want:   &Container{PodUID: uidC, QoS: Guaranteed, CgroupPath: expand("/kubepods/pod<UC>")},
	},

	// podman
	{
		name:   "podman rootful systemd v2",
		source: "podman run (cgroup_manager=systemd, cgroups v2): machine.slice/libpod-<id>.scope, processes in its container sub-cgroup",
		cgroup: "0::/machine.slice/libpod-<A>.scope/container\n",
		want:   &Container{ID: idA, Runtime: Podman, CgroupPath: "/machine.slice/libpod-" + idA + ".scope"},
	},
	{
		name:   "podman rootless systemd v2",
		source: "rootless podman under the user's systemd: user@UID.service/user.slice/libpod-<id>.scope/container",
		cgroup: "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-<B>.scope/container\n",
		want:   &Container{ID: idB, Runtime: Podman, CgroupPath: "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + idB + ".scope"},
	},
	{
		name:   "podman container in a pod, systemd",
		source: "podman pod create: machine-libpod_pod_<pod>.slice holds the pod's libpod-<id>.scope",
		cgroup: "0::/machine.slice/machine-libpod_pod_<C>.slice/libpod-<D>.scope/container\n",
		want:   &Container{ID: idD, Runtime: Podman, CgroupPath: expand("/machine.slice/machine-libpod_pod_<C>.slice/libpod-<D>.scope")},
	},
	{
		name:   "podman cgroupfs",
		source: "podman --cgroup-manager=cgroupfs: /libpod_parent/libpod-<id>",
		cgroup: v1File("/libpod_parent/libpod-<E>", ""),
		want:   &Container{ID: idE, Runtime: Podman, CgroupPath: "/libpod_parent/libpod-" + idE},
	},
	{
		name:   "podman cgroupfs pod",
		source: "podman --cgroup-manager=cgroupfs pod: /libpod_parent/<pod id>/libpod-<id>; the pod directory is no container",
		cgroup: "0::/libpod_parent/<A>/libpod-<F>\n",
		want:   &Container{ID: idF, Runtime: Podman, CgroupPath: expand("/libpod_parent/<A>/libpod-<F>")},
	},
	{
		name:   "podman --cgroups=split",
		source: "podman --cgroups=split (cephadm units): libpod-payload-<id>.scope below the calling service",
		cgroup: "0::/system.slice/system-ceph\\x2d" + uidA + ".slice/ceph-" + uidA + "@mon.a.service/libpod-payload-<A>.scope\n",
		want: &Container{ID: idA, Runtime: Podman,
			CgroupPath: "/system.slice/system-ceph\\x2d" + uidA + ".slice/ceph-" + uidA + "@mon.a.service/libpod-payload-" + idA + ".scope"},
	},
	{
		name:   "podman conmon systemd",
		source: "podman: conmon runs in libpod-conmon-<id>.scope, beside the container",
		cgroup: "0::/machine.slice/libpod-conmon-<A>.scope\n",
	},
	{
		name:   "podman conmon cgroupfs",
		source: "podman --cgroup-manager=cgroupfs puts every conmon in /libpod_parent/conmon",
		cgroup: "0::/libpod_parent/conmon\n",
	},
	{
		name:   "podman conmon cgroupfs in a pod",
		source: "podman cgroupfs pod: conmon beside the containers in the pod directory",
		cgroup: "0::/libpod_parent/<A>/conmon\n",
	},
	{
		name:   "rootless podman's own process scope",
		source: "rootless podman moves itself to podman-<pid>.scope: the CLI, not a container",
		cgroup: "0::/user.slice/user-1000.slice/user@1000.service/user.slice/podman-5094.scope\n",
	},

	// LXC
	{
		name:   "lxc 2.x",
		source: "LXC 1.x/2.x cgroup pattern lxc/%n",
		cgroup: v1File("/lxc/web01", ""),
		want:   &Container{ID: "web01", Runtime: LXC, Name: "web01", CgroupPath: "/lxc/web01"},
	},
	{
		name:   "lxc 3.x",
		source: "LXC 3 lxc.cgroup.dir default: lxc.payload/<name>",
		cgroup: "0::/lxc.payload/db_1\n",
		want:   &Container{ID: "db_1", Runtime: LXC, Name: "db_1", CgroupPath: "/lxc.payload/db_1"},
	},
	{
		name:   "lxc 4 / LXD with systemd inside",
		source: "LXC 4.0 (and LXD): lxc.payload.<name>, the guest's own systemd below it",
		cgroup: "0::/lxc.payload.u1/system.slice/nginx.service\n",
		want:   &Container{ID: "u1", Runtime: LXC, Name: "u1", CgroupPath: "/lxc.payload.u1"},
	},
	{
		name:   "lxc monitor",
		source: "LXC 4.0: the monitor process lives in lxc.monitor.<name>",
		cgroup: "0::/lxc.monitor.u1\n",
	},

	// systemd-nspawn and libvirt-lxc
	{
		name:   "systemd-nspawn payload",
		source: "systemd-machined: machine.slice/machine-<escaped name>.scope (systemd.unit(5) escaping, - as \\x2d), nspawn's payload sub-cgroup",
		cgroup: "0::/machine.slice/machine-debian\\x2dbookworm.scope/payload/system.slice/cron.service\n",
		want: &Container{ID: "debian-bookworm", Runtime: SystemdNspawn, Name: "debian-bookworm",
			CgroupPath: "/machine.slice/machine-debian\\x2dbookworm.scope"},
	},
	{
		name:   "systemd-nspawn v1",
		source: "systemd-nspawn on a cgroup v1 host (name=systemd only delegated)",
		cgroup: "1:name=systemd:/machine.slice/machine-build01.scope\n",
		want:   &Container{ID: "build01", Runtime: SystemdNspawn, Name: "build01", CgroupPath: "/machine.slice/machine-build01.scope"},
	},
	{
		name:   "systemd-nspawn supervisor is the monitor",
		source: "systemd-nspawn: the nspawn process itself sits in the scope's supervisor sub-cgroup",
		cgroup: "0::/machine.slice/machine-build01.scope/supervisor\n",
	},
	{
		name:   "libvirt-lxc",
		source: "libvirt LXC driver registers machine lxc-<pid>-<domain> with systemd-machined",
		cgroup: "0::/machine.slice/machine-lxc\\x2d4242\\x2dweb01.scope\n",
		want: &Container{ID: "lxc-4242-web01", Runtime: LibvirtLXC, Name: "web01",
			CgroupPath: "/machine.slice/machine-lxc\\x2d4242\\x2dweb01.scope"},
	},
	{
		name:   "libvirt qemu machine is a virtual machine",
		source: "libvirt QEMU driver: machine-qemu\\x2d<n>\\x2d<domain>.scope with libvirt/emulator below",
		cgroup: "0::/machine.slice/machine-qemu\\x2d3\\x2dvm1.scope/libvirt/emulator\n",
	},

	// ECS, Fargate
	{
		name:   "ecs on ec2",
		source: "ECS agent with docker on EC2: /ecs/<task id>/<docker id>",
		cgroup: v1File("/ecs/"+uidB+"/<B>", ""),
		want:   &Container{ID: idB, Runtime: ECS, CgroupPath: "/ecs/" + uidB + "/" + idB},
	},
	{
		name:   "ecs classic with cluster directory",
		source: "older ECS agents: /ecs/<cluster>/<32-hex task>/<docker id>",
		cgroup: "4:memory:/ecs/prod/<HA>/<C>\n",
		want:   &Container{ID: idC, Runtime: ECS, CgroupPath: expand("/ecs/prod/<HA>/<C>")},
	},
	{
		name:   "fargate 1.4",
		source: "Fargate platform 1.4 (containerd): /ecs/<task>/<task>-<number>",
		cgroup: v1File("/ecs/<HB>/<HB>-2748120563", ""),
		want:   &Container{ID: hexB + "-2748120563", Runtime: ECS, CgroupPath: expand("/ecs/<HB>/<HB>-2748120563")},
	},
	{
		name:   "fargate 1.4 name=systemd form",
		source: "Fargate 1.4: the name=systemd line omits the task directory",
		cgroup: "1:name=systemd:/ecs/<HB>-2748120563\n",
		want:   &Container{ID: hexB + "-2748120563", Runtime: ECS, CgroupPath: expand("/ecs/<HB>-2748120563")},
	},
	{
		name:   "ecs task directory alone",
		source: "the task cgroup holds no process itself; a UUID task directory is no container ID",
		cgroup: "0::/ecs/" + uidB + "\n",
	},

	// garden
	{
		name:   "garden",
		source: "Cloud Foundry garden-runc: /garden/<handle>, handles in 8-4-4-4-4 hex form",
		cgroup: "10:freezer:/garden/0f3a2b4c-51d6-4e7f-7a8b-9c0d\n",
		want:   &Container{ID: "0f3a2b4c-51d6-4e7f-7a8b-9c0d", Runtime: Garden, CgroupPath: "/garden/0f3a2b4c-51d6-4e7f-7a8b-9c0d"},
	},
	{
		name:   "garden under garden.service",
		source: "garden-runc started by systemd: system.slice/garden.service/garden/<handle>",
		cgroup: "1:name=systemd:/system.slice/garden.service/garden/0f3a2b4c-51d6-4e7f-7a8b-9c0d\n",
		want:   &Container{ID: "0f3a2b4c-51d6-4e7f-7a8b-9c0d", Runtime: Garden, CgroupPath: "/system.slice/garden.service/garden/0f3a2b4c-51d6-4e7f-7a8b-9c0d"},
	},

	// nesting
	{
		name:   "kind node pod: innermost wins",
		source: "kind (docker node, kubelet cgroup root kubelet.slice, systemd driver): kubelet-kubepods-... slices below the node's docker scope",
		cgroup: "0::/system.slice/docker-<A>.scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod<UA_>.slice/cri-containerd-<B>.scope\n",
		want: &Container{ID: idB, Runtime: Containerd, PodUID: uidA, QoS: BestEffort,
			CgroupPath: expand("/system.slice/docker-<A>.scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod<UA_>.slice/cri-containerd-<B>.scope")},
	},
	{
		name:   "kind node's own systemd",
		source: "kind: the node container runs systemd; its init.scope is inside the node container",
		cgroup: "0::/system.slice/docker-<A>.scope/init.scope\n",
		want:   &Container{ID: idA, Runtime: Docker, CgroupPath: "/system.slice/docker-" + idA + ".scope"},
	},
	{
		name:   "kind node's kubelet",
		source: "kind: kubelet.service inside the node container belongs to the node container",
		cgroup: "0::/system.slice/docker-<A>.scope/system.slice/kubelet.service\n",
		want:   &Container{ID: idA, Runtime: Docker, CgroupPath: "/system.slice/docker-" + idA + ".scope"},
	},
	{
		name:   "minikube cgroupfs pod inside the node container",
		source: "minikube docker driver with kubelet cgroupfs driver: /kubepods/<qos>/pod<uid>/<id> below the node's scope",
		cgroup: "0::/system.slice/docker-<C>.scope/kubepods/burstable/pod<UB>/<D>\n",
		want:   &Container{ID: idD, PodUID: uidB, QoS: Burstable, CgroupPath: expand("/system.slice/docker-<C>.scope/kubepods/burstable/pod<UB>/<D>")},
	},
	{
		name:   "kind on v1: 0:: shows the node, v1 lines the pod container",
		source: "kind on a hybrid host: the node's containerd.service holds the unified line, v1 controllers are delegated to the pod",
		cgroup: v1File("/docker/<A>/kubelet/kubepods/burstable/pod<UC>/<E>", "/docker/<A>/system.slice/containerd.service"),
		want:   &Container{ID: idE, PodUID: uidC, QoS: Burstable, CgroupPath: expand("/docker/<A>/kubelet/kubepods/burstable/pod<UC>/<E>")},
	},
	{
		name:   "podman node running kubernetes with docker",
		source: "a kubelet (dockershim) inside a podman cgroupfs container: innermost docker scope wins",
		cgroup: "0::/libpod_parent/libpod-<A>/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<HA>.slice/docker-<B>.scope\n",
		want: &Container{ID: idB, Runtime: Docker, PodUID: hexA, QoS: Burstable,
			CgroupPath: expand("/libpod_parent/libpod-<A>/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<HA>.slice/docker-<B>.scope")},
	},
	{
		name:   "conmon of a pod nested in a kind node",
		source: "CRI-O in a node container: the conmon scope is the inner pod's, not the node container's",
		cgroup: "0::/system.slice/docker-<A>.scope/kubepods.slice/kubepods-pod<UB_>.slice/crio-conmon-<C>.scope\n",
		want:   &Container{PodUID: uidB, QoS: Guaranteed, CgroupPath: expand("/system.slice/docker-<A>.scope/kubepods.slice/kubepods-pod<UB_>.slice")},
	},
	{
		name:   "a container's own sub-cgroup",
		source: "kube-proxy creates a child cgroup below its container (cgroupfs driver)",
		cgroup: v1File("/kubepods/besteffort/pod<UA>/<A>/kube-proxy", ""),
		want:   &Container{ID: idA, PodUID: uidA, QoS: BestEffort, CgroupPath: expand("/kubepods/besteffort/pod<UA>/<A>")},
	},
	{
		name:   "mount unit inside a podman container",
		source: "systemd inside a podman cgroupfs container mounts a docker shm: the .mount unit is not a container, the podman one is",
		cgroup: "0::/libpod_parent/libpod-<A>/system.slice/var-lib-docker-containers-<B>-mounts-shm.mount\n",
		want:   &Container{ID: idA, Runtime: Podman, CgroupPath: "/libpod_parent/libpod-" + idA},
	},

	// Kubernetes levels
	{
		name:   "pod cgroup, no container",
		source: "kubelet cgroupfs: the pod's own cgroup",
		cgroup: "0::/kubepods/burstable/pod<UA>\n",
		want:   &Container{PodUID: uidA, QoS: Burstable, CgroupPath: expand("/kubepods/burstable/pod<UA>")},
	},
	{
		name:   "QoS directory the kubelet does not make",
		source: "kubelet makes only besteffort and burstable below kubepods: another name says nothing about QoS",
		cgroup: "0::/kubepods/custom/pod<UB>/<B>\n",
		want:   &Container{ID: idB, PodUID: uidB, CgroupPath: expand("/kubepods/custom/pod<UB>/<B>")},
	},
	{
		name:   "doubled kubepods root",
		source: "kubelet --cgroup-root=/kubepods with cgroupfs gives /kubepods/kubepods/<qos>/...",
		cgroup: "0::/kubepods/kubepods/besteffort/pod<UC>/<C>\n",
		want:   &Container{ID: idC, PodUID: uidC, QoS: BestEffort, CgroupPath: expand("/kubepods/kubepods/besteffort/pod<UC>/<C>")},
	},
	{
		name:   "systemd-style names without .slice",
		source: "kubelet cgroupfs driver with systemd-style cgroup names (pod level carries its QoS)",
		cgroup: "0::/kubepods/kubepods-besteffort/kubepods-besteffort-pod<UA_>/<D>\n",
		want:   &Container{ID: idD, PodUID: uidA, QoS: BestEffort, CgroupPath: expand("/kubepods/kubepods-besteffort/kubepods-besteffort-pod<UA_>/<D>")},
	},
	{
		name:   "invalid container name in a pod slice",
		source: "a non-container scope in a pod slice keeps the pod",
		cgroup: "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod<UB_>.slice/helper.scope\n",
		want:   &Container{PodUID: uidB, QoS: BestEffort, CgroupPath: expand("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod<UB_>.slice")},
	},

	// host processes and look-alikes
	{name: "host service", source: "systemd service on a v2 host", cgroup: "0::/system.slice/sshd.service\n"},
	{name: "user session", source: "logind session scope", cgroup: "0::/user.slice/user-1000.slice/session-3.scope\n"},
	{name: "host session v1", source: "logind session on a v1 host", cgroup: v1File("/user.slice/user-0.slice/session-31207.scope", "")},
	{name: "init.scope", source: "systemd PID 1", cgroup: "0::/init.scope\n"},
	{name: "user manager init.scope", source: "systemd --user's own scope", cgroup: "0::/user.slice/user-1000.slice/user@1000.service/init.scope\n"},
	{
		name:   "overlay merged .mount unit embedding a layer ID",
		source: "systemd mount unit for a docker overlay2 layer: 64 hex digits that are no container ID",
		cgroup: "0::/system.slice/var-lib-docker-overlay2-<A>-merged.mount\n",
	},
	{
		name:   "containerd rootfs .mount unit",
		source: "systemd mount unit for a containerd task's rootfs",
		cgroup: "0::/system.slice/run-containerd-io.containerd.runtime.v2.task-k8s.io-<B>-rootfs.mount\n",
	},
	{name: "docker daemon", source: "dockerd's own unit", cgroup: "0::/system.slice/docker.service\n"},
	{name: "containerd daemon", source: "containerd's own unit on a hybrid host", cgroup: v1File("/system.slice/containerd.service", "/system.slice/containerd.service")},
	{name: "gnome terminal scope with a UUID", source: "vte-spawn-<uuid>.scope of GNOME Terminal", cgroup: "0::/user.slice/user-1000.slice/user@1000.service/app.slice/app-org.gnome.Terminal.slice/vte-spawn-" + uidA + ".scope\n"},
	{name: "coredump slice", source: "systemd-coredump's escaped slice name", cgroup: "0::/system.slice/system-systemd\\x2dcoredump.slice\n"},
	{name: "legacy systemd session", source: "systemd before 205: /user/<uid>.user/<n>.session", cgroup: "2:cpu:/user/1000.user/c2.session\n1:name=systemd:/user/1000.user/c2.session\n"},
	{name: "kubepods root", source: "the kubelet's top cgroup", cgroup: "10:hugetlb:/kubepods\n"},
	{name: "kubepods QoS level", source: "the kubelet's QoS cgroup", cgroup: "0::/kubepods.slice/kubepods-burstable.slice\n"},
	{name: "root everywhere", source: "this machine: PID 1 on a hybrid host", cgroup: "9:name=systemd:/\n8:pids:/\n7:blkio:/\n6:freezer:/\n5:devices:/\n4:memory:/\n3:cpuset:/\n2:cpuacct:/\n1:cpu:/\n0::/\n"},
	{name: "named hierarchy besides systemd", source: "a second named hierarchy (name=elogind) at the root", cgroup: "14:name=elogind:/\n13:name=systemd:/\n12:pids:/\n"},
	{
		name:   "this machine: a service cgroup with a hex name",
		source: "this machine: memory controller in a 32-hex-named service cgroup, everything else at the root",
		cgroup: "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/<HA>\n1:cpu:/\n0::/\n",
	},
	{name: "32-hex docker scope", source: "a docker- scope whose name is not a container ID", cgroup: "0::/system.slice/docker-<HA>.scope\n"},
	{name: "63 hex digits", source: "truncated ID", cgroup: "1:name=systemd:/docker/" + idA[:63] + "\n"},
	{name: "65 hex digits", source: "an ID with a digit too many", cgroup: "0::/user.slice/user-1000.slice/user@1000.service/libpod-" + idA + "0\n"},
	{name: "upper-case hex", source: "runtimes write lower-case IDs", cgroup: "0::/docker/" + strings.ToUpper(idA) + "\n"},
	{name: "non-hex", source: "64 characters that are not hex", cgroup: "0::/docker/" + idA[:60] + "wxyz\n"},
	{name: "truncated line", source: "a line cut mid-ID", cgroup: "4:memory:/docker/" + idA[:30]},
	{name: "empty file", source: "an exited process's empty file", cgroup: ""},
}

func TestIdentify(t *testing.T) {
	for _, tc := range identCases {
		t.Run(tc.name, func(t *testing.T) {
			entries, err := ParseEntries([]byte(expand(tc.cgroup)), "/proc/1/cgroup")
			if err != nil {
				t.Fatalf("ParseEntries: %v", err)
			}
			got, ok := Identify(entries)
			if ok != (tc.want != nil) || (ok && got == nil) {
				t.Fatalf("Identify() ok = %v, got %+v; want %+v\n(shape: %s)", ok, got, tc.want, tc.source)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Identify() mismatch (-want +got):\n%s\n(shape: %s)", diff, tc.source)
			}
			if got != nil {
				checkContainer(t, got)
			}
		})
	}
}

// TestIdentifyLineChoice covers which line of a v1 or hybrid file wins.
func TestIdentifyLineChoice(t *testing.T) {
	tests := []struct {
		name, source, cgroup string
		wantID               string
	}{
		{
			name:   "first controller line naming a container",
			source: "lines the runtime did not manage stay elsewhere; the first line that names a container wins",
			cgroup: "3:cpu:/invalid\n2:pids:/docker/<A>\n1:name=systemd:/nope\n",
			wantID: idA,
		},
		{
			name:   "name=systemd before other lines",
			source: "systemd-driver runtimes always manage name=systemd on v1",
			cgroup: "5:memory:/docker/<B>\n1:name=systemd:/system.slice/docker-<A>.scope\n",
			wantID: idA,
		},
		{
			name:   "0:: line on a hybrid host when it names a container",
			source: "systemd-driver runtime on a hybrid host: the unified line names the container too",
			cgroup: "5:memory:/docker/<B>\n1:name=systemd:/docker/<B>\n0::/system.slice/docker-<A>.scope\n",
			wantID: idA,
		},
		{
			name:   "deeper nesting beats the line order",
			source: "a kind node on a hybrid host whose unified line names the pod container and v1 lines only the node",
			cgroup: "4:memory:/docker/<A>\n1:name=systemd:/docker/<A>\n0::/docker/<C>/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-pod<UA_>.slice/cri-containerd-<B>.scope\n",
			wantID: idB,
		},
		{
			name:   "mixed roots agree",
			source: "containerd 1.4: some controllers under containerd.service, others at the root, same container",
			cgroup: "8:memory:/system.slice/containerd.service/kubepods-besteffort-pod<UA_>.slice:cri-containerd:<D>\n4:cpuset:/kubepods-besteffort-pod<UA_>.slice:cri-containerd:<D>\n0::/\n",
			wantID: idD,
		},
		{
			name:   "pod-only line loses to a container line",
			source: "a hybrid host where one hierarchy stops at the pod level",
			cgroup: "4:memory:/kubepods/burstable/pod<UA>\n2:pids:/kubepods/burstable/pod<UA>/<E>\n",
			wantID: idE,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			entries, err := ParseEntries([]byte(expand(tc.cgroup)), "/proc/1/cgroup")
			if err != nil {
				t.Fatal(err)
			}
			got, ok := Identify(entries)
			if !ok || got.ID != tc.wantID {
				t.Errorf("Identify() = %+v, %v; want ID %s (%s)", got, ok, tc.wantID, tc.source)
			}
		})
	}
}

// TestIdentifyMalformed runs identification over files with broken lines:
// ParseEntries reports the first one and still returns the good entries.
func TestIdentifyMalformed(t *testing.T) {
	tests := []struct {
		name, cgroup string
		wantLine     string // in the error
		wantID       string
	}{
		{"garbage first line", "other_line\n4:memory:/docker/<A>\n", "line 1", idA},
		{"missing hierarchy ID", ":name=systemd:/docker/<B>\n4:memory:/docker/<A>\n", "line 1", idA},
		{"non-numeric hierarchy ID", "a:name=systemd:/docker/<B>\n", "line 1", ""},
		{"two fields", "13:/docker/<B>\n2:pids:/docker/<A>\n", "line 1", idA},
		{"space-damaged line", "pids: /\n", "line 1", ""},
		{"truncated after the controller", "1:name=systemd", "line 1", ""},
		{"empty controller name", "2:cpu,:/docker/<A>\n", "line 1", ""},
		{"broken last line", "2:pids:/docker/<A>\n1:name=syst", "line 2", idA},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			entries, err := ParseEntries([]byte(expand(tc.cgroup)), "/proc/7/cgroup")
			if !errors.Is(err, hostroot.ErrMalformed) || !strings.Contains(err.Error(), "/proc/7/cgroup "+tc.wantLine+":") {
				t.Fatalf("ParseEntries error = %v, want ErrMalformed naming /proc/7/cgroup %s", err, tc.wantLine)
			}
			got, ok := Identify(entries)
			gotID := ""
			if ok {
				gotID = got.ID
			}
			if gotID != tc.wantID {
				t.Errorf("Identify() ID = %q, want %q", gotID, tc.wantID)
			}
		})
	}
}

func TestContainerEntries(t *testing.T) {
	cg := expand("11:memory:/docker/<A>/docker/<B>/sub\n" +
		"5:cpu,cpuacct:/docker/<A>/docker/<B>\n" +
		"2:pids:/docker/<A>\n" +
		"1:name=systemd:/docker/<A>/docker/<B>/sub\n" +
		"0::/system.slice/docker.service\n")
	entries, err := ParseEntries([]byte(cg), "/proc/1/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	c, ok := Identify(entries)
	if !ok {
		t.Fatal("no container")
	}
	want := []Entry{
		{HierarchyID: 11, Controllers: []string{"memory"}, Path: "/docker/" + idA + "/docker/" + idB},
		{HierarchyID: 5, Controllers: []string{"cpu", "cpuacct"}, Path: "/docker/" + idA + "/docker/" + idB},
		{HierarchyID: 1, Controllers: []string{"name=systemd"}, Path: "/docker/" + idA + "/docker/" + idB},
	}
	if diff := cmp.Diff(want, ContainerEntries(entries, c)); diff != "" {
		t.Errorf("ContainerEntries() mismatch (-want +got):\n%s", diff)
	}

	pod := &Container{PodUID: uidA}
	pe, _ := ParseEntries([]byte(expand("0::/kubepods/burstable/pod<UA>/crio-conmon-<A>\n")), "x")
	wantPod := []Entry{{Path: "/kubepods/burstable/pod" + uidA}}
	if diff := cmp.Diff(wantPod, ContainerEntries(pe, pod)); diff != "" {
		t.Errorf("ContainerEntries(pod) mismatch (-want +got):\n%s", diff)
	}

	// A container found from the mount table of a process at the root of
	// the reader's cgroup namespace: the namespace's root is its cgroup.
	root, _ := ParseEntries([]byte("0::/\n"), "x")
	fromMounts := &Container{ID: idA, Runtime: Docker}
	if diff := cmp.Diff([]Entry{{Path: "/"}}, ContainerEntries(root, fromMounts)); diff != "" {
		t.Errorf("ContainerEntries(from mounts) mismatch (-want +got):\n%s", diff)
	}
	if got := ContainerEntries(entries, &Container{ID: idE, Runtime: Docker}); got != nil {
		t.Errorf("ContainerEntries(lines naming other containers) = %+v, want none", got)
	}
}

func TestAtNamespaceRoot(t *testing.T) {
	for _, tc := range []struct {
		cgroup string
		want   bool
	}{
		{"0::/\n", true},
		{"2:pids:/\n1:name=systemd:/\n0::/\n", true},
		{"0::/../x\n", false},
		{"4:memory:/docker/x\n0::/\n", false},
		{"", false},
	} {
		entries, _ := ParseEntries([]byte(tc.cgroup), "x")
		if got := AtNamespaceRoot(entries); got != tc.want {
			t.Errorf("AtNamespaceRoot(%q) = %v, want %v", tc.cgroup, got, tc.want)
		}
	}
}

func TestMarkSandbox(t *testing.T) {
	c := Container{ID: idA, Runtime: Containerd, PodUID: uidA}
	c.MarkSandbox()
	want := Container{ID: idA, Runtime: Containerd, PodUID: uidA, Sandbox: true, SandboxID: idA}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("MarkSandbox mismatch (-want +got):\n%s", diff)
	}
}

// checkContainer fails the test when c breaks an invariant every
// identification result keeps.
func checkContainer(tb testing.TB, c *Container) {
	tb.Helper()
	if c.ID == "" && c.PodUID == "" && c.SandboxID == "" {
		tb.Errorf("empty Container %+v", c)
	}
	if c.ID != "" && !validID(c.Runtime, c.ID) {
		tb.Errorf("ID %q is not a %q ID", c.ID, c.Runtime)
	}
	if c.ID == "" && c.Runtime != "" && c.SandboxID == "" {
		tb.Errorf("runtime %q without an ID or sandbox", c.Runtime)
	}
	if c.PodUID != "" {
		if u, ok := podUID(c.PodUID); !ok || u != c.PodUID {
			tb.Errorf("PodUID %q has no pod UID shape", c.PodUID)
		}
	}
	switch c.QoS {
	case "", Guaranteed, Burstable, BestEffort:
	default:
		tb.Errorf("QoS %q", c.QoS)
	}
	if c.QoS != "" && c.PodUID == "" {
		tb.Errorf("QoS %q without a pod", c.QoS)
	}
	if c.SandboxID != "" && !isHex64(c.SandboxID) {
		tb.Errorf("SandboxID %q", c.SandboxID)
	}
}

// validID reports whether id has the shape runtime gives its IDs.
func validID(runtime, id string) bool {
	switch runtime {
	case Docker, Containerd, CRIO, Podman, "":
		return isHex64(id)
	case ECS:
		return isHex64(id) || isFargateID(id)
	case Garden:
		return isName(id, 128)
	case LXC:
		return isName(id, 253)
	case SystemdNspawn, LibvirtLXC:
		return isName(id, 64)
	}
	return false
}
