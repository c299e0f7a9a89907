// Package psjson is the stable JSON form of a process and its container:
// the lines of examples/ps --json, and the process objects of the
// DaemonSet agent's events and /inventory, which are the same objects.
//
// The contract (../shared/DESIGN.md): snake_case names; absent values are
// "", 0, false, [] or null, never omitted; fields may be added, and none
// changes meaning.
package psjson

import (
	"time"

	"github.com/hostscope/hostscope"
	"github.com/hostscope/hostscope/cgroup"
	"github.com/hostscope/hostscope/proc"
)

// Process is one process.
type Process struct {
	PID     int      `json:"pid"`
	PPID    int      `json:"ppid"`
	Comm    string   `json:"comm"`
	State   string   `json:"state"`
	Cmdline []string `json:"cmdline"`
	// Exe is the link text the kernel gives, in the process's own mount
	// namespace, without " (deleted)".
	Exe string `json:"exe"`
	// UID is the real user ID.
	UID uint32 `json:"uid"`
	// StartTime is RFC 3339 with the kernel's clock-tick precision.
	StartTime string     `json:"start_time"`
	NSpid     []int      `json:"nspid"`
	Container *Container `json:"container"`
	// Sockets is present only when the caller asked for sockets (ps
	// --sockets; FromProcessSockets): then a list, empty when the process
	// has none. A nil Sockets is left out of the object.
	Sockets []Socket `json:"sockets,omitzero"`
}

// Socket is one socket of a process. Absent values are "" and 0.
type Socket struct {
	// Protocol is "tcp", "tcp6", "udp", "udp6", "raw", "raw6" or "unix".
	Protocol string `json:"protocol"`
	// LocalAddress is the IP address in its usual text form ("0.0.0.0",
	// "::", "::ffff:10.0.0.1"); for unix sockets, the bound path ("@name"
	// for an abstract name), "" when unbound.
	LocalAddress string `json:"local_address"`
	LocalPort    uint16 `json:"local_port"`
	// RemoteAddress is the peer's IP address ("" for unix sockets).
	RemoteAddress string `json:"remote_address"`
	RemotePort    uint16 `json:"remote_port"`
	// State is the kernel's name: "LISTEN", "ESTABLISHED", ... for tcp;
	// "UNCONN" or "ESTABLISHED" for udp and raw; "LISTEN", "UNCONN",
	// "CONNECTING", "ESTABLISHED" or "DISCONNECTING" for unix.
	State string `json:"state"`
	// Inode is the socket's inode number, as the process's fd link names it.
	Inode uint64 `json:"inode"`
}

// Container is the container a process runs in or, with an empty id, the
// Kubernetes pod it is charged to outside any of its containers.
type Container struct {
	ID           string `json:"id"` // the full ID
	Runtime      string `json:"runtime"`
	PodUID       string `json:"pod_uid"`
	QoS          string `json:"qos"`
	Name         string `json:"name"`
	Image        string `json:"image"`
	PodName      string `json:"pod_name"`
	PodNamespace string `json:"pod_namespace"`
	// Sandbox marks a pod's pause or infra container.
	Sandbox bool `json:"sandbox"`
	// PodID is podman's pod ID (podman pods have no Kubernetes UID).
	PodID string `json:"pod_id"`
	// Posture is the container's security posture, present only when it
	// was computed (ps --json computes it unless --no-posture is given).
	Posture *Posture `json:"posture,omitempty"`
}

// FromContainer converts c; nil gives nil.
func FromContainer(c *cgroup.Container) *Container {
	if c == nil {
		return nil
	}
	return &Container{
		ID: c.ID, Runtime: c.Runtime, PodUID: c.PodUID, QoS: c.QoS,
		Name: c.Name, Image: c.Image, PodName: c.PodName, PodNamespace: c.PodNamespace,
		Sandbox: c.Sandbox, PodID: c.PodID,
	}
}

// FromSocket converts s.
func FromSocket(s *proc.Socket) Socket {
	j := Socket{Protocol: s.Protocol, LocalPort: s.LocalPort, RemotePort: s.RemotePort, State: s.State, Inode: s.Inode}
	if s.Protocol == "unix" {
		j.LocalAddress = s.Path
		return j
	}
	if s.LocalAddr.IsValid() {
		j.LocalAddress = s.LocalAddr.String()
	}
	if s.RemoteAddr.IsValid() {
		j.RemoteAddress = s.RemoteAddr.String()
	}
	return j
}

// FromProcessSockets is FromProcess with the process's sockets: a list,
// empty rather than null when it has none.
func FromProcessSockets(p *proc.Process) Process {
	j := FromProcess(p)
	j.Sockets = make([]Socket, len(p.Sockets))
	for i := range p.Sockets {
		j.Sockets[i] = FromSocket(&p.Sockets[i])
	}
	return j
}

// FromProcess converts p, with empty lists rather than nulls, and no
// sockets (see FromProcessSockets).
func FromProcess(p *proc.Process) Process {
	j := Process{
		PID: p.PID, PPID: p.PPID, Comm: p.Comm, State: p.State,
		Cmdline: p.Cmdline, Exe: p.Exe, UID: p.UIDs.Real, NSpid: p.NSpid,
		Container: FromContainer(p.Container),
	}
	if j.Cmdline == nil {
		j.Cmdline = []string{}
	}
	if j.NSpid == nil {
		j.NSpid = []int{}
	}
	if !p.StartTime.IsZero() {
		j.StartTime = p.StartTime.UTC().Format(time.RFC3339Nano)
	}
	return j
}

// Posture is a container's security posture (hostscope.Posture), carried
// by a container object as "posture" when it was computed.
type Posture struct {
	Privileged bool `json:"privileged"`
	// Capabilities is the bounding set: every capability a process of the
	// container holds or can gain.
	Capabilities      []string `json:"capabilities"`
	AddedCapabilities []string `json:"added_capabilities"`
	// Seccomp is "disabled", "strict", "filter", or "" when unknown.
	Seccomp    string `json:"seccomp"`
	NoNewPrivs bool   `json:"no_new_privs"`
	// Root is UID 0 inside the container's user namespace.
	Root           bool        `json:"root"`
	UserNamespace  bool        `json:"user_namespace"`
	HostNamespaces []string    `json:"host_namespaces"`
	HostMounts     []HostMount `json:"host_mounts"`
	Devices        []string    `json:"devices"`
	// Findings are the rules broken, most exposing first.
	Findings []Finding `json:"findings"`
	// Error says which parts could not be read; "" when none.
	Error string `json:"error"`
	// Declared is the container's configuration as its runtime's state
	// files give it (hostscope.Declared); null when none was found.
	Declared *Declared `json:"declared"`
	// DeclaredError says why state files that were found could not be
	// read; "" when none.
	DeclaredError string `json:"declared_error"`
}

// Declared is a container's configuration from its runtime's state files.
type Declared struct {
	Source           string   `json:"source"`
	Privileged       bool     `json:"privileged"`
	PrivilegedSource string   `json:"privileged_source"`
	Capabilities     []string `json:"capabilities"`
	Seccomp          string   `json:"seccomp"`
	NoNewPrivs       bool     `json:"no_new_privs"`
	HostNamespaces   []string `json:"host_namespaces"`
	UserNamespace    bool     `json:"user_namespace"`
	JoinedNamespaces []string `json:"joined_namespaces"`
	Rootless         bool     `json:"rootless"`
}

// HostMount is a host path mounted into the container. Sensitive names the
// sensitive location it exposes ("/", "/etc", "docker.sock", ...), "" when
// none.
type HostMount struct {
	Source    string `json:"source"`
	Target    string `json:"target"`
	ReadOnly  bool   `json:"read_only"`
	Sensitive string `json:"sensitive"`
}

// Finding is one rule a posture breaks.
type Finding struct {
	Rule    string `json:"rule"`
	Subject string `json:"subject"`
	Reason  string `json:"reason"`
}

// FromPosture converts c's Posture, with the reasons parts of it are
// missing (PostureErr, DeclaredErr); a nil Posture gives nil. Lists are
// empty rather than null.
func FromPosture(c *hostscope.Container) *Posture {
	p, err := c.Posture, c.PostureErr
	if p == nil {
		return nil
	}
	j := &Posture{
		Privileged: p.Privileged, Capabilities: orEmpty(p.Capabilities), AddedCapabilities: orEmpty(p.AddedCapabilities),
		Seccomp: p.Seccomp, NoNewPrivs: p.NoNewPrivs, Root: p.Root, UserNamespace: p.UserNamespace,
		HostNamespaces: orEmpty(p.HostNamespaces), HostMounts: []HostMount{}, Devices: orEmpty(p.Devices),
		Findings: []Finding{},
	}
	for _, m := range p.HostMounts {
		j.HostMounts = append(j.HostMounts, HostMount{Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly, Sensitive: m.Sensitive})
	}
	for _, f := range p.Findings() {
		j.Findings = append(j.Findings, Finding{Rule: string(f.Rule), Subject: f.Subject, Reason: f.Reason})
	}
	if err != nil {
		j.Error = err.Error()
	}
	if d := p.Declared; d != nil {
		j.Declared = &Declared{Source: d.Source, Privileged: d.Privileged, PrivilegedSource: d.PrivilegedSource,
			Capabilities: orEmpty(d.Capabilities), Seccomp: d.Seccomp, NoNewPrivs: d.NoNewPrivs,
			HostNamespaces: orEmpty(d.HostNamespaces), UserNamespace: d.UserNamespace,
			JoinedNamespaces: orEmpty(d.JoinedNamespaces), Rootless: d.Rootless}
	}
	if c.DeclaredErr != nil {
		j.DeclaredError = c.DeclaredErr.Error()
	}
	return j
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
