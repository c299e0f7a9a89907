package runtimestate

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hostscope/hostscope/hostroot"
)

// A Kubernetes pod run by containerd's CRI plugin: the annotation keys are
// those of containerd's pkg/cri/annotations (1.6 and later add sandbox-uid).
const (
	criSandboxIDv = "d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2"
	criCtrID      = "a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1"
	criPodUID     = "6c4a3b2e-1f0d-4c9b-8a7e-5d4c3b2a1f0e"
)

const criSandboxSpec = `{"ociVersion":"1.0.2-dev","hostname":"web-0",
"annotations":{"io.kubernetes.cri.container-type":"sandbox",
"io.kubernetes.cri.sandbox-id":"` + criSandboxIDv + `",
"io.kubernetes.cri.sandbox-log-directory":"/var/log/pods/shop_web-0_` + criPodUID + `",
"io.kubernetes.cri.sandbox-name":"web-0","io.kubernetes.cri.sandbox-namespace":"shop",
"io.kubernetes.cri.sandbox-uid":"` + criPodUID + `"},
"linux":{"cgroupsPath":"kubepods-besteffort-pod6c4a3b2e_1f0d_4c9b_8a7e_5d4c3b2a1f0e.slice:cri-containerd:` + criSandboxIDv + `"}}`

const criCtrSpec = `{"ociVersion":"1.0.2-dev","process":{"args":["nginx","-g","daemon off;"]},
"annotations":{"io.kubernetes.cri.container-name":"nginx","io.kubernetes.cri.container-type":"container",
"io.kubernetes.cri.image-name":"docker.io/library/nginx:1.25",
"io.kubernetes.cri.sandbox-id":"` + criSandboxIDv + `",
"io.kubernetes.cri.sandbox-name":"web-0","io.kubernetes.cri.sandbox-namespace":"shop",
"io.kubernetes.cri.sandbox-uid":"` + criPodUID + `"},
"linux":{"cgroupsPath":"kubepods-besteffort-pod6c4a3b2e_1f0d_4c9b_8a7e_5d4c3b2a1f0e.slice:cri-containerd:` + criCtrID + `"}}`

// A Kubernetes pod run by CRI-O. The sandbox's annotations follow a real
// CRI-O 1.2x sandbox spec (plain io.kubernetes.* copies of the labels,
// io.kubernetes.cri-o.KubeName for the pod); the container's follow CRI-O's
// container creation (ImageName, ImageRef, Name, SandboxName, Labels as
// JSON, no plain pod labels).
const (
	crioSandboxIDv = "134b58ab2e0cfd7432a9db818b1b4ec52fdc747333f0ba2c9342860dc2ea7c50"
	crioCtrID      = "7e1d0c9b8a7f6e5d4c3b2a190817263544536271809a8b7c6d5e4f3a2b1c0d9e"
	crioPodUID     = "aaaa2b4a-f398-41c0-928b-049e1cc4ec40"
)

const crioSandboxSpec = `{"ociVersion":"1.0.2-dev","hostname":"segfaulter","annotations":{
"io.container.manager":"cri-o",
"io.kubernetes.container.name":"POD",
"io.kubernetes.cri-o.ContainerID":"` + crioSandboxIDv + `",
"io.kubernetes.cri-o.ContainerName":"k8s_POD_segfaulter_default_` + crioPodUID + `_0",
"io.kubernetes.cri-o.ContainerType":"sandbox",
"io.kubernetes.cri-o.Image":"registry.k8s.io/pause:3.9",
"io.kubernetes.cri-o.KubeName":"segfaulter",
"io.kubernetes.cri-o.Labels":"{\"io.kubernetes.container.name\":\"POD\",\"io.kubernetes.pod.namespace\":\"default\",\"io.kubernetes.pod.name\":\"segfaulter\",\"run\":\"segfaulter\",\"io.kubernetes.pod.uid\":\"` + crioPodUID + `\"}",
"io.kubernetes.cri-o.Name":"k8s_segfaulter_default_` + crioPodUID + `_0",
"io.kubernetes.cri-o.Namespace":"default",
"io.kubernetes.cri-o.SandboxID":"` + crioSandboxIDv + `",
"io.kubernetes.pod.name":"segfaulter","io.kubernetes.pod.namespace":"default",
"io.kubernetes.pod.uid":"` + crioPodUID + `","run":"segfaulter"},
"linux":{"cgroupsPath":"kubepods-besteffort-podaaaa2b4a_f398_41c0_928b_049e1cc4ec40.slice:crio:` + crioSandboxIDv + `"}}`

const crioCtrSpec = `{"ociVersion":"1.0.2-dev","annotations":{
"io.container.manager":"cri-o",
"io.kubernetes.container.hash":"8f2a1c3d",
"io.kubernetes.cri-o.ContainerID":"` + crioCtrID + `",
"io.kubernetes.cri-o.ContainerType":"container",
"io.kubernetes.cri-o.Image":"docker.io/library/busybox:1.36",
"io.kubernetes.cri-o.ImageName":"docker.io/library/busybox:1.36",
"io.kubernetes.cri-o.ImageRef":"docker.io/library/busybox@sha256:3fbc632167424a6d997e74f52b878d7cc478225cffac6bc977eedfe51c7f4e79",
"io.kubernetes.cri-o.Labels":"{\"io.kubernetes.container.name\":\"crash\",\"io.kubernetes.pod.name\":\"segfaulter\",\"io.kubernetes.pod.namespace\":\"default\",\"io.kubernetes.pod.uid\":\"` + crioPodUID + `\"}",
"io.kubernetes.cri-o.Name":"k8s_crash_segfaulter_default_` + crioPodUID + `_2",
"io.kubernetes.cri-o.SandboxID":"` + crioSandboxIDv + `",
"io.kubernetes.cri-o.SandboxName":"k8s_segfaulter_default_` + crioPodUID + `_0"}}`

func annotationsOf(tb testing.TB, spec string) map[string]string {
	tb.Helper()
	info, err := parseOCIConfig("x", []byte(spec), "x", "")
	if err != nil {
		tb.Fatal(err)
	}
	return info.Annotations
}

func TestParseOCIConfig(t *testing.T) {
	const name = "/run/x/config.json"
	const id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	podmanSpec := func(id string) string {
		return string(capture(t, capStorageDir+id+"/userdata/config.json"))
	}
	tests := []struct {
		name    string
		data    string
		id      string
		runtime string // what the location implies
		want    *Info
		err     error
	}{
		{
			name: "containerd CRI sandbox", data: criSandboxSpec, id: criSandboxIDv, runtime: "containerd",
			want: &Info{Runtime: "containerd", ID: criSandboxIDv, PodName: "web-0", PodNamespace: "shop", PodUID: criPodUID,
				SandboxID: criSandboxIDv, Sandbox: true, Hostname: "web-0", Annotations: annotationsOf(t, criSandboxSpec), Source: name},
		},
		{
			name: "containerd CRI container", data: criCtrSpec, id: criCtrID, runtime: "containerd",
			want: &Info{Runtime: "containerd", ID: criCtrID, Name: "nginx", Image: "docker.io/library/nginx:1.25",
				PodName: "web-0", PodNamespace: "shop", PodUID: criPodUID, SandboxID: criSandboxIDv,
				Annotations: annotationsOf(t, criCtrSpec), Source: name},
		},
		{
			name: "capture: docker's task in dockerd's containerd (no annotations)",
			data: string(capture(t, capMobyDir+capDockerRunning+"/config.json")), id: capDockerRunning, runtime: "docker",
			want: &Info{Runtime: "docker", ID: capDockerRunning, Hostname: "62e0b2f51bd8", Source: name},
		},
		{
			name: "CRI-O sandbox", data: crioSandboxSpec, id: crioSandboxIDv, runtime: "podman",
			want: &Info{Runtime: "cri-o", ID: crioSandboxIDv, Name: "POD", RuntimeName: "k8s_POD_segfaulter_default_" + crioPodUID + "_0",
				Image: "registry.k8s.io/pause:3.9", PodName: "segfaulter", PodNamespace: "default", PodUID: crioPodUID,
				SandboxID: crioSandboxIDv, Sandbox: true, Hostname: "segfaulter", Source: name,
				Labels: map[string]string{"io.kubernetes.container.name": "POD", "io.kubernetes.pod.namespace": "default",
					"io.kubernetes.pod.name": "segfaulter", "run": "segfaulter", "io.kubernetes.pod.uid": crioPodUID},
				Annotations: annotationsOf(t, crioSandboxSpec)},
		},
		{
			name: "CRI-O container", data: crioCtrSpec, id: crioCtrID, runtime: "podman",
			want: &Info{Runtime: "cri-o", ID: crioCtrID, Name: "crash", RuntimeName: "k8s_crash_segfaulter_default_" + crioPodUID + "_2",
				Image:   "docker.io/library/busybox:1.36",
				ImageID: "docker.io/library/busybox@sha256:3fbc632167424a6d997e74f52b878d7cc478225cffac6bc977eedfe51c7f4e79",
				PodName: "segfaulter", PodNamespace: "default", PodUID: crioPodUID, SandboxID: crioSandboxIDv, Source: name,
				Labels: map[string]string{"io.kubernetes.container.name": "crash", "io.kubernetes.pod.name": "segfaulter",
					"io.kubernetes.pod.namespace": "default", "io.kubernetes.pod.uid": crioPodUID},
				Annotations: annotationsOf(t, crioCtrSpec)},
		},
		{
			name: "CRI-O before io.container.manager", id: id, runtime: "podman",
			data: `{"annotations":{"io.kubernetes.cri-o.ContainerName":"k8s_a_b_c_d_0","io.kubernetes.cri-o.ImageName":"img"}}`,
			want: &Info{Runtime: "cri-o", ID: id, Name: "k8s_a_b_c_d_0", RuntimeName: "k8s_a_b_c_d_0", Image: "img", Source: name,
				Annotations: map[string]string{"io.kubernetes.cri-o.ContainerName": "k8s_a_b_c_d_0", "io.kubernetes.cri-o.ImageName": "img"}},
		},
		{
			name: "capture: podman container", data: podmanSpec(capPodmanPlain), id: capPodmanPlain, runtime: "podman",
			want: &Info{Runtime: "podman", ID: capPodmanPlain, Hostname: "6d3a2fec4f9f", Source: name,
				Annotations: podmanAnnotations("2026-11-27T15:13:12.692334623Z", map[string]string{"io.kubernetes.cri-o.TTY": "false"})},
		},
		{
			name: "capture: podman infra container (the pod's ID is in the cgroup path)", data: podmanSpec(capPodmanInfra), id: capPodmanInfra, runtime: "podman",
			want: &Info{Runtime: "podman", ID: capPodmanInfra, PodID: capPodIDRsPod, Hostname: "rs-pod", Source: name,
				Annotations: podmanAnnotations("2026-11-27T15:13:19.457836508Z", map[string]string{"io.kubernetes.cri-o.TTY": "false",
					"org.opencontainers.image.base.digest": "", "org.opencontainers.image.base.name": ""})},
		},
		{
			name: "capture: podman container in a pod", data: podmanSpec(capPodmanInPod), id: capPodmanInPod, runtime: "podman",
			want: &Info{Runtime: "podman", ID: capPodmanInPod, PodID: capPodIDRsPod, SandboxID: capPodmanInfra, Source: name,
				Annotations: podmanAnnotations("2026-11-27T15:13:19.599980497Z", map[string]string{"io.kubernetes.cri-o.TTY": "false",
					"io.kubernetes.cri-o.ContainerType": "container", "io.kubernetes.cri-o.SandboxID": capPodmanInfra})},
		},
		{
			name: "capture: podman kube play container, pod annotations copied", data: podmanSpec(capKubeWorker), id: capKubeWorker, runtime: "podman",
			want: &Info{Runtime: "podman", ID: capKubeWorker, PodID: capPodIDRsKube, SandboxID: capKubeInfra, Source: name,
				Annotations: podmanAnnotations("2026-11-27T15:14:04.743475287Z", map[string]string{"example.com/note": "hello",
					"io.kubernetes.cri-o.ContainerType": "container", "io.kubernetes.cri-o.SandboxID": capKubeInfra})},
		},
		{
			name: "plain OCI bundle (ctr run): nothing but the ID", data: `{"ociVersion":"1.1.0","process":{"args":["sh"]},"linux":{}}`,
			id: id, runtime: "containerd",
			want: &Info{Runtime: "containerd", ID: id, Source: name},
		},
		{name: "empty", data: "", id: id, runtime: "containerd", err: hostroot.ErrMalformed},
		{name: "null", data: "null", id: id, runtime: "containerd", err: hostroot.ErrMalformed},
		{name: "a string", data: `"{}"`, id: id, runtime: "containerd", err: hostroot.ErrMalformed},
		{name: "truncated", data: criCtrSpec[:200], id: id, runtime: "containerd", err: hostroot.ErrMalformed},
		{name: "annotations a list", data: `{"annotations":["a"]}`, id: id, runtime: "containerd", err: hostroot.ErrMalformed},
		{name: "annotation value an object", data: `{"annotations":{"io.kubernetes.cri.container-name":{"x":1}}}`, id: id, runtime: "containerd", err: hostroot.ErrMalformed},
		{name: "hostname a number", data: `{"hostname":1}`, id: id, runtime: "podman", err: hostroot.ErrMalformed},
		{name: "linux a string", data: `{"linux":"x"}`, id: id, runtime: "podman", err: hostroot.ErrMalformed},
		{name: "cgroupsPath a list", data: `{"linux":{"cgroupsPath":[]}}`, id: id, runtime: "podman", err: hostroot.ErrMalformed},
		{
			name: "CRI-O labels not JSON", id: id, runtime: "podman", err: hostroot.ErrMalformed,
			data: `{"annotations":{"io.container.manager":"cri-o","io.kubernetes.cri-o.Labels":"{\"a\":"}}`,
		},
		{
			name: "CRI-O labels with a number", id: id, runtime: "podman", err: hostroot.ErrMalformed,
			data: `{"annotations":{"io.container.manager":"cri-o","io.kubernetes.cri-o.Labels":"{\"a\":1}"}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseOCIConfig(name, []byte(tt.data), tt.id, tt.runtime)
			if diff := cmp.Diff(tt.err, err, cmpopts.EquateErrors()); diff != "" {
				t.Fatalf("parseOCIConfig() error %v, want %v", err, tt.err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseOCIConfig() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPodmanPodID(t *testing.T) {
	const pod = "36c80cbe33d5d1494ab5434d627d4cb682f84b3c2c60de76ad4c0b6799321386"
	const ctr = "b00d944996a1b544d9879af976eac58d39999c0834c3a6a090b6bfc0ff98ea15"
	tests := []struct {
		path, want string
	}{
		{"/libpod_parent/" + pod + "/libpod-" + ctr, pod},           // cgroupfs, captured
		{"machine-libpod_pod_" + pod + ".slice:libpod:" + ctr, pod}, // systemd, rootful
		{"user-libpod_pod_" + pod + ".slice:libpod:" + ctr, pod},    // systemd, rootless
		{"/libpod_parent/libpod-" + ctr, ""},                        // no pod
		{"machine.slice:libpod:" + ctr, ""},                         // systemd, no pod
		{"/libpod_parent/" + pod[:10] + "/libpod-" + ctr, ""},       // not a pod ID
		{"machine-libpod_pod_XYZ.slice:libpod:" + ctr, ""},
		{"machine-libpod_pod_" + pod, ""}, // no .slice
		{"", ""},
		{"/libpod_parent/" + pod, ""}, // the pod cgroup itself
	}
	for _, tt := range tests {
		if got := podmanPodID(tt.path); got != tt.want {
			t.Errorf("podmanPodID(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}
