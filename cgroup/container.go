package cgroup

// Container identifies the container a process runs in. The identity fields
// come from the cgroup path (or, behind a private cgroup namespace, from the
// process's mount table); the naming fields are filled by the hostscope
// package from the runtime's state files when they are readable, and are
// empty otherwise.
type Container struct {
	ID      string // full container ID, lower-case hex for the common runtimes
	Runtime string // docker, containerd, cri-o, podman, lxc, systemd-nspawn, ecs, garden or libvirt-lxc
	// PodUID is the Kubernetes pod UID in its dashed form; empty outside
	// Kubernetes.
	PodUID string
	// QoS is the pod's QoS class: guaranteed, burstable or besteffort;
	// empty when the cgroup path does not say.
	QoS string
	// Sandbox marks a pod's sandbox (pause) container, not a workload.
	Sandbox bool
	// CgroupPath is the cgroup path the identity was read from.
	CgroupPath string

	Name         string // container name, from runtime state
	Image        string // image reference, from runtime state
	PodName      string // Kubernetes pod name, from runtime state
	PodNamespace string // Kubernetes namespace, from runtime state
	SandboxID    string // ID of the pod's sandbox container, from runtime state
}
