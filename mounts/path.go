package mounts

import "strings"

// PathMap translates between host paths and the reading process's own paths
// when the host's root directory is visible to the reader at Prefix (a
// DaemonSet mounting the node's / at /host has Prefix "/host"). Mount points
// in the host's table are host paths; PathMap turns them into paths the
// reader can open with its own tools, and back. An empty Prefix or "/" means
// the reader sees the host as it is. Translation is lexical and
// boundary-correct: with Prefix "/host", "/hostile" is not a host path.
type PathMap struct {
	Prefix string
}

// ReaderPath returns where the host path p is in the reader's file system.
// p is cleaned first; ok is false when p is not absolute.
func (pm PathMap) ReaderPath(p string) (string, bool) {
	if !strings.HasPrefix(p, "/") {
		return "", false
	}
	p = cleanPath(p)
	prefix := pm.prefix()
	switch {
	case prefix == "/":
		return p, true
	case p == "/":
		return prefix, true
	}
	return prefix + p, true
}

// HostPath returns the host path the reader's path p names. p is cleaned
// first; ok is false when p is not absolute or not at or below Prefix.
func (pm PathMap) HostPath(p string) (string, bool) {
	if !strings.HasPrefix(p, "/") {
		return "", false
	}
	p = cleanPath(p)
	prefix := pm.prefix()
	if !hasPathPrefix(p, prefix) {
		return "", false
	}
	if prefix == "/" {
		return p, true
	}
	if p == prefix {
		return "/", true
	}
	return p[len(prefix):], true
}

func (pm PathMap) prefix() string {
	if pm.Prefix == "" {
		return "/"
	}
	return cleanPath(pm.Prefix)
}

// DetectPrefix works out where the host's root directory appears in the
// reader's own mount table, given the host's table (Host) and the reader's
// (Process for the reader's PID, read through a Root for the reader's own
// file system). It looks for the mount that holds the host's "/" (same
// device and same root within the file system) among the reader's mounts
// and returns the shortest such mount point. ok is false when the reader
// has no such mount, as in a container that was given only the host's /proc
// and /sys.
func DetectPrefix(reader, host []Mount) (PathMap, bool) {
	hostRoot, ok := Holding(host, "/")
	if !ok {
		return PathMap{}, false
	}
	best := ""
	for _, m := range reader {
		if m.Major != hostRoot.Major || m.Minor != hostRoot.Minor || m.Root != hostRoot.Root {
			continue
		}
		if m.FSType != hostRoot.FSType {
			continue
		}
		if best == "" || len(m.MountPoint) < len(best) {
			best = m.MountPoint
		}
	}
	if best == "" {
		return PathMap{}, false
	}
	return PathMap{Prefix: best}, true
}

// Holding returns the mount that holds the path p in the table ms: the
// mount a lookup of p ends on. p is cleaned first.
//
// The table is walked as the kernel walks a path: from the root mount (the
// one whose parent is not in the table), at each step into the child mount
// whose mount point is the shortest prefix of p still ahead, where a mount
// stacked on its parent's own mount point covers the parent entirely. Among
// mounts with the same parent and mount point the later in table order wins.
// In an ordinary table this gives the mount with the longest mount point that
// is a prefix of p, later mounts shadowing earlier ones on the same point;
// it also gets right a mount that an over-mount of an ancestor has hidden.
//
// Give it a whole table. A mount whose parent is missing (a filtered table)
// is treated as if it could hang below any mount. ok is false when no
// mount's point is a prefix of p.
func Holding(ms []Mount, p string) (Mount, bool) {
	p = cleanPath(p)
	ids := make(map[int]bool, len(ms))
	for i := range ms {
		ids[ms[i].ID] = true
	}
	orphan := func(m *Mount) bool { return !ids[m.ParentID] || m.ParentID == m.ID }
	cur := -1
	visited := make([]bool, len(ms))
	for {
		next := -1
		for i := range ms {
			m := &ms[i]
			if visited[i] || !hasPathPrefix(p, m.MountPoint) {
				continue
			}
			if cur >= 0 {
				c := &ms[cur]
				if !hasPathPrefix(m.MountPoint, c.MountPoint) {
					continue // not reachable through cur
				}
				if m.ParentID != c.ID && !orphan(m) {
					continue
				}
				if orphan(m) && m.MountPoint == c.MountPoint && i < cur {
					continue // an earlier orphan on the same point is covered
				}
			} else if !orphan(m) {
				continue
			}
			if next < 0 || len(m.MountPoint) <= len(ms[next].MountPoint) {
				next = i
			}
		}
		if next < 0 {
			break
		}
		cur = next
		visited[cur] = true // also ends cycles in a corrupt table
	}
	if cur < 0 {
		return Mount{}, false
	}
	return ms[cur], true
}
