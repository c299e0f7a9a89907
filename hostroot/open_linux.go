//go:build linux

package hostroot

import (
	"fmt"
	"os"
	"path/filepath"
)

// Native returns a Root for the machine's own file system, "/". Reads of
// /proc and /sys go straight to the kernel's file systems there.
func Native() (*Root, error) {
	return Dir("/")
}

// Dir returns a Root for a host file system mounted at dir in the reader's
// file system, such as "/host" in a DaemonSet that mounts the node's "/"
// there. The kernel confines every lookup to dir (openat2 with
// RESOLVE_IN_ROOT), so a symlink in the host tree can never lead out of it.
func Dir(dir string) (*Root, error) {
	return openRoot("directory "+dir, []subtree{{"/", dir}})
}

// envVars maps each environment variable FromEnv honours to the host
// subtree it relocates.
var envVars = []struct{ name, prefix string }{
	{"HOST_PROC", "/proc"},
	{"HOST_SYS", "/sys"},
	{"HOST_DEV", "/dev"},
	{"HOST_ETC", "/etc"},
	{"HOST_RUN", "/run"},
	{"HOST_VAR", "/var"},
}

// FromEnv returns a Root built from the environment variables Go agents
// already use: HOST_ROOT names the directory holding the host's "/" (default
// "/"), and HOST_PROC, HOST_SYS, HOST_DEV, HOST_ETC, HOST_RUN and HOST_VAR
// each relocate one subtree. A DaemonSet that mounts only the node's /proc
// at /host/proc and /sys at /host/sys sets HOST_PROC and HOST_SYS and
// leaves the rest of the tree to the container's own file system.
//
// Symlinks crossing from one relocated subtree into another resolve with
// chroot semantics across them. Every variable that is set must name an
// existing directory by an absolute path.
func FromEnv() (*Root, error) {
	return fromEnv(os.LookupEnv)
}

func fromEnv(lookup func(string) (string, bool)) (*Root, error) {
	top := "/"
	if v, ok := lookup("HOST_ROOT"); ok && v != "" {
		top = v
	}
	trees := []subtree{{"/", top}}
	desc := "environment HOST_ROOT=" + top
	for _, e := range envVars {
		v, ok := lookup(e.name)
		if !ok || v == "" {
			continue
		}
		trees = append(trees, subtree{e.prefix, v})
		desc += " " + e.name + "=" + v
	}
	return openRoot(desc, trees)
}

// subtree places the reader's directory dir at a host prefix.
type subtree struct {
	prefix, dir string
}

// openRoot opens the directories. A subtree whose directory is simply the
// same-named directory inside the top tree (no symlink on the way) becomes
// an alias; /proc and /sys get aliases of their own where they are real
// kernel mounts inside the tree, so reads there take the trusted path.
func openRoot(desc string, trees []subtree, opts ...func(*osBackend)) (*Root, error) {
	var mounts []*mount
	fail := func(err error) (*Root, error) {
		for _, m := range mounts {
			m.be.close()
		}
		return nil, err
	}
	for _, t := range trees {
		if !filepath.IsAbs(t.dir) {
			return fail(fmt.Errorf("hostroot: %s is not an absolute path", t.dir))
		}
	}
	top := filepath.Clean(trees[0].dir)
	tb, err := openDir(top, true)
	if err != nil {
		return fail(err)
	}
	mounts = append(mounts, &mount{prefix: "/", be: tb})
	placed := map[string]bool{"/": true}
	for _, t := range trees[1:] {
		dir := filepath.Clean(t.dir)
		if dir == filepath.Join(top, t.prefix) {
			if b := tb.sub(t.prefix[1:]); b != nil {
				mounts = append(mounts, &mount{prefix: t.prefix, be: b, alias: true})
				placed[t.prefix] = true
				continue
			}
		}
		b, err := openDir(dir, true)
		if err != nil {
			return fail(err)
		}
		mounts = append(mounts, &mount{prefix: t.prefix, be: b})
		placed[t.prefix] = true
	}
	for _, p := range []string{"/proc", "/sys"} {
		if placed[p] {
			continue
		}
		if b := tb.sub(p[1:]); b != nil {
			if b.trusted {
				mounts = append(mounts, &mount{prefix: p, be: b, alias: true})
			} else {
				b.close()
			}
		}
	}
	for _, m := range mounts {
		for _, o := range opts {
			o(m.be.(*osBackend))
		}
	}
	return newRoot(desc, mounts), nil
}

// dirWithoutOpenat2 is Dir as on a kernel without openat2: every lookup goes
// through the userspace resolver and the O_NOFOLLOW walk. Tests use it to
// hold that path to the same answers.
func dirWithoutOpenat2(dir string) (*Root, error) {
	return openRoot("directory "+dir+" (no openat2)", []subtree{{"/", dir}}, func(b *osBackend) { b.openat2 = false })
}
