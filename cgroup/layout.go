package cgroup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/internal/parse"
	"github.com/hostscope/hostscope/mounts"
)

// Mode is how a host mounts its cgroup hierarchies.
type Mode string

// Cgroup modes. The empty Mode means no hierarchy was found.
const (
	// V1 is the legacy layout: one v1 hierarchy per controller (or group
	// of co-mounted controllers) and no cgroup2 mount.
	V1 Mode = "v1"
	// Hybrid is systemd's hybrid layout: the controllers on v1
	// hierarchies, and a cgroup2 mount (normally /sys/fs/cgroup/unified)
	// that systemd uses to track processes and that holds no controller.
	Hybrid Mode = "hybrid"
	// V2 is the unified layout: one cgroup2 hierarchy with every
	// controller.
	V2 Mode = "v2"
)

// Hierarchy is one mounted cgroup hierarchy.
type Hierarchy struct {
	// Version is 1 for a v1 hierarchy (file system type "cgroup"), 2 for
	// the unified hierarchy ("cgroup2").
	Version int
	// Controllers lists a v1 hierarchy's controllers ("cpu", "cpuacct",
	// "name=systemd"), from the mount's super options. For v2 it is the
	// content of cgroup.controllers at the mount point, the controllers the
	// hierarchy offers; nil when that file was not read (LayoutOf) or could
	// not be.
	Controllers []string
	// MountPoint is where the hierarchy is mounted, a host-absolute name
	// read through the Root.
	MountPoint string
	// Root is the cgroup the mount shows at MountPoint (the mountinfo
	// root field): "/" for a whole hierarchy, a sub-tree when the mount was
	// made inside a cgroup namespace or bind-mounted from a sub-directory.
	// Like the paths in /proc/PID/cgroup, it is relative to the reader's
	// cgroup namespace and may start with "/..".
	Root string
	// NamespacePath is the path, from the hierarchy's root, of the root of
	// the reader's cgroup namespace, when Root leads out of that namespace
	// ("/../.."): no file shows the names of the cgroups above a namespace,
	// so DetectLayout finds them by looking for the reader's own process in
	// the hierarchy. It lets Dir reach cgroups the reader sees as
	// "/../../<sibling>". Empty when Root stays in the namespace or the
	// reader could not be found.
	NamespacePath string
}

// Layout is the set of cgroup hierarchies a Root mounts, found through its
// host mount table.
type Layout struct {
	Mode        Mode
	Hierarchies []Hierarchy // in mount-table order
	// Probed is set when no mount table was readable and the hierarchies
	// were found by probing /sys/fs/cgroup for the usual layout instead.
	Probed bool
}

// DetectLayout finds the cgroup hierarchies of the Root from its host mount
// table (mounts.Host: PID 1's /proc/1/mountinfo, or the documented
// fallback), reading cgroup.controllers at each cgroup2 mount point. When
// no mount table is readable it probes /sys/fs/cgroup instead (the
// cgroup.controllers of a unified mount, the per-controller directories of
// v1) and sets Probed. It fails only when neither finds a hierarchy, or on
// a malformed mount table.
func DetectLayout(ctx context.Context, r *hostroot.Root) (*Layout, error) {
	t, err := mounts.Host(ctx, r, mounts.FSType("cgroup", "cgroup2"))
	if err != nil && (errors.Is(err, hostroot.ErrMalformed) || ctx.Err() != nil) {
		return nil, err
	}
	if err == nil && len(t.Mounts) > 0 {
		l := LayoutOf(t.Mounts)
		for i := range l.Hierarchies {
			h := &l.Hierarchies[i]
			if h.Version == 2 {
				h.Controllers, _ = readControllers(r, h.MountPoint)
			}
			if err := h.findNamespace(ctx, r); err != nil {
				return nil, err
			}
		}
		return l, nil
	}
	l, perr := probeLayout(r)
	if perr != nil {
		if err != nil {
			return nil, fmt.Errorf("cgroup layout: %w; probing /sys/fs/cgroup: %w", err, perr)
		}
		return nil, perr
	}
	return l, nil
}

// LayoutOf builds a Layout from a mount table, such as one from
// mounts.Process or mounts.Host; mounts that are not cgroup file systems are
// ignored. It reads no file, so v2 hierarchies have nil Controllers.
func LayoutOf(ms []mounts.Mount) *Layout {
	l := &Layout{}
	for _, m := range ms {
		switch m.FSType {
		case "cgroup":
			l.Hierarchies = append(l.Hierarchies, Hierarchy{Version: 1, Controllers: v1Controllers(m.SuperOptions), MountPoint: m.MountPoint, Root: m.Root})
		case "cgroup2":
			l.Hierarchies = append(l.Hierarchies, Hierarchy{Version: 2, MountPoint: m.MountPoint, Root: m.Root})
		}
	}
	l.Mode = modeOf(l.Hierarchies)
	return l
}

// modeOf tells the mode from the hierarchies: a v1 hierarchy holding a
// real controller makes the host v1, or hybrid with a cgroup2 mount beside
// it; a named v1 hierarchy alone (name=systemd kept for old software) does
// not.
func modeOf(hs []Hierarchy) Mode {
	v1, v1named, v2 := false, false, false
	for _, h := range hs {
		switch h.Version {
		case 1:
			v1named = true
			for _, c := range h.Controllers {
				if !strings.HasPrefix(c, "name=") {
					v1 = true
				}
			}
		case 2:
			v2 = true
		}
	}
	switch {
	case v1 && v2:
		return Hybrid
	case v1:
		return V1
	case v2:
		return V2
	case v1named:
		return V1
	}
	return ""
}

// probeLayout finds the hierarchies under /sys/fs/cgroup the usual way
// when no mount table can be read.
func probeLayout(r *hostroot.Root) (*Layout, error) {
	const top = "/sys/fs/cgroup"
	l := &Layout{Probed: true}
	if ctrl, err := readControllers(r, top); err == nil {
		l.Hierarchies = []Hierarchy{{Version: 2, Controllers: ctrl, MountPoint: top, Root: "/"}}
		l.Mode = V2
		return l, nil
	}
	des, err := r.ReadDir(top)
	if err != nil {
		return nil, err
	}
	for _, de := range des {
		if !de.IsDir() {
			continue // co-mount aliases such as cpu -> cpu,cpuacct are symlinks
		}
		dir := path.Join(top, de.Name())
		if ctrl, err := readControllers(r, dir); err == nil {
			l.Hierarchies = append(l.Hierarchies, Hierarchy{Version: 2, Controllers: ctrl, MountPoint: dir, Root: "/"})
			continue
		}
		if _, err := r.Stat(dir + "/cgroup.procs"); err != nil {
			continue
		}
		var ctrl []string
		for _, c := range strings.Split(de.Name(), ",") {
			if !slices.Contains(knownControllers, c) {
				c = "name=" + c // named hierarchies are mounted under their name
			}
			ctrl = append(ctrl, c)
		}
		l.Hierarchies = append(l.Hierarchies, Hierarchy{Version: 1, Controllers: ctrl, MountPoint: dir, Root: "/"})
	}
	l.Mode = modeOf(l.Hierarchies)
	if l.Mode == "" {
		return nil, &fs.PathError{Op: "probe", Path: top, Err: fs.ErrNotExist}
	}
	return l, nil
}

// readControllers reads the cgroup.controllers file of a v2 directory.
func readControllers(r *hostroot.Root, dir string) ([]string, error) {
	b, err := r.ReadFile(dir + "/cgroup.controllers")
	if err != nil {
		return nil, err
	}
	return append([]string{}, strings.Fields(string(b))...), nil
}

// Dir returns the directory, a host-absolute name under h.MountPoint, of
// the cgroup p: a path from the cgroup line of the hierarchy (Entry.Path),
// read in the same cgroup namespace as the mount table. Both may lead out of
// that namespace with "/.." steps; Dir matches them step for step and fails
// with an error wrapping errors.ErrUnsupported when p is not below h.Root,
// or when reaching it would take the names of cgroups above the namespace,
// which neither file shows.
func (h Hierarchy) Dir(p string) (string, error) {
	pUp, pDown, ok := splitCgroupPath(p)
	if !ok {
		return "", fmt.Errorf("cgroup path %q: %w: not a cgroup path", p, errors.ErrUnsupported)
	}
	rUp, rDown, ok := splitCgroupPath(h.Root)
	if !ok {
		return "", fmt.Errorf("cgroup mount root %q: %w: not a cgroup path", h.Root, errors.ErrUnsupported)
	}
	if pUp != rUp && h.NamespacePath != "" {
		// Make both absolute with the names above the namespace.
		_, ns, _ := splitCgroupPath(h.NamespacePath)
		if pUp > len(ns) || rUp > len(ns) {
			return "", fmt.Errorf("cgroup path %q: %w: leads above the hierarchy's root", p, errors.ErrUnsupported)
		}
		pDown = append(slices.Clip(ns[:len(ns)-pUp]), pDown...)
		rDown = append(slices.Clip(ns[:len(ns)-rUp]), rDown...)
		pUp, rUp = 0, 0
	}
	if pUp != rUp || len(pDown) < len(rDown) || !slices.Equal(pDown[:len(rDown)], rDown) {
		return "", fmt.Errorf("cgroup path %q: %w: not below the root %q of the hierarchy mounted at %s", p, errors.ErrUnsupported, h.Root, h.MountPoint)
	}
	return path.Join(append([]string{h.MountPoint}, pDown[len(rDown):]...)...), nil
}

// maxSearch bounds the directories findNamespace lists: a node's whole
// cgroup tree to the depth of a Kubernetes container is a few thousand.
const maxSearch = 20000

// findNamespace sets h.NamespacePath when h.Root leads out of the reader's
// cgroup namespace. The mount is taken to show the hierarchy's root (the
// host's own mount does), so the namespace's root lies as many levels below
// MountPoint as Root climbs; the directory at that depth holding the
// reader's process (/proc/self, at the cgroup its own line names) is it.
// Finding nothing, or more than one candidate, leaves NamespacePath empty;
// only a cancelled ctx is an error.
func (h *Hierarchy) findNamespace(ctx context.Context, r *hostroot.Root) error {
	up, down, ok := splitCgroupPath(h.Root)
	if !ok || up == 0 || len(down) > 0 {
		return nil
	}
	self, err := r.Readlink("/proc/self")
	if err != nil || !parse.Digits(self) {
		return nil
	}
	data, err := r.ReadFile("/proc/" + self + "/cgroup")
	if err != nil {
		return nil
	}
	entries, _ := ParseEntries(data, "/proc/"+self+"/cgroup")
	var own []string
	found := false
	for _, e := range entries {
		mine := h.Version == 2 && e.HierarchyID == 0 && len(e.Controllers) == 0
		if h.Version == 1 && len(h.Controllers) > 0 {
			mine = e.Has(h.Controllers[0])
		}
		if mine {
			eu, ed, ok := splitCgroupPath(e.Path)
			if !ok || eu != 0 {
				return nil
			}
			own, found = ed, true
			break
		}
	}
	if !found {
		return nil
	}

	level := []string{""}
	listed := 0
	for depth := 0; depth < up; depth++ {
		var next []string
		for _, rel := range level {
			if err := ctx.Err(); err != nil {
				return err
			}
			if listed++; listed > maxSearch {
				return nil
			}
			des, err := r.ReadDir(h.MountPoint + rel)
			if err != nil {
				continue
			}
			for _, de := range des {
				if de.IsDir() {
					next = append(next, rel+"/"+de.Name())
				}
			}
		}
		level = next
	}
	var match string
	for _, rel := range level {
		b, err := r.ReadFile(path.Join(append([]string{h.MountPoint + rel}, own...)...) + "/cgroup.procs")
		if err != nil || !hasLine(b, self) {
			continue
		}
		if match != "" {
			return nil // ambiguous
		}
		match = rel
	}
	if match != "" {
		h.NamespacePath = match
	}
	return nil
}

// hasLine reports whether b has the line s.
func hasLine(b []byte, s string) bool {
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte{'\n'})
		if string(line) == s {
			return true
		}
	}
	return false
}

// splitCgroupPath splits a cgroup path into its leading ".." steps and the
// names after them. A "." or ".." after the first name makes it no cgroup
// path: the kernel never writes one, and cgroups cannot be named so.
func splitCgroupPath(p string) (up int, down []string, ok bool) {
	for _, c := range strings.Split(p, "/") {
		switch {
		case c == "" || c == ".":
			if c == "." && len(down) > 0 {
				return 0, nil, false
			}
		case c == "..":
			if len(down) > 0 {
				return 0, nil, false
			}
			up++
		default:
			down = append(down, c)
		}
	}
	return up, down, true
}

// Locate returns the directory holding controller's files for a process
// whose cgroup lines are entries, and the version of the hierarchy that
// holds it: the v1 hierarchy carrying the controller and the entry of the
// same hierarchy, else the unified hierarchy and the 0:: entry. Pass the
// entries of ContainerEntries to reach a container's own cgroup. It fails
// with an error wrapping errors.ErrUnsupported when no mounted hierarchy
// offers the controller, or its directory cannot be reached (see
// Hierarchy.Dir).
func (l *Layout) Locate(entries []Entry, controller string) (dir string, version int, err error) {
	return l.locateVersion(entries, controller, false)
}

// locate is Locate for callers that know the file they want is kept on
// every v2 cgroup (anyV2), whether the hierarchy offers controller or not.
func (l *Layout) locate(entries []Entry, controller string, anyV2 bool) (string, error) {
	d, _, err := l.locateVersion(entries, controller, anyV2)
	return d, err
}

func (l *Layout) locateVersion(entries []Entry, controller string, anyV2 bool) (dir string, version int, err error) {
	var firstErr error
	for _, h := range l.Hierarchies {
		if h.Version != 1 || !slices.Contains(h.Controllers, controller) {
			continue
		}
		for _, e := range entries {
			if e.HierarchyID == 0 || !e.Has(controller) {
				continue
			}
			d, err := h.Dir(e.Path)
			if err == nil {
				return d, 1, nil
			}
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	if firstErr != nil {
		return "", 0, firstErr
	}
	v1Has := slices.ContainsFunc(l.Hierarchies, func(h Hierarchy) bool {
		return h.Version == 1 && slices.Contains(h.Controllers, controller)
	})
	if !v1Has {
		for _, h := range l.Hierarchies {
			if h.Version != 2 || (!anyV2 && h.Controllers != nil && !slices.Contains(h.Controllers, controller)) {
				continue
			}
			for _, e := range entries {
				if e.HierarchyID != 0 || len(e.Controllers) > 0 {
					continue
				}
				d, err := h.Dir(e.Path)
				if err == nil {
					return d, 2, nil
				}
				if firstErr == nil {
					firstErr = err
				}
			}
		}
	}
	if firstErr != nil {
		return "", 0, firstErr
	}
	return "", 0, fmt.Errorf("cgroup controller %s: %w: no mounted hierarchy and cgroup line carry it", controller, errors.ErrUnsupported)
}
