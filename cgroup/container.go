package cgroup

// Runtime names, exactly as every hostscope output spells them.
const (
	Docker        = "docker"
	Containerd    = "containerd"
	CRIO          = "cri-o"
	Podman        = "podman"
	LXC           = "lxc"
	SystemdNspawn = "systemd-nspawn"
	ECS           = "ecs"
	Garden        = "garden"
	LibvirtLXC    = "libvirt-lxc"
)

// Kubernetes QoS classes, as Container.QoS spells them.
const (
	Guaranteed = "guaranteed"
	Burstable  = "burstable"
	BestEffort = "besteffort"
)

// Container identifies the container a process runs in. The identity fields
// come from the cgroup path (Identify) or, behind a private cgroup namespace,
// from the process's mount table (IdentifyFromMounts); the naming fields are
// filled by the hostscope package from the runtime's state files when they
// are readable, and are empty otherwise.
//
// A Container with an empty ID places a process in a Kubernetes pod but in
// none of its containers: a CRI-O conmon monitor, which the kubelet charges
// to the pod, or a process whose mount table names only the pod's sandbox.
type Container struct {
	// ID is the container's full ID in the runtime's own form: 64
	// lower-case hex digits for docker, containerd, cri-o and podman; for
	// ecs also "<32 hex>-<number>" (Fargate); the handle for garden; the
	// container or machine name for lxc, systemd-nspawn and libvirt-lxc.
	ID string
	// Runtime is one of the runtime constants (Docker, Containerd, ...), or
	// empty when the path fits several runtimes: a bare ID under a
	// cgroupfs-driver /kubepods tree is docker's or containerd's alike.
	Runtime string
	// PodUID is the Kubernetes pod UID as the kubelet knows it: the dashed
	// 8-4-4-4-12 form (undoing the systemd driver's '_' escape), or the 32
	// hex digits of a static pod's hash, which is the kubelet's UID for it
	// and has no dashed form. Empty outside Kubernetes.
	PodUID string
	// QoS is the pod's QoS class: Guaranteed, Burstable or BestEffort;
	// empty when the path does not say (a path that starts below the QoS
	// level, or a QoS directory the kubelet does not create).
	QoS string
	// Sandbox marks a pod's sandbox (pause or infra) container rather than a
	// workload. The path shows it only for CRI-O's systemd-driver sandbox
	// cgroup (a "crio-<id>" without ".scope" in a pod slice); runtime state
	// shows it everywhere, and MarkSandbox records it.
	Sandbox bool
	// CgroupPath is the container's own cgroup in the line the identity came
	// from: that line's path cut after the component naming the container
	// (or the pod, when ID is empty), so sub-cgroups a container makes for
	// itself, such as podman's ".../libpod-<id>.scope/container", are left
	// out. Empty when the identity came from the mount table's bind mounts.
	CgroupPath string

	Name         string // container name, from runtime state; for lxc, systemd-nspawn and libvirt-lxc the path's name
	Image        string // image reference, from runtime state
	PodName      string // Kubernetes pod name, from runtime state
	PodNamespace string // Kubernetes namespace, from runtime state
	// SandboxID is the ID of the pod's sandbox container, from runtime
	// state or from the sandbox directory a mount table names.
	SandboxID string
	// PodID is podman's ID for the pod a container belongs to, from
	// runtime state; podman pods have no Kubernetes UID.
	PodID string
}

// MarkSandbox records that c is a pod's sandbox (pause or infra) container,
// as the runtime's state says: Sandbox is set and SandboxID is c's own ID,
// so a caller grouping a pod's containers by SandboxID finds the sandbox
// with its workloads.
func (c *Container) MarkSandbox() {
	c.Sandbox = true
	if c.ID != "" {
		c.SandboxID = c.ID
	}
}
