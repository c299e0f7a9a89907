package runtimestate

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
	"github.com/spf13/afero"
)

// IDs of fixture-only containers.
const (
	idSnap      = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"
	idV1        = "1111111111111111111111111111111111111111111111111111111111111111"
	idK3s       = "3333333333333333333333333333333333333333333333333333333333333333"
	idAlice     = "a11ce0a11ce0a11ce0a11ce0a11ce0a11ce0a11ce0a11ce0a11ce0a11ce0a11c"
	idBob       = "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0"
	idTrunc     = "7001700170017001700170017001700170017001700170017001700170017001"
	idWrongType = "7002700270027002700270027002700270027002700270027002700270027002"
	idBig       = "7003700370037003700370037003700370037003700370037003700370037003"
	idFIFO      = "7004700470047004700470047004700470047004700470047004700470047004"
	idLink      = "7005700570057005700570057005700570057005700570057005700570057005"
	idEscape    = "7006700670067006700670067006700670067006700670067006700670067006"
	idNoFile    = "7007700770077007700770077007700770077007700770077007700770077007"
	idBothBad   = "7008700870087008700870087008700870087008700870087008700870087008"
	idAbsent    = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
	idLone      = "10e010e010e010e010e010e010e010e010e010e010e010e010e010e010e010e0"
)

// joinJSONArrays concatenates JSON arrays: CRI-O and podman share one
// containers.json when both run on a host.
func joinJSONArrays(tb testing.TB, arrays ...string) string {
	tb.Helper()
	var all []json.RawMessage
	for _, a := range arrays {
		var part []json.RawMessage
		if err := json.Unmarshal([]byte(a), &part); err != nil {
			tb.Fatal(err)
		}
		all = append(all, part...)
	}
	b, err := json.Marshal(all)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// fixtureHost is a host running every runtime at once, with broken files
// beside the good ones.
func fixtureHost(tb testing.TB) *hostroot.Root {
	tb.Helper()
	return hostroottest.MustRoot(tb, fixtureFS(tb))
}

// fixtureFS is the in-memory host every runtime's state is on.
func fixtureFS(tb testing.TB) *hostroottest.Host {
	tb.Helper()
	h := hostroottest.New()
	capFile := func(name string) { h.File(name, string(capture(tb, name))) }

	// docker: captures, a dockershim pod, a snap install's data root.
	for _, id := range []string{capDockerRunning, capDockerCreated, capDockerExited} {
		capFile(capDockerDir + id + "/config.v2.json")
	}
	capFile(capMobyDir + capDockerRunning + "/config.json")
	h.File(capDockerDir+shimSandboxID+"/config.v2.json", shimSandboxConfig)
	h.File(capDockerDir+shimCtrID+"/config.v2.json", shimCtrConfig)
	h.File("/var/snap/docker/common/var-lib-docker/containers/"+idSnap+"/config.v2.json",
		`{"ID":"`+idSnap+`","Name":"/snappy","Config":{"Image":"alpine:3.19"},"State":{"Running":true,"Pid":99,"StartedAt":"2024-05-01T00:00:00Z"}}`)

	// containerd: a CRI pod in k8s.io, a v1 task, a k3s task.
	task := "/run/containerd/io.containerd.runtime.v2.task/k8s.io/"
	h.File(task+criSandboxIDv+"/config.json", criSandboxSpec)
	h.File(task+criCtrID+"/config.json", criCtrSpec)
	h.File(task+criCtrID+"/init.pid", "4242")
	h.File("/run/containerd/io.containerd.runtime.v1.linux/default/"+idV1+"/config.json", `{"ociVersion":"1.0.1","hostname":"old"}`)
	h.File("/run/k3s/containerd/io.containerd.runtime.v2.task/k8s.io/"+idK3s+"/config.json",
		`{"annotations":{"io.kubernetes.cri.container-name":"coredns","io.kubernetes.cri.container-type":"container","io.kubernetes.cri.sandbox-name":"coredns-6799fbcd5-x2x4p","io.kubernetes.cri.sandbox-namespace":"kube-system","io.kubernetes.cri.image-name":"docker.io/rancher/mirrored-coredns-coredns:1.10.1"}}`)

	// podman (graph root) and CRI-O (run root) sharing containers/storage.
	for _, id := range []string{capPodmanPlain, capPodmanInfra, capPodmanInPod, capKubeInfra, capKubeWorker} {
		capFile(capStorageDir + id + "/userdata/config.json")
	}
	h.File(capStorageDir+"containers.json", joinJSONArrays(tb, string(capture(tb, capStorageDir+"containers.json")), crioContainersJSON))
	h.File(capStorageDir+"containers.lock", "")
	run := "/run/containers/storage/overlay-containers/"
	h.File(run+capPodmanPlain+"/userdata/pidfile", "12345")
	h.File(run+crioSandboxIDv+"/userdata/config.json", crioSandboxSpec)
	h.File(run+crioCtrID+"/userdata/config.json", crioCtrSpec)

	// rootless podman: alice (overlay), bob (vfs), and /run/user entries.
	alice := "/home/alice/.local/share/containers/storage/overlay-containers/"
	h.File(alice+idAlice+"/userdata/config.json",
		`{"hostname":"`+idAlice[:12]+`","annotations":{"io.container.manager":"libpod"},"linux":{"cgroupsPath":"user.slice:libpod:`+idAlice+`"}}`)
	h.File(alice+"containers.json", `[{"id":"`+idAlice+`","names":["alice-web"],"image":"abc","metadata":"{\"image-name\":\"docker.io/library/nginx:latest\",\"image-id\":\"abc\",\"name\":\"alice-web\"}"}]`)
	h.File("/run/user/1000/containers/overlay-containers/"+idAlice+"/userdata/pidfile", "777")
	h.File("/home/bob/.local/share/containers/storage/vfs-containers/"+idBob+"/userdata/config.json",
		`{"annotations":{"io.container.manager":"libpod"}}`)
	// mallory's rootless storage claims rootful IDs: a podman container's,
	// and that of a rootful spec whose containers.json entry is missing.
	h.File(capStorageDir+idLone+"/userdata/config.json", `{"hostname":"lone","annotations":{"io.container.manager":"libpod"}}`)
	mallory := "/home/mallory/.local/share/containers/storage/overlay-containers/"
	h.File(mallory+capPodmanPlain+"/userdata/config.json", `{"hostname":"evil","annotations":{"io.container.manager":"libpod","io.kubernetes.cri-o.SandboxID":"`+capPodmanInfra+`"}}`)
	h.File(mallory+"containers.json", `[{"id":"`+capPodmanPlain+`","names":["evil"],"metadata":"{\"image-name\":\"evil:latest\"}"},
		{"id":"`+idLone+`","names":["evil"],"metadata":"{\"image-name\":\"evil:latest\"}"}]`)
	h.Dir("/run/user/0")
	h.Dir("/run/user/not-a-uid")
	h.Dir("/home/carol")

	// Broken state.
	h.File(capDockerDir+idTrunc+"/config.v2.json", `{"ID":"`+idTrunc+`","Name":"/tru`)
	h.File(task+idWrongType+"/config.json", `{"annotations":{"io.kubernetes.cri.container-name":["a"]}}`)
	h.File(capDockerDir+idBig+"/config.v2.json", `{"ID":"`+idBig+`","Name":"/big","Config":{"Labels":{"pad":"`+strings.Repeat("x", DefaultMaxFileSize)+`"}}}`)
	h.FIFO(capDockerDir + idFIFO + "/config.v2.json")
	h.File("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n")
	h.Symlink(capDockerDir+idLink+"/config.v2.json", "/etc/passwd")
	h.Symlink(capDockerDir+idEscape+"/config.v2.json", "../../../../../../../../etc/passwd")
	h.Dir(capDockerDir + idNoFile + "/checkpoints")
	h.File(capDockerDir+idBothBad+"/config.v2.json", "[]")
	h.File(task+idBothBad+"/config.json", "{")
	return h
}

func TestLookup(t *testing.T) {
	r := fixtureHost(t)
	task := "/run/containerd/io.containerd.runtime.v2.task/k8s.io/"
	withNS := func(info *Info, ns string) *Info { info.TaskNamespace = ns; return info }
	must := func(info *Info, err error) *Info {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return info
	}

	tests := []struct {
		name    string
		runtime string
		id      string
		opts    *Options
		want    *Info
		err     error
	}{
		{
			name: "docker", runtime: "docker", id: capDockerRunning,
			want: must(parseDockerConfig(capDockerDir+capDockerRunning+"/config.v2.json",
				capture(t, capDockerDir+capDockerRunning+"/config.v2.json"), capDockerRunning)),
		},
		{
			name: "docker found whatever the runtime hint", runtime: "cri-o", id: capDockerRunning,
			want: must(parseDockerConfig(capDockerDir+capDockerRunning+"/config.v2.json",
				capture(t, capDockerDir+capDockerRunning+"/config.v2.json"), capDockerRunning)),
		},
		{
			name: "dockershim container from a /kubepods cgroup (runtime unknown)", runtime: "", id: shimCtrID,
			want: must(parseDockerConfig(capDockerDir+shimCtrID+"/config.v2.json", []byte(shimCtrConfig), shimCtrID)),
		},
		{
			name: "docker snap data root", runtime: "docker", id: idSnap,
			want: &Info{Runtime: "docker", ID: idSnap, Name: "snappy", RuntimeName: "snappy", Image: "alpine:3.19",
				State: "running", PID: 99, Source: "/var/snap/docker/common/var-lib-docker/containers/" + idSnap + "/config.v2.json"},
		},
		{
			name: "docker's task bundle when config.v2.json is elsewhere", runtime: "docker", id: capDockerRunning,
			opts: &Options{DockerRoots: []string{"/srv/docker"}},
			want: &Info{Runtime: "docker", ID: capDockerRunning, Hostname: "62e0b2f51bd8", TaskNamespace: "moby",
				Source: capMobyDir + capDockerRunning + "/config.json"},
		},
		{
			name: "containerd CRI container", runtime: "containerd", id: criCtrID,
			want: withNS(must(parseOCIConfig(task+criCtrID+"/config.json", []byte(criCtrSpec), criCtrID, "containerd")), "k8s.io"),
		},
		{
			name: "containerd CRI sandbox, hinted as docker", runtime: "docker", id: criSandboxIDv,
			want: withNS(must(parseOCIConfig(task+criSandboxIDv+"/config.json", []byte(criSandboxSpec), criSandboxIDv, "containerd")), "k8s.io"),
		},
		{
			name: "containerd v1 task", runtime: "containerd", id: idV1,
			want: &Info{Runtime: "containerd", ID: idV1, Hostname: "old", TaskNamespace: "default",
				Source: "/run/containerd/io.containerd.runtime.v1.linux/default/" + idV1 + "/config.json"},
		},
		{
			name: "k3s's containerd", runtime: "containerd", id: idK3s,
			want: &Info{Runtime: "containerd", ID: idK3s, Name: "coredns", Image: "docker.io/rancher/mirrored-coredns-coredns:1.10.1",
				PodName: "coredns-6799fbcd5-x2x4p", PodNamespace: "kube-system", TaskNamespace: "k8s.io",
				Annotations: map[string]string{"io.kubernetes.cri.container-name": "coredns", "io.kubernetes.cri.container-type": "container",
					"io.kubernetes.cri.sandbox-name": "coredns-6799fbcd5-x2x4p", "io.kubernetes.cri.sandbox-namespace": "kube-system",
					"io.kubernetes.cri.image-name": "docker.io/rancher/mirrored-coredns-coredns:1.10.1"},
				Source: "/run/k3s/containerd/io.containerd.runtime.v2.task/k8s.io/" + idK3s + "/config.json"},
		},
		{
			name: "CRI-O container: spec in the run root, joined with its containers.json entry", runtime: "cri-o", id: crioCtrID,
			want: func() *Info {
				info := must(parseOCIConfig("/run/containers/storage/overlay-containers/"+crioCtrID+"/userdata/config.json",
					[]byte(crioCtrSpec), crioCtrID, "podman"))
				return info // every field the entry has, the spec had already
			}(),
		},
		{
			name: "CRI-O sandbox, image ID from containers.json", runtime: "cri-o", id: crioSandboxIDv,
			want: func() *Info {
				info := must(parseOCIConfig("/run/containers/storage/overlay-containers/"+crioSandboxIDv+"/userdata/config.json",
					[]byte(crioSandboxSpec), crioSandboxIDv, "podman"))
				info.ImageID = "e6f1816883972d4be47bd48879a08919b96afcd344132622e4d444987919323c"
				return info
			}(),
		},
		{
			name: "podman container: names and image from containers.json", runtime: "podman", id: capPodmanPlain,
			want: &Info{Runtime: "podman", ID: capPodmanPlain, Name: "rs-podprobe", RuntimeName: "rs-podprobe",
				Image: "localhost/hostscope-rs-busybox:test", ImageID: capBusyboxPodman, Hostname: "6d3a2fec4f9f",
				Annotations: podmanAnnotations("2026-11-27T15:13:12.692334623Z", map[string]string{"io.kubernetes.cri-o.TTY": "false"}),
				Source:      capStorageDir + capPodmanPlain + "/userdata/config.json"},
		},
		{
			name: "podman container in a pod: pod named by the infra's hostname", runtime: "podman", id: capPodmanInPod,
			want: &Info{Runtime: "podman", ID: capPodmanInPod, Name: "rs-inpod", RuntimeName: "rs-inpod",
				Image: "localhost/hostscope-rs-busybox:test", ImageID: capBusyboxPodman,
				PodName: "rs-pod", PodID: capPodIDRsPod, SandboxID: capPodmanInfra,
				Annotations: podmanAnnotations("2026-11-27T15:13:19.599980497Z", map[string]string{"io.kubernetes.cri-o.TTY": "false",
					"io.kubernetes.cri-o.ContainerType": "container", "io.kubernetes.cri-o.SandboxID": capPodmanInfra}),
				Source: capStorageDir + capPodmanInPod + "/userdata/config.json"},
		},
		{
			name: "podman infra container", runtime: "podman", id: capPodmanInfra,
			want: &Info{Runtime: "podman", ID: capPodmanInfra, Name: "36c80cbe33d5-infra", RuntimeName: "36c80cbe33d5-infra",
				Image: "localhost/podman-pause:4.3.1-0", ImageID: capPausePodman,
				PodName: "rs-pod", PodID: capPodIDRsPod, SandboxID: capPodmanInfra, Sandbox: true, Hostname: "rs-pod",
				Annotations: podmanAnnotations("2026-11-27T15:13:19.457836508Z", map[string]string{"io.kubernetes.cri-o.TTY": "false",
					"org.opencontainers.image.base.digest": "", "org.opencontainers.image.base.name": ""}),
				Source: capStorageDir + capPodmanInfra + "/userdata/config.json"},
		},
		{
			name: "podman kube play container", runtime: "podman", id: capKubeWorker,
			want: &Info{Runtime: "podman", ID: capKubeWorker, Name: "rs-kube-worker", RuntimeName: "rs-kube-worker",
				Image: "localhost/hostscope-rs-busybox:test", ImageID: capBusyboxPodman,
				PodName: "rs-kube", PodID: capPodIDRsKube, SandboxID: capKubeInfra,
				Annotations: podmanAnnotations("2026-11-27T15:14:04.743475287Z", map[string]string{"example.com/note": "hello",
					"io.kubernetes.cri-o.ContainerType": "container", "io.kubernetes.cri-o.SandboxID": capKubeInfra}),
				Source: capStorageDir + capKubeWorker + "/userdata/config.json"},
		},
		{
			name: "rootless podman", runtime: "podman", id: idAlice,
			want: &Info{Runtime: "podman", ID: idAlice, Name: "alice-web", RuntimeName: "alice-web",
				Image: "docker.io/library/nginx:latest", ImageID: "abc", Hostname: idAlice[:12],
				Annotations: map[string]string{"io.container.manager": "libpod"}, Rootless: true,
				Source: "/home/alice/.local/share/containers/storage/overlay-containers/" + idAlice + "/userdata/config.json"},
		},
		{
			name: "rootless podman, vfs driver, no containers.json", runtime: "", id: idBob,
			want: &Info{Runtime: "podman", ID: idBob, Annotations: map[string]string{"io.container.manager": "libpod"}, Rootless: true,
				Source: "/home/bob/.local/share/containers/storage/vfs-containers/" + idBob + "/userdata/config.json"},
		},
		{
			name: "a user's containers.json never names a rootful container", runtime: "podman", id: idLone,
			want: &Info{Runtime: "podman", ID: idLone, Hostname: "lone", Annotations: map[string]string{"io.container.manager": "libpod"},
				Source: capStorageDir + idLone + "/userdata/config.json"},
		},
		{name: "rootless storage skipped on request", runtime: "podman", id: idAlice, opts: &Options{NoRootless: true}, err: ErrNotFound},
		{name: "absent", runtime: "docker", id: idAbsent, err: ErrNotFound},
		{name: "container directory without its file", runtime: "docker", id: idNoFile, err: ErrNotFound},
		{name: "truncated config.v2.json", runtime: "docker", id: idTrunc, err: hostroot.ErrMalformed},
		{name: "wrong-typed annotation", runtime: "containerd", id: idWrongType, err: hostroot.ErrMalformed},
		{name: "oversized config.v2.json", runtime: "docker", id: idBig, err: hostroot.ErrTooLarge},
		{name: "oversized for a smaller limit", runtime: "docker", id: capDockerRunning, opts: &Options{MaxFileSize: 1024}, err: hostroot.ErrTooLarge},
		{name: "a FIFO is never opened", runtime: "docker", id: idFIFO, err: hostroot.ErrNotRegular},
		{name: "symlink to another file of the root", runtime: "docker", id: idLink, err: hostroot.ErrMalformed},
		{name: "symlink climbing out stays in the root", runtime: "docker", id: idEscape, err: hostroot.ErrMalformed},
		{name: "the first bad file is reported", runtime: "docker", id: idBothBad, err: hostroot.ErrMalformed},
		{name: "empty ID", id: "", err: fs.ErrInvalid},
		{name: "ID with a slash", id: "../../etc", err: fs.ErrInvalid},
		{name: "ID dot-dot", id: "..", err: fs.ErrInvalid},
		{name: "ID with a NUL", id: "ab\x00cd", err: fs.ErrInvalid},
	}
	// One Reader answers every default-options case, in turn, as Lookup
	// does: what it remembers from one lookup never changes another's.
	shared := NewReader(r, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Lookup(r, tt.runtime, tt.id, tt.opts)
			if diff := cmp.Diff(tt.err, err, cmpopts.EquateErrors()); diff != "" {
				t.Fatalf("Lookup() error %v, want %v", err, tt.err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Lookup() mismatch (-want +got):\n%s", diff)
			}
			rd := shared
			if tt.opts != nil {
				rd = NewReader(r, tt.opts)
			}
			got, err = rd.Lookup(tt.runtime, tt.id)
			if diff := cmp.Diff(tt.err, err, cmpopts.EquateErrors()); diff != "" {
				t.Fatalf("Reader.Lookup() error %v, want %v", err, tt.err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Reader.Lookup() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// countingFS counts the opens of containers.json files.
type countingFS struct {
	*hostroottest.Host
	opens int
}

func (c *countingFS) Open(name string) (afero.File, error) {
	if strings.HasSuffix(name, "/containers.json") {
		c.opens++
	}
	return c.Host.Open(name)
}

// TestReaderReadsListingsOnce: naming every podman container of a scan
// reads each containers.json once with a Reader, once per lookup without.
func TestReaderReadsListingsOnce(t *testing.T) {
	fsys := &countingFS{Host: fixtureFS(t)}
	r := hostroot.FromAfero(fsys)
	infos, _ := List(context.Background(), r, nil)
	var podman []string
	for _, i := range infos {
		if i.Runtime == "podman" && !i.Rootless {
			podman = append(podman, i.ID)
		}
	}
	if len(podman) < 2 {
		t.Fatalf("fixture has %d rootful podman containers, want several", len(podman))
	}
	fsys.opens = 0
	rd := NewReader(r, &Options{NoRootless: true})
	for _, id := range podman {
		if _, err := rd.Lookup("podman", id); err != nil {
			t.Fatal(err)
		}
	}
	withReader := fsys.opens
	fsys.opens = 0
	for _, id := range podman {
		if _, err := Lookup(r, "podman", id, &Options{NoRootless: true}); err != nil {
			t.Fatal(err)
		}
	}
	if withReader == 0 || withReader >= fsys.opens || fsys.opens < len(podman) {
		t.Errorf("containers.json opened %d times with a Reader, %d without, for %d containers", withReader, fsys.opens, len(podman))
	}
}

// TestLookupErrorNamesFile checks a bad file's error names it, host-absolute.
func TestLookupErrorNamesFile(t *testing.T) {
	r := fixtureHost(t)
	_, err := Lookup(r, "docker", idTrunc, nil)
	if want := capDockerDir + idTrunc + "/config.v2.json"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Lookup() error %v, want it to name %s", err, want)
	}
}

// row is the part of an Info TestList checks for every container; the
// joins themselves are checked whole by TestLookup.
type row struct {
	Runtime, ID, Name, Image, PodName, SandboxID string
	Sandbox                                      bool
	State, TaskNamespace                         string
}

var byRuntimeID = cmpopts.SortSlices(func(a, b row) bool { return a.Runtime+a.ID < b.Runtime+b.ID })

func rows(infos []Info) []row {
	out := make([]row, 0, len(infos))
	for _, i := range infos {
		out = append(out, row{i.Runtime, i.ID, i.Name, i.Image, i.PodName, i.SandboxID, i.Sandbox, i.State, i.TaskNamespace})
	}
	return out
}

func TestList(t *testing.T) {
	r := fixtureHost(t)
	got, err := List(context.Background(), r, nil)
	busybox, pause := "localhost/hostscope-rs-busybox:test", "localhost/podman-pause:4.3.1-0"
	want := []row{
		{"containerd", criCtrID, "nginx", "docker.io/library/nginx:1.25", "web-0", criSandboxIDv, false, "", "k8s.io"},
		{"containerd", idV1, "", "", "", "", false, "", "default"},
		{"containerd", idK3s, "coredns", "docker.io/rancher/mirrored-coredns-coredns:1.10.1", "coredns-6799fbcd5-x2x4p", "", false, "", "k8s.io"},
		{"containerd", criSandboxIDv, "", "", "web-0", criSandboxIDv, true, "", "k8s.io"},
		{"cri-o", crioSandboxIDv, "POD", "registry.k8s.io/pause:3.9", "segfaulter", crioSandboxIDv, true, "", ""},
		{"cri-o", crioCtrID, "crash", "docker.io/library/busybox:1.36", "segfaulter", crioSandboxIDv, false, "", ""},
		{"docker", shimSandboxID, "POD", "k8s.gcr.io/pause:3.6", "web-0", shimSandboxID, true, "running", ""},
		{"docker", idSnap, "snappy", "alpine:3.19", "", "", false, "running", ""},
		{"docker", capDockerRunning, "rs-probe", "hostscope-rs-busybox:test", "", "", false, "running", ""},
		{"docker", shimCtrID, "nginx", "nginx@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31", "web-0", shimSandboxID, false, "running", ""},
		{"docker", capDockerExited, "rs-exited2", "hostscope-rs-busybox:test", "", "", false, "exited", ""},
		{"docker", capDockerCreated, "rs-exited", "hostscope-rs-busybox:test", "", "", false, "created", ""},
		{"podman", capKubeInfra, "a421446ce192-infra", pause, "rs-kube", capKubeInfra, true, "", ""},
		{"podman", capPodmanPlain, "rs-podprobe", busybox, "", "", false, "", ""},
		{"podman", capKubeWorker, "rs-kube-worker", busybox, "rs-kube", capKubeInfra, false, "", ""},
		{"podman", idAlice, "alice-web", "docker.io/library/nginx:latest", "", "", false, "", ""},
		{"podman", capPodmanInfra, "36c80cbe33d5-infra", pause, "rs-pod", capPodmanInfra, true, "", ""},
		{"podman", capPodmanInPod, "rs-inpod", busybox, "rs-pod", capPodmanInfra, false, "", ""},
		{"podman", idBob, "", "", "", "", false, "", ""},
		{"podman", idLone, "", "", "", "", false, "", ""},
	}
	if diff := cmp.Diff(want, rows(got), byRuntimeID); diff != "" {
		t.Errorf("List() mismatch (-want +got):\n%s", diff)
	}
	// One error per bad file, each naming it.
	var msgs []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		msgs = append(msgs, e.Error())
	}
	wantBad := []string{
		capDockerDir + idBig + "/config.v2.json", capDockerDir + idBothBad + "/config.v2.json",
		capDockerDir + idFIFO + "/config.v2.json", capDockerDir + idLink + "/config.v2.json",
		capDockerDir + idEscape + "/config.v2.json", capDockerDir + idTrunc + "/config.v2.json",
		"/run/containerd/io.containerd.runtime.v2.task/k8s.io/" + idBothBad + "/config.json",
		"/run/containerd/io.containerd.runtime.v2.task/k8s.io/" + idWrongType + "/config.json",
	}
	if len(msgs) != len(wantBad) {
		t.Errorf("List() errors:\n%s\nwant one for each of:\n%s", strings.Join(msgs, "\n"), strings.Join(wantBad, "\n"))
	}
	for _, name := range wantBad {
		found := false
		for _, m := range msgs {
			found = found || strings.Contains(m, name+":") || strings.Contains(m, name+" ")
		}
		if !found {
			t.Errorf("List() errors do not name %s:\n%s", name, strings.Join(msgs, "\n"))
		}
	}
	if !errors.Is(err, hostroot.ErrMalformed) || !errors.Is(err, hostroot.ErrTooLarge) || !errors.Is(err, hostroot.ErrNotRegular) {
		t.Errorf("List() error %v does not wrap the sentinels", err)
	}
}

// TestListCapture lists the real captures read from disk through an
// OS-backed Root, checking the joins of all, and that Lookup agrees with
// List on every field of the pods' containers.
func TestListCapture(t *testing.T) {
	dir, err := filepath.Abs("testdata/capture")
	if err != nil {
		t.Fatal(err)
	}
	r, err := hostroot.Dir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := List(context.Background(), r, nil)
	if err != nil {
		t.Fatal(err)
	}
	busybox, pause := "localhost/hostscope-rs-busybox:test", "localhost/podman-pause:4.3.1-0"
	want := []row{
		{"docker", capDockerRunning, "rs-probe", "hostscope-rs-busybox:test", "", "", false, "running", ""},
		{"docker", capDockerExited, "rs-exited2", "hostscope-rs-busybox:test", "", "", false, "exited", ""},
		{"docker", capDockerCreated, "rs-exited", "hostscope-rs-busybox:test", "", "", false, "created", ""},
		{"podman", capKubeInfra, "a421446ce192-infra", pause, "rs-kube", capKubeInfra, true, "", ""},
		{"podman", capPodmanPlain, "rs-podprobe", busybox, "", "", false, "", ""},
		{"podman", capKubeWorker, "rs-kube-worker", busybox, "rs-kube", capKubeInfra, false, "", ""},
		{"podman", capPodmanInfra, "36c80cbe33d5-infra", pause, "rs-pod", capPodmanInfra, true, "", ""},
		{"podman", capPodmanInPod, "rs-inpod", busybox, "rs-pod", capPodmanInfra, false, "", ""},
		{"podman", capRootlessInfra, "708cf0279a8c-infra", pause, "rl-pod", capRootlessInfra, true, "", ""},
		{"podman", capRootlessInPod, "rl-inpod", "localhost/rl:test", "rl-pod", capRootlessInfra, false, "", ""},
		{"podman", capRootlessCtr, "rl-ctr", "localhost/rl:test", "", "", false, "", ""},
	}
	if diff := cmp.Diff(want, rows(got), byRuntimeID); diff != "" {
		t.Errorf("List() mismatch (-want +got):\n%s", diff)
	}
	// Whole values for two: Lookup and List must agree.
	for _, id := range []string{capDockerExited, capPodmanInPod, capPodmanInfra, capRootlessInfra, capRootlessInPod} {
		one, err := Lookup(r, "", id, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, info := range got {
			if info.ID == id {
				if diff := cmp.Diff(*one, info); diff != "" {
					t.Errorf("Lookup(%s) and List() disagree (-Lookup +List):\n%s", id, diff)
				}
			}
		}
	}
}

func TestListCancelled(t *testing.T) {
	r := fixtureHost(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := List(ctx, r, nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("List() with a cancelled context: error %v, want context.Canceled", err)
	}
}

// TestListEmptyHost: a host with no runtime at all lists nothing, without
// error.
func TestListEmptyHost(t *testing.T) {
	r := hostroottest.MustRoot(t, hostroottest.New().Dir("/proc").Dir("/home"))
	got, err := List(context.Background(), r, nil)
	if err != nil || len(got) != 0 {
		t.Errorf("List() = %v, %v; want nothing", got, err)
	}
	if _, err := Lookup(r, "docker", idAbsent, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("Lookup() error %v, want ErrNotFound", err)
	}
}
