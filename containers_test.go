package hostscope_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hostscope/hostscope"
	"github.com/hostscope/hostscope/cgroup"
	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
	"github.com/hostscope/hostscope/proc"
)

const (
	dockerID  = "3f4e5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081"
	hiddenID  = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
	criID     = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	sandboxID = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
	podUID    = "6f2a9c1e-1b2c-4d3e-8f90-a1b2c3d4e5f6"
	hostCgNS  = 4026531835
)

// fakeProc is one process of a test host.
type fakeProc struct {
	pid, ppid int
	comm      string
	kthread   bool
	nspid     string // the NSpid line's values
	cgroup    string
	cgroupNS  uint64 // 0: no ns link (as in a sparse snapshot)
	mountinfo string
}

// statLine writes a /proc/PID/stat line: the fields the kernel writes, with
// PF_KTHREAD in flags for kernel threads.
func statLine(p fakeProc) string {
	flags := 0x400100
	if p.kthread {
		flags |= 0x00200000
	}
	f := []string{fmt.Sprint(p.pid), "(" + p.comm + ")", "S", fmt.Sprint(p.ppid), fmt.Sprint(p.pid), fmt.Sprint(p.pid), "0", "-1", fmt.Sprint(flags),
		"100", "0", "0", "0", "5", "3", "0", "0", "20", "0", "1", "0", "1000", "10485760", "250"}
	for len(f) < 52 {
		f = append(f, "0")
	}
	return strings.Join(f, " ") + "\n"
}

func (p fakeProc) add(h *hostroottest.Host) {
	dir := fmt.Sprintf("/proc/%d", p.pid)
	h.File(dir+"/stat", statLine(p))
	nspid := p.nspid
	if nspid == "" {
		nspid = fmt.Sprint(p.pid)
	}
	h.File(dir+"/status", fmt.Sprintf("Name:\t%s\nState:\tS (sleeping)\nPid:\t%d\nPPid:\t%d\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nThreads:\t1\nNSpid:\t%s\n", p.comm, p.pid, p.ppid, nspid))
	if !p.kthread {
		h.File(dir+"/cmdline", p.comm+"\x00")
		h.Symlink(dir+"/exe", "/usr/bin/"+p.comm)
	} else {
		h.File(dir+"/cmdline", "")
	}
	h.File(dir+"/cgroup", p.cgroup)
	if p.cgroupNS != 0 {
		h.Symlink(dir+"/ns/cgroup", fmt.Sprintf("cgroup:[%d]", p.cgroupNS))
	}
	if p.mountinfo != "" {
		h.File(dir+"/mountinfo", p.mountinfo)
	}
}

// fakeHost is a node running a docker container, a docker container behind
// a private cgroup namespace, and a Kubernetes pod on containerd.
func fakeHost() *hostroottest.Host {
	h := hostroottest.New().File("/proc/stat", "cpu  1 1 1 1\nbtime 1700000000\n")
	for _, p := range []fakeProc{
		{pid: 1, comm: "systemd", cgroup: "0::/init.scope\n", cgroupNS: hostCgNS},
		{pid: 2, comm: "kthreadd", kthread: true, cgroup: "0::/\n", cgroupNS: hostCgNS},
		{pid: 100, ppid: 1, comm: "nginx", nspid: "100\t1", cgroup: "0::/system.slice/docker-" + dockerID + ".scope\n", cgroupNS: hostCgNS},
		{pid: 101, ppid: 100, comm: "nginx", nspid: "101\t7", cgroup: "0::/system.slice/docker-" + dockerID + ".scope\n", cgroupNS: hostCgNS},
		{pid: 200, ppid: 1, comm: "redis", nspid: "200\t1", cgroup: "0::/\n", cgroupNS: 4026532999,
			mountinfo: "600 500 0:50 / / rw - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w\n" +
				"601 600 254:0 /var/lib/docker/containers/" + hiddenID + "/hostname /etc/hostname rw - ext4 /dev/vda rw\n"},
		{pid: 300, ppid: 1, comm: "sshd", cgroup: "0::/\n", cgroupNS: hostCgNS},
		{pid: 400, ppid: 1, comm: "app", nspid: "400\t1", cgroup: "0::/kubepods/burstable/pod" + podUID + "/" + criID + "\n", cgroupNS: hostCgNS},
		{pid: 401, ppid: 1, comm: "pause", nspid: "401\t1", cgroup: "0::/kubepods/burstable/pod" + podUID + "/" + sandboxID + "\n", cgroupNS: hostCgNS},
		// CRI-O's monitor, charged to the pod but in none of its containers.
		{pid: 500, ppid: 1, comm: "conmon", cgroup: "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" +
			strings.ReplaceAll(podUID, "-", "_") + ".slice/crio-conmon-" + criID + ".scope\n", cgroupNS: hostCgNS},
	} {
		p.add(h)
	}
	h.File("/var/lib/docker/containers/"+dockerID+"/config.v2.json",
		`{"ID":"`+dockerID+`","Name":"/web","Config":{"Image":"nginx:1.25","Labels":{"tier":"front"}},"State":{"Running":true,"Pid":100}}`)
	h.File("/var/lib/docker/containers/"+hiddenID+"/config.v2.json",
		`{"ID":"`+hiddenID+`","Name":"/cache","Config":{"Image":"redis:7"},"State":{"Running":true,"Pid":200}}`)
	bundle := "/run/containerd/io.containerd.runtime.v2.task/k8s.io/"
	h.File(bundle+criID+"/config.json", `{"ociVersion":"1.1.0","annotations":{
		"io.kubernetes.cri.container-type":"container","io.kubernetes.cri.container-name":"app",
		"io.kubernetes.cri.sandbox-name":"web-0","io.kubernetes.cri.sandbox-namespace":"prod",
		"io.kubernetes.cri.sandbox-uid":"`+podUID+`","io.kubernetes.cri.sandbox-id":"`+sandboxID+`",
		"io.kubernetes.cri.image-name":"registry.example/app:2"}}`)
	h.File(bundle+sandboxID+"/config.json", `{"ociVersion":"1.1.0","annotations":{
		"io.kubernetes.cri.container-type":"sandbox","io.kubernetes.cri.sandbox-name":"web-0",
		"io.kubernetes.cri.sandbox-namespace":"prod","io.kubernetes.cri.sandbox-uid":"`+podUID+`",
		"io.kubernetes.cri.sandbox-id":"`+sandboxID+`"}}`)
	return h
}

var (
	wantWeb = &cgroup.Container{ID: dockerID, Runtime: "docker", CgroupPath: "/system.slice/docker-" + dockerID + ".scope",
		Name: "web", Image: "nginx:1.25"}
	wantCache = &cgroup.Container{ID: hiddenID, Runtime: "docker", Name: "cache", Image: "redis:7"}
	wantApp   = &cgroup.Container{ID: criID, Runtime: "containerd", PodUID: podUID, QoS: "burstable",
		CgroupPath: "/kubepods/burstable/pod" + podUID + "/" + criID,
		Name:       "app", Image: "registry.example/app:2", PodName: "web-0", PodNamespace: "prod", SandboxID: sandboxID}
	wantPause = &cgroup.Container{ID: sandboxID, Runtime: "containerd", PodUID: podUID, QoS: "burstable", Sandbox: true,
		CgroupPath: "/kubepods/burstable/pod" + podUID + "/" + sandboxID,
		PodName:    "web-0", PodNamespace: "prod", SandboxID: sandboxID}
)

func TestScanAttributes(t *testing.T) {
	r := hostroottest.MustRoot(t, fakeHost())
	got := map[int]*cgroup.Container{}
	err := hostscope.Scan(context.Background(), r, nil, func(p *proc.Process) error {
		got[p.PID] = p.Container
		if err := p.Missing[proc.FieldContainer]; err != nil {
			t.Errorf("PID %d: Missing[FieldContainer] = %v", p.PID, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]*cgroup.Container{
		1: nil, 2: nil, 300: nil,
		100: wantWeb, 101: wantWeb,
		200: wantCache,
		400: wantApp, 401: wantPause,
		500: got[500], // checked below
	}
	if c := got[500]; c == nil || c.ID != "" || c.PodUID != podUID {
		t.Errorf("conmon: %+v, want the pod and no container", c)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("attribution (-want +got):\n%s", diff)
	}
}

func TestScanNoNames(t *testing.T) {
	p, err := collect(t, &hostscope.Options{NoNames: true})
	if err != nil {
		t.Fatal(err)
	}
	want := *wantWeb
	want.Name, want.Image = "", ""
	if diff := cmp.Diff(&want, p[100].Container); diff != "" {
		t.Errorf("NoNames (-want +got):\n%s", diff)
	}
}

// collect scans fakeHost and returns its processes by PID.
func collect(t *testing.T, opts *hostscope.Options) (map[int]*proc.Process, error) {
	t.Helper()
	out := map[int]*proc.Process{}
	root := hostroottest.MustRoot(t, fakeHost())
	err := hostscope.Scan(context.Background(), root, opts, func(p *proc.Process) error {
		out[p.PID] = p
		return nil
	})
	return out, err
}

func TestInventory(t *testing.T) {
	r := hostroottest.MustRoot(t, fakeHost())
	inv, err := hostscope.TakeInventory(context.Background(), r, nil)
	if err != nil {
		t.Fatal(err)
	}
	type ctr struct {
		ID, Runtime, Name string
		InitPID           int
		PIDs              []int
	}
	var got []ctr
	for _, c := range inv.Containers {
		got = append(got, ctr{c.ID, c.Runtime, c.Name, c.InitPID, c.PIDs})
	}
	want := []ctr{
		{criID, "containerd", "app", 400, []int{400}},
		{sandboxID, "containerd", "", 401, []int{401}},
		{dockerID, "docker", "web", 100, []int{100, 101}},
		{hiddenID, "docker", "cache", 200, []int{200}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("containers (-want +got):\n%s", diff)
	}
	var host []int
	for _, p := range inv.Host() {
		host = append(host, p.PID)
	}
	if diff := cmp.Diff([]int{1, 2, 300, 500}, host); diff != "" {
		t.Errorf("host processes (-want +got):\n%s", diff)
	}
}

// A container whose state file is hostile or broken keeps its identity and
// loses only its names; the scan never fails for it.
func TestScanBrokenStateFiles(t *testing.T) {
	for name, content := range map[string]string{
		"truncated":   `{"ID":"` + dockerID + `","Name":"/we`,
		"wrong types": `{"ID":"` + dockerID + `","Name":42,"Config":[]}`,
		"oversized":   `{"ID":"` + dockerID + `","Name":"/web","Pad":"` + strings.Repeat("x", 5<<20) + `"}`,
		"empty":       ``,
	} {
		t.Run(name, func(t *testing.T) {
			h := fakeHost().File("/var/lib/docker/containers/"+dockerID+"/config.v2.json", content)
			r := hostroottest.MustRoot(t, h)
			var got *cgroup.Container
			var why error
			err := hostscope.Scan(context.Background(), r, nil, func(p *proc.Process) error {
				if p.PID == 100 {
					got, why = p.Container, p.Missing[proc.FieldContainer]
				}
				return nil
			})
			if !errors.Is(why, hostroot.ErrMalformed) && !errors.Is(why, hostroot.ErrTooLarge) {
				t.Errorf("Missing[FieldContainer] = %v, want the state file's error", why)
			}
			if err != nil {
				t.Fatal(err)
			}
			want := *wantWeb
			want.Name, want.Image = "", ""
			if diff := cmp.Diff(&want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("container (-want +got):\n%s", diff)
			}
		})
	}
}
