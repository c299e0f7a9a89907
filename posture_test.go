package hostscope_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hostscope/hostscope"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
	"github.com/hostscope/hostscope/proc"
)

// Namespace inodes of the posture fixtures' host, and the ones a default
// container gets. cgroup, time and user are the host's in a default
// container, as docker gives them on cgroup v1.
var (
	hostNS = map[string]uint64{"cgroup": 4026531835, "ipc": 4026531839, "mnt": 4026531840, "net": 4026531833,
		"pid": 4026531836, "time": 4026531834, "user": 4026531837, "uts": 4026531838}
	ctrNS = map[string]uint64{"cgroup": 4026531835, "ipc": 4026532182, "mnt": 4026532180, "net": 4026532184,
		"pid": 4026532183, "time": 4026531834, "user": 4026531837, "uts": 4026532181}
)

const (
	dockerCaps  = 0xa80425fb // docker's default bounding set
	allCaps     = 1<<41 - 1  // CAP_CHOWN to CAP_CHECKPOINT_RESTORE
	identityMap = "         0          0 4294967295\n"
	hostTable   = "21 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n" +
		"22 21 0:22 / /sys rw,nosuid shared:2 - sysfs sysfs rw\n" +
		"23 21 0:21 / /proc rw,nosuid shared:3 - proc proc rw\n" +
		"24 21 0:6 / /dev rw,nosuid shared:4 - devtmpfs udev rw,mode=755\n" +
		"25 21 0:25 / /run rw,nosuid shared:5 - tmpfs tmpfs rw,mode=755\n" +
		"26 21 254:0 /var/lib/docker /var/lib/docker rw,relatime - ext4 /dev/vda rw\n" +
		"27 26 0:40 / /var/lib/docker/overlay2/4f1e/merged rw,relatime - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w\n" +
		"28 21 0:21 / /srv/proc rw,relatime shared:6 - proc proc rw\n" // procfs again, as a test's bind mount of it
)

// member is one process of a posture fixture's container.
type member struct {
	pid            int
	capBnd, capEff uint64
	seccomp        int
	noNewPrivs     bool
	uid            uint32
	nspid          string
	ns             map[string]uint64
	uidMap         string
	mountinfo      string // empty: the default container's table
	devices        []string
	comm           string // "sleep" when empty
	noMountinfo    bool
	noStatus       bool
}

// defaultMember is a docker container's init process as docker 20.10 starts
// it on a cgroup v1 host.
func defaultMember() member {
	return member{pid: 100, capBnd: dockerCaps, capEff: dockerCaps, seccomp: 2, nspid: "100\t1", ns: ctrNS, uidMap: identityMap}
}

// defaultTable is the default container's mount table: its overlay root,
// the runtime's kernel mounts, /etc/hosts from the runtime's state and
// /proc/keys masked with the host's /dev/null (as podman does in a user
// namespace).
func defaultTable(extra ...string) string {
	return "600 500 0:40 / / rw,relatime - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w\n" +
		"601 600 0:50 / /proc rw,nosuid,nodev,noexec - proc proc rw\n" +
		"602 600 0:51 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755\n" +
		"603 602 0:52 / /dev/pts rw,nosuid,noexec - devpts devpts rw,gid=5,mode=620\n" +
		"604 600 0:53 / /sys ro,nosuid,nodev,noexec - sysfs sysfs ro\n" +
		"605 604 0:54 / /sys/fs/cgroup rw,nosuid - tmpfs tmpfs rw,mode=755\n" +
		"606 600 254:0 /var/lib/docker/containers/" + dockerID + "/hosts /etc/hosts rw,relatime - ext4 /dev/vda rw\n" +
		"607 601 0:6 /null /proc/keys rw,nosuid - devtmpfs udev rw\n" +
		strings.Join(extra, "")
}

func (m member) add(h *hostroottest.Host, cgroupLine string) {
	dir := fmt.Sprintf("/proc/%d", m.pid)
	comm := m.comm
	if comm == "" {
		comm = "sleep"
	}
	h.File(dir+"/stat", statLine(fakeProc{pid: m.pid, ppid: 1, comm: comm}))
	if !m.noStatus {
		nnp := 0
		if m.noNewPrivs {
			nnp = 1
		}
		h.File(dir+"/status", fmt.Sprintf("Name:\t%s\nState:\tS (sleeping)\nPid:\t%d\nPPid:\t1\n"+
			"Uid:\t%[3]d\t%[3]d\t%[3]d\t%[3]d\nGid:\t0\t0\t0\t0\nNSpid:\t%s\n"+
			"CapInh:\t0000000000000000\nCapPrm:\t%016[5]x\nCapEff:\t%016[5]x\nCapBnd:\t%016x\nCapAmb:\t0000000000000000\n"+
			"NoNewPrivs:\t%d\nSeccomp:\t%d\n", comm, m.pid, m.uid, m.nspid, m.capEff, m.capBnd, nnp, m.seccomp))
	}
	h.File(dir+"/cgroup", cgroupLine)
	for name, ino := range m.ns {
		h.Symlink(dir+"/ns/"+name, fmt.Sprintf("%s:[%d]", name, ino))
		if name == "pid" || name == "time" {
			h.Symlink(dir+"/ns/"+name+"_for_children", fmt.Sprintf("%s:[%d]", name, ino))
		}
	}
	h.File(dir+"/uid_map", m.uidMap)
	if !m.noMountinfo {
		mi := m.mountinfo
		if mi == "" {
			mi = defaultTable()
		}
		h.File(dir+"/mountinfo", mi)
	}
	root := fmt.Sprintf("/var/lib/docker/overlay2/%d/merged", m.pid)
	h.Device(root+"/dev/null", hostroottest.Char, 1, 3, 0o666).
		Device(root+"/dev/zero", hostroottest.Char, 1, 5, 0o666).
		Device(root+"/dev/tty", hostroottest.Char, 5, 0, 0o666).
		Device(root+"/dev/pts/ptmx", hostroottest.Char, 5, 2, 0o666).
		Symlink(root+"/dev/ptmx", "pts/ptmx").
		Symlink(root+"/dev/stdin", "/proc/self/fd/0").
		File(root+"/bin/sh", "")
	for i, d := range m.devices {
		h.Device(root+d, hostroottest.Char, 10, uint32(200+i), 0o600)
	}
	h.ProcRoot(m.pid, root)
}

// postureHost is a host whose PID 1 has bounding set hostBnd, running a
// docker container made of ms.
func postureHost(hostBnd uint64, ms ...member) *hostroottest.Host {
	h := hostroottest.New().File("/proc/stat", "cpu  1 1 1 1\nbtime 1700000000\n").
		File("/proc/sys/kernel/cap_last_cap", "40\n")
	init := member{pid: 1, capBnd: hostBnd, capEff: hostBnd, nspid: "1", ns: hostNS, uidMap: identityMap, mountinfo: hostTable}
	init.add(h, "0::/init.scope\n")
	h.File("/proc/1/stat", statLine(fakeProc{pid: 1, comm: "systemd"}))
	for _, m := range ms {
		m.add(h, "0::/system.slice/docker-"+dockerID+".scope\n")
	}
	return h
}

// inventoryPosture takes the inventory of h with Posture and returns its
// one container.
func inventoryPosture(t *testing.T, h *hostroottest.Host) *hostscope.Container {
	t.Helper()
	inv, err := hostscope.TakeInventory(context.Background(), hostroottest.MustRoot(t, h), &hostscope.Options{Posture: true, NoNames: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(inv.Containers))
	}
	return inv.Containers[0]
}

var dockerCapNames = []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW",
	"CAP_SYS_CHROOT", "CAP_MKNOD", "CAP_AUDIT_WRITE", "CAP_SETFCAP"}

// defaultPosture is the posture of defaultMember.
func defaultPosture() hostscope.Posture {
	return hostscope.Posture{
		Capabilities: dockerCapNames, Effective: dockerCapNames, Permitted: dockerCapNames,
		Seccomp: "filter", Root: true, HostNamespaces: []string{"cgroup", "time", "user"},
	}
}

func TestPostureDefaultContainer(t *testing.T) {
	c := inventoryPosture(t, postureHost(allCaps, defaultMember()))
	if c.PostureErr != nil {
		t.Fatalf("PostureErr: %v", c.PostureErr)
	}
	if diff := cmp.Diff(defaultPosture(), *c.Posture, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("posture (-want +got):\n%s", diff)
	}
	if f := c.Posture.Findings(); len(f) != 0 {
		t.Errorf("a default container has findings: %v", f)
	}
}

// Each finding, alone, from a container that differs from the default in
// one way, and the absence of findings for what is not a risk.
func TestPostureFindings(t *testing.T) {
	withNS := func(over map[string]uint64) map[string]uint64 {
		ns := map[string]uint64{}
		for k, v := range ctrNS {
			ns[k] = v
		}
		for k, v := range over {
			ns[k] = v
		}
		return ns
	}
	for _, tc := range []struct {
		name    string
		hostBnd uint64
		members func() []member
		edit    func(*hostscope.Posture) // from defaultPosture
		want    []hostscope.Finding
	}{{
		name:    "privileged",
		hostBnd: allCaps,
		members: func() []member {
			m := defaultMember()
			m.capBnd, m.capEff, m.seccomp = allCaps, allCaps, 0
			m.devices = []string{"/dev/sda", "/dev/kvm"}
			return []member{m}
		},
		edit: func(p *hostscope.Posture) {
			all := capNames(allCaps)
			p.Privileged, p.Capabilities, p.Effective, p.Permitted = true, all, all, all
			p.AddedCapabilities = capNames(allCaps &^ dockerCaps)
			p.Seccomp = "disabled"
			p.Devices = []string{"/dev/kvm", "/dev/sda"}
		},
		want: []hostscope.Finding{
			{Rule: hostscope.RulePrivileged, Reason: "privileged: every capability the host grants, as the host's root"},
			{Rule: hostscope.RuleSeccompDisabled, Reason: "seccomp disabled: every system call is reachable"},
			{Rule: hostscope.RuleDevices, Reason: "device nodes: /dev/kvm, /dev/sda"},
		},
	}, {
		// A host whose init lacks CAP_SYS_RESOURCE (24) grants no container
		// more: one with everything else is privileged.
		name:    "privileged on a restricted host",
		hostBnd: allCaps &^ (1 << 24),
		members: func() []member {
			m := defaultMember()
			m.capBnd, m.capEff = allCaps&^(1<<24), allCaps&^(1<<24)
			return []member{m}
		},
		edit: func(p *hostscope.Posture) {
			all := capNames(allCaps &^ (1 << 24))
			p.Privileged, p.Capabilities, p.Effective, p.Permitted = true, all, all, all
			p.AddedCapabilities = capNames(allCaps &^ dockerCaps &^ (1 << 24))
		},
		want: []hostscope.Finding{{Rule: hostscope.RulePrivileged, Reason: "privileged: every capability the host grants, as the host's root"}},
	}, {
		// docker 20.10 knows capabilities up to CAP_AUDIT_READ (37) and
		// grants a privileged container those.
		name:    "privileged by a runtime that knows 38 capabilities",
		hostBnd: allCaps,
		members: func() []member {
			m := defaultMember()
			m.capBnd, m.capEff = 1<<38-1, 1<<38-1
			return []member{m}
		},
		edit: func(p *hostscope.Posture) {
			all := capNames(1<<38 - 1)
			p.Privileged, p.Capabilities, p.Effective, p.Permitted = true, all, all, all
			p.AddedCapabilities = capNames((1<<38 - 1) &^ dockerCaps)
		},
		want: []hostscope.Finding{{Rule: hostscope.RulePrivileged, Reason: "privileged: every capability the host grants, as the host's root"}},
	}, {
		// The same set on a host that can grant CAP_SYS_RESOURCE is many
		// added capabilities, not privileged.
		name:    "all but one capability",
		hostBnd: allCaps,
		members: func() []member {
			m := defaultMember()
			m.capBnd, m.capEff = dockerCaps|1<<21|1<<19, dockerCaps|1<<21|1<<19
			return []member{m}
		},
		edit: func(p *hostscope.Posture) {
			set := capNames(dockerCaps | 1<<21 | 1<<19)
			p.Capabilities, p.Effective, p.Permitted = set, set, set
			p.AddedCapabilities = []string{"CAP_SYS_PTRACE", "CAP_SYS_ADMIN"}
		},
		want: []hostscope.Finding{{Rule: hostscope.RuleAddedCapabilities,
			Reason: "capabilities beyond the runtime's default: CAP_SYS_PTRACE, CAP_SYS_ADMIN"}},
	}, {
		name:    "host pid and net",
		hostBnd: allCaps,
		members: func() []member {
			m := defaultMember()
			m.ns = withNS(map[string]uint64{"pid": hostNS["pid"], "net": hostNS["net"]})
			// In the host's network namespace the runtime's fresh sysfs is
			// the host's superblock: a standard mount, not a host mount.
			m.mountinfo = strings.Replace(defaultTable(), "0:53 / /sys", "0:22 / /sys", 1)
			return []member{m}
		},
		edit: func(p *hostscope.Posture) {
			p.HostNamespaces = []string{"cgroup", "net", "pid", "time", "user"}
		},
		want: []hostscope.Finding{
			{Rule: hostscope.RuleHostNamespace, Subject: "net", Reason: "host net namespace: uses the host's network stack and its localhost services"},
			{Rule: hostscope.RuleHostNamespace, Subject: "pid", Reason: "host pid namespace: sees every host process"},
		},
	}, {
		name:    "host ipc, uts and mnt",
		hostBnd: allCaps,
		members: func() []member {
			m := defaultMember()
			m.ns = withNS(map[string]uint64{"ipc": hostNS["ipc"], "uts": hostNS["uts"], "mnt": hostNS["mnt"]})
			return []member{m}
		},
		edit: func(p *hostscope.Posture) {
			p.HostNamespaces = []string{"cgroup", "ipc", "mnt", "time", "user", "uts"}
		},
		want: []hostscope.Finding{
			{Rule: hostscope.RuleHostNamespace, Subject: "ipc", Reason: "host ipc namespace: reaches the host's shared memory and semaphores"},
			{Rule: hostscope.RuleHostNamespace, Subject: "mnt", Reason: "host mnt namespace: sees the host's whole mount tree"},
			{Rule: hostscope.RuleHostNamespace, Subject: "uts", Reason: "host uts namespace: shares the host name"},
		},
	}, {
		// -v /:/host brings the host's submounts along; they fold into it.
		name:    "host root",
		hostBnd: allCaps,
		members: func() []member {
			m := defaultMember()
			m.mountinfo = defaultTable(
				"610 600 254:0 / /host rw,relatime - ext4 /dev/vda rw\n",
				"611 610 0:21 / /host/proc rw,relatime - proc proc rw\n",
				"612 610 0:40 / /host/var/lib/docker/overlay2/4f1e/merged rw - overlay overlay rw\n",
				// procfs's second host mount, whose host path (the
				// shortest, /proc) is not where the bind shows it.
				"613 610 0:21 / /host/srv/proc rw,relatime - proc proc rw\n")
			return []member{m}
		},
		edit: func(p *hostscope.Posture) {
			p.HostMounts = []hostscope.HostMount{{Source: "/", Target: "/host", Sensitive: "/"}}
		},
		want: []hostscope.Finding{{Rule: hostscope.RuleSensitiveMount, Subject: "/host",
			Reason: "host / (the host's root) mounted read-write at /host, as the host's root"}},
	}, {
		name:    "runtime socket",
		hostBnd: allCaps,
		members: func() []member {
			m := defaultMember()
			m.mountinfo = defaultTable("610 600 0:25 /docker.sock /var/run/docker.sock rw - tmpfs tmpfs rw\n")
			return []member{m}
		},
		edit: func(p *hostscope.Posture) {
			p.HostMounts = []hostscope.HostMount{{Source: "/run/docker.sock", Target: "/var/run/docker.sock", Sensitive: "docker.sock"}}
		},
		want: []hostscope.Finding{{Rule: hostscope.RuleSensitiveMount, Subject: "/var/run/docker.sock",
			Reason: "host /run/docker.sock (runtime socket docker.sock) mounted read-write at /var/run/docker.sock, as the host's root"}},
	}, {
		// Read-only sensitive mounts rank lower; a directory holding the
		// runtime sockets counts; a plain data directory is listed without
		// a finding.
		name:    "read-only and plain mounts",
		hostBnd: allCaps,
		members: func() []member {
			m := defaultMember()
			m.mountinfo = defaultTable(
				"610 600 254:0 /etc /host-etc ro,relatime - ext4 /dev/vda rw\n",
				"611 600 0:25 / /host-run ro - tmpfs tmpfs rw\n",
				"612 600 254:0 /srv/data /data rw,relatime - ext4 /dev/vda rw\n",
				"613 600 254:0 /var/lib/docker/volumes/cache/_data /cache rw,relatime - ext4 /dev/vda rw\n")
			return []member{m}
		},
		edit: func(p *hostscope.Posture) {
			p.HostMounts = []hostscope.HostMount{
				{Source: "/var/lib/docker/volumes/cache/_data", Target: "/cache"},
				{Source: "/srv/data", Target: "/data"},
				{Source: "/etc", Target: "/host-etc", ReadOnly: true, Sensitive: "/etc"},
				{Source: "/run", Target: "/host-run", ReadOnly: true, Sensitive: "runtime sockets"},
			}
		},
		want: []hostscope.Finding{
			{Rule: hostscope.RuleSensitiveMountReadOnly, Subject: "/host-etc", Reason: "host /etc (under /etc) mounted read-only at /host-etc"},
			{Rule: hostscope.RuleSensitiveMountReadOnly, Subject: "/host-run", Reason: "host /run (holds runtime sockets) mounted read-only at /host-run"},
		},
	}, {
		// --device /dev/fuse: one node beyond the defaults.
		name:    "device",
		hostBnd: allCaps,
		members: func() []member {
			m := defaultMember()
			m.devices = []string{"/dev/fuse"}
			return []member{m}
		},
		edit: func(p *hostscope.Posture) { p.Devices = []string{"/dev/fuse"} },
		want: []hostscope.Finding{{Rule: hostscope.RuleDevices, Reason: "device nodes: /dev/fuse"}},
	}, {
		name:    "seccomp unconfined",
		hostBnd: allCaps,
		members: func() []member {
			m := defaultMember()
			m.seccomp = 0
			return []member{m}
		},
		edit: func(p *hostscope.Posture) { p.Seccomp = "disabled" },
		want: []hostscope.Finding{{Rule: hostscope.RuleSeccompDisabled, Reason: "seccomp disabled: every system call is reachable"}},
	}, {
		// An exec'd process with more than init: the union of the sets,
		// the weakest seccomp; no_new_privs only when all have it.
		name:    "members differ",
		hostBnd: allCaps,
		members: func() []member {
			m := defaultMember()
			m.noNewPrivs = true
			x := defaultMember()
			x.pid, x.nspid, x.capBnd, x.capEff, x.seccomp = 101, "101\t7", dockerCaps|1<<19, dockerCaps|1<<19, 0
			return []member{m, x}
		},
		edit: func(p *hostscope.Posture) {
			set := capNames(dockerCaps | 1<<19)
			p.Capabilities, p.Effective, p.Permitted = set, set, set
			p.AddedCapabilities = []string{"CAP_SYS_PTRACE"}
			p.Seccomp = "disabled"
		},
		want: []hostscope.Finding{
			{Rule: hostscope.RuleAddedCapabilities, Reason: "capabilities beyond the runtime's default: CAP_SYS_PTRACE"},
			{Rule: hostscope.RuleSeccompDisabled, Reason: "seccomp disabled: every system call is reachable"},
		},
	}, {
		name:    "no_new_privs, strict seccomp",
		hostBnd: allCaps,
		members: func() []member {
			m := defaultMember()
			m.noNewPrivs, m.seccomp = true, 1
			return []member{m}
		},
		edit: func(p *hostscope.Posture) { p.NoNewPrivs, p.Seccomp = true, "strict" },
	}, {
		// podman --uidmap 0:100000:65536: root inside, UID 100000 outside,
		// a user namespace of its own. Not a finding.
		name:    "user namespace",
		hostBnd: allCaps,
		members: func() []member {
			m := defaultMember()
			m.uid, m.uidMap = 100000, "         0     100000      65536\n"
			m.ns = withNS(map[string]uint64{"user": 4026532190})
			return []member{m}
		},
		edit: func(p *hostscope.Posture) {
			p.UserNamespace, p.HostUID = true, 100000
			p.HostNamespaces = []string{"cgroup", "time"}
		},
	}, {
		name:    "not root",
		hostBnd: allCaps,
		members: func() []member {
			m := defaultMember()
			m.uid, m.capEff = 1000, 0
			return []member{m}
		},
		edit: func(p *hostscope.Posture) {
			p.Root, p.HostUID, p.Effective, p.Permitted = false, 1000, nil, nil
		},
	}, {
		// Not root on the host: a sensitive mount's reason says nothing of
		// the host's root.
		name:    "socket in a user namespace",
		hostBnd: allCaps,
		members: func() []member {
			m := defaultMember()
			m.uid, m.uidMap = 100000, "         0     100000      65536\n"
			m.ns = withNS(map[string]uint64{"user": 4026532190})
			m.mountinfo = defaultTable("610 600 0:25 /containerd/containerd.sock /run/containerd/containerd.sock rw - tmpfs tmpfs rw\n")
			return []member{m}
		},
		edit: func(p *hostscope.Posture) {
			p.UserNamespace, p.HostUID = true, 100000
			p.HostNamespaces = []string{"cgroup", "time"}
			p.HostMounts = []hostscope.HostMount{{Source: "/run/containerd/containerd.sock", Target: "/run/containerd/containerd.sock", Sensitive: "containerd.sock"}}
		},
		want: []hostscope.Finding{{Rule: hostscope.RuleSensitiveMount, Subject: "/run/containerd/containerd.sock",
			Reason: "host /run/containerd/containerd.sock (runtime socket containerd.sock) mounted read-write at /run/containerd/containerd.sock"}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			c := inventoryPosture(t, postureHost(tc.hostBnd, tc.members()...))
			if c.PostureErr != nil {
				t.Fatalf("PostureErr: %v", c.PostureErr)
			}
			want := defaultPosture()
			tc.edit(&want)
			if diff := cmp.Diff(want, *c.Posture, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("posture (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, c.Posture.Findings(), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

func capNames(set uint64) []string {
	var out []string
	for i := 0; i < 64; i++ {
		if set&(1<<i) != 0 {
			out = append(out, capName(i))
		}
	}
	return out
}

// capName is the kernel's name table, restated so the test does not check
// proc.CapabilityNames against itself.
func capName(i int) string {
	names := strings.Fields(`CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP
		LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE
		SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME
		SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG
		WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF CHECKPOINT_RESTORE`)
	return "CAP_" + names[i]
}

// The host reference: PID 1's namespace links denied (as some sandboxes
// deny them even to root), or PID 1 a pod's pause process, leaves the
// first readable host process, a kernel thread here, as the reference.
func TestPostureHostReference(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(h *hostroottest.Host)
	}{
		{"PID 1 links unreadable", func(h *hostroottest.Host) {
			for name := range hostNS {
				h.Remove("/proc/1/ns/" + name)
			}
		}},
		{"PID 1 is pause", func(h *hostroottest.Host) {
			h.File("/proc/1/stat", statLine(fakeProc{pid: 1, comm: "pause"}))
			for name := range hostNS {
				h.Symlink("/proc/1/ns/"+name, fmt.Sprintf("%s:[%d]", name, ctrNS[name]+1000))
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := postureHost(allCaps, defaultMember())
			tc.edit(h)
			// Without another host process there is no reference.
			if c := inventoryPosture(t, h); c.PostureErr == nil || !strings.Contains(c.PostureErr.Error(), "namespaces: no host process") ||
				c.Posture.HostNamespaces != nil {
				t.Fatalf("PID 1 alone: PostureErr %v, host namespaces %v; want no reference", c.PostureErr, c.Posture.HostNamespaces)
			}
			kthreadd := member{pid: 2, capBnd: allCaps, nspid: "2", ns: hostNS, uidMap: identityMap, mountinfo: hostTable}
			kthreadd.add(h, "0::/\n")
			h.File("/proc/2/stat", statLine(fakeProc{pid: 2, comm: "kthreadd", kthread: true}))
			c := inventoryPosture(t, h)
			if c.PostureErr != nil {
				t.Fatalf("PostureErr: %v", c.PostureErr)
			}
			if diff := cmp.Diff([]string{"cgroup", "time", "user"}, c.Posture.HostNamespaces); diff != "" {
				t.Errorf("host namespaces (-want +got):\n%s", diff)
			}
		})
	}
}

// What cannot be read is left empty and named in PostureErr; the rest is
// still there.
func TestPosturePartial(t *testing.T) {
	m := defaultMember()
	m.noMountinfo = true
	h := postureHost(allCaps, m)
	h.Remove("/proc/sys/kernel/cap_last_cap")
	c := inventoryPosture(t, h)
	err := c.PostureErr
	if err == nil || !strings.Contains(err.Error(), "mounts: ") || !strings.Contains(err.Error(), "privileged: ") {
		t.Fatalf("PostureErr = %v, want the mounts and privileged parts", err)
	}
	if diff := cmp.Diff(defaultPosture(), *c.Posture, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("posture (-want +got):\n%s", diff)
	}

	// No status for any member: no privilege fields, and no Root.
	m = defaultMember()
	m.noStatus = true
	c = inventoryPosture(t, postureHost(allCaps, m))
	if c.PostureErr == nil || !strings.Contains(c.PostureErr.Error(), "privilege: ") {
		t.Errorf("PostureErr = %v, want the privilege part", c.PostureErr)
	}
	want := hostscope.Posture{HostNamespaces: []string{"cgroup", "time", "user"}}
	if diff := cmp.Diff(want, *c.Posture, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("posture without status (-want +got):\n%s", diff)
	}
}

func TestDefaultCapabilities(t *testing.T) {
	for _, tc := range []struct {
		runtime string
		n       int
		known   bool
	}{
		{"docker", 14, true}, {"containerd", 14, true}, {"podman", 14, true}, {"cri-o", 9, true}, {"lxc", 14, false},
	} {
		got, known := hostscope.DefaultCapabilities(tc.runtime)
		if len(got) != tc.n || known != tc.known {
			t.Errorf("DefaultCapabilities(%q) = %v, %v; want %d names, %v", tc.runtime, got, known, tc.n, tc.known)
		}
	}
	// A CRI-O container with docker's set has five added.
	got, _ := hostscope.DefaultCapabilities("cri-o")
	docker, _ := hostscope.DefaultCapabilities("docker")
	var extra []string
	for _, c := range docker {
		if !contains(got, c) {
			extra = append(extra, c)
		}
	}
	if diff := cmp.Diff([]string{"CAP_MKNOD", "CAP_NET_RAW", "CAP_SETFCAP", "CAP_SYS_CHROOT", "CAP_AUDIT_WRITE"}, extra); diff != "" {
		t.Errorf("docker's beyond CRI-O's (-want +got):\n%s", diff)
	}
	// The slices are copies.
	got[0] = "changed"
	if again, _ := hostscope.DefaultCapabilities("cri-o"); again[0] == "changed" {
		t.Error("DefaultCapabilities returns its own table")
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// BenchmarkTakeInventoryPosture measures what Options.Posture adds to an
// inventory of an in-memory host with one container of two processes, and
// what reading its declared configuration (docker's hostconfig.json and
// the bundle's OCI spec, with the names from config.v2.json) adds to that.
func BenchmarkTakeInventoryPosture(b *testing.B) {
	x := defaultMember()
	x.pid, x.nspid = 101, "101\t7"
	for _, tc := range []struct {
		name              string
		posture, declared bool
	}{{"posture=false", false, false}, {"posture=true", true, false}, {"posture=true/declared", true, true}} {
		b.Run(tc.name, func(b *testing.B) {
			h := postureHost(allCaps, defaultMember(), x)
			if tc.declared {
				h.File(fixtureHostConfig, `{"Privileged":false}`)
				h.File(fixtureBundleSpec, fixtureSpec(b, dockerCapNames, true, dockerNS, false))
				h.File("/var/lib/docker/containers/"+dockerID+"/config.v2.json", `{"ID":"`+dockerID+`","Name":"/web","Config":{"Image":"nginx:1.25"}}`)
			}
			root := hostroottest.MustRoot(b, h)
			opts := &hostscope.Options{Posture: tc.posture, NoNames: !tc.declared}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := hostscope.TakeInventory(context.Background(), root, opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// A runc:[2:INIT] among the members (a docker exec starting) holds every
// capability the runtime has for a moment. It is counted, so a workload
// cannot hide by taking that name, and PostureErr says the findings may be
// transient.
func TestPostureRuntimeSetupProcess(t *testing.T) {
	setup := defaultMember()
	setup.pid, setup.nspid, setup.comm = 101, "101\t7", "runc:[2:INIT]"
	setup.capBnd, setup.capEff, setup.seccomp = allCaps, allCaps, 0
	c := inventoryPosture(t, postureHost(allCaps, defaultMember(), setup))
	if c.PostureErr == nil || !strings.Contains(c.PostureErr.Error(), "privilege: 1 of 2 members are runc's setup process") {
		t.Errorf("PostureErr = %v, want the setup process named", c.PostureErr)
	}
	if !c.Posture.Privileged || c.Posture.Seccomp != "disabled" {
		t.Errorf("posture = %+v, want the setup process's capabilities and seccomp counted", c.Posture)
	}

	// Without it, the same container has a complete default posture.
	c = inventoryPosture(t, postureHost(allCaps, defaultMember()))
	if c.PostureErr != nil || c.Posture.Privileged {
		t.Errorf("default container: PostureErr = %v, Privileged = %v", c.PostureErr, c.Posture.Privileged)
	}
}

// A scan that reads the namespace links itself gives the same posture from
// them as one that leaves posture to read the init process's.
func TestPostureWithScannedNamespaces(t *testing.T) {
	m := defaultMember()
	m.ns = map[string]uint64{}
	for k, v := range ctrNS {
		m.ns[k] = v
	}
	m.ns["net"] = hostNS["net"]
	h := postureHost(allCaps, m)
	for _, fields := range []proc.Field{proc.DefaultFields, proc.DefaultFields | proc.FieldNamespaces} {
		inv, err := hostscope.TakeInventory(context.Background(), hostroottest.MustRoot(t, h),
			&hostscope.Options{Posture: true, NoNames: true, Fields: fields})
		if err != nil {
			t.Fatal(err)
		}
		c := inv.Containers[0]
		if c.PostureErr != nil {
			t.Errorf("fields %v: PostureErr = %v", fields, c.PostureErr)
		}
		if diff := cmp.Diff([]string{"cgroup", "net", "time", "user"}, c.Posture.HostNamespaces); diff != "" {
			t.Errorf("fields %v: host namespaces (-want +got):\n%s", fields, diff)
		}
	}
}
