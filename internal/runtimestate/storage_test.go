package runtimestate

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hostscope/hostscope/hostroot"
)

// CRI-O's containers.json entries: metadata is its RuntimeContainerMetadata
// (pod-name is the sandbox's full name, pod-id its ID, metadata-name the
// Kubernetes name; uid and namespace only on the sandbox, flagged "pod").
const crioContainersJSON = `[
{"id":"` + crioSandboxIDv + `","names":["k8s_POD_segfaulter_default_` + crioPodUID + `_0"],
 "image":"e6f1816883972d4be47bd48879a08919b96afcd344132622e4d444987919323c","layer":"x",
 "metadata":"{\"pod-name\":\"k8s_POD_segfaulter_default_` + crioPodUID + `_0\",\"pod-id\":\"` + crioSandboxIDv + `\",\"image-name\":\"registry.k8s.io/pause:3.9\",\"image-id\":\"e6f1816883972d4be47bd48879a08919b96afcd344132622e4d444987919323c\",\"name\":\"k8s_POD_segfaulter_default_` + crioPodUID + `_0\",\"metadata-name\":\"segfaulter\",\"uid\":\"` + crioPodUID + `\",\"namespace\":\"default\",\"created-at\":1641576806,\"pod\":true}",
 "created":"2022-01-07T17:33:26.5Z","flags":{"MountLabel":""}},
{"id":"` + crioCtrID + `","names":["k8s_crash_segfaulter_default_` + crioPodUID + `_2"],
 "image":"3f57d9401f8d42f986df300f0c69192fc41da28ccc8d797829467780db3dd741",
 "metadata":"{\"pod-name\":\"k8s_POD_segfaulter_default_` + crioPodUID + `_0\",\"pod-id\":\"` + crioSandboxIDv + `\",\"image-name\":\"docker.io/library/busybox:1.36\",\"image-id\":\"3f57d9401f8d42f986df300f0c69192fc41da28ccc8d797829467780db3dd741\",\"name\":\"k8s_crash_segfaulter_default_` + crioPodUID + `_2\",\"metadata-name\":\"crash\",\"created-at\":1641576810,\"attempt\":2}"}
]`

func TestParseContainersJSON(t *testing.T) {
	const name = "/var/lib/containers/storage/overlay-containers/containers.json"
	tests := []struct {
		name string
		data string
		want []Info
		err  error
	}{
		{
			name: "capture: podman 4.3.1, a container, a pod's infra and member, a kube play pod",
			data: string(capture(t, capStorageDir+"containers.json")),
			want: []Info{
				{Runtime: "podman", ID: capPodmanPlain, Name: "rs-podprobe", RuntimeName: "rs-podprobe",
					Image: "localhost/hostscope-rs-busybox:test", ImageID: capBusyboxPodman, Source: name},
				{Runtime: "podman", ID: capPodmanInfra, Name: "36c80cbe33d5-infra", RuntimeName: "36c80cbe33d5-infra",
					Image: "localhost/podman-pause:4.3.1-0", ImageID: capPausePodman, Source: name},
				{Runtime: "podman", ID: capPodmanInPod, Name: "rs-inpod", RuntimeName: "rs-inpod",
					Image: "localhost/hostscope-rs-busybox:test", ImageID: capBusyboxPodman, Source: name},
				{Runtime: "podman", ID: capKubeInfra, Name: "a421446ce192-infra", RuntimeName: "a421446ce192-infra",
					Image: "localhost/podman-pause:4.3.1-0", ImageID: capPausePodman, Source: name},
				{Runtime: "podman", ID: capKubeWorker, Name: "rs-kube-worker", RuntimeName: "rs-kube-worker",
					Image: "localhost/hostscope-rs-busybox:test", ImageID: capBusyboxPodman, Source: name},
			},
		},
		{
			name: "CRI-O sandbox and container",
			data: crioContainersJSON,
			want: []Info{
				{Runtime: "cri-o", ID: crioSandboxIDv, Name: "k8s_POD_segfaulter_default_" + crioPodUID + "_0",
					RuntimeName: "k8s_POD_segfaulter_default_" + crioPodUID + "_0", Image: "registry.k8s.io/pause:3.9",
					ImageID: "e6f1816883972d4be47bd48879a08919b96afcd344132622e4d444987919323c",
					PodName: "segfaulter", PodNamespace: "default", PodUID: crioPodUID, SandboxID: crioSandboxIDv, Sandbox: true, Source: name},
				{Runtime: "cri-o", ID: crioCtrID, Name: "crash", RuntimeName: "k8s_crash_segfaulter_default_" + crioPodUID + "_2",
					Image: "docker.io/library/busybox:1.36", ImageID: "3f57d9401f8d42f986df300f0c69192fc41da28ccc8d797829467780db3dd741",
					SandboxID: crioSandboxIDv, Source: name},
			},
		},
		{
			name: "foreign or broken metadata is ignored, bad IDs skipped",
			data: `[{"id":"aa","names":["buildah-working"],"image":"bb","metadata":"not json"},
			        {"id":"cc","metadata":"{\"name\":"},
			        {"id":"dd","metadata":"{\"name\":5}"},
			        {"id":"../../etc","names":["x"]},{"id":""},{}]`,
			want: []Info{
				{Runtime: "podman", ID: "aa", Name: "buildah-working", RuntimeName: "buildah-working", ImageID: "bb", Source: name},
				{Runtime: "podman", ID: "cc", Source: name},
				{Runtime: "podman", ID: "dd", Source: name},
			},
		},
		{name: "empty list", data: "[]\n", want: []Info{}},
		{name: "empty file", data: "", err: hostroot.ErrMalformed},
		{name: "null", data: "null", err: hostroot.ErrMalformed},
		{name: "an object", data: `{"id":"aa"}`, err: hostroot.ErrMalformed},
		{name: "truncated", data: crioContainersJSON[:300], err: hostroot.ErrMalformed},
		{name: "names a string", data: `[{"id":"aa","names":"x"}]`, err: hostroot.ErrMalformed},
		{name: "metadata an object", data: `[{"id":"aa","metadata":{"name":"x"}}]`, err: hostroot.ErrMalformed},
		{name: "id a number", data: `[{"id":12}]`, err: hostroot.ErrMalformed},
		{name: "entry a string", data: `["aa"]`, err: hostroot.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseContainersJSON(name, []byte(tt.data))
			if diff := cmp.Diff(tt.err, err, cmpopts.EquateErrors()); diff != "" {
				t.Fatalf("parseContainersJSON() error %v, want %v", err, tt.err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseContainersJSON() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
