package bench

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
)

// The in-memory hosts copy the shapes of real /proc files (a 6.x kernel's
// stat with 52 fields, a full status of about 55 lines, NUL-separated
// cmdlines, setproctitle-style rewritten ones with padding, cgroup v2 lines
// of Kubernetes and systemd services, and cgroup v1 hybrid files of 10
// lines), with PIDs, names, IDs and sizes varied per process. About one
// process in ten is a kernel thread (PF_KTHREAD in stat, no Vm lines, empty
// cmdline, no readable exe).

// program is one kind of user process of the fixture.
type program struct {
	comm, exe string
	args      []string
	padding   int // NULs setproctitle leaves after a rewritten argv
}

var programs = []program{
	{comm: "systemd", exe: "/usr/lib/systemd/systemd", args: []string{"/usr/lib/systemd/systemd", "--user"}},
	{comm: "containerd-shim", exe: "/usr/bin/containerd-shim-runc-v2", args: []string{"/usr/bin/containerd-shim-runc-v2", "-namespace", "k8s.io", "-id", "%[2]s", "-address", "/run/containerd/containerd.sock"}},
	{comm: "nginx", exe: "/usr/sbin/nginx", args: []string{"nginx: worker process"}, padding: 18},
	{comm: "postgres", exe: "/usr/lib/postgresql/16/bin/postgres", args: []string{"postgres: 16/main: checkpointer "}, padding: 40},
	{comm: "java", exe: "/usr/lib/jvm/java-21-openjdk-amd64/bin/java", args: []string{"/usr/bin/java", "-Xms512m", "-Xmx2g", "-XX:+UseG1GC", "-Dspring.profiles.active=prod", "-jar", "/opt/app/service-%[1]d.jar"}},
	{comm: "python3", exe: "/usr/bin/python3.12", args: []string{"/usr/bin/python3", "-m", "gunicorn", "app:server", "--workers", "4", "--bind", "0.0.0.0:8000"}},
	{comm: "node", exe: "/usr/local/bin/node", args: []string{"node", "/srv/app/dist/server.js"}},
	{comm: "bash", exe: "/usr/bin/bash", args: []string{"-bash"}},
	{comm: "sshd", exe: "/usr/sbin/sshd", args: []string{"sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups"}},
	{comm: "kubelet", exe: "/usr/bin/kubelet", args: []string{"/usr/bin/kubelet", "--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf", "--kubeconfig=/etc/kubernetes/kubelet.conf", "--config=/var/lib/kubelet/config.yaml", "--container-runtime-endpoint=unix:///run/containerd/containerd.sock"}},
	{comm: "envoy", exe: "/usr/local/bin/envoy", args: []string{"envoy", "-c", "/etc/envoy/envoy.yaml", "--service-cluster", "edge-%[1]d"}},
	{comm: "redis-server", exe: "/usr/bin/redis-server", args: []string{"/usr/bin/redis-server 127.0.0.1:6379"}},
	{comm: "sleep", exe: "/usr/bin/sleep", args: []string{"sleep", "3600"}},
	{comm: "gunicorn: work", exe: "/usr/bin/python3.12", args: []string{"gunicorn: worker [app:server]"}, padding: 7},
}

var kworkers = []string{"kworker/%d:1-events", "kworker/u8:%d-ext4-rsv-conversion", "ksoftirqd/%d", "migration/%d", "kworker/R-kblockd", "rcu_exp_par_gp_kthread_worker/%d", "irq/%d-pciehp"}

const fixtureBtime = 1732716000

// fixturePID spreads PIDs out the way a long-running host does.
func fixturePID(i int) int { return 1 + i + i/4 }

// memHosts caches the in-memory hosts by size, so each is built once per
// test binary, whatever -count says.
var memHosts struct {
	sync.Mutex
	roots map[int]*hostroot.Root
}

func memHost(tb testing.TB, n int) *hostroot.Root {
	tb.Helper()
	memHosts.Lock()
	defer memHosts.Unlock()
	if r := memHosts.roots[n]; r != nil {
		return r
	}
	h := hostroottest.New()
	h.File("/proc/stat", procStat())
	for i := 0; i < n; i++ {
		addProcess(h, i)
	}
	r := hostroottest.MustRoot(tb, h)
	if memHosts.roots == nil {
		memHosts.roots = map[int]*hostroot.Root{}
	}
	memHosts.roots[n] = r
	return r
}

// procStat is a two-CPU /proc/stat; only btime matters to the scan, the
// rest gives the file its real size.
func procStat() string {
	var b strings.Builder
	b.WriteString("cpu  1843532 2310 632270 289134911 40388 0 19846 0 0 0\n")
	b.WriteString("cpu0 915238 1137 316529 144552342 20104 0 13011 0 0 0\n")
	b.WriteString("cpu1 928294 1173 315741 144582569 20284 0 6835 0 0 0\n")
	b.WriteString("intr 205722873 0 9 0 0 0 0 0 0 0 0 0 0 156 0 0 0")
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&b, " %d", (i*7919)%1000)
	}
	fmt.Fprintf(&b, "\nctxt 389173528\nbtime %d\nprocesses 2836190\nprocs_running 2\nprocs_blocked 0\nsoftirq 88283164 0 22196045 3 9213471 0 0 381 30458393 0 26414871\n", fixtureBtime)
	return b.String()
}

// addProcess writes process i's stat, status, cmdline, cgroup and exe.
func addProcess(h *hostroottest.Host, i int) {
	pid := fixturePID(i)
	dir := fmt.Sprintf("/proc/%d/", pid)
	kthread := i == 1 || (i > 1 && i%10 == 1)
	var comm, state, cmdline, exe string
	var ppid, uid, threads int
	var flags uint32
	var vsizeKB, rssKB int
	switch {
	case i == 0:
		comm, state, ppid, flags, threads = "systemd", "S", 0, 0x400100, 1
		cmdline = "/sbin/init\x00splash\x00"
		exe = "/usr/lib/systemd/systemd"
		vsizeKB, rssKB = 22708, 13312
	case kthread:
		comm = "kthreadd"
		if i > 1 {
			comm = kworkers[i/10%len(kworkers)]
			if strings.Contains(comm, "%d") {
				comm = fmt.Sprintf(comm, i%64)
			}
		}
		state, ppid, flags, threads = "I", 2, 0x208040, 1
		if i == 1 {
			state, ppid = "S", 0
		}
	default:
		p := programs[i%len(programs)]
		comm, exe = p.comm, p.exe
		if i%97 == 0 {
			exe += " (deleted)"
		}
		id := containerID(i)
		args := make([]string, len(p.args))
		for j, a := range p.args {
			if strings.Contains(a, "%[") {
				a = fmt.Sprintf(a, i, id)
			}
			args[j] = a
		}
		cmdline = strings.Join(args, "\x00") + "\x00" + strings.Repeat("\x00", p.padding)
		state = "S"
		if i%13 == 0 {
			state = "R"
		}
		ppid = 1
		if i%3 != 0 {
			ppid = fixturePID(i - 1)
		}
		flags = 0x400000
		uid = []int{0, 0, 33, 999, 1000, 65534}[i%6]
		threads = 1 + i%17
		vsizeKB = 8000 + (i*7717)%2000000
		rssKB = 1000 + (i*131)%400000
	}

	utime, stime := (i*37)%100000, (i*11)%30000
	start := 5 + i*3
	h.File(dir+"stat", fmt.Sprintf("%d (%s) %s %d %d %d 0 -1 %d %d 0 %d 0 %d %d 0 0 20 0 %d 0 %d %d %d 18446744073709551615 94355135299584 94355136102953 140730318616304 0 0 0 0 4096 1260 0 0 0 17 %d 0 0 0 0 0 94355136384208 94355136436776 94355158544384 140730318624470 140730318624530 140730318624530 140730318626789 0\n",
		pid, comm, state, ppid, pid, pid, flags, 1000+i%5000, 10+i%50, utime, stime, threads, start, vsizeKB*1024, rssKB/4, i%2))
	h.File(dir+"status", statusFile(pid, ppid, comm, state, uid, threads, kthread, vsizeKB, rssKB))
	h.File(dir+"cmdline", cmdline)
	h.File(dir+"cgroup", cgroupFile(i, comm))
	if exe != "" {
		h.Symlink(dir+"exe", exe)
	}
}

func containerID(i int) string {
	return fmt.Sprintf("%016x%016x%016x%016x", uint64(i)*0x9e3779b97f4a7c15, uint64(i)^0xdeadbeefcafe, uint64(i)*31, uint64(i)+0x1234567)
}

func cgroupFile(i int, comm string) string {
	switch {
	case i%10 == 5:
		// cgroup v1 hybrid, as on hosts that still mount v1 controllers.
		svc := "/system.slice/" + comm + ".service"
		return "12:pids:" + svc + "\n11:memory:" + svc + "\n10:blkio:" + svc + "\n9:freezer:/\n8:devices:" + svc +
			"\n7:cpuset:/\n6:cpu,cpuacct:" + svc + "\n5:net_cls,net_prio:/\n4:hugetlb:/\n3:perf_event:/\n2:rdma:/\n1:name=systemd:" + svc + "\n0::" + svc + "\n"
	case i%3 == 0:
		id := containerID(i)
		pod := fmt.Sprintf("%08x_%04x_%04x_%04x_%012x", i*2654435761, i&0xffff, 0x4000|i&0xfff, 0x8000|i&0x3fff, i*40503)
		return "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + pod + ".slice/cri-containerd-" + id + ".scope\n"
	default:
		return "0::/system.slice/" + comm + ".service\n"
	}
}

func statusFile(pid, ppid int, comm, state string, uid, threads int, kthread bool, vsizeKB, rssKB int) string {
	var b strings.Builder
	stateName := map[string]string{"S": "sleeping", "R": "running", "I": "idle"}[state]
	kt := 0
	if kthread {
		kt = 1
	}
	fmt.Fprintf(&b, "Name:\t%s\nUmask:\t0022\nState:\t%s (%s)\nTgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n", comm, state, stateName, pid, pid, ppid)
	fmt.Fprintf(&b, "Uid:\t%d\t%d\t%d\t%d\nGid:\t%d\t%d\t%d\t%d\nFDSize:\t64\nGroups:\t%s\n", uid, uid, uid, uid, uid, uid, uid, uid, map[bool]string{true: " ", false: "4 24 27 30 46 100 118"}[uid == 0])
	fmt.Fprintf(&b, "NStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\nKthread:\t%d\n", pid, pid, pid, pid, kt)
	if !kthread {
		fmt.Fprintf(&b, "VmPeak:\t%8d kB\nVmSize:\t%8d kB\nVmLck:\t       0 kB\nVmPin:\t       0 kB\nVmHWM:\t%8d kB\nVmRSS:\t%8d kB\n", vsizeKB+512, vsizeKB, rssKB+64, rssKB)
		fmt.Fprintf(&b, "RssAnon:\t%8d kB\nRssFile:\t%8d kB\nRssShmem:\t       0 kB\nVmData:\t%8d kB\nVmStk:\t     132 kB\nVmExe:\t      20 kB\nVmLib:\t    1528 kB\nVmPTE:\t      44 kB\nVmSwap:\t       0 kB\nHugetlbPages:\t       0 kB\nCoreDumping:\t0\nTHP_enabled:\t1\n", rssKB/2, rssKB-rssKB/2, vsizeKB/3)
	}
	fmt.Fprintf(&b, "untag_mask:\t0xffffffffffffffff\nThreads:\t%d\nSigQ:\t0/96364\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\nSigBlk:\t0000000000000000\nSigIgn:\t0000000000001000\nSigCgt:\t0000000180004a02\n", threads)
	capEff := "000001ffffffffff"
	if uid != 0 {
		capEff = "0000000000000000"
	}
	fmt.Fprintf(&b, "CapInh:\t0000000000000000\nCapPrm:\t%s\nCapEff:\t%s\nCapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\nNoNewPrivs:\t0\nSeccomp:\t%d\nSeccomp_filters:\t%d\n", capEff, capEff, pid%2*2, pid%2)
	b.WriteString("Speculation_Store_Bypass:\tthread vulnerable\nSpeculationIndirectBranch:\tconditional enabled\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1\nMems_allowed:\t00000000,00000001\nMems_allowed_list:\t0\n")
	fmt.Fprintf(&b, "voluntary_ctxt_switches:\t%d\nnonvoluntary_ctxt_switches:\t%d\n", pid*13%100000, pid%977)
	return b.String()
}
