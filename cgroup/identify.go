package cgroup

import (
	"slices"
	"strings"
)

// Identify says which container the cgroup lines of one process (the
// entries of its /proc/PID/cgroup) place it in. ok is false when no line
// names a container or a Kubernetes pod: host services, user sessions,
// init.scope, the root cgroup.
//
// Each line's path is read by the runtimes' naming conventions (see
// IdentifyPath). Lines can disagree: a v1 controller the runtime did not
// manage stays in the daemon's cgroup, and on a hybrid host the 0:: line is
// the daemon's unit ("/system.slice/docker.service") when the runtime uses
// the cgroupfs driver, which creates no unified-hierarchy cgroup. So the
// answer is the line that names a container, the most deeply nested one
// when lines differ (a kind or minikube node's kubelet may manage some
// controllers and not others), and among equals the 0:: line (the unified
// hierarchy, the only one on v2, which systemd-driver runtimes manage), then
// name=systemd (the hierarchy systemd-driver runtimes always manage on v1),
// then the first controller line in file order. A line that names only a
// pod counts only when no line names a container.
func Identify(entries []Entry) (*Container, bool) {
	var best pathResult
	bestRank := -1
	for _, e := range entries {
		r := identifyPath(e.Path)
		if !r.ok {
			continue
		}
		rank := 0
		switch {
		case e.HierarchyID == 0 && len(e.Controllers) == 0:
			rank = 2
		case e.Has("name=systemd"):
			rank = 1
		}
		if bestRank < 0 || r.better(best, rank, bestRank) {
			best, bestRank = r, rank
		}
	}
	if bestRank < 0 {
		return nil, false
	}
	c := best.c
	return &c, true
}

// IdentifyPath reads one cgroup path (the third field of a /proc/PID/cgroup
// line, or a cgroup directory below a hierarchy's root) by the runtimes'
// naming conventions:
//
//   - docker: cgroupfs "/docker/<id>", systemd "docker-<id>.scope";
//   - containerd: "cri-containerd-<id>.scope", the "<slice>:cri-containerd:<id>"
//     form runc writes when it is given a systemd cgroupsPath without the
//     systemd driver, "nerdctl-<id>.scope", and "/k8s.io/<id>";
//   - cri-o: "crio-<id>.scope" and cgroupfs "crio-<id>"; "crio-conmon-<id>"
//     is the container's monitor, not the container;
//   - podman: "libpod-<id>.scope" (rootful and rootless), cgroupfs
//     "/libpod_parent/[<pod>/]libpod-<id>", --cgroups=split
//     "libpod-payload-<id>.scope"; "libpod-conmon-<id>.scope" and
//     "/libpod_parent/conmon" are monitors;
//   - lxc: "/lxc/<name>", "/lxc.payload/<name>", "/lxc.payload.<name>";
//     "lxc.monitor.<name>" is the monitor;
//   - systemd-nspawn: "machine.slice/machine-<name>.scope" with systemd's
//     \x escapes decoded; its "supervisor" sub-cgroup is the monitor;
//     libvirt-lxc: "machine-lxc\x2d<n>\x2d<domain>.scope"; libvirt's QEMU
//     machines ("machine-qemu...") are virtual machines, not containers;
//   - ecs: "/ecs/<task>/<id>" and Fargate's "/ecs/<task>/<task>-<number>"
//     and "/ecs/<task>-<number>";
//   - garden: "/garden/<handle>";
//   - Kubernetes: the pod from "pod<uid>" (cgroupfs) or
//     "kubepods-<qos>-pod<uid>.slice" (systemd, '_' for '-'), the QoS class
//     from the level above the pod, or from the slice name; a bare
//     64-hex-digit container directory below the pod, whose runtime the path
//     does not tell.
//
// Container IDs must have the runtime's exact shape (64 lower-case hex
// digits for the OCI runtimes), so a systemd unit that merely embeds an ID,
// such as a container's rootfs ".mount" unit, is never taken for the
// container. When containers nest (docker-in-docker, a kind or minikube node
// running pods) the innermost one wins; a process in a sub-cgroup of a
// container (podman's "/container", kube-proxy's own child cgroup, systemd
// running inside the container) belongs to the nearest container above it.
// A pod level with no container below it gives a Container with an empty ID.
func IdentifyPath(path string) (*Container, bool) {
	r := identifyPath(path)
	if !r.ok {
		return nil, false
	}
	c := r.c
	return &c, true
}

// pathResult is what one path says.
type pathResult struct {
	c     Container
	ok    bool
	depth int // containers and pods matched along the path: nesting
	hasID bool
}

// better reports whether r, from a line of rank rank, beats cur.
func (r pathResult) better(cur pathResult, rank, curRank int) bool {
	if r.hasID != cur.hasID {
		return r.hasID
	}
	if r.depth != cur.depth {
		return r.depth > cur.depth
	}
	return rank > curRank
}

// found is one container matched in a path.
type found struct {
	c   Container
	end int // byte offset in the path where its component ends
}

// pod is a Kubernetes pod level matched in a path.
type pod struct {
	uid, qos string
	systemd  bool // the systemd driver's ".slice" form
	end      int
}

// walker carries the state of one walk down a path.
type walker struct {
	path    string
	stack   []found // containers, outermost first
	pending *pod    // pod level seen below the innermost container
	prev    string  // previous component, trimmed
	ecs     bool    // below an "ecs" component
	// lastPush is the index of the component that pushed the innermost
	// container, so a systemd-nspawn "supervisor" right below it can undo
	// it.
	lastPush int
}

func identifyPath(path string) pathResult {
	w := walker{path: path, lastPush: -2}
	idx := 0
	for start := 0; start <= len(path); {
		end := strings.IndexByte(path[start:], '/')
		if end < 0 {
			end = len(path)
		} else {
			end += start
		}
		comp := strings.TrimSpace(path[start:end])
		if comp != "" && comp != "." {
			w.step(comp, idx, end)
			w.prev = comp
			idx++
		}
		start = end + 1
	}
	var r pathResult
	r.depth = len(w.stack)
	switch {
	case w.pending != nil:
		r.depth++
		r.ok = true
		r.c = Container{PodUID: w.pending.uid, QoS: w.pending.qos, CgroupPath: path[:w.pending.end]}
	case len(w.stack) > 0:
		top := w.stack[len(w.stack)-1]
		r.ok, r.hasID = true, true
		r.c = top.c
		r.c.CgroupPath = path[:top.end]
	}
	return r
}

// push records a container matched at component idx ending at end, taking
// the pod level seen since the previous container.
func (w *walker) push(c Container, idx, end int) {
	if w.pending != nil {
		c.PodUID, c.QoS = w.pending.uid, w.pending.qos
		w.pending = nil
	}
	w.stack = append(w.stack, found{c: c, end: end})
	w.lastPush = idx
}

// AtNamespaceRoot reports whether entries say nothing about the process's
// cgroup because every path is "/": the reader sees the process at the root
// of its own cgroup namespace, as a containerised reader sees itself and the
// processes of its own container. IdentifyFromMounts on the process's mount
// table is then the fallback. Processes in the host's root cgroup (kernel
// threads, and init on v1) look the same; their mount table names no
// container.
func AtNamespaceRoot(entries []Entry) bool {
	for _, e := range entries {
		if e.Path != "/" {
			return false
		}
	}
	return len(entries) > 0
}

// ContainerEntries returns the entries of a process's cgroup lines that
// place it in container c (as Identify returned it), each path cut to the
// container's own cgroup, for Layout.Locate and the resource readers: a
// container's limits are set on its cgroup, not on sub-cgroups such as
// podman's "/container". Lines that name another cgroup (the docker
// daemon's unit on a hybrid host's 0:: line, a kind node's container on a
// line its kubelet does not manage) are left out. For a Container with an
// empty ID, the lines naming its pod are kept, cut to the pod's cgroup.
//
// A container IdentifyFromMounts found for a process at the root of the
// reader's cgroup namespace (AtNamespaceRoot) has no path of its own: the
// namespace's root is its cgroup, so the entries are returned as they are.
func ContainerEntries(entries []Entry, c *Container) []Entry {
	if c.CgroupPath == "" && AtNamespaceRoot(entries) {
		return slices.Clone(entries)
	}
	var out []Entry
	for _, e := range entries {
		r := identifyPath(e.Path)
		if !r.ok {
			continue
		}
		same := r.hasID && r.c.ID == c.ID && c.ID != ""
		if c.ID == "" {
			same = !r.hasID && r.c.PodUID == c.PodUID && c.PodUID != ""
		}
		if same {
			out = append(out, Entry{HierarchyID: e.HierarchyID, Controllers: e.Controllers, Path: r.c.CgroupPath})
		}
	}
	return out
}
