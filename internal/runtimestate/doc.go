// Package runtimestate reads what container runtimes record on disk about
// their containers — names, images, Kubernetes pod metadata — so that
// hostscope can name a container seen in a cgroup path without talking to any
// runtime socket (none is mounted into a least-privilege DaemonSet, and test
// fixtures have none).
//
// Files read, relative to the Root (defaults; Options adds or replaces
// locations):
//
//   - docker: /var/lib/docker/containers/<id>/config.v2.json (name, image,
//     labels, including dockershim's io.kubernetes.* labels; state and PID).
//   - containerd: task bundles' OCI specs,
//     /run/containerd/io.containerd.runtime.v2.task/<namespace>/<id>/config.json
//     and the v1 io.containerd.runtime.v1.linux layout, also under the state
//     directories of dockerd's own containerd (/run/docker/containerd/daemon),
//     k3s and microk8s; names come from the CRI plugin's
//     io.kubernetes.cri.* annotations. Bundles exist only while a task does.
//   - CRI-O and podman: containers/storage's
//     <driver>-containers/<id>/userdata/config.json (OCI spec; CRI-O's
//     io.kubernetes.cri-o.* annotations, podman's io.container.manager=libpod)
//     and <driver>-containers/containers.json (podman's names and images),
//     under /var/lib/containers/storage, /run/containers/storage and every
//     rootless user's /home/<user>/.local/share/containers/storage and
//     /run/user/<uid>/containers.
//
// Podman's own database (BoltDB or SQLite) is not parsed, so a podman pod's
// name is taken from its infra container's hostname, which podman sets to the
// pod name unless told otherwise; nothing here reads a runtime's socket.
//
// The files are hostile input: another tenant of the host, or a compromised
// runtime, may have written them. Each read is bounded (DefaultMaxFileSize per
// container, 16 MiB for containers.json), only regular files are read, no
// lookup leaves the Root, unknown fields are ignored, and a file of the wrong
// shape yields an error wrapping hostroot.ErrMalformed that names it, never a
// panic. A missing file is the normal case (ErrNotFound): callers leave the
// names empty and go on. Rootless podman's storage belongs to its user, who
// can write anything there, including state claiming another container's
// ID: such state is marked Info.Rootless, rootful locations are read first,
// and a user's files never complete a rootful container's state.
//
// Permissions: the state directories are root-only (docker's
// containers/<id> is mode 0710 and config.v2.json 0600), so an unprivileged
// reader gets fs.ErrPermission errors and no names. The files live in the
// host's mount namespace: a DaemonSet must mount /var/lib/docker,
// /run/containerd, /var/lib/containers and /run/containers (or the host's /)
// for its Root to see them.
//
// Functions are safe for concurrent use; nothing is cached between calls, so
// a long-running agent always sees the current state.
//
// Do not use this package to decide what runs: a state file can outlive its
// container (docker keeps stopped ones) or name a container that never
// started. The cgroup and proc packages say what runs; this package only
// names it.
package runtimestate
