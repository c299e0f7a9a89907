package main

import (
	"time"

	"github.com/hostscope/hostscope/cgroup"
	"github.com/hostscope/hostscope/proc"
)

// The JSON shapes below are the agent's contract, as examples/ps's is: field
// names are snake_case, absent values are "", 0, false, [] or null (never
// omitted), fields may be added and none changes meaning. A process object is
// exactly an examples/ps --json line.

// jsonProcess is one process.
type jsonProcess struct {
	PID       int            `json:"pid"`
	PPID      int            `json:"ppid"`
	Comm      string         `json:"comm"`
	State     string         `json:"state"`
	Cmdline   []string       `json:"cmdline"`
	Exe       string         `json:"exe"`
	UID       uint32         `json:"uid"`
	StartTime string         `json:"start_time"`
	NSpid     []int          `json:"nspid"`
	Container *jsonContainer `json:"container"`
}

// jsonContainer is the container (or, with an empty id, the Kubernetes pod)
// a process runs in: examples/ps's container object plus sandbox and pod_id.
type jsonContainer struct {
	ID           string `json:"id"`
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

// jsonInventoryContainer is one container of /inventory with its processes.
type jsonInventoryContainer struct {
	jsonContainer
	InitPID   int           `json:"init_pid"`
	Processes []jsonProcess `json:"processes"`
}

// jsonInventory is the body of /inventory.
type jsonInventory struct {
	// ScanTime is when the scan this inventory comes from ended (RFC 3339).
	ScanTime            string  `json:"scan_time"`
	ScanDurationSeconds float64 `json:"scan_duration_seconds"`
	// Containers are ordered by runtime, then ID; their processes by PID.
	Containers []jsonInventoryContainer `json:"containers"`
	// HostProcesses run in no container, ordered by PID. A process charged
	// to a Kubernetes pod but to none of its containers (CRI-O's conmon)
	// is here too, its container naming the pod with an empty id.
	HostProcesses []jsonProcess `json:"host_processes"`
}

// Event types, the "type" of a JSON Lines event.
const (
	containerStarted = "container_started"
	containerStopped = "container_stopped"
	processStarted   = "process_started"
	processExited    = "process_exited"
)

// jsonEvent is one line of the agent's standard output.
type jsonEvent struct {
	// Time is when the scan that saw the change ended (RFC 3339).
	Time string `json:"time"`
	Type string `json:"type"`
	// Initial marks the events of the first scan: what already ran when
	// the agent started, not what started then.
	Initial bool `json:"initial"`
	// Container is the container of a container event, and the container
	// of the process (null on the host) of a process event, so one filter
	// (.container.pod_name) works on every event.
	Container *jsonContainer `json:"container"`
	// Process is the process of a process event (for process_exited, as
	// the last scan saw it), null for container events.
	Process *jsonProcess `json:"process"`
}

func toJSONContainer(c *cgroup.Container) *jsonContainer {
	if c == nil {
		return nil
	}
	return &jsonContainer{
		ID: c.ID, Runtime: c.Runtime, PodUID: c.PodUID, QoS: c.QoS,
		Name: c.Name, Image: c.Image, PodName: c.PodName, PodNamespace: c.PodNamespace,
		Sandbox: c.Sandbox, PodID: c.PodID,
	}
}

func toJSONProcess(p *proc.Process) jsonProcess {
	j := jsonProcess{
		PID: p.PID, PPID: p.PPID, Comm: p.Comm, State: p.State,
		Cmdline: p.Cmdline, Exe: p.Exe, UID: p.UIDs.Real, NSpid: p.NSpid,
		Container: toJSONContainer(p.Container),
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
