package cgroup

import (
	"strings"

	"github.com/hostscope/hostscope/internal/parse"
)

// step reads one path component c (trimmed, never empty), the idx-th of the
// path, ending at byte end of the path.
func (w *walker) step(c string, idx, end int) {
	prev := w.prev

	// runc, given a systemd-style cgroupsPath "<slice>:<prefix>:<id>"
	// without the systemd driver, uses it literally as one directory name
	// (containerd with SystemdCgroup=false under a systemd kubelet).
	if i := strings.LastIndexByte(c, ':'); i >= 0 {
		j := strings.LastIndexByte(c[:i], ':')
		if j < 0 {
			return
		}
		slice, prefix, id := c[:j], c[j+1:i], c[i+1:]
		base, unit := splitUnit(slice)
		if p, ok := parsePod(base, unit, prev); ok {
			p.end = end
			w.pending = &p
		}
		if rt, ok := colonPrefixes[prefix]; ok && isHex64(id) {
			w.push(Container{ID: id, Runtime: rt}, idx, end)
		}
		return
	}

	// LXC: "lxc.payload.<name>" (LXC 4 and later, LXD), "lxc.payload/<name>"
	// (LXC 3), "lxc/<name>" (older); the monitor process lives in
	// "lxc.monitor.<name>" or "lxc.monitor/<name>".
	switch {
	case strings.HasPrefix(c, "lxc.payload."):
		if name := c[len("lxc.payload."):]; isName(name, 253) {
			w.push(Container{ID: name, Runtime: LXC, Name: name}, idx, end)
		}
		return
	case c == "lxc" || c == "lxc.payload" || c == "lxc.monitor" || strings.HasPrefix(c, "lxc.monitor."):
		return
	case prev == "lxc" || prev == "lxc.payload":
		if isName(c, 253) {
			w.push(Container{ID: c, Runtime: LXC, Name: c}, idx, end)
		}
		return
	case prev == "lxc.monitor":
		return
	}

	base, unit := splitUnit(c)

	// systemd-machined registers nspawn and libvirt-lxc machines as
	// "machine-<escaped name>.scope".
	if unit == "scope" && strings.HasPrefix(base, "machine-") {
		w.machine(base[len("machine-"):], idx, end)
		return
	}
	if c == "supervisor" && w.lastPush == idx-1 && len(w.stack) > 0 && w.stack[len(w.stack)-1].c.Runtime == SystemdNspawn {
		// nspawn's own process, beside the container's "payload".
		w.stack = w.stack[:len(w.stack)-1]
		return
	}

	if p, ok := parsePod(base, unit, prev); ok {
		p.end = end
		w.pending = &p
		return
	}
	if unit != "" && unit != "scope" {
		// A service, slice, mount unit...: never a container, even when
		// its name embeds a container ID (a rootfs .mount unit).
		return
	}

	// Some paths carry an arbitrary ".suffix" after the ID.
	id, _, dotted := strings.Cut(base, ".")

	switch {
	case c == "ecs":
		w.ecs = true
		return
	case w.ecs:
		// ECS task directories (a UUID, 32 hex digits or an ARN-like name)
		// hold the containers: a docker ID on EC2, "<task>-<number>" on
		// Fargate 1.4 and later.
		if isHex64(id) || isFargateID(id) {
			w.push(Container{ID: id, Runtime: ECS}, idx, end)
		}
		return
	case prev == "garden":
		if isName(c, 128) {
			w.push(Container{ID: c, Runtime: Garden}, idx, end)
		}
		return
	case prev == "libpod_parent" && isHex64(id):
		// podman's cgroupfs pod directory, holding the pod's containers.
		return
	}

	for _, p := range idPrefixes {
		if rest, ok := strings.CutPrefix(id, p.prefix); ok {
			if isHex64(rest) {
				ct := Container{ID: rest, Runtime: p.runtime}
				// CRI-O under the systemd driver gives containers
				// "crio-<id>.scope" and the pod sandbox a bare
				// "crio-<id>" in the pod slice (cAdvisor's rule).
				if p.runtime == CRIO && unit == "" && !dotted && w.pending != nil && w.pending.systemd {
					ct.Sandbox = true
				}
				w.push(ct, idx, end)
			}
			return
		}
	}

	if isHex64(id) {
		rt := ""
		switch prev {
		case "docker":
			rt = Docker
		case "k8s.io":
			rt = Containerd // containerd's CRI namespace as a cgroupfs parent
		}
		w.push(Container{ID: id, Runtime: rt}, idx, end)
	}
}

// machine reads the escaped name of a "machine-<name>.scope" unit.
func (w *walker) machine(escaped string, idx, end int) {
	name, ok := unescapeUnit(escaped)
	if !ok || !isName(name, 64) {
		return
	}
	if strings.HasPrefix(name, "qemu-") {
		return // a libvirt QEMU virtual machine, not a container
	}
	if dom, ok := libvirtDomain(name); ok {
		w.push(Container{ID: name, Runtime: LibvirtLXC, Name: dom}, idx, end)
		return
	}
	w.push(Container{ID: name, Runtime: SystemdNspawn, Name: name}, idx, end)
}

// libvirtDomain returns the domain of a libvirt-lxc machine name,
// "lxc-<pid>-<domain>".
func libvirtDomain(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, "lxc-")
	if !ok {
		return "", false
	}
	pid, dom, ok := strings.Cut(rest, "-")
	if !ok || pid == "" || dom == "" || !parse.Digits(pid) {
		return "", false
	}
	return dom, true
}

// colonPrefixes maps the prefix of "<slice>:<prefix>:<id>" to its runtime.
var colonPrefixes = map[string]string{
	"cri-containerd": Containerd,
	"crio":           CRIO,
	"docker":         Docker,
	"libpod":         Podman,
	"nerdctl":        Containerd,
}

// idPrefixes are the "<prefix><id>" names runtimes give container cgroups,
// longest first where one prefix starts another. The monitors'
// "crio-conmon-<id>" and "libpod-conmon-<id>" never match: what follows the
// prefix is not an ID.
var idPrefixes = []struct{ prefix, runtime string }{
	{"docker-", Docker},
	{"cri-containerd-", Containerd},
	{"nerdctl-", Containerd},
	{"crio-", CRIO},
	{"libpod-payload-", Podman},
	{"libpod-", Podman},
}

// unitTypes are the systemd unit suffixes splitUnit recognises.
var unitTypes = []string{"scope", "slice", "service", "mount", "socket", "swap", "target", "device", "automount", "path", "timer"}

// splitUnit splits a systemd unit name into its name and type; unit is
// empty when c does not end in a unit type.
func splitUnit(c string) (base, unit string) {
	i := strings.LastIndexByte(c, '.')
	if i < 0 {
		return c, ""
	}
	for _, t := range unitTypes {
		if c[i+1:] == t {
			return c[:i], t
		}
	}
	return c, ""
}

// parsePod reads a Kubernetes pod level: cgroupfs "pod<uid>", whose QoS
// class is the name of the level above (prev), or the systemd driver's
// "[<root>-]kubepods[-<qos>]-pod<uid>" slice, which names its QoS class.
func parsePod(base, unit, prev string) (pod, bool) {
	if unit != "" && unit != "slice" {
		return pod{}, false
	}
	i := strings.LastIndex(base, "pod")
	if i < 0 {
		return pod{}, false
	}
	uid, ok := podUID(base[i+len("pod"):])
	if !ok {
		return pod{}, false
	}
	prefix := base[:i]
	if prefix == "" {
		pb, _ := splitUnit(prev)
		return pod{uid: uid, qos: qosOf(pb)}, true
	}
	prefix, ok = strings.CutSuffix(prefix, "-")
	if !ok {
		return pod{}, false
	}
	qos := qosOf(prefix)
	if qos == "" {
		return pod{}, false // "-pod<uid>" outside a kubepods slice
	}
	return pod{uid: uid, qos: qos, systemd: true}, true
}

// qosOf returns the QoS class a kubelet cgroup name stands for:
// "kubepods" (or "<root>-kubepods" under another cgroup root, such as
// kind's "kubelet-kubepods") holds Guaranteed pods directly, and
// "[...kubepods-]besteffort" and "...burstable" the other classes.
func qosOf(name string) string {
	switch {
	case name == "besteffort" || strings.HasSuffix(name, "kubepods-besteffort"):
		return BestEffort
	case name == "burstable" || strings.HasSuffix(name, "kubepods-burstable"):
		return Burstable
	case name == "kubepods" || strings.HasSuffix(name, "-kubepods"):
		return Guaranteed
	}
	return ""
}

// podUID normalises the UID of a pod cgroup: 8-4-4-4-12 hex digits with '-'
// or the systemd driver's '_' becomes the dashed form; 32 hex digits (a
// static pod's hash, the kubelet's UID for it) are kept as they are.
func podUID(s string) (string, bool) {
	switch len(s) {
	case 32:
		return s, isLowerHex(s)
	case 36:
		b := []byte(s)
		for i, c := range b {
			switch i {
			case 8, 13, 18, 23:
				if c != '-' && c != '_' {
					return "", false
				}
				b[i] = '-'
			default:
				if !isLowerHexByte(c) {
					return "", false
				}
			}
		}
		return string(b), true
	}
	return "", false
}

// unescapeUnit decodes systemd's \xNN escapes in a unit name.
func unescapeUnit(s string) (string, bool) {
	if !strings.Contains(s, `\x`) {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' && isHexByte(s[i+2]) && isHexByte(s[i+3]) {
			b.WriteByte(unhex(s[i+2])<<4 | unhex(s[i+3]))
			i += 3
			continue
		}
		if s[i] == '\\' {
			return "", false
		}
		b.WriteByte(s[i])
	}
	return b.String(), true
}

func isHex64(s string) bool { return len(s) == 64 && isLowerHex(s) }

// isFargateID reports the Fargate 1.4 container ID form, "<32 hex>-<number>".
func isFargateID(s string) bool {
	task, n, ok := strings.Cut(s, "-")
	return ok && len(task) == 32 && isLowerHex(task) && len(n) >= 1 && len(n) <= 10 && parse.Digits(n)
}

// isName reports a name usable as a container ID: 1 to max bytes of
// letters, digits and "._-+@", not starting with '.' or '-'.
func isName(s string, max int) bool {
	if s == "" || len(s) > max || s[0] == '.' || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.', c == '_', c == '-', c == '+', c == '@':
		default:
			return false
		}
	}
	return true
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isLowerHexByte(s[i]) {
			return false
		}
	}
	return s != ""
}

func isLowerHexByte(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }

func isHexByte(c byte) bool { return isLowerHexByte(c) || c >= 'A' && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
