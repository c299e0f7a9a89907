// Command daemonset is hostscope's node agent, the program a Kubernetes
// DaemonSet runs on every node (deploy/daemonset.yaml, built by
// deploy/Containerfile as hostscope-agent). It reads the node through the
// host's /proc, /sys and the container runtimes' state directories mounted
// into its container, and never talks to a runtime socket or the Kubernetes
// API.
//
//	HOST_PROC=/host/proc HOST_VAR=/host/var HOST_RUN=/host/run hostscope-agent
//	go run ./examples/daemonset --interval 2s --listen 127.0.0.1:9100   # this machine
//
// Every interval it takes an inventory (hostscope.TakeInventory) and writes
// the changes since the previous one to standard output, one JSON object a
// line: container_started and container_stopped with the container (id,
// runtime, name, image, pod name, namespace and UID), process_started and
// process_exited with the process (an examples/ps --json object, container
// included). A PID whose start time changed between two scans is a new
// process: one exit and one start. The first scan reports everything already
// running as started events marked "initial": true, one object a line,
// rather than one inventory object, so no line grows with the node's size
// (container log pipelines split long lines, at 16 KiB under containerd).
//
// Each container also gets its security posture (hostscope.Posture: its
// capabilities, seccomp mode, host namespaces, host mounts and devices) and
// the findings it raises, unless --no-posture: container events carry it,
// and container_posture_changed reports a running container whose findings
// changed between two scans. With --sockets, /inventory lists the sockets
// each container listens on.
//
// HTTP, on --listen: /healthz, /inventory (the last scan as JSON) and
// /metrics (Prometheus, with findings per container and per rule, and
// listening sockets per container and protocol). SIGTERM or SIGINT stops the scans and drains the
// HTTP server. Every flag has an environment variable (--interval is
// HOSTSCOPE_INTERVAL); --help lists them. README.md explains the
// deployment and every privilege it asks for.
package main
