package hostscope

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/hostscope/hostscope/cgroup"
	"github.com/hostscope/hostscope/dev"
	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/internal/runtimestate"
	"github.com/hostscope/hostscope/mounts"
	"github.com/hostscope/hostscope/proc"
)

// Posture is what a container can do to its host, as the kernel shows it:
// its privilege, the host namespaces it shares, the host paths mounted into
// it and the device nodes it sees. It is plain data; Findings turns it into
// the rules it breaks, each with its reason.
//
// The container is represented by its init process (Container.InitPID)
// for what all its processes share: namespaces, user ID mapping, mount
// table and /dev. Capabilities, seccomp and no_new_privs can differ per
// process (a `docker exec --privileged` gets more than init), so they
// describe every member the scan read: the union of their capability sets,
// the weakest seccomp mode, and no_new_privs only when all have it. runc's
// own setup process (runc:[2:INIT]) counts too, with the capabilities it
// holds until it execs the workload; Container.PostureErr says when one was
// seen.
type Posture struct {
	// Privileged is true when the bounding set holds every capability the
	// host can grant: every capability the kernel knows (cap_last_cap) up
	// to CAP_AUDIT_READ (37) that the host's own init holds in its
	// bounding set. A host whose init lacks a capability cannot give it to
	// any container, so a container with all the rest is as privileged as
	// the host allows. The capabilities of Linux 5.8 and 5.9 (CAP_PERFMON,
	// CAP_BPF, CAP_CHECKPOINT_RESTORE) are not required: runtimes built
	// before them give a privileged container everything up to
	// CAP_AUDIT_READ and no more (docker 20.10 does), and CAP_SYS_ADMIN
	// covers what they split off.
	Privileged bool
	// Capabilities is the bounding set's names (proc.CapabilityNames): every
	// capability a process of the container holds or can gain by executing
	// a set-user-ID or file-capability program. It is the set a runtime
	// configures with --cap-add, --cap-drop and --privileged.
	Capabilities []string
	// Effective and Permitted are the effective and permitted sets' names:
	// what the processes hold now (empty for a non-root process without
	// ambient or file capabilities).
	Effective []string
	Permitted []string
	// AddedCapabilities are the names in Capabilities that the runtime does
	// not grant by default (see DefaultCapabilities).
	AddedCapabilities []string
	// Seccomp is the weakest seccomp mode among the processes: "disabled",
	// "strict" or "filter" (proc.SeccompMode's names); empty when unknown.
	Seccomp string
	// NoNewPrivs is true when every process has no_new_privs set, so no
	// execve can raise its privileges (set-user-ID bits and file
	// capabilities are ignored).
	NoNewPrivs bool
	// Root is true when the init process's effective user ID is 0 inside
	// the container's user namespace: what the workload sees as root.
	Root bool
	// UserNamespace is true when the container has a user namespace of its
	// own, so its root is not the host's: its IDs map to other host IDs
	// (uid_map) and its capabilities apply only to what the namespace owns.
	UserNamespace bool
	// HostUID is the init process's effective user ID as the host sees it
	// (equal to its ID inside when UserNamespace is false).
	HostUID uint32
	// HostNamespaces lists the namespaces the container shares with the
	// host, among "cgroup", "ipc", "mnt", "net", "pid", "time", "user" and
	// "uts", in that order: those whose inode equals the host reference
	// process's (PID 1, or see TakeInventory).
	HostNamespaces []string
	// HostMounts are the host paths mounted into the container, by target:
	// the init process's mounts whose file system and root map, through
	// the host's mount table, to a host path. Left out are the container's
	// own root file system, the kernel file systems the runtime mounts at
	// their usual places (proc at /proc, sysfs at /sys, cgroups under
	// /sys/fs/cgroup, ...; they share the host's superblock when the
	// container shares the namespace they belong to, which
	// RuleHostNamespace reports), the runtime's files for this container
	// (a path component is its ID, its sandbox's ID or its pod's UID:
	// /etc/hosts, a pod's volumes), bind mounts of the default device
	// nodes, and the submounts a recursive bind brings along (-v /:/host
	// is one entry, not one per host mount).
	HostMounts []HostMount
	// Devices are the device nodes under the container's /dev beyond the
	// harmless set every runtime creates (null, zero, full, random,
	// urandom, tty, console, ptmx, pts/*), as paths in the container.
	Devices []string

	// Declared is what the container's runtime configured it with, from
	// its state files under the Root; nil when none was found (or
	// Options.NoNames). The fields above are what the kernel shows the
	// processes hold; Declared adds what the kernel cannot show (docker's
	// and podman's --privileged flag) and lets RuleBeyondDeclared catch
	// processes holding more than their container was given.
	Declared *Declared
}

// Declared is a container's configuration as its runtime wrote it for the
// OCI runtime: the OCI spec (config.json) in containerd's task bundle (for
// containerd, and for docker in containerd's moby namespace) or in
// containers/storage (podman, CRI-O), and docker's hostconfig.json.
type Declared struct {
	// Source is the OCI spec file the fields from Capabilities on come
	// from; empty when only docker's hostconfig.json was found, and then
	// those fields are empty.
	Source string
	// Privileged is the runtime's --privileged flag, as docker's
	// HostConfig.Privileged or podman's io.podman.annotations.privileged
	// annotation records it; PrivilegedSource is the file that said, empty
	// when none did (containerd and CRI-O specs do not record the flag).
	Privileged       bool
	PrivilegedSource string
	// Capabilities is the bounding set the spec gives the container's
	// process, by name, sorted.
	Capabilities []string
	// Seccomp is "filter" when the spec holds a seccomp profile and
	// "disabled" when it holds none.
	Seccomp string
	// NoNewPrivs is the spec's noNewPrivileges.
	NoNewPrivs bool
	// HostNamespaces are the namespaces the spec neither creates nor joins
	// by path, so the container keeps the runtime's own: the host's for a
	// rootful runtime. Named and ordered as Posture.HostNamespaces.
	HostNamespaces []string
	// UserNamespace is true when the spec creates or joins a user
	// namespace or maps user IDs.
	UserNamespace bool
	// JoinedNamespaces are the namespaces the spec joins by path: a pod's
	// shared ones, a named network namespace, or the host's (docker's
	// --network=host joins it through a path). Whose they are, the spec
	// does not say; HostNamespaces (Posture's) does.
	JoinedNamespaces []string
	// Rootless is true when the spec was read from a user's rootless
	// podman storage: that user wrote the file, so it is the user's claim.
	// Such a file is read only for a podman container (or one whose
	// runtime its cgroup does not tell) that no rootful spec describes.
	Rootless bool
}

// HostMount is a host path mounted into a container.
type HostMount struct {
	// Source is the host path, as the host's mount table shows it (a
	// "-v /var/run/docker.sock:..." shows as /run/docker.sock when /var/run
	// is a link to /run).
	Source string
	// Target is where the container sees it.
	Target string
	// ReadOnly is the mount's read-only flag.
	ReadOnly bool
	// Sensitive names the sensitive location the mount exposes, empty when
	// it exposes none. It is, in this order of precedence:
	//   - a runtime socket's base name ("docker.sock", "containerd.sock",
	//     "crio.sock", "podman.sock", "cri-dockerd.sock") wherever it lies;
	//   - "/" for the host's root;
	//   - "/proc", "/sys", "/dev", "/etc", "/root", "/home" or
	//     "/var/lib/kubelet" when the source is that directory, lies below
	//     it, or holds it (a mount of /var holds /var/lib/kubelet);
	//   - "runtime sockets" for a directory holding a runtime socket's
	//     usual place (/run, /var/run, /run/containerd, ...).
	Sensitive string
}

// Rule names one rule of Findings. Rules lists them most exposing first.
type Rule string

// The rules Findings applies, most exposing first. Each says why it matters.
const (
	// RulePrivileged: every capability the host can grant, or the
	// runtime's --privileged flag in its configuration (Declared), which
	// also gives every device and unmasks /proc and /sys. CAP_SYS_ADMIN,
	// CAP_SYS_MODULE and the rest let root in the container mount the
	// host's disks, load kernel modules and leave every namespace; with no
	// user namespace it is the host's root.
	RulePrivileged Rule = "privileged"
	// RuleBeyondDeclared: the container's processes hold more than its
	// runtime configured (Declared): capabilities outside its bounding
	// set, no seccomp filter where it has one, no no_new_privs where it
	// asks for it, or a host namespace it says is the container's own.
	// Something put a process into the container from outside it (docker
	// exec --privileged, nsenter, a process moved into its cgroup) or went
	// around the runtime; either way the container's declared limits no
	// longer hold. runc's own setup process holds the runtime's
	// capabilities until it execs the workload, so a container starting or
	// being exec'd into shows this for a moment (PostureErr says so).
	RuleBeyondDeclared Rule = "beyond-declared"
	// RuleSensitiveMount: a sensitive host path mounted read-write. A
	// runtime socket starts privileged containers on demand; the host's
	// root, /etc, /root, /var/lib/kubelet or /home let it plant keys,
	// units and credentials; /proc, /sys and /dev reach kernel knobs and
	// disks directly.
	RuleSensitiveMount Rule = "sensitive-mount"
	// RuleHostNamespace: one of the pid, net, ipc, uts or mnt namespaces is
	// the host's, which every runtime unshares unless told otherwise
	// (--pid=host, --network=host, ...). pid shows (and with the right
	// capabilities signals and traces) every host process; net the host's
	// interfaces and its localhost-only services; ipc its shared memory and
	// semaphores; uts its host name; mnt its whole file system tree.
	// The cgroup, time and user namespaces are listed in HostNamespaces but
	// raise no finding: docker on cgroup v1 shares the cgroup namespace by
	// default, no runtime unshares time, and the user namespace is what
	// UserNamespace reports.
	RuleHostNamespace Rule = "host-namespace"
	// RuleAddedCapabilities: capabilities beyond the runtime's default, each
	// a part of root's power the runtime withholds by default
	// (CAP_SYS_ADMIN alone allows mounts and most of what privileged
	// gives). Not reported for a privileged container, which has them all.
	RuleAddedCapabilities Rule = "added-capabilities"
	// RuleSensitiveMountReadOnly: a sensitive host path mounted read-only.
	// It cannot be changed, but it discloses what the host keeps there
	// (/etc/shadow, keys under /root, kubelet credentials), and a runtime
	// socket is usable read-only: connecting needs no write permission on
	// the mount.
	RuleSensitiveMountReadOnly Rule = "sensitive-mount-read-only"
	// RuleSeccompDisabled: no seccomp filter, so the whole system call
	// interface is open to the container (unshare, keyctl, bpf, ...),
	// where the runtimes' default profiles block the calls behind most
	// container escapes.
	RuleSeccompDisabled Rule = "seccomp-disabled"
	// RuleDevices: device nodes beyond the harmless defaults. A disk, /dev/kvm,
	// /dev/mem or a GPU node gives direct access to what the kernel
	// otherwise mediates (a disk's node reads every file of the host).
	RuleDevices Rule = "devices"
)

// Rules lists every rule, most exposing first: the order of Findings.
var Rules = []Rule{RulePrivileged, RuleBeyondDeclared, RuleSensitiveMount, RuleHostNamespace, RuleAddedCapabilities,
	RuleSensitiveMountReadOnly, RuleSeccompDisabled, RuleDevices}

// Finding is one rule a container's posture breaks.
type Finding struct {
	Rule Rule
	// Subject is what the finding is about: the namespace ("pid"), the
	// mount's target, or empty for rules about the whole container.
	Subject string
	// Reason is one line saying what was found and why it matters.
	Reason string
}

// Findings lists the rules p breaks, in the order of Rules; within a rule,
// host namespaces in HostNamespaces order and mounts by target. A default
// container of docker, podman, containerd or CRI-O has none. There is no
// score: the order is the rules', and each finding stands on its own.
func (p *Posture) Findings() []Finding {
	if p == nil {
		return nil
	}
	var out []Finding
	asRoot := ""
	if p.Root && !p.UserNamespace {
		asRoot = ", as the host's root"
	}
	declaredPriv := p.Declared != nil && p.Declared.Privileged
	switch {
	case p.Privileged && declaredPriv:
		out = append(out, Finding{Rule: RulePrivileged,
			Reason: "privileged: every capability the host grants" + asRoot + "; declared in " + path.Base(p.Declared.PrivilegedSource)})
	case p.Privileged:
		out = append(out, Finding{Rule: RulePrivileged,
			Reason: "privileged: every capability the host grants" + asRoot})
	case declaredPriv:
		out = append(out, Finding{Rule: RulePrivileged,
			Reason: "privileged, declared in " + path.Base(p.Declared.PrivilegedSource) + ": every device, /proc and /sys unmasked" + asRoot})
	}
	if beyond := p.beyondDeclared(); len(beyond) > 0 {
		out = append(out, Finding{Rule: RuleBeyondDeclared,
			Reason: "holds more than its runtime configured (" + path.Base(p.Declared.Source) + "): " + strings.Join(beyond, "; ")})
	}
	for _, m := range p.HostMounts {
		if m.Sensitive != "" && !m.ReadOnly {
			out = append(out, Finding{Rule: RuleSensitiveMount, Subject: m.Target,
				Reason: fmt.Sprintf("host %s (%s) mounted read-write at %s%s", m.Source, sensitiveWhat(m.Sensitive), m.Target, asRoot)})
		}
	}
	for _, ns := range p.HostNamespaces {
		if why, ok := hostNamespaceRisk[ns]; ok {
			out = append(out, Finding{Rule: RuleHostNamespace, Subject: ns,
				Reason: fmt.Sprintf("host %s namespace: %s", ns, why)})
		}
	}
	if len(p.AddedCapabilities) > 0 && !p.Privileged {
		out = append(out, Finding{Rule: RuleAddedCapabilities,
			Reason: "capabilities beyond the runtime's default: " + strings.Join(p.AddedCapabilities, ", ")})
	}
	for _, m := range p.HostMounts {
		if m.Sensitive != "" && m.ReadOnly {
			out = append(out, Finding{Rule: RuleSensitiveMountReadOnly, Subject: m.Target,
				Reason: fmt.Sprintf("host %s (%s) mounted read-only at %s", m.Source, sensitiveWhat(m.Sensitive), m.Target)})
		}
	}
	if p.Seccomp == proc.SeccompDisabled.String() {
		out = append(out, Finding{Rule: RuleSeccompDisabled, Reason: "seccomp disabled: every system call is reachable"})
	}
	if len(p.Devices) > 0 {
		out = append(out, Finding{Rule: RuleDevices, Reason: devicesReason(p.Devices)})
	}
	return out
}

// beyondDeclared lists what the processes hold beyond p.Declared's spec,
// each as a phrase; nil without a spec.
func (p *Posture) beyondDeclared() []string {
	d := p.Declared
	if d == nil || d.Source == "" {
		return nil
	}
	var out []string
	if len(p.Capabilities) > 0 {
		held, _ := proc.CapabilitySet(p.Capabilities...)
		given, _ := proc.CapabilitySet(d.Capabilities...)
		if extra := held &^ given; extra != 0 {
			out = append(out, "capabilities "+strings.Join(proc.CapabilityNames(extra), ", "))
		}
	}
	for _, ns := range p.HostNamespaces {
		if !slices.Contains(d.HostNamespaces, ns) && !slices.Contains(d.JoinedNamespaces, ns) {
			out = append(out, "the host's "+ns+" namespace")
		}
	}
	if d.Seccomp == "filter" && p.Seccomp == proc.SeccompDisabled.String() {
		out = append(out, "no seccomp filter")
	}
	if d.NoNewPrivs && !p.NoNewPrivs && p.Seccomp != "" {
		out = append(out, "no no_new_privs")
	}
	return out
}

// hostNamespaceRisk says, for the namespaces RuleHostNamespace covers, what
// sharing the host's gives away.
var hostNamespaceRisk = map[string]string{
	"pid": "sees every host process",
	"net": "uses the host's network stack and its localhost services",
	"ipc": "reaches the host's shared memory and semaphores",
	"uts": "shares the host name",
	"mnt": "sees the host's whole mount tree",
}

func sensitiveWhat(s string) string {
	switch {
	case s == "/":
		return "the host's root"
	case strings.HasSuffix(s, ".sock"):
		return "runtime socket " + s
	case s == "runtime sockets":
		return "holds runtime sockets"
	}
	return "under " + s
}

// devicesReason names up to five devices and counts the rest.
func devicesReason(devs []string) string {
	const shown = 5
	if len(devs) <= shown {
		return "device nodes: " + strings.Join(devs, ", ")
	}
	return fmt.Sprintf("%d device nodes: %s, ...", len(devs), strings.Join(devs[:shown], ", "))
}

// Capability defaults of the container runtimes, as each project documents
// them. They are facts about other projects, restated here.
var (
	// mobyDefaultCaps is the default set of moby (docker), from its
	// oci/caps DefaultCapabilities, which containerd's pkg/oci
	// defaultUnixCaps (and so its CRI plugin and nerdctl) repeats.
	mobyDefaultCaps = []string{
		"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
		"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
		"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
	}
	// crioDefaultCaps is CRI-O's default_capabilities (crio.conf(5),
	// internal/config/capabilities): moby's without MKNOD, NET_RAW,
	// SETFCAP, SYS_CHROOT and AUDIT_WRITE.
	crioDefaultCaps = []string{
		"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_SETGID",
		"CAP_SETUID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_KILL",
	}
)

// DefaultCapabilities returns the capabilities runtime grants a container
// by default, by the runtime names of cgroup.Container ("docker",
// "podman", ...), and whether the runtime's default is known. For a runtime
// without a documented default the moby set is returned with known false:
// it is the OCI tools' common baseline.
//
// podman's default is the moby set: its compiled-in default was moby's 14
// until containers/common 0.51 (podman 4.4), which, like the containers.conf
// that distributions have shipped since 2020, drops AUDIT_WRITE, MKNOD and
// NET_RAW. Which one a podman uses depends on its version and
// configuration, so only capabilities beyond both count as added.
func DefaultCapabilities(runtime string) (names []string, known bool) {
	switch runtime {
	case cgroup.Docker, cgroup.Containerd, cgroup.Podman:
		return slices.Clone(mobyDefaultCaps), true
	case cgroup.CRIO:
		return slices.Clone(crioDefaultCaps), true
	}
	return slices.Clone(mobyDefaultCaps), false
}

func defaultCapSet(runtime string) uint64 {
	names, _ := DefaultCapabilities(runtime)
	set, _ := proc.CapabilitySet(names...)
	return set
}

// postureHost is what every container's posture is compared with, read once
// per inventory.
type postureHost struct {
	// ns are the namespaces of the host reference process nsPID; nsErr says
	// why there is none.
	ns    proc.Namespaces
	nsPID int
	nsErr error
	// grantable is every capability the host can grant: the kernel's
	// (cap_last_cap) within the host init's bounding set; 0 when unknown,
	// with capsErr saying why.
	grantable uint64
	capsErr   error
	// mounts is the host's mount table (mounts.Host).
	mounts    []mounts.Mount
	mountsErr error
}

// capAuditRead is the last capability every runtime in use knows (Linux
// 3.16); see Posture.Privileged.
const capAuditRead = 37

// hostRefTries bounds how many host processes are tried as the namespace
// reference before giving up (PID 1 or a kernel thread normally answers).
const hostRefTries = 32

// readPostureHost reads the host side once. procs is the inventory's
// processes in ascending PID order.
func readPostureHost(ctx context.Context, r *hostroot.Root, procs []*proc.Process) *postureHost {
	h := &postureHost{}
	h.nsPID, h.ns, h.nsErr = hostNamespaces(r, procs)

	last, err := proc.LastCapability(r)
	if err != nil {
		h.capsErr = err
	} else {
		h.grantable = 1<<(min(last, capAuditRead)+1) - 1
		for _, p := range procs {
			if isHostCandidate(p) && !p.KernelThread && p.Missing[proc.FieldStatus] == nil && p.CapBnd != 0 {
				h.grantable &= p.CapBnd
				break
			}
		}
	}

	t, err := mounts.Host(ctx, r, nil)
	if err != nil {
		h.mountsErr = err
	} else {
		h.mounts = t.Mounts
	}
	return h
}

// isHostCandidate reports whether p may stand for the host: it runs in no
// container and is no pod sandbox's pause process, whose namespaces are the
// pod's (as mounts.Host skips them).
func isHostCandidate(p *proc.Process) bool {
	return (p.Container == nil || p.Container.ID == "") && p.Comm != "pause" && p.Comm != "catatonit"
}

// hostNamespaces finds the host's namespaces: those of the lowest-PID
// process that runs in no container, is not a pause process and whose
// namespace links can all be read. That is PID 1 on a host; where PID 1's
// links are denied (some sandboxes refuse them even to root) a kernel
// thread's, which live in the initial namespaces.
func hostNamespaces(r *hostroot.Root, procs []*proc.Process) (int, proc.Namespaces, error) {
	var errs []error
	tries := 0
	for _, p := range procs {
		if !isHostCandidate(p) {
			continue
		}
		if tries++; tries > hostRefTries {
			break
		}
		q, err := proc.Read(r, p.PID, proc.FieldNamespaces)
		if err == nil {
			err = q.Missing[proc.FieldNamespaces]
		}
		if err == nil && q.Namespaces.PID != 0 {
			return p.PID, q.Namespaces, nil
		}
		if err != nil && len(errs) < 2 {
			errs = append(errs, fmt.Errorf("PID %d: %w", p.PID, err))
		}
	}
	return 0, proc.Namespaces{}, fmt.Errorf("no host process's namespaces are readable: %w", errors.Join(errs...))
}

// runtimeSetup reports whether comm is the name runc gives its own
// processes while it sets a container up (runc:[0:PARENT], runc:[1:CHILD],
// runc:[2:INIT]): they run in the container's cgroup, with the runtime's
// capabilities, until the last execs the workload.
func runtimeSetup(comm string) bool { return strings.HasPrefix(comm, "runc:[") }

// containerPosture computes c's posture from its member processes (as the
// scan read them) and the host side. It returns what it could read and an
// error joining the reasons for each part it could not.
func containerPosture(ctx context.Context, r *hostroot.Root, c *Container, members []*proc.Process, host *postureHost) (*Posture, error) {
	p := &Posture{}
	var errs []error
	init := c.InitPID
	if init == 0 && len(c.PIDs) > 0 {
		init = c.PIDs[0]
	}

	// Privilege: union over the members whose status was read.
	var bnd, eff, prm uint64
	seccomp, noNewPrivs, withStatus := proc.SeccompMode(0), true, 0
	var initStatus *proc.Process
	setup := 0
	for _, m := range members {
		if m.Missing[proc.FieldStatus] != nil {
			continue
		}
		if runtimeSetup(m.Comm) {
			setup++
		}
		if m.PID == init {
			initStatus = m
		}
		bnd, eff, prm = bnd|m.CapBnd, eff|m.CapEff, prm|m.CapPrm
		if withStatus == 0 || seccompWeaker(m.Seccomp, seccomp) {
			seccomp = m.Seccomp
		}
		noNewPrivs = noNewPrivs && m.NoNewPrivs
		withStatus++
	}
	if setup > 0 {
		// Counted, not left out: a workload can name itself runc:[2:INIT],
		// and leaving it out would hide its capabilities.
		errs = append(errs, fmt.Errorf("privilege: %d of %d members are runc's setup process (runc:[N:...]), which holds every capability the runtime has until it execs the workload; the container is starting or a command is being exec'd into it, and the capabilities may be the runtime's", setup, withStatus))
	}
	if withStatus == 0 {
		errs = append(errs, errors.New("privilege: no member's status was read"))
	} else {
		p.Capabilities, p.Effective, p.Permitted = proc.CapabilityNames(bnd), proc.CapabilityNames(eff), proc.CapabilityNames(prm)
		p.AddedCapabilities = proc.CapabilityNames(bnd &^ defaultCapSet(c.Runtime))
		p.Seccomp, p.NoNewPrivs = seccomp.String(), noNewPrivs
		if host.grantable != 0 {
			p.Privileged = bnd&host.grantable == host.grantable
		} else {
			errs = append(errs, fmt.Errorf("privileged: the host's capabilities are unknown: %w", host.capsErr))
		}
	}

	// Namespaces and user: the init process's, as the scan read them when
	// its fields held FieldNamespaces, else read now.
	var q *proc.Process
	var err error
	for _, m := range members {
		if _, missing := m.Missing[proc.FieldNamespaces]; m.PID == init && !missing && m.Namespaces.Mnt != 0 {
			q = m
		}
	}
	if q == nil {
		q, err = proc.Read(r, init, proc.FieldNamespaces)
		if err == nil {
			err = q.Missing[proc.FieldNamespaces]
		}
	}
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("namespaces: %w", err))
	case host.nsErr != nil:
		errs = append(errs, fmt.Errorf("namespaces: %w", host.nsErr))
	default:
		p.HostNamespaces = sharedNamespaces(q.Namespaces, host.ns)
	}
	userMap, err := proc.UIDMap(r, init)
	if err != nil {
		errs = append(errs, fmt.Errorf("user: %w", err))
	} else {
		p.UserNamespace = !proc.IsIdentity(userMap)
		if q != nil && host.nsErr == nil && q.Namespaces.User != 0 {
			p.UserNamespace = q.Namespaces.User != host.ns.User
		}
		if initStatus == nil {
			errs = append(errs, fmt.Errorf("user: the status of init process %d was not read", init))
		} else {
			p.HostUID = initStatus.UIDs.Effective
			inside, ok := proc.MapToInside(userMap, p.HostUID)
			p.Root = ok && inside == 0
		}
	}

	// Mounts: the init process's table against the host's.
	ctrMounts, err := mounts.Process(r, init)
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("mounts: %w", err))
	case host.mountsErr != nil:
		errs = append(errs, fmt.Errorf("mounts: the host's table: %w", host.mountsErr))
	default:
		p.HostMounts = hostMounts(ctrMounts, host.mounts, ownIDs(c))
	}

	// Devices: the init process's /dev.
	devs, err := containerDevices(ctx, r, init)
	if err != nil {
		errs = append(errs, fmt.Errorf("devices: %w", err))
	}
	p.Devices = devs
	return p, errors.Join(errs...)
}

// seccompWeaker reports whether mode a confines less than b: disabled
// (none) is weaker than filter, which is weaker than strict.
func seccompWeaker(a, b proc.SeccompMode) bool {
	rank := func(m proc.SeccompMode) int {
		switch m {
		case proc.SeccompDisabled:
			return 0
		case proc.SeccompFilter:
			return 1
		case proc.SeccompStrict:
			return 2
		}
		return 1 // a mode this package does not know: some confinement
	}
	return rank(a) < rank(b)
}

// sharedNamespaces lists the namespace types whose inode c shares with host,
// in HostNamespaces order. An inode of 0 (unknown) is never shared.
func sharedNamespaces(c, host proc.Namespaces) []string {
	var out []string
	for _, ns := range []struct {
		name      string
		ctr, host uint64
	}{
		{"cgroup", c.Cgroup, host.Cgroup}, {"ipc", c.IPC, host.IPC}, {"mnt", c.Mnt, host.Mnt},
		{"net", c.Net, host.Net}, {"pid", c.PID, host.PID}, {"time", c.Time, host.Time},
		{"user", c.User, host.User}, {"uts", c.UTS, host.UTS},
	} {
		if ns.ctr != 0 && ns.ctr == ns.host {
			out = append(out, ns.name)
		}
	}
	return out
}

// ownIDs are the IDs that name a container's own directories on the host
// (its state, its pod's volumes and sandbox files).
func ownIDs(c *Container) []string {
	var ids []string
	for _, id := range []string{c.ID, c.SandboxID, c.PodUID, c.PodID} {
		if id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

// standardMounts are the kernel file systems a runtime mounts in every
// container, by mount point and type. Such a mount shares the host's
// superblock when the container shares the namespace it belongs to (sysfs
// in the host's network namespace), so it maps to a host path although the
// runtime made it: what it exposes is the namespace's and privilege rules'
// business.
var standardMounts = map[string][]string{
	"/proc":       {"proc"},
	"/sys":        {"sysfs"},
	"/dev":        {"tmpfs", "devtmpfs"},
	"/dev/pts":    {"devpts"},
	"/dev/mqueue": {"mqueue"},
	"/dev/shm":    {"tmpfs"},
}

func isStandardMount(m *mounts.Mount) bool {
	if types, ok := standardMounts[m.MountPoint]; ok && slices.Contains(types, m.FSType) {
		return true
	}
	return (m.FSType == "cgroup" || m.FSType == "cgroup2" || m.FSType == "tmpfs") &&
		(m.MountPoint == "/sys/fs/cgroup" || strings.HasPrefix(m.MountPoint, "/sys/fs/cgroup/"))
}

// defaultDevices are the /dev entries every runtime gives a container.
// Runtimes that cannot create nodes (in a user namespace) bind-mount the
// host's, so they also show up as host mounts of /dev/NAME, which are
// skipped.
var defaultDevices = []string{"null", "zero", "full", "random", "urandom", "tty", "console", "ptmx"}

// hostMounts maps the container's mount table ctr to host paths through
// the host's table, keeping the mounts that expose a host path:
//
//   - a container mount maps to the host mount of the same file system
//     (major:minor) whose root holds the container mount's root; the
//     host path is that mount's point joined with the rest of the root;
//   - the container's own root file system ("/") is skipped unless it is
//     the host's "/";
//   - the runtime's standard kernel mounts (standardMounts) are skipped;
//   - files of the container's own (a path component is its ID, its
//     sandbox's or its pod's UID: /etc/hosts from the runtime's state,
//     a pod's volumes) and bind mounts of the default device nodes are
//     skipped;
//   - a mount below another kept one whose host path continues it (the
//     submounts a recursive bind such as -v /:/host brings along) is
//     folded into it.
func hostMounts(ctr, host []mounts.Mount, own []string) []HostMount {
	type found struct {
		HostMount
		m *mounts.Mount
	}
	var out []found
	for i := range ctr {
		m := &ctr[i]
		src, ok := hostPath(host, m)
		if !ok || isStandardMount(m) {
			continue
		}
		if m.MountPoint == "/" && src != "/" {
			continue
		}
		if ownPath(src, own) || isDefaultDevice(src) {
			continue
		}
		out = append(out, found{HostMount{Source: src, Target: m.MountPoint, ReadOnly: slices.Contains(m.Options, "ro"),
			Sensitive: sensitive(src)}, m})
	}
	slices.SortStableFunc(out, func(a, b found) int { return strings.Compare(a.Target, b.Target) })
	var kept []HostMount
	for _, f := range out {
		folded := false
		for _, k := range kept {
			// A submount a recursive bind brought along: it shows, below
			// the bind's target, the host mount at the same place below
			// its source. Its file system may be mounted elsewhere on the
			// host too (procfs at /proc and at a bind of it), which is why
			// every host place of it is tried, not only Source.
			rel, ok := below(f.Target, k.Target)
			if ok && (f.Source == path.Join(k.Source, rel) || hostMountedAt(host, f.m, path.Join(k.Source, rel))) {
				folded = true
				break
			}
		}
		if !folded {
			kept = append(kept, f.HostMount)
		}
	}
	return kept
}

// hostMountedAt reports whether the host mounts m's file system (same
// device and root) at p.
func hostMountedAt(host []mounts.Mount, m *mounts.Mount, p string) bool {
	for i := range host {
		h := &host[i]
		if h.Major == m.Major && h.Minor == m.Minor && h.Root == m.Root && h.MountPoint == p {
			return true
		}
	}
	return false
}

// hostPath returns the host path of the container mount m: the host mount
// of the same device whose root is the longest prefix of m's root (the
// shortest mount point among equals, then the first), joined with the
// rest. Roots that are not paths (nsfs's "net:[...]") must match whole.
func hostPath(host []mounts.Mount, m *mounts.Mount) (string, bool) {
	best := -1
	var rest string
	for i := range host {
		h := &host[i]
		if h.Major != m.Major || h.Minor != m.Minor {
			continue
		}
		var rel string
		switch {
		case h.Root == m.Root:
			rel = ""
		case strings.HasPrefix(m.Root, "/") && strings.HasPrefix(h.Root, "/"):
			r, ok := below(m.Root, h.Root)
			if !ok {
				continue
			}
			rel = r
		default:
			continue
		}
		if best >= 0 {
			b := &host[best]
			if len(h.Root) < len(b.Root) || (len(h.Root) == len(b.Root) && len(h.MountPoint) >= len(b.MountPoint)) {
				continue
			}
		}
		best, rest = i, rel
	}
	if best < 0 {
		return "", false
	}
	return path.Join(host[best].MountPoint, rest), true
}

// below returns p relative to dir when p is dir or lies below it, on a
// component boundary ("" for dir itself).
func below(p, dir string) (string, bool) {
	switch {
	case p == dir:
		return "", true
	case dir == "/":
		return strings.TrimPrefix(p, "/"), strings.HasPrefix(p, "/")
	case strings.HasPrefix(p, dir) && len(p) > len(dir) && p[len(dir)] == '/':
		return p[len(dir)+1:], true
	}
	return "", false
}

func ownPath(p string, own []string) bool {
	for _, part := range strings.Split(p, "/") {
		if part != "" && slices.Contains(own, part) {
			return true
		}
	}
	return false
}

func isDefaultDevice(p string) bool {
	name, ok := strings.CutPrefix(p, "/dev/")
	return ok && slices.Contains(defaultDevices, name)
}

// Sensitive host locations, as HostMount.Sensitive names them.
var (
	sensitiveDirs   = []string{"/proc", "/sys", "/dev", "/etc", "/root", "/home", "/var/lib/kubelet"}
	runtimeSockets  = []string{"docker.sock", "containerd.sock", "crio.sock", "podman.sock", "cri-dockerd.sock"}
	socketLocations = []string{"/run/docker.sock", "/run/containerd/containerd.sock", "/run/crio/crio.sock",
		"/run/podman/podman.sock", "/run/cri-dockerd.sock"}
)

// sensitive names the sensitive location host path p exposes, or "".
func sensitive(p string) string {
	if base := path.Base(p); slices.Contains(runtimeSockets, base) {
		return base
	}
	if p == "/" {
		return "/"
	}
	for _, d := range sensitiveDirs {
		if _, ok := below(p, d); ok {
			return d
		}
	}
	for _, d := range sensitiveDirs {
		if _, ok := below(d, p); ok {
			return d
		}
	}
	for _, loc := range socketLocations {
		for _, l := range []string{loc, "/var" + loc} {
			if _, ok := below(l, p); ok {
				return "runtime sockets"
			}
		}
	}
	return ""
}

// containerDevices lists the device nodes under /dev in process pid's root
// beyond the defaults, read with Lstat through Root.ProcRoot (no link is
// followed). dev.Nodes skips /dev/shm and /dev/mqueue.
func containerDevices(ctx context.Context, r *hostroot.Root, pid int) ([]string, error) {
	pr, err := r.ProcRoot(pid)
	if err != nil {
		return nil, err
	}
	defer pr.Close()
	nodes, err := dev.Nodes(ctx, pr)
	var out []string
	for _, n := range nodes {
		rel := strings.TrimPrefix(n.Path, "/dev/")
		if slices.Contains(defaultDevices, rel) || strings.HasPrefix(rel, "pts/") {
			continue
		}
		out = append(out, n.Path)
	}
	return out, err
}

// declaredPosture reads what c's runtime configured it with. No state file
// is not an error: the runtime keeps it elsewhere, or the Root does not
// hold it (a DaemonSet without the runtimes' directories mounted).
func declaredPosture(rd *runtimestate.Reader, c *Container) (*Declared, error) {
	spec, err := rd.Spec(c.Runtime, c.ID)
	switch {
	case errors.Is(err, runtimestate.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	}
	return &Declared{
		Source:           spec.Source,
		Privileged:       spec.Privileged,
		PrivilegedSource: spec.PrivilegedSource,
		Capabilities:     spec.Bounding,
		Seccomp:          spec.Seccomp,
		NoNewPrivs:       spec.NoNewPrivileges,
		HostNamespaces:   spec.HostNamespaces,
		UserNamespace:    spec.UserNamespace,
		JoinedNamespaces: spec.JoinedNamespaces,
		Rootless:         spec.Rootless,
	}, nil
}
