package main

import (
	"github.com/hostscope/hostscope/cgroup"
	"github.com/hostscope/hostscope/internal/psjson"
	"github.com/hostscope/hostscope/proc"
)

// The JSON shapes below are the agent's contract, as examples/ps's is: field
// names are snake_case, absent values are "", 0, false, [] or null (never
// omitted), fields may be added and none changes meaning. A process object is
// exactly an examples/ps --json line.

// jsonProcess is one process: exactly an examples/ps --json line.
type jsonProcess = psjson.Process

// jsonContainer is the container (or, with an empty id, the Kubernetes pod)
// a process runs in.
type jsonContainer = psjson.Container

// jsonSocket is one socket: an examples/ps --json socket object.
type jsonSocket = psjson.Socket

// jsonInventoryContainer is one container of /inventory with its processes.
// Its posture (the embedded container's "posture") is there unless
// --no-posture.
type jsonInventoryContainer struct {
	jsonContainer
	InitPID   int           `json:"init_pid"`
	Processes []jsonProcess `json:"processes"`
	// Listening is present only with --sockets: then a list of the
	// sockets the container's processes wait for peers on
	// (hostscope.Listening: tcp and unix LISTEN, bound unconnected udp),
	// each once, empty when there is none.
	Listening []jsonSocket `json:"listening,omitzero"`
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
	// containerPostureChanged: a running container's findings differ from
	// the previous scan's (a `docker exec --privileged` came or went, a
	// mount was added); its container carries the new posture.
	containerPostureChanged = "container_posture_changed"
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
	// (.container.pod_name) works on every event. A container event's
	// container carries its posture (unless --no-posture); a process
	// event's does not.
	Container *jsonContainer `json:"container"`
	// Process is the process of a process event (for process_exited, as
	// the last scan saw it), null for container events.
	Process *jsonProcess `json:"process"`
}

func toJSONContainer(c *cgroup.Container) *jsonContainer { return psjson.FromContainer(c) }

func toJSONProcess(p *proc.Process) jsonProcess { return psjson.FromProcess(p) }
