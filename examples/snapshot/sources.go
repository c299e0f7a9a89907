package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/internal/parse"
)

// What a snapshot holds, phase by phase. Each list names what hostscope's
// readers (proc, cgroup, mounts, dev, runtimestate) open, so a snapshot
// reproduces their answers.

// hostFiles are read once per snapshot. /proc/self is the capturing
// process, recorded so that readers skipping "themselves" skip it.
var hostFiles = []string{
	"/etc/os-release",
	"/usr/lib/os-release",
	"/etc/hostname",
	"/proc/sys/kernel/hostname",
	"/proc/sys/kernel/osrelease",
	"/proc/sys/kernel/pid_max",
	"/proc/sys/kernel/cap_last_cap",
	"/proc/stat",
	"/proc/uptime",
	"/proc/devices",
	"/proc/cgroups",
	"/proc/partitions",
	"/proc/self",
}

// processFiles are read in each /proc/PID after stat, which is read
// first and again last to tell whether the process lived through its
// capture. environ is added by Options; the ns/ and fd/ links, fdinfo/,
// the socket tables and the root's /dev by process.
var processFiles = []string{"status", "cmdline", "comm", "cgroup", "mountinfo", "uid_map", "gid_map", "exe", "cwd", "root"}

// netTables are the socket tables of /proc/PID/net that proc reads
// (FieldSockets, NetSockets).
var netTables = []string{"tcp", "tcp6", "udp", "udp6", "raw", "raw6", "unix"}

// procRootsDir holds, per mount namespace and root directory other than
// the host's, what Root.ProcRoot shows of a process's root: its /dev.
// hostroottest.LoadTar maps /.procroots/PID, a directory or a symlink to
// a sibling, as process PID's root directory.
const procRootsDir = "/.procroots"

func (c *capturer) hostFiles() error {
	for _, name := range hostFiles {
		c.captureFollow(name)
	}
	return nil
}

// captureFollow captures name and, when it is a symlink outside /proc/PID,
// what it points to (/etc/os-release -> ../usr/lib/os-release).
func (c *capturer) captureFollow(name string) {
	if c.capture(name, nil) != nil {
		return
	}
	canon, err := c.resolve(name, false)
	if err != nil || inProcessDir(canon) || strings.HasPrefix(canon, "/proc/self") || strings.HasPrefix(canon, "/proc/thread-self") {
		return
	}
	if fi, err := c.r.Lstat(canon); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return
	}
	target, err := c.resolve(name, true)
	if err != nil {
		c.skip(err)
		return
	}
	c.captureCanonical(target, nil)
}

// processes captures every /proc/PID, ascending.
func (c *capturer) processes() error {
	names, err := c.r.ReadDirNames("/proc")
	if err != nil {
		c.skip(err)
		return nil
	}
	var pids []int
	for _, n := range names {
		if !parse.Digits(n) || n[0] == '0' {
			continue
		}
		if pid, err := strconv.Atoi(n); err == nil {
			pids = append(pids, pid)
		}
	}
	slices.Sort(pids)
	c.progress.ProcessesTotal = len(pids)
	for _, pid := range pids {
		if err := c.ctx.Err(); err != nil {
			return err
		}
		if err := c.flush(); err != nil {
			return err
		}
		if c.process(pid) {
			c.sum.Processes++
		} else {
			c.sum.Vanished++
		}
		c.progress.Processes++
		if err := c.flush(); err != nil {
			return err
		}
	}
	return nil
}

// process queues the entries of one process and reports whether it was
// there, the same process, from start to end; when not, they are dropped.
func (c *capturer) process(pid int) bool {
	dir := "/proc/" + strconv.Itoa(pid)
	if err := c.ensureDir(dir); err != nil {
		c.discard()
		return false
	}
	statName := dir + "/stat"
	err := c.capture(statName, nil)
	if errors.Is(err, fs.ErrNotExist) {
		c.discard()
		return false
	}
	stat, _ := c.pendingData(statName)
	if err != nil {
		// Not captured (a size cap) but still needed for the start time.
		c.scratch, _ = c.r.AppendFile(c.scratch[:0], statName, c.opts.MaxFileSize)
		stat = append([]byte(nil), c.scratch...)
	}
	start, known := startTime(stat)
	for _, f := range processFiles {
		var tf transform
		if f == "cmdline" && c.opts.RedactCmdline {
			tf = redactCmdline
		}
		c.capture(dir+"/"+f, tf)
	}
	if c.opts.Environ {
		var tf transform
		if c.opts.RedactEnviron {
			tf = redactEnviron
		}
		c.capture(dir+"/environ", tf)
	}
	c.dirEntries(dir + "/ns")
	if c.dirEntries(dir+"/fd") && c.opts.FDInfo {
		c.dirEntries(dir + "/fdinfo")
	}
	netns := c.net(dir)
	rootKey := c.procRoot(pid, dir)
	// The same PID with the same start time is the same process; reading
	// stat again also proves it did not exit while its files were read.
	c.scratch, err = c.r.AppendFile(c.scratch[:0], statName, c.opts.MaxFileSize)
	if errors.Is(err, fs.ErrNotExist) {
		c.discard()
		return false
	}
	if again, ok := startTime(c.scratch); err == nil && known && (!ok || again != start) {
		c.discard()
		return false
	}
	if netns != "" {
		c.netDirs[netns] = pid
	}
	if rootKey != "" {
		c.roots[rootKey] = pid
	}
	return true
}

// dirEntries records the directory dir of a process (ns, fd, fdinfo) and
// what it holds: links as links, files with their content. The entries
// share one ptrace permission check, so the first refusal ends the
// directory (and is counted once, not once per descriptor). It reports
// whether the directory itself was recorded.
func (c *capturer) dirEntries(dir string) bool {
	if c.capture(dir, nil) != nil {
		return false
	}
	infos, err := c.readDir(dir)
	c.skip(err)
	for _, fi := range infos {
		if err := c.addInfo(dir+"/"+fi.Name(), fi, nil); err != nil {
			c.skip(err)
			if errors.Is(err, fs.ErrPermission) {
				break
			}
		}
	}
	return true
}

// net records the socket tables of the process directory dir once per
// network namespace: the first process met in a namespace has its
// net/{tcp,...} captured, every later one a symlink net -> ../FIRST/net,
// which readers follow as they would the real directory. A process whose
// ns/net link was not captured keeps its own tables, as readers of the
// snapshot, unable to tell its namespace, read them. net returns the
// namespace to register once the process is known to have lived through
// its capture, or "".
func (c *capturer) net(dir string) string {
	netns, known := c.pendingLink(dir + "/ns/net")
	if known {
		if first, ok := c.netDirs[netns]; ok {
			fi, err := c.r.Lstat(dir + "/net")
			if err != nil {
				c.skip(err)
				return ""
			}
			e := c.entryFor(dir+"/net", tar.TypeSymlink, fi)
			e.perm = 0o777
			e.link = "../" + strconv.Itoa(first) + "/net"
			c.add(e)
			return ""
		}
	}
	if c.capture(dir+"/net", nil) != nil {
		return ""
	}
	for _, t := range netTables {
		c.capture(dir+"/net/"+t, nil)
	}
	return netns
}

// procRoot records what Root.ProcRoot(pid) shows of a process's root
// directory, its /dev (what hostscope's posture lists), for a process in
// another mount namespace than the host's: once per mount namespace and
// root directory under /.procroots/PID, and as a symlink to that
// directory for every later process sharing them. The host's mount
// namespace is that of the first process whose ns/mnt link reads (PID 1,
// or a kernel thread where PID 1's is denied). It returns the key to
// register once the process is known to have lived through its capture,
// or "".
func (c *capturer) procRoot(pid int, dir string) string {
	mnt, ok := c.pendingLink(dir + "/ns/mnt")
	if !ok {
		return ""
	}
	if c.hostMnt == "" {
		c.hostMnt = mnt
	}
	if mnt == c.hostMnt {
		return ""
	}
	pr, err := c.r.ProcRoot(pid)
	if errors.Is(err, errors.ErrUnsupported) {
		return "" // a copy of a /proc, whose roots cannot be entered
	}
	if err != nil {
		c.skip(err)
		return ""
	}
	defer pr.Close()
	top, err := pr.Lstat("/")
	if err != nil {
		c.skip(err)
		return ""
	}
	key := mnt
	if st, ok := hostroot.StatOf(top); ok {
		key += " " + strconv.FormatUint(st.Dev, 10) + ":" + strconv.FormatUint(st.Ino, 10)
	}
	name := procRootsDir + "/" + strconv.Itoa(pid)
	if !c.seen[procRootsDir] {
		c.add(c.entryFor(procRootsDir, tar.TypeDir, top))
	}
	if first, ok := c.roots[key]; ok {
		e := c.entryFor(name, tar.TypeSymlink, top)
		e.perm = 0o777
		e.link = strconv.Itoa(first)
		c.add(e)
		return ""
	}
	c.add(c.entryFor(name, tar.TypeDir, top))
	c.rootDev(pr, name, "/dev", 0)
	return key
}

// rootDev records the directory dir of the process root pr, under the
// archive directory prefix, as dev does the host's /dev: directories,
// symlinks, device nodes and FIFOs, none of them opened.
func (c *capturer) rootDev(pr *hostroot.Root, prefix, dir string, depth int) {
	fi, err := pr.Lstat(dir)
	if err != nil || !fi.IsDir() {
		c.skip(err)
		return
	}
	c.add(c.entryFor(prefix+dir, tar.TypeDir, fi))
	entries, err := pr.ReadDir(dir)
	c.skip(err)
	for _, de := range entries {
		name := path.Join(dir, de.Name())
		fi, err := de.Info()
		if err != nil {
			c.skip(err)
			continue
		}
		switch m := fi.Mode(); {
		case m.IsDir():
			if depth < 8 && !slices.Contains(devSkip, name) {
				c.rootDev(pr, prefix, name, depth+1)
			}
		case m&fs.ModeSymlink != 0:
			text, err := pr.Readlink(name)
			if err != nil {
				c.skip(err)
				continue
			}
			e := c.entryFor(prefix+name, tar.TypeSymlink, fi)
			e.link = text
			c.add(e)
		case m&fs.ModeNamedPipe != 0:
			c.add(c.entryFor(prefix+name, tar.TypeFifo, fi))
		case m&fs.ModeCharDevice != 0:
			c.add(c.entryFor(prefix+name, tar.TypeChar, fi))
		case m&fs.ModeDevice != 0:
			c.add(c.entryFor(prefix+name, tar.TypeBlock, fi))
		}
	}
}

// startTime returns field 22 of /proc/PID/stat, the start time in clock
// ticks after boot, counting fields after the last ')' since comm may hold
// spaces and parentheses.
func startTime(stat []byte) (uint64, bool) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, false
	}
	fields := bytes.Fields(stat[i+1:])
	const idx = 22 - 3 // fields[0] is field 3, the state
	if len(fields) <= idx {
		return 0, false
	}
	n, err := strconv.ParseUint(string(fields[idx]), 10, 64)
	return n, err == nil
}

// cgroupFile reports whether a file of a cgroup directory is one readers
// use: resource accounting and limits, and membership. v1's
// memory.pressure_level only registers eventfd listeners and fails every
// read with EINVAL.
func cgroupFile(name string) bool {
	if name == "memory.pressure_level" {
		return false
	}
	for _, p := range []string{"memory.", "cpu.", "cpuacct.", "pids."} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return name == "cgroup.procs" || name == "cgroup.controllers"
}

// cgroups walks /sys/fs/cgroup without following symlinks (v1's cpu ->
// cpu,cpuacct is recorded as the link it is).
func (c *capturer) cgroups() error {
	top, err := c.resolve("/sys/fs/cgroup", true)
	if err != nil {
		c.skip(err)
		return nil
	}
	return c.walk(top, 0, c.opts.CgroupDepth, false, func(name string, fi fs.FileInfo) bool {
		m := fi.Mode()
		return m.IsDir() || m&fs.ModeSymlink != 0 || cgroupFile(fi.Name())
	})
}

// walk records the canonical directory dir and, depth-first, what keep
// accepts in it: regular files, symlinks (not followed) and directories
// (down to maxDepth levels below the start). Device nodes and FIFOs are
// never opened: with nodes they are recorded as such, otherwise counted as
// not regular.
func (c *capturer) walk(dir string, depth, maxDepth int, nodes bool, keep func(name string, fi fs.FileInfo) bool) error {
	if err := c.ctx.Err(); err != nil {
		return err
	}
	if err := c.ensureDir(dir); err != nil {
		c.skip(err)
		return nil
	}
	infos, err := c.readDir(dir)
	c.skip(err)
	var subdirs []string
	for _, fi := range infos {
		name := path.Join(dir, fi.Name())
		if !keep(name, fi) {
			continue
		}
		m := fi.Mode()
		switch {
		case m.IsDir():
			if depth >= maxDepth {
				c.sum.Skipped[SkipTooDeep]++
				continue
			}
			subdirs = append(subdirs, name)
		case nodes && m&(fs.ModeDevice|fs.ModeNamedPipe) != 0:
			c.skip(c.addNode(name, fi))
		default:
			c.skip(c.addInfo(name, fi, nil))
		}
	}
	if err := c.flush(); err != nil {
		return err
	}
	for _, sub := range subdirs {
		if err := c.walk(sub, depth+1, maxDepth, nodes, keep); err != nil {
			return err
		}
	}
	return nil
}

// blockAttrs are the files of a block device's sysfs directory that
// lsblk-like readers use; absent ones (a loop device has no device/model)
// are simply not there.
var blockAttrs = []string{
	"dev", "uevent", "size", "ro", "removable", "hidden", "capability",
	"partition", "start", "ext_range", "alignment_offset", "discard_alignment",
	"queue/rotational", "queue/logical_block_size", "queue/physical_block_size",
	"queue/minimum_io_size", "queue/optimal_io_size", "queue/discard_granularity",
	"queue/discard_max_bytes", "queue/zoned", "queue/scheduler",
	"wwid", "serial", "device/model", "device/vendor", "device/rev",
	"device/wwid", "device/serial", "device/state", "device/type",
	"dm/name", "dm/uuid", "loop/backing_file", "md/level",
}

// charAttrs are read for each /sys/dev/char device.
var charAttrs = []string{"dev", "uevent"}

// block captures the block device links of /sys/block, /sys/class/block
// and /sys/dev/block with the directories they point to, and the
// /sys/dev/char links with a few attributes of their devices.
func (c *capturer) block() error {
	for _, dir := range []string{"/sys/block", "/sys/class/block", "/sys/dev/block", "/sys/dev/char"} {
		attrs := blockAttrs
		if dir == "/sys/dev/char" {
			attrs = charAttrs
		}
		if err := c.deviceLinks(dir, attrs); err != nil {
			return err
		}
	}
	return nil
}

func (c *capturer) deviceLinks(dir string, attrs []string) error {
	canon, err := c.resolve(dir, true)
	if err != nil {
		c.skip(err)
		return nil
	}
	if err := c.ensureDir(canon); err != nil {
		c.skip(err)
		return nil
	}
	infos, err := c.readDir(canon)
	c.skip(err)
	for _, fi := range infos {
		if err := c.ctx.Err(); err != nil {
			return err
		}
		name := path.Join(canon, fi.Name())
		if err := c.addInfo(name, fi, nil); err != nil {
			c.skip(err)
			continue
		}
		target, err := c.resolve(name, true)
		if err != nil {
			c.skip(err)
			continue
		}
		c.device(target, attrs)
		if err := c.flush(); err != nil {
			return err
		}
	}
	return nil
}

// device captures the canonical device directory dev: its attributes and
// its holders/ and slaves/ links (not followed: they name other block
// devices, captured on their own).
func (c *capturer) device(dev string, attrs []string) {
	if c.devices[dev] {
		return
	}
	c.devices[dev] = true
	if err := c.captureCanonical(dev, nil); err != nil {
		return
	}
	for _, a := range attrs {
		c.capture(dev+"/"+a, nil)
	}
	if len(attrs) < len(blockAttrs) {
		return
	}
	for _, sub := range []string{"holders", "slaves"} {
		d := dev + "/" + sub
		if c.captureCanonical(d, nil) != nil {
			continue
		}
		infos, err := c.readDir(d)
		c.skip(err)
		for _, fi := range infos {
			if fi.Mode()&fs.ModeSymlink != 0 {
				c.skip(c.addInfo(d+"/"+fi.Name(), fi, nil))
			}
		}
	}
}

// udev captures the udev database's block device records (b<MAJ>:<MIN>).
func (c *capturer) udev() error {
	dir, err := c.resolve("/run/udev/data", true)
	if err != nil {
		c.skip(err)
		return nil
	}
	return c.walk(dir, 0, 0, false, func(name string, fi fs.FileInfo) bool {
		return !fi.IsDir() && strings.HasPrefix(fi.Name(), "b")
	})
}

// Runtime state locations, as internal/runtimestate reads them (its
// defaults, plus rootless podman's per-user storage).
var (
	dockerRoots = []string{"/var/lib/docker", "/var/snap/docker/common/var-lib-docker"}
	taskRoots   = []string{
		"/run/containerd",
		"/run/docker/containerd/daemon",
		"/run/k3s/containerd",
		"/var/snap/microk8s/common/run/containerd",
	}
	storageRoots = []string{
		"/var/lib/containers/storage",
		"/run/containers/storage",
		"/home/*/.local/share/containers/storage",
		"/run/user/*/containers",
	}
)

// runtimePatterns lists the state files of every runtime location.
func runtimePatterns() []string {
	var p []string
	for _, r := range dockerRoots {
		p = append(p, r+"/containers/*/config.v2.json", r+"/containers/*/hostconfig.json")
	}
	for _, r := range taskRoots {
		p = append(p,
			r+"/io.containerd.runtime.v2.task/*/*/config.json",
			r+"/io.containerd.runtime.v1.linux/*/*/config.json")
	}
	for _, r := range storageRoots {
		p = append(p, r+"/*-containers/*/userdata/config.json", r+"/*-containers/containers.json")
	}
	return p
}

func (c *capturer) runtimes() error {
	for _, pattern := range runtimePatterns() {
		names, err := c.glob(pattern)
		if err != nil {
			return err
		}
		for _, name := range names {
			c.capture(name, nil)
			if err := c.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// glob expands the "*" components of pattern (path.Match syntax) against
// the root, in sorted order. Unreadable directories expand to nothing.
func (c *capturer) glob(pattern string) ([]string, error) {
	matches := []string{"/"}
	for _, comp := range splitPath(pattern) {
		if err := c.ctx.Err(); err != nil {
			return nil, err
		}
		var next []string
		for _, m := range matches {
			if !strings.ContainsAny(comp, "*?[") {
				next = append(next, path.Join(m, comp))
				continue
			}
			names, err := c.r.ReadDirNames(m)
			if err != nil {
				// Missing or not a directory means that runtime is not
				// installed; only a refusal is worth counting.
				if errors.Is(err, fs.ErrPermission) {
					c.skip(err)
				}
				continue
			}
			slices.Sort(names)
			for _, n := range names {
				if ok, _ := path.Match(comp, n); ok {
					next = append(next, path.Join(m, n))
				}
			}
		}
		matches = next
	}
	return matches, nil
}

// devSkip are the /dev directories whose content is memory, not nodes.
var devSkip = []string{"/dev/shm", "/dev/mqueue", "/dev/hugepages"}

// dev captures /dev's directories, symlinks, device nodes and FIFOs.
func (c *capturer) dev() error {
	top, err := c.resolve("/dev", true)
	if err != nil {
		c.skip(err)
		return nil
	}
	return c.walk(top, 0, 8, true, func(name string, fi fs.FileInfo) bool {
		m := fi.Mode()
		if m.IsDir() {
			return !slices.Contains(devSkip, name)
		}
		return m&(fs.ModeSymlink|fs.ModeDevice|fs.ModeNamedPipe) != 0
	})
}
