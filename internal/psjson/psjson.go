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

// FromProcess converts p, with empty lists rather than nulls.
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
