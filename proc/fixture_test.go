package proc

import (
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
	"github.com/spf13/afero"
)

// fixtureBoot is the btime of the in-memory hosts.
var fixtureBoot = time.Unix(1700000000, 0)

// fakeProc describes one process of an in-memory host. Zero-valued link
// fields create no link; files lists the per-process files to write (all of
// them when nil).
type fakeProc struct {
	pid, ppid, pgid, sid int
	comm, state          string
	flags                uint32
	ttyNr                uint32
	utime, stime, start  uint64 // clock ticks
	threads              int
	vsize, rssPages      uint64
	uid, gid             uint32
	groups               string
	nspid                string
	vmRSSkB              uint64 // 0: no Vm lines (kernel thread, zombie)
	capEff               string
	seccomp              int
	cmdline              string
	exe, cwd             string
	cgroup               string
	ns                   map[string]uint64
	fds                  map[int]string // link text by descriptor number
	files                []string
}

func (p fakeProc) has(file string) bool {
	if p.files == nil {
		return true
	}
	for _, f := range p.files {
		if f == file {
			return true
		}
	}
	return false
}

// add writes p's files into h the way the kernel lays them out.
func (p fakeProc) add(h *hostroottest.Host) {
	dir := fmt.Sprintf("/proc/%d", p.pid)
	h.Dir(dir)
	if p.has("stat") {
		h.File(dir+"/stat", fmt.Sprintf("%d (%s) %s %d %d %d %d -1 %d 10 0 0 0 %d %d 0 0 20 0 %d 0 %d %d %d 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n",
			p.pid, p.comm, p.state, p.ppid, p.pgid, p.sid, p.ttyNr, p.flags, p.utime, p.stime, p.threads, p.start, p.vsize, p.rssPages))
	}
	if p.has("status") {
		var b strings.Builder
		fmt.Fprintf(&b, "Name:\t%s\nUmask:\t0022\nState:\t%s (x)\nTgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n", p.comm, p.state, p.pid, p.pid, p.ppid)
		fmt.Fprintf(&b, "Uid:\t%d\t%d\t%d\t%d\nGid:\t%d\t%d\t%d\t%d\nFDSize:\t64\nGroups:\t%s\n", p.uid, p.uid, p.uid, p.uid, p.gid, p.gid, p.gid, p.gid, p.groups)
		nspid := p.nspid
		if nspid == "" {
			nspid = fmt.Sprint(p.pid)
		}
		fmt.Fprintf(&b, "NStgid:\t%s\nNSpid:\t%s\n", nspid, nspid)
		fmt.Fprintf(&b, "Kthread:\t%d\n", p.flags&pfKthread>>21)
		if p.vmRSSkB != 0 {
			fmt.Fprintf(&b, "VmPeak:\t%8d kB\nVmSize:\t%8d kB\nVmRSS:\t%8d kB\n", p.vsize>>10, p.vsize>>10, p.vmRSSkB)
		}
		capEff := p.capEff
		if capEff == "" {
			capEff = "000001ffffffffff"
		}
		fmt.Fprintf(&b, "Threads:\t%d\nCapInh:\t0000000000000000\nCapPrm:\t%s\nCapEff:\t%s\nCapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\nNoNewPrivs:\t0\nSeccomp:\t%d\nSeccomp_filters:\t0\n", p.threads, capEff, capEff, p.seccomp)
		h.File(dir+"/status", b.String())
	}
	if p.has("cmdline") {
		h.File(dir+"/cmdline", p.cmdline)
	}
	if p.has("cgroup") {
		h.File(dir+"/cgroup", p.cgroup)
	}
	if p.exe != "" && p.has("exe") {
		h.Symlink(dir+"/exe", p.exe)
	}
	if p.cwd != "" && p.has("cwd") {
		h.Symlink(dir+"/cwd", p.cwd)
	}
	for typ, ino := range p.ns {
		kind := strings.TrimSuffix(typ, "_for_children")
		h.Symlink(dir+"/ns/"+typ, fmt.Sprintf("%s:[%d]", kind, ino))
	}
	if p.has("fd") && p.state != "Z" {
		h.Dir(dir + "/fd")
		for n, link := range p.fds {
			h.Symlink(fmt.Sprintf("%s/fd/%d", dir, n), link)
		}
	}
}

// hostNS is the namespace set of the fixture host's own processes.
var hostNS = map[string]uint64{
	"cgroup": 4026531835, "ipc": 4026531839, "mnt": 4026531841, "net": 4026531840, "pid": 4026531836,
	"pid_for_children": 4026531836, "time": 4026531834, "time_for_children": 4026531834,
	"user": 4026531837, "uts": 4026531838,
}

var hostNamespaces = Namespaces{Cgroup: 4026531835, IPC: 4026531839, Mnt: 4026531841, Net: 4026531840, PID: 4026531836,
	PIDForChildren: 4026531836, Time: 4026531834, TimeForChildren: 4026531834, User: 4026531837, UTS: 4026531838}

// newHost returns an in-memory host with a /proc/stat and the directories a
// real /proc has besides processes, which a scan must ignore.
func newHost() *hostroottest.Host {
	h := hostroottest.New()
	h.File("/proc/stat", "cpu  1 2 3 4\ncpu0 1 2 3 4\nbtime 1700000000\nprocesses 9\n")
	h.Dir("/proc/sys/kernel")
	h.Dir("/proc/0123") // not a name the kernel gives a PID
	h.Symlink("/proc/self", "4242")
	h.File("/proc/uptime", "1.0 1.0\n")
	return h
}

// fileHook is an afero.Fs over a Host that can deny access to some files and
// run a hook before opening others, to stand in for what a live /proc does:
// EACCES on other users' links, processes exiting mid-read.
type fileHook struct {
	*hostroottest.Host
	mu     sync.Mutex
	deny   map[string]bool
	before map[string]func()
	// lookup holds hooks run before a name is looked up at all (the
	// resolver's Lstat), for files that do not exist.
	lookup map[string]func()
}

func (f *fileHook) LstatIfPossible(name string) (os.FileInfo, bool, error) {
	f.mu.Lock()
	hook := f.lookup[name]
	f.mu.Unlock()
	if hook != nil {
		hook()
	}
	return f.Host.LstatIfPossible(name)
}

func (f *fileHook) check(op, name string) error {
	f.mu.Lock()
	denied, hook := f.deny[name], f.before[name]
	f.mu.Unlock()
	if denied {
		return &fs.PathError{Op: op, Path: name, Err: syscall.EACCES}
	}
	if hook != nil {
		hook()
	}
	return nil
}

func (f *fileHook) Open(name string) (afero.File, error) {
	if err := f.check("open", name); err != nil {
		return nil, err
	}
	return f.Host.Open(name)
}

func (f *fileHook) ReadlinkIfPossible(name string) (string, error) {
	if err := f.check("readlink", name); err != nil {
		return "", err
	}
	return f.Host.ReadlinkIfPossible(name)
}

func hookedRoot(tb testing.TB, h *hostroottest.Host, deny []string, before map[string]func()) *hostroot.Root {
	tb.Helper()
	return hostroot.FromAfero(newFileHook(tb, h, deny, before))
}

func newFileHook(tb testing.TB, h *hostroottest.Host, deny []string, before map[string]func()) *fileHook {
	tb.Helper()
	if err := h.Err(); err != nil {
		tb.Fatal(err)
	}
	f := &fileHook{Host: h, deny: map[string]bool{}, before: before}
	for _, d := range deny {
		f.deny[d] = true
	}
	return f
}
