package cgroup

import (
	"slices"
	"strings"

	"github.com/hostscope/hostscope/mounts"
)

// IdentifyFromMounts says which container a process's mount table (its
// /proc/PID/mountinfo, from mounts.Process) places it in. It is the fallback
// for a process whose cgroup lines show only "/": a private cgroup namespace
// seen from inside (see AtNamespaceRoot). ok is false when the table names
// no container and no pod.
//
// Two kinds of evidence are read, the first winning:
//
//   - the roots of the cgroup mounts at /sys/fs/cgroup: a v1 container's
//     controller mounts, or a cgroup2 mount made outside the container's
//     cgroup namespace, show the container's cgroup path, read as Identify
//     reads a /proc/PID/cgroup line;
//   - the bind mounts a runtime makes into every container, at fixed mount
//     points, whose roots name the runtime's directory for the container:
//     /etc/hostname, /etc/hosts, /etc/resolv.conf and /dev/shm from docker's
//     ".../containers/<id>/" or podman's and CRI-O's
//     ".../<driver>-containers/<id>/userdata/", /run/.containerenv and
//     /run/secrets from the latter, and volumes from containerd's
//     ".../io.containerd.grpc.v1.cri/containers/<id>/volumes/".
//
// In a Kubernetes pod (the kubelet's ".../pods/<uid>/etc-hosts" at
// /etc/hosts, a service-account or termination-log mount from the same
// directory, or a containerd sandbox directory) hostname, resolv.conf,
// /dev/shm and CRI-O's .containerenv come from the pod's sandbox, not from
// the container: they give SandboxID and never ID. Only the container's
// own secrets directory or image volumes then give the container ID, and a
// process that has neither gets a Container with the pod UID, the sandbox
// ID and an empty ID.
//
// Mounts elsewhere in the table (other containers' directories seen through
// a host path mounted into the container, docker volumes, overlay layer
// directories) are never read as this process's container.
//
// A docker container started with --network container:<other> is given the
// other container's hostname, hosts and resolv.conf; with nothing else to go
// by, it is reported as that container.
func IdentifyFromMounts(ms []mounts.Mount) (*Container, bool) {
	var fromCgroup *Container
	var entries []Entry
	for _, m := range ms {
		if m.MountPoint != "/sys/fs/cgroup" && !strings.HasPrefix(m.MountPoint, "/sys/fs/cgroup/") {
			continue
		}
		switch m.FSType {
		case "cgroup2":
			entries = append(entries, Entry{Path: m.Root})
		case "cgroup":
			entries = append(entries, Entry{HierarchyID: 1, Controllers: v1Controllers(m.SuperOptions), Path: m.Root})
		}
	}
	if c, ok := Identify(entries); ok {
		if c.ID != "" {
			return c, true
		}
		fromCgroup = c
	}

	var ev mountEvidence
	for i := range ms {
		ev.read(ms, i)
	}
	c := ev.decide()
	if fromCgroup != nil {
		if c == nil {
			return fromCgroup, true
		}
		if c.PodUID == "" {
			c.PodUID = fromCgroup.PodUID
		}
		c.QoS = fromCgroup.QoS
	}
	return c, c != nil
}

// evidence strength of one bind mount for the container's own ID.
const (
	weak   = iota // hostname, hosts, resolv.conf, /dev/shm: the sandbox's in a pod
	env           // /run/.containerenv: podman's own, CRI-O's sandbox's
	strong        // secrets, image volumes: always the container's own
)

type idVote struct {
	id, runtime string
	kind        int
}

// mountEvidence gathers what the bind mounts of one table say.
type mountEvidence struct {
	votes     []idVote
	podUIDs   []string
	sandboxes []idVote // containerd sandbox directories
}

// read classifies mount i of ms.
func (ev *mountEvidence) read(ms []mounts.Mount, i int) {
	m := &ms[i]
	comps := splitPath(m.Root)
	n := len(comps)
	switch m.MountPoint {
	case "/etc/hosts", "/dev/termination-log", "/var/run/secrets/kubernetes.io/serviceaccount", "/run/secrets/kubernetes.io/serviceaccount":
		// The kubelet's pod directory: .../pods/<uid>/etc-hosts,
		// .../pods/<uid>/containers/<name>/<n>, .../pods/<uid>/volumes/...
		for j := 0; j+1 < n; j++ {
			if comps[j] != "pods" {
				continue
			}
			if uid, ok := podUID(comps[j+1]); ok && j+2 < n && slices.Contains([]string{"etc-hosts", "containers", "volumes"}, comps[j+2]) {
				ev.podUIDs = append(ev.podUIDs, uid)
			}
		}
	}

	switch m.MountPoint {
	case "/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/dev/shm":
		// containerd: .../io.containerd.grpc.v1.cri/sandboxes/<id>/<file>
		if n >= 4 && comps[n-4] == "io.containerd.grpc.v1.cri" && comps[n-3] == "sandboxes" && isHex64(comps[n-2]) {
			ev.sandboxes = append(ev.sandboxes, idVote{id: comps[n-2], runtime: Containerd})
			return
		}
		// podman, CRI-O: .../<driver>-containers/<id>/userdata/<file>
		if n >= 4 && strings.HasSuffix(comps[n-4], "-containers") && isHex64(comps[n-3]) && comps[n-2] == "userdata" {
			ev.votes = append(ev.votes, idVote{id: comps[n-3], runtime: Podman, kind: weak})
			return
		}
		// docker: .../containers/<id>/<file>, .../containers/<id>/mounts/shm
		k := n - 3
		if m.MountPoint == "/dev/shm" {
			k = n - 4
			if n < 4 || comps[n-2] != "mounts" {
				return
			}
		}
		if k >= 0 && comps[k] == "containers" && (k == 0 || comps[k-1] != "io.containerd.grpc.v1.cri") && isHex64(comps[k+1]) {
			ev.votes = append(ev.votes, idVote{id: comps[k+1], runtime: Docker, kind: weak})
		}
	case "/run/.containerenv":
		if n >= 4 && strings.HasSuffix(comps[n-4], "-containers") && isHex64(comps[n-3]) && comps[n-2] == "userdata" {
			ev.votes = append(ev.votes, idVote{id: comps[n-3], runtime: Podman, kind: env})
		}
	case "/run/secrets", "/var/run/secrets":
		if n >= 5 && strings.HasSuffix(comps[n-5], "-containers") && isHex64(comps[n-4]) && comps[n-3] == "userdata" && comps[n-2] == "run" && comps[n-1] == "secrets" {
			ev.votes = append(ev.votes, idVote{id: comps[n-4], runtime: Podman, kind: strong})
		}
	default:
		// containerd's image volumes: .../io.containerd.grpc.v1.cri/containers/<id>/volumes/<v>
		for j := 0; j+3 < n; j++ {
			if comps[j] == "io.containerd.grpc.v1.cri" && comps[j+1] == "containers" && isHex64(comps[j+2]) && comps[j+3] == "volumes" {
				if ownMount(ms, m.MountPoint) {
					ev.votes = append(ev.votes, idVote{id: comps[j+2], runtime: Containerd, kind: strong})
				}
				break
			}
		}
	}
}

// ownMount reports whether the mount point p lies in the process's own
// tree, not below another mount other than those every container has: a
// host directory mounted into the container shows, below its mount point,
// the mounts of every other container on the host.
func ownMount(ms []mounts.Mount, p string) bool {
	for _, o := range ms {
		if o.MountPoint == p || !strings.HasPrefix(p, o.MountPoint+"/") {
			continue
		}
		switch o.MountPoint {
		case "/", "/dev", "/proc", "/sys", "/run", "/var/run", "/tmp", "/etc":
			continue
		}
		return false
	}
	return true
}

// decide turns the evidence into a Container, nil when there is none.
func (ev *mountEvidence) decide() *Container {
	k8s := len(ev.podUIDs) > 0 || len(ev.sandboxes) > 0
	var own, sandbox []idVote
	sandbox = append(sandbox, ev.sandboxes...)
	for _, v := range ev.votes {
		if v.runtime == Podman && k8s {
			v.runtime = CRIO // podman and CRI-O share the storage layout
		}
		if k8s && v.kind != strong {
			sandbox = append(sandbox, v)
			continue
		}
		own = append(own, v)
	}
	c := Container{PodUID: majority(ev.podUIDs)}
	for _, kind := range []int{strong, env, weak} {
		var ids []string
		for _, v := range own {
			if v.kind == kind {
				ids = append(ids, v.id)
			}
		}
		if id := majority(ids); id != "" {
			c.ID = id
			c.Runtime = runtimeOf(own, id)
			break
		}
	}
	var sids []string
	for _, v := range sandbox {
		sids = append(sids, v.id)
	}
	if sid := majority(sids); sid != "" {
		c.SandboxID = sid
		if c.Runtime == "" {
			c.Runtime = runtimeOf(sandbox, sid)
		}
		if c.ID == sid {
			c.Sandbox = true
		}
	}
	if c.ID == "" && c.PodUID == "" && c.SandboxID == "" {
		return nil
	}
	return &c
}

// majority returns the value most of vs hold, "" when vs is empty or no
// value has more votes than every other.
func majority(vs []string) string {
	best, bestN, tie := "", 0, false
	for _, v := range vs {
		n := 0
		for _, w := range vs {
			if w == v {
				n++
			}
		}
		switch {
		case n > bestN:
			best, bestN, tie = v, n, false
		case n == bestN && v != best:
			tie = true
		}
	}
	if tie {
		return ""
	}
	return best
}

func runtimeOf(vs []idVote, id string) string {
	for _, v := range vs {
		if v.id == id {
			return v.runtime
		}
	}
	return ""
}

// splitPath splits a slash-separated path into its non-empty components.
func splitPath(p string) []string {
	var out []string
	for _, c := range strings.Split(p, "/") {
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}

// v1Controllers picks the controller names out of a v1 cgroup mount's
// super options ("rw,cpu,cpuacct", "rw,name=systemd,xattr").
func v1Controllers(opts []string) []string {
	var out []string
	for _, o := range opts {
		if strings.HasPrefix(o, "name=") || slices.Contains(knownControllers, o) {
			out = append(out, o)
		}
	}
	return out
}

// knownControllers are the v1 controllers the kernel can mount.
var knownControllers = []string{
	"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "net_cls",
	"net_prio", "blkio", "perf_event", "hugetlb", "pids", "rdma", "misc", "debug",
}
