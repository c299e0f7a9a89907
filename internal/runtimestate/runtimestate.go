package runtimestate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"syscall"

	"github.com/hostscope/hostscope/hostroot"
)

// Info is what a container runtime's state files say about one container.
// Fields the files do not give are left empty.
type Info struct {
	// Runtime is the runtime that wrote Source: docker, containerd, cri-o
	// or podman (the names of ../shared/DESIGN.md). It can differ from the
	// runtime the cgroup path suggests: a dockershim pod sits in the same
	// /kubepods cgroups as a containerd one.
	Runtime string
	// ID is the full container ID, the name of the state directory.
	ID string
	// Name is the Kubernetes container name when the state carries one
	// (io.kubernetes.container.name and its CRI equivalents), else the
	// runtime's own name (RuntimeName).
	Name string
	// RuntimeName is the runtime's own name for the container: docker's
	// name without its leading slash, podman's first name, CRI-O's
	// k8s_<container>_<pod>_... name. Empty for containerd, which names
	// containers only by ID.
	RuntimeName string
	// Image is the image reference the container was created from, as the
	// runtime recorded it ("busybox:latest", "docker.io/library/nginx:1.25").
	Image string
	// ImageID is the image's ID or digest when recorded ("sha256:..." for
	// docker, the bare hex storage ID for podman, the repo digest for CRI-O).
	ImageID string

	// PodName, PodNamespace and PodUID name the Kubernetes pod. For podman,
	// which keeps pod names only in its database, PodName is the hostname
	// of the pod's infra container: podman sets it to the pod name unless
	// the pod was created with --hostname.
	PodName      string
	PodNamespace string
	PodUID       string
	// PodID is podman's pod ID, from the pod's cgroup parent in the spec.
	PodID string
	// SandboxID is the ID of the pod's sandbox (pause or infra) container;
	// a sandbox carries its own ID here.
	SandboxID string
	// Sandbox marks the pod's sandbox (pause or infra) container itself.
	Sandbox bool

	// Rootless marks state read from a user's rootless podman storage
	// (under /home or /run/user): that user writes those files, so their
	// names are the user's claims. Rootful locations are read first, and a
	// user's files never add to a rootful container's state.
	Rootless bool

	// Hostname is the container's hostname from its configuration; empty
	// when it shares another container's UTS namespace.
	Hostname string
	// TaskNamespace is the containerd namespace of a task bundle ("k8s.io",
	// "moby", "default"); empty for other sources.
	TaskNamespace string
	// State is docker's view of the container: created, running, paused,
	// restarting, removing, exited or dead. Empty for the other runtimes,
	// whose spec files do not say.
	State string
	// PID is the host PID of the container's first process as docker
	// recorded it (0 when not running); 0 for the other runtimes. It is in
	// the PID namespace of the docker daemon that wrote it.
	PID int

	// Labels are the container's labels: docker's Config.Labels, CRI-O's
	// io.kubernetes.cri-o.Labels. Nil when none.
	Labels map[string]string
	// Annotations are the OCI spec's annotations. Nil when none.
	Annotations map[string]string

	// Source is the host-absolute name of the state file the fields were
	// read from (the first one, when several were joined).
	Source string
}

// Options tunes where and how state files are read. A nil *Options means
// the defaults.
type Options struct {
	// MaxFileSize bounds each per-container state file (see
	// DefaultMaxFileSize); 0 means the default.
	MaxFileSize int
	// DockerRoots are docker data roots, each holding containers/<id>/.
	// Nil means DefaultDockerRoots(); to add a root, append to that.
	DockerRoots []string
	// TaskRoots are containerd state directories, each holding
	// io.containerd.runtime.v2.task/<namespace>/<id>/ and the v1
	// io.containerd.runtime.v1.linux/<namespace>/<id>/. Nil means
	// DefaultTaskRoots().
	TaskRoots []string
	// StorageRoots are containers/storage graph and run roots, each holding
	// <driver>-containers/. Nil means DefaultStorageRoots(). Rootless
	// users' roots are added unless NoRootless is set.
	StorageRoots []string
	// NoRootless skips rootless podman's per-user storage under /home/*
	// and /run/user/*.
	NoRootless bool
	// Specs makes a Reader keep the security part of every OCI spec its
	// lookups read, so that Reader.Spec for the same container reads and
	// decodes nothing again: for a scan that wants names and postures.
	Specs bool
}

// DefaultMaxFileSize bounds each per-container state file read. Real files
// are a few KiB (docker's config.v2.json) to some tens of KiB (an OCI spec
// with a seccomp profile inlined); 4 MiB leaves two orders of magnitude for
// thousands of labels or environment variables while keeping a hostile file
// from making an agent decode, and hold, more than that per container.
const DefaultMaxFileSize = 4 << 20

// containersJSONLimit bounds containers/storage's containers.json, which
// lists every container of a storage root (about 600 bytes each): 16 MiB
// holds some 25,000 containers.
const containersJSONLimit = hostroot.DefaultReadLimit

// DefaultDockerRoots returns the docker data roots tried when
// Options.DockerRoots is nil: the package default and the snap's.
func DefaultDockerRoots() []string {
	return []string{
		"/var/lib/docker",
		"/var/snap/docker/common/var-lib-docker",
	}
}

// DefaultTaskRoots returns the containerd state directories tried when
// Options.TaskRoots is nil: the system containerd's, the one dockerd starts
// itself when not given a containerd socket, k3s's and microk8s's.
func DefaultTaskRoots() []string {
	return []string{
		"/run/containerd",
		"/run/docker/containerd/daemon",
		"/run/k3s/containerd",
		"/var/snap/microk8s/common/run/containerd",
	}
}

// DefaultStorageRoots returns the containers/storage roots tried when
// Options.StorageRoots is nil: the rootful graph root (podman's specs, and
// the containers.json CRI-O and podman share) and run root (CRI-O's specs).
// Hosts that moved them (storage.conf's graphroot and runroot, CRI-O's
// --root and --runroot) list theirs in Options.
func DefaultStorageRoots() []string {
	return []string{
		"/var/lib/containers/storage",
		"/run/containers/storage",
	}
}

// errStop ends a walk early; it never reaches a caller.
var errStop = errors.New("stop")

// ErrNotFound is returned by Lookup when no state file under the Root knows
// the container. It is the normal answer for a container whose runtime keeps
// its state elsewhere or that was removed: callers leave the names empty.
var ErrNotFound = errors.New("runtimestate: no state file for the container")

// Lookup finds and parses the state the runtimes keep for container id.
// runtime is the runtime the caller believes runs it (docker, containerd,
// cri-o, podman; empty when unknown): it only decides which locations are
// tried first, since every location is tried before giving up.
//
// It returns ErrNotFound when no location knows id, and an error wrapping
// hostroot.ErrMalformed, hostroot.ErrTooLarge or fs.ErrPermission (naming
// the file) when the only state found could not be read; in every error case
// the names are simply unknown and a scan should go on. An id that could not
// be a runtime's container ID (empty, with a slash, "..") fails with an error
// wrapping fs.ErrInvalid.
//
// Lookup reads podman's containers.json, which lists every container of its
// storage, on each call: to name many containers, use a Reader.
func Lookup(r *hostroot.Root, runtime, id string, opts *Options) (*Info, error) {
	return newScanner(r, opts).lookup(runtime, id)
}

func (s *scanner) lookup(runtime, id string) (*Info, error) {
	if !validID(id) {
		return nil, fmt.Errorf("runtimestate: container ID %q: %w", id, fs.ErrInvalid)
	}
	var firstErr error
	for _, kind := range lookupOrder(runtime) {
		var info *Info
		var err error
		switch kind {
		case sourceDocker:
			info, err = s.lookupDocker(id)
		case sourceTask:
			info, err = s.lookupTask(id)
		case sourceStorage:
			info, err = s.lookupStorage(id)
		}
		if info != nil && info.TaskNamespace == "moby" {
			// dockerd's own bundle only says the container exists; its
			// config.v2.json, in a docker root not tried yet, names it.
			if d, _ := s.lookupDocker(id); d != nil {
				return d, nil
			}
		}
		if info != nil {
			return info, nil
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return nil, ErrNotFound
}

// List returns every container the state files under the Root know,
// including stopped ones (docker's State says which), sorted by runtime and
// ID. Containers found in several places appear once, as Lookup returns
// them: docker's config.v2.json hides its task bundle in containerd's moby
// namespace, and podman's spec is joined with its containers.json entry.
//
// A file that cannot be read or parsed does not stop the listing: List
// returns what it could read together with an error joining one error per
// bad file (each wrapping hostroot.ErrMalformed, hostroot.ErrTooLarge,
// fs.ErrPermission and the like, naming the file). When ctx is done, List
// stops and its error includes ctx.Err().
func List(ctx context.Context, r *hostroot.Root, opts *Options) ([]Info, error) {
	s := newScanner(r, opts)
	byKey := map[string]*Info{}
	var order []*Info
	var errs []error
	add := func(info *Info) {
		// A docker container also shows up as a task in containerd's moby
		// namespace; key both as docker so they merge.
		key := info.Runtime + "\x00" + info.ID
		if _, ok := byKey[key]; ok {
			// Only dockerd's moby bundles repeat a container already
			// listed (from its config.v2.json, which says more); keep
			// that one as Lookup returns it.
			return
		}
		byKey[key] = info
		order = append(order, info)
	}
	for _, list := range []func(context.Context, func(*Info), func(error)) error{
		s.listDocker, s.listTasks, s.listStorage,
	} {
		if err := list(ctx, add, func(err error) { errs = append(errs, err) }); err != nil {
			errs = append(errs, err)
			break
		}
	}
	out := make([]Info, 0, len(order))
	for _, info := range order {
		out = append(out, *info)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Runtime != out[j].Runtime {
			return out[i].Runtime < out[j].Runtime
		}
		return out[i].ID < out[j].ID
	})
	return out, errors.Join(errs...)
}

type sourceKind int

const (
	sourceDocker sourceKind = iota
	sourceTask
	sourceStorage
)

// lookupOrder puts the locations the runtime writes first.
func lookupOrder(runtime string) []sourceKind {
	switch runtime {
	case "containerd":
		return []sourceKind{sourceTask, sourceDocker, sourceStorage}
	case "cri-o", "podman":
		return []sourceKind{sourceStorage, sourceTask, sourceDocker}
	default:
		return []sourceKind{sourceDocker, sourceTask, sourceStorage}
	}
}

// scanner holds one call's options and read buffer.
type scanner struct {
	r    *hostroot.Root
	opts Options
	buf  []byte
	// memo, when set, keeps what one Reader has read of the files that
	// describe many containers at once, for the Reader's lifetime.
	memo *memo
}

// memo holds per-Reader results of the listings and files every storage
// lookup repeats.
type memo struct {
	dirs  map[string]dirsResult // by storage root
	json  map[string]jsonResult // containers.json, by directory
	specs map[string]specResult // OCI specs' security part, by file (Options.Specs)
}

type specResult struct {
	spec Spec
	err  error
}

type dirsResult struct {
	dirs []storageDir
	err  error
}

type jsonResult struct {
	infos []Info
	err   error
}

// Reader looks containers up like Lookup, reading each containers/storage
// listing and containers.json at most once: what one scan of a host uses
// to name all its containers. A Reader describes the moment of its first
// reads; make a new one for each scan. It is not safe for concurrent use.
type Reader struct {
	s *scanner
}

// NewReader returns a Reader over r; opts as for Lookup.
func NewReader(r *hostroot.Root, opts *Options) *Reader {
	s := newScanner(r, opts)
	s.memo = &memo{dirs: map[string]dirsResult{}, json: map[string]jsonResult{}, specs: map[string]specResult{}}
	return &Reader{s: s}
}

// Lookup is Lookup with the Reader's memory.
func (rd *Reader) Lookup(runtime, id string) (*Info, error) {
	return rd.s.lookup(runtime, id)
}

func newScanner(r *hostroot.Root, opts *Options) *scanner {
	s := &scanner{r: r}
	if opts != nil {
		s.opts = *opts
	}
	if s.opts.MaxFileSize <= 0 {
		s.opts.MaxFileSize = DefaultMaxFileSize
	}
	if s.opts.DockerRoots == nil {
		s.opts.DockerRoots = DefaultDockerRoots()
	}
	if s.opts.TaskRoots == nil {
		s.opts.TaskRoots = DefaultTaskRoots()
	}
	if s.opts.StorageRoots == nil {
		s.opts.StorageRoots = DefaultStorageRoots()
	}
	return s
}

// read returns the named file's content in the scanner's buffer, valid until
// the next read.
func (s *scanner) read(name string, limit int) ([]byte, error) {
	var err error
	s.buf, err = s.r.AppendFile(s.buf[:0], name, limit)
	return s.buf, err
}

// validID reports whether id can name a state directory: runtimes use hex
// IDs, containerd allows letters, digits and ._- (its identifiers package),
// and nothing that could walk out of the directory is accepted.
func validID(id string) bool {
	if id == "" || len(id) > 255 || id[0] == '.' || id[0] == '-' {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.' || c == '_' || c == '-':
		default:
			return false
		}
	}
	return true
}

// fill copies into dst the fields src has and dst lacks.
func fill(dst, src *Info) {
	str := func(d *string, s string) {
		if *d == "" {
			*d = s
		}
	}
	str(&dst.Runtime, src.Runtime)
	str(&dst.ID, src.ID)
	str(&dst.Name, src.Name)
	str(&dst.RuntimeName, src.RuntimeName)
	str(&dst.Image, src.Image)
	str(&dst.ImageID, src.ImageID)
	str(&dst.PodName, src.PodName)
	str(&dst.PodNamespace, src.PodNamespace)
	str(&dst.PodUID, src.PodUID)
	str(&dst.PodID, src.PodID)
	str(&dst.SandboxID, src.SandboxID)
	str(&dst.Hostname, src.Hostname)
	str(&dst.TaskNamespace, src.TaskNamespace)
	str(&dst.State, src.State)
	str(&dst.Source, src.Source)
	dst.Sandbox = dst.Sandbox || src.Sandbox
	dst.Rootless = dst.Rootless || src.Rootless
	if dst.PID == 0 {
		dst.PID = src.PID
	}
	if dst.Labels == nil {
		dst.Labels = src.Labels
	}
	if dst.Annotations == nil {
		dst.Annotations = src.Annotations
	}
}

// malformed wraps hostroot.ErrMalformed for a JSON decoding failure,
// locating it by line where the decoder gives an offset.
func malformed(name string, data []byte, err error) error {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 {
		return fmt.Errorf("%w: %s: %v", hostroot.ErrMalformed, name, err)
	}
	return fmt.Errorf("%w: %s line %d: %v", hostroot.ErrMalformed, name, lineAt(data, off), err)
}

// lineAt is the 1-based line holding byte offset off of data.
func lineAt(data []byte, off int64) int {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	line := 1
	for _, c := range data[:off] {
		if c == '\n' {
			line++
		}
	}
	return line
}

// decodeObject unmarshals data, which must hold one JSON object, into v.
// json.Unmarshal accepts "null" and leaves v untouched, which would pass an
// empty or garbage file off as a container with no names.
func decodeObject(name string, data []byte, v any) error {
	return decodeJSON(name, data, '{', v)
}

func decodeJSON(name string, data []byte, open byte, v any) error {
	i := 0
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	if i == len(data) {
		return fmt.Errorf("%w: %s: empty file", hostroot.ErrMalformed, name)
	}
	if data[i] != open {
		return fmt.Errorf("%w: %s line %d: want a JSON %s, found %q", hostroot.ErrMalformed, name,
			lineAt(data, int64(i)), map[byte]string{'{': "object", '[': "array"}[open], data[i])
	}
	if err := json.Unmarshal(data, v); err != nil {
		return malformed(name, data, err)
	}
	return nil
}

// notExist reports whether err only says the file or directory is absent,
// the normal case for every location but the one the runtime uses.
func notExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}
