package runtimestate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/internal/parse"
)

// CRI-O and podman keep their containers in containers/storage. Under each
// graph root (/var/lib/containers/storage) and run root
// (/run/containers/storage) a <driver>-containers directory (overlay-, vfs-,
// btrfs-, zfs-) holds containers.json, the list of every container of that
// root, and a directory per container whose userdata/config.json is the OCI
// spec. Podman writes the spec under its graph root and CRI-O under its run
// root; podman's own database (libpod/bolt_state.db or db.sql, BoltDB or
// SQLite) is not read: it is a binary format owned by podman, and the pod
// names it holds are approximated from the infra container's hostname.
//
// Rootless podman uses ~/.local/share/containers/storage as graph root and
// $XDG_RUNTIME_DIR/containers (/run/user/<uid>/containers) as run root.

// storageEntry is one element of containers.json (containers/storage's
// Container type); metadata is a string the creating tool owns, JSON for
// podman (image-name, image-id, name) and CRI-O (RuntimeContainerMetadata,
// with pod-name, pod-id, metadata-name, uid, namespace, pod).
type storageEntry struct {
	ID       string   `json:"id"`
	Names    []string `json:"names"`
	Image    string   `json:"image"`
	Metadata string   `json:"metadata"`
}

type storageMetadata struct {
	Name         string `json:"name"`
	ImageName    string `json:"image-name"`
	ImageID      string `json:"image-id"`
	PodID        string `json:"pod-id"`        // CRI-O: the sandbox's ID
	MetadataName string `json:"metadata-name"` // CRI-O: the Kubernetes name
	UID          string `json:"uid"`           // CRI-O sandboxes: the pod UID
	Namespace    string `json:"namespace"`     // CRI-O sandboxes: the pod namespace
	Pod          bool   `json:"pod"`           // CRI-O: the sandbox itself
}

// parseContainersJSON parses containers/storage's containers.json read from
// name. Entries without a valid ID are skipped; metadata that is not a JSON
// object (other tools store their own) is ignored.
//
// The entries are decoded one at a time and only the valid ones kept: a
// rootless user's containers.json is the user's to write, and decoding the
// whole array at once cost over 100 bytes per input byte for an array of
// nulls or empty objects (gigabytes at the read limit).
func parseContainersJSON(name string, data []byte) ([]Info, error) {
	if err := decodeJSON(name, data, '[', &skipValue{}); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil { // the '[' decodeJSON checked
		return nil, malformed(name, data, err)
	}
	out := []Info{}
	for dec.More() {
		start := dec.InputOffset()
		var e storageEntry
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("%w: %s line %d: %v", hostroot.ErrMalformed, name, lineAt(data, start), err)
		}
		if !validID(e.ID) {
			continue
		}
		var md storageMetadata
		if strings.HasPrefix(strings.TrimSpace(e.Metadata), "{") {
			if json.Unmarshal([]byte(e.Metadata), &md) != nil {
				md = storageMetadata{}
			}
		}
		info := Info{
			Runtime:     "podman",
			ID:          e.ID,
			RuntimeName: first(firstOf(e.Names), md.Name),
			Image:       md.ImageName,
			ImageID:     first(md.ImageID, e.Image),
			Source:      name,
		}
		if md.PodID != "" || md.MetadataName != "" {
			info.Runtime = "cri-o"
			info.SandboxID = md.PodID
			info.Sandbox = md.Pod
			if md.Pod {
				info.PodName = md.MetadataName
				info.PodUID = md.UID
				info.PodNamespace = md.Namespace
			} else {
				info.Name = md.MetadataName
			}
		}
		if info.Name == "" {
			info.Name = info.RuntimeName
		}
		out = append(out, info)
	}
	return out, nil
}

// skipValue accepts any JSON value: decoding into it checks the syntax
// and keeps nothing.
type skipValue struct{}

func (*skipValue) UnmarshalJSON([]byte) error { return nil }

func firstOf(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// storageDir is a <driver>-containers directory; rootless marks one in a
// user's storage, whose files that user writes.
type storageDir struct {
	path     string
	rootless bool
}

// storageRoots is the configured roots followed by every rootless user's.
func (s *scanner) storageRoots() []storageDir {
	var roots []storageDir
	for _, r := range s.opts.StorageRoots {
		roots = append(roots, storageDir{r, false})
	}
	if s.opts.NoRootless {
		return roots
	}
	// Unreadable /home or /run/user only means no rootless storage is seen.
	if users, err := s.r.ReadDirNames("/home"); err == nil {
		sort.Strings(users)
		for _, u := range users {
			if validName(u) {
				roots = append(roots, storageDir{path.Join("/home", u, ".local/share/containers/storage"), true})
			}
		}
	}
	if uids, err := s.r.ReadDirNames("/run/user"); err == nil {
		sort.Strings(uids)
		for _, u := range uids {
			if isUID(u) {
				roots = append(roots, storageDir{path.Join("/run/user", u, "containers"), true})
			}
		}
	}
	return roots
}

// containerDirs lists root's <driver>-containers directories.
func (s *scanner) containerDirs(root storageDir) ([]storageDir, error) {
	if s.memo == nil {
		return s.readContainerDirs(root)
	}
	if m, ok := s.memo.dirs[root.path]; ok {
		return m.dirs, m.err
	}
	dirs, err := s.readContainerDirs(root)
	s.memo.dirs[root.path] = dirsResult{dirs, err}
	return dirs, err
}

func (s *scanner) readContainerDirs(root storageDir) ([]storageDir, error) {
	names, err := s.r.ReadDirNames(root.path)
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var dirs []storageDir
	for _, n := range names {
		if strings.HasSuffix(n, "-containers") && validID(n) {
			dirs = append(dirs, storageDir{path.Join(root.path, n), root.rootless})
		}
	}
	return dirs, nil
}

func (s *scanner) readSpec(dir storageDir, id string) (*Info, error) {
	name := path.Join(dir.path, id, "userdata", "config.json")
	data, err := s.read(name, s.opts.MaxFileSize)
	if err != nil {
		return nil, err
	}
	info, err := s.parseSpecFile(name, data, id, "podman")
	if err != nil {
		return nil, err
	}
	info.Rootless = dir.rootless
	return info, nil
}

func (s *scanner) readContainersJSON(dir storageDir) ([]Info, error) {
	if s.memo == nil {
		return s.parseContainersJSONFile(dir)
	}
	if m, ok := s.memo.json[dir.path]; ok {
		return m.infos, m.err
	}
	infos, err := s.parseContainersJSONFile(dir)
	s.memo.json[dir.path] = jsonResult{infos, err}
	return infos, err
}

func (s *scanner) parseContainersJSONFile(dir storageDir) ([]Info, error) {
	name := path.Join(dir.path, "containers.json")
	data, err := s.read(name, containersJSONLimit)
	if err != nil {
		return nil, err
	}
	infos, err := parseContainersJSON(name, data)
	for i := range infos {
		infos[i].Rootless = dir.rootless
	}
	return infos, err
}

// lookupStorage joins id's spec with its containers.json entry, from
// whichever roots hold them. Rootful roots come first, and a rootful spec is
// only joined with a rootful entry: a user's files may claim any ID.
func (s *scanner) lookupStorage(id string) (*Info, error) {
	var found *Info
	var firstErr error
	keep := func(err error) {
		if firstErr == nil && !notExist(err) {
			firstErr = err
		}
	}
	var dirs []storageDir
	for _, root := range s.storageRoots() {
		d, err := s.containerDirs(root)
		if err != nil {
			keep(err)
		}
		dirs = append(dirs, d...)
	}
	for _, dir := range dirs {
		info, err := s.readSpec(dir, id)
		if err != nil {
			keep(err)
			continue
		}
		found = info
		break
	}
	for _, dir := range dirs {
		if found != nil && found.Rootless != dir.rootless {
			continue
		}
		entries, err := s.readContainersJSON(dir)
		if err != nil {
			keep(err)
			continue
		}
		if e := findEntry(entries, id); e != nil {
			if found == nil {
				found = e
			} else {
				joinEntry(found, e)
			}
			break
		}
	}
	if found == nil {
		return nil, firstErr
	}
	if found.Runtime == "podman" {
		s.podmanPod(found, dirs)
	}
	return found, nil
}

// findEntry returns a copy of id's entry: the caller completes it, and the
// slice may be a Reader's, shared by later lookups.
func findEntry(entries []Info, id string) *Info {
	for i := range entries {
		if entries[i].ID == id {
			e := entries[i]
			return &e
		}
	}
	return nil
}

// joinEntry completes a spec's Info with its containers.json entry, which
// alone has podman's names and image. The spec decides the runtime.
func joinEntry(spec, entry *Info) {
	runtime, source := spec.Runtime, spec.Source
	fill(spec, entry)
	spec.Runtime, spec.Source = runtime, source
}

// podmanPod marks a pod's infra container and names the pod, reading the
// infra container's spec when info is a member.
func (s *scanner) podmanPod(info *Info, dirs []storageDir) {
	if isInfra(info) {
		info.Sandbox = true
	}
	if info.Sandbox {
		info.SandboxID = info.ID
		info.PodName = first(info.PodName, info.Hostname)
		return
	}
	if info.SandboxID == "" || !validID(info.SandboxID) {
		return
	}
	for _, dir := range dirs {
		if dir.rootless != info.Rootless {
			continue
		}
		infra, err := s.readSpec(dir, info.SandboxID)
		if err != nil {
			continue
		}
		if infra.PodID == info.PodID {
			info.PodName = first(info.PodName, infra.Hostname)
		}
		return
	}
}

// isInfra recognises podman's infra container by the name podman gives it,
// the first 12 hex digits of the pod ID followed by "-infra". Rootless podman
// under cgroup v1 creates no cgroups, so its specs carry no pod ID: the name's
// shape alone must do there.
func isInfra(info *Info) bool {
	prefix, ok := strings.CutSuffix(info.RuntimeName, "-infra")
	if !ok || len(prefix) != 12 || !isHex(prefix+strings.Repeat("0", 52)) {
		return false
	}
	return info.PodID == "" || strings.HasPrefix(info.PodID, prefix)
}

// listStorage reads every spec and containers.json of every root.
func (s *scanner) listStorage(ctx context.Context, add func(*Info), report func(error)) error {
	byID := map[string]*Info{}
	var order []*Info
	put := func(info *Info, entry bool) {
		old, ok := byID[info.ID]
		switch {
		case !ok:
			byID[info.ID] = info
			order = append(order, info)
		case old.Rootless != info.Rootless:
			// A user's storage claiming a rootful container's ID (rootful
			// roots are read first): not joined.
		case entry:
			joinEntry(old, info)
		default:
			fill(old, info)
		}
	}
	var entries []*Info
	for _, root := range s.storageRoots() {
		dirs, err := s.containerDirs(root)
		if err != nil {
			if !notExist(err) {
				report(err)
			}
			continue
		}
		for _, dir := range dirs {
			ids, err := s.r.ReadDirNames(dir.path)
			if err != nil {
				if !notExist(err) {
					report(err)
				}
				continue
			}
			sort.Strings(ids)
			for _, id := range ids {
				if err := ctx.Err(); err != nil {
					return err
				}
				if !validID(id) || id == "containers.json" || id == "containers.lock" {
					continue
				}
				info, err := s.readSpec(dir, id)
				if err != nil {
					if !notExist(err) {
						report(err)
					}
					continue
				}
				put(info, false)
			}
			list, err := s.readContainersJSON(dir)
			if err != nil {
				if !notExist(err) {
					report(err)
				}
				continue
			}
			for i := range list {
				entries = append(entries, &list[i])
			}
		}
	}
	// Entries last, so that a spec found in a later root still decides.
	for _, e := range entries {
		put(e, true)
	}
	// A podman container's SandboxID names its pod's infra container.
	for _, info := range order {
		if info.Runtime != "podman" {
			continue
		}
		if isInfra(info) {
			info.Sandbox = true
		}
		if sb, ok := byID[info.SandboxID]; ok && sb != info && sb.Runtime == "podman" && sb.Rootless == info.Rootless {
			sb.Sandbox = true
		}
	}
	for _, info := range order {
		if info.Runtime != "podman" {
			continue
		}
		if info.Sandbox {
			info.SandboxID = info.ID
			info.PodName = first(info.PodName, info.Hostname)
		}
	}
	for _, info := range order {
		if info.Runtime == "podman" && !info.Sandbox {
			if sb, ok := byID[info.SandboxID]; ok && sb.PodID == info.PodID && sb.Rootless == info.Rootless {
				info.PodName = first(info.PodName, sb.PodName)
			}
		}
		add(info)
	}
	return nil
}

// validName accepts a directory entry as a path component.
func validName(n string) bool {
	return n != "" && n != "." && n != ".." && !strings.ContainsAny(n, "/\x00")
}

// isUID accepts a /run/user entry: a UID, at most ten digits.
func isUID(s string) bool { return len(s) <= 10 && parse.Digits(s) }
