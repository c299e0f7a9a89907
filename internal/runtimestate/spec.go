package runtimestate

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/hostscope/hostscope/hostroot"
)

// Spec is what a container was configured with, as far as its security
// goes: the OCI runtime spec (config.json) its runtime handed the OCI
// runtime, and docker's hostconfig.json. It is the runtime's intent; the
// kernel's view of the container's processes (package proc) is what they
// hold. Fields a file does not give are left empty.
type Spec struct {
	// Source is the OCI spec file the fields below Privileged come from;
	// empty when none was found (a docker container whose containerd keeps
	// its bundles elsewhere), and then those fields are empty too.
	Source string
	// Privileged is the runtime's --privileged flag: docker's
	// HostConfig.Privileged, podman's io.podman.annotations.privileged
	// annotation. The OCI spec has no such field: for containerd and CRI-O
	// it is known only through what it grants (Bounding, Seccomp, ...).
	Privileged bool
	// PrivilegedSource is the file that said whether the container is
	// privileged, empty when none did.
	PrivilegedSource string

	// Capabilities is true when the spec has process.capabilities; without
	// it the OCI runtime grants no capability at all.
	Capabilities bool
	// Bounding is process.capabilities.bounding as the spec names the
	// capabilities ("CAP_SYS_ADMIN"), sorted.
	Bounding []string
	// NoNewPrivileges is process.noNewPrivileges.
	NoNewPrivileges bool
	// Seccomp is "filter" when the spec has a linux.seccomp profile and
	// "disabled" when it has none (--security-opt seccomp=unconfined,
	// --privileged).
	Seccomp string
	// HostNamespaces are the namespace types the spec neither creates nor
	// joins, so the container keeps the OCI runtime's own, the host's for
	// a rootful runtime. They are named as the kernel's /proc/PID/ns links
	// are, in this order: cgroup, ipc, mnt, net, pid, time, user, uts.
	HostNamespaces []string
	// JoinedNamespaces are the types the spec joins by path: a pod's
	// shared namespace, a named network namespace (podman's
	// /run/netns/netns-...) or anything else; the spec does not say whose.
	JoinedNamespaces []string
	// UserNamespace is true when the spec creates or joins a user
	// namespace or maps user IDs.
	UserNamespace bool

	// Rootless marks a spec read from a user's rootless podman storage:
	// that user wrote it.
	Rootless bool
}

// podmanPrivileged is the annotation podman sets on every container's spec,
// "TRUE" or "FALSE".
const podmanPrivileged = "io.podman.annotations.privileged"

// nsNames maps the OCI spec's namespace types to the names of the
// /proc/PID/ns links.
var nsNames = map[string]string{
	"cgroup": "cgroup", "ipc": "ipc", "mount": "mnt", "network": "net",
	"pid": "pid", "time": "time", "user": "user", "uts": "uts",
}

// parseOCISecurity parses the OCI runtime spec read from name into spec.
func parseOCISecurity(name string, data []byte, spec *Spec) error {
	var o ociSpec
	if err := decodeObject(name, data, &o); err != nil {
		return err
	}
	return ociSecurity(name, &o, spec)
}

// ociSecurity fills spec from the decoded OCI spec read from name. A spec
// without a linux object is not a Linux container's: malformed.
func ociSecurity(name string, o *ociSpec, spec *Spec) error {
	if o.Linux == nil {
		return fmt.Errorf("%w: %s: no linux object", hostroot.ErrMalformed, name)
	}
	if o.Process != nil {
		spec.NoNewPrivileges = o.Process.NoNewPrivileges
		if c := o.Process.Capabilities; c != nil {
			spec.Capabilities = true
			for _, b := range c.Bounding {
				if !capName(b) {
					return fmt.Errorf("%w: %s: capability %q", hostroot.ErrMalformed, name, b)
				}
			}
			spec.Bounding = slices.Compact(slices.Sorted(slices.Values(c.Bounding)))
		}
	}
	spec.Seccomp = "disabled"
	if o.Linux.Seccomp != nil {
		spec.Seccomp = "filter"
	}
	declared := map[string]string{} // ns name -> path
	for _, ns := range o.Linux.Namespaces {
		n, ok := nsNames[ns.Type]
		if !ok {
			return fmt.Errorf("%w: %s: namespace type %q", hostroot.ErrMalformed, name, ns.Type)
		}
		if p, dup := declared[n]; dup && p != ns.Path {
			return fmt.Errorf("%w: %s: namespace type %q given twice", hostroot.ErrMalformed, name, ns.Type)
		}
		declared[n] = ns.Path
	}
	spec.HostNamespaces, spec.JoinedNamespaces = nil, nil
	for _, n := range []string{"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"} {
		p, ok := declared[n]
		switch {
		case !ok:
			spec.HostNamespaces = append(spec.HostNamespaces, n)
		case p != "":
			spec.JoinedNamespaces = append(spec.JoinedNamespaces, n)
		}
	}
	_, user := declared["user"]
	spec.UserNamespace = user || len(o.Linux.UIDMappings) > 0
	if v, ok := o.Annotations[podmanPrivileged]; ok {
		switch strings.ToUpper(v) {
		case "TRUE":
			spec.Privileged = true
		case "FALSE":
		default:
			return fmt.Errorf("%w: %s: annotation %s: %q", hostroot.ErrMalformed, name, podmanPrivileged, v)
		}
		spec.PrivilegedSource = name
	}
	spec.Source = name
	return nil
}

// capName reports whether s has the form of a capability name: CAP_
// followed by upper-case letters, digits and underscores.
func capName(s string) bool {
	if len(s) <= 4 || len(s) > 64 || s[:4] != "CAP_" {
		return false
	}
	for i := 4; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// dockerHostConfig is the part of docker's containers/<id>/hostconfig.json
// Spec reads.
type dockerHostConfig struct {
	Privileged *bool `json:"Privileged"`
}

// parseDockerHostConfig parses docker's hostconfig.json read from name into
// spec.
func parseDockerHostConfig(name string, data []byte, spec *Spec) error {
	var h dockerHostConfig
	if err := decodeObject(name, data, &h); err != nil {
		return err
	}
	if h.Privileged == nil {
		return fmt.Errorf("%w: %s: no Privileged field", hostroot.ErrMalformed, name)
	}
	spec.Privileged, spec.PrivilegedSource = *h.Privileged, name
	return nil
}

// Spec finds and parses what container id was configured with. runtime is
// as for Lookup: it orders the locations tried. A docker container's spec
// joins its hostconfig.json (Privileged) with the OCI spec of its bundle in
// containerd's moby namespace; a podman or CRI-O container's is its
// userdata/config.json under containers/storage (rootful roots first, and
// rootless users' only for podman or an unknown runtime, with Rootless
// set); a containerd container's its task bundle's. It returns ErrNotFound
// when no location has either file, and otherwise errors as Lookup does.
func (rd *Reader) Spec(runtime, id string) (*Spec, error) {
	return rd.s.spec(runtime, id)
}

func (s *scanner) spec(runtime, id string) (*Spec, error) {
	if !validID(id) {
		return nil, fmt.Errorf("runtimestate: container ID %q: %w", id, fs.ErrInvalid)
	}
	spec := &Spec{}
	var firstErr error
	keep := func(err error) {
		if firstErr == nil && !notExist(err) {
			firstErr = err
		}
	}
	found := false
	for _, kind := range lookupOrder(runtime) {
		switch kind {
		case sourceDocker:
			if spec.PrivilegedSource != "" {
				continue
			}
			for _, root := range s.opts.DockerRoots {
				name := path.Join(root, "containers", id, "hostconfig.json")
				data, err := s.read(name, s.opts.MaxFileSize)
				if err == nil {
					err = parseDockerHostConfig(name, data, spec)
				}
				if err != nil {
					keep(err)
					continue
				}
				found = true
				break
			}
		case sourceTask:
			if spec.Source != "" {
				continue
			}
			s.taskNamespaces(keep, func(dir, _ string) error {
				name := path.Join(dir, id, "config.json")
				if s.readSpecFile(name, spec, keep) {
					found = true
					return errStop
				}
				return nil
			})
		case sourceStorage:
			if spec.Source != "" {
				continue
			}
			for _, root := range s.storageRoots() {
				if root.rootless && runtime != "podman" && runtime != "" {
					// Only rootless podman writes a user's storage; a
					// user's file naming another runtime's container is
					// a claim against it.
					continue
				}
				dirs, err := s.containerDirs(root)
				if err != nil {
					keep(err)
				}
				for _, dir := range dirs {
					if s.readSpecFile(path.Join(dir.path, id, "userdata", "config.json"), spec, keep) {
						spec.Rootless = dir.rootless
						found = true
						break
					}
				}
				if spec.Source != "" {
					break
				}
			}
		}
		// A docker container has both files; the others only a spec.
		if spec.Source != "" && (spec.PrivilegedSource != "" || runtime != "docker") {
			break
		}
	}
	if !found {
		if firstErr != nil {
			return nil, firstErr
		}
		return nil, ErrNotFound
	}
	return spec, nil
}

// parseSpecFile parses an OCI spec read from name for its names and, when
// the Reader keeps specs (Options.Specs), for its security part too, which
// it remembers by file name for Spec: one read and one decoding for both.
func (s *scanner) parseSpecFile(name string, data []byte, id, runtime string) (*Info, error) {
	keeps := s.memo != nil && s.opts.Specs
	var o ociSpec
	if err := decodeObject(name, data, &o); err != nil {
		if keeps {
			s.memo.specs[name] = specResult{err: err}
		}
		return nil, err
	}
	if keeps {
		var r specResult
		r.err = ociSecurity(name, &o, &r.spec)
		s.memo.specs[name] = r
	}
	return ociInfo(name, &o, id, runtime)
}

// readSpecFile parses the OCI spec name into spec, keeping what hostconfig
// said, and reports whether it did. A spec a lookup of this Reader has
// parsed is not read again.
func (s *scanner) readSpecFile(name string, spec *Spec, keep func(error)) bool {
	parsed := Spec{}
	var kept *specResult
	if s.memo != nil {
		if r, ok := s.memo.specs[name]; ok {
			kept = &r
		}
	}
	if r := kept; r != nil {
		if r.err != nil {
			keep(r.err)
			return false
		}
		parsed = r.spec
	} else {
		data, err := s.read(name, s.opts.MaxFileSize)
		if err != nil {
			keep(err)
			return false
		}
		if err := parseOCISecurity(name, data, &parsed); err != nil {
			keep(err)
			return false
		}
	}
	if spec.PrivilegedSource != "" {
		// docker's flag; the spec of a docker container carries none.
		parsed.Privileged, parsed.PrivilegedSource = spec.Privileged, spec.PrivilegedSource
	}
	*spec = parsed
	return true
}
