package mounts

import "strings"

// Overlay is the layer configuration of an overlay mount (a container's root
// file system, typically), from its super options. Paths are as given at
// mount time, in the namespace of whoever mounted it (for container runtimes,
// the host's), with overlayfs's own backslash escapes removed.
type Overlay struct {
	// LowerDirs are the lower layers, topmost first: the "lowerdir" option
	// split at unescaped ':', or one "lowerdir+" option each (kernel 6.8+).
	LowerDirs []string
	// DataDirs are data-only lower layers (kernel 6.5+): entries after "::"
	// in "lowerdir", or "datadir+" options.
	DataDirs []string
	UpperDir string // empty for a read-only overlay
	WorkDir  string
}

// Overlay returns the layers of an overlay mount; ok is false when m is not
// of type "overlay". (fuse-overlayfs mounts do not show their layers: FUSE
// prints only its own options.)
func (m Mount) Overlay() (o Overlay, ok bool) {
	if m.FSType != "overlay" {
		return Overlay{}, false
	}
	for _, opt := range m.SuperOptions {
		key, val, _ := strings.Cut(opt, "=")
		switch key {
		case "lowerdir":
			lower, data := splitLowerDirs(val)
			o.LowerDirs = append(o.LowerDirs, lower...)
			o.DataDirs = append(o.DataDirs, data...)
		case "lowerdir+":
			o.LowerDirs = append(o.LowerDirs, val)
		case "datadir+":
			o.DataDirs = append(o.DataDirs, val)
		case "upperdir":
			o.UpperDir = overlayUnescape(val)
		case "workdir":
			o.WorkDir = overlayUnescape(val)
		}
	}
	return o, true
}

// splitLowerDirs splits a lowerdir value the way overlayfs does: entries are
// separated by ':', a backslash makes the next character literal (so "\:" is
// a colon inside a path), and an empty entry ("::") starts the data-only
// layers.
func splitLowerDirs(s string) (lower, data []string) {
	var cur strings.Builder
	inData := false
	flush := func() {
		if inData {
			data = append(data, cur.String())
		} else {
			lower = append(lower, cur.String())
		}
		cur.Reset()
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
		case c == ':':
			if i+1 < len(s) && s[i+1] == ':' {
				flush()
				inData = true
				i++
				continue
			}
			flush()
		default:
			cur.WriteByte(c)
		}
	}
	if cur.Len() > 0 {
		flush()
	}
	return lower, data
}

// overlayUnescape removes overlayfs's backslash escapes from an upperdir or
// workdir value.
func overlayUnescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
