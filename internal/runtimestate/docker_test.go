package runtimestate

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hostscope/hostscope/hostroot"
)

// A dockershim pod: kubelet ran the sandbox and the container through
// docker and labelled them (names and label keys as kubelet's dockershim
// wrote them: k8s_<container>_<pod>_<namespace>_<uid>_<attempt>).
const (
	shimSandboxID = "5b0c0ad6a1f3a2c4e0b6fa48c1c4f2b3a9d0e1f2a3b4c5d6e7f8091a2b3c4d5e"
	shimCtrID     = "9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0"
	shimPodUID    = "0d9a1c2e-5b6f-4e7d-8c9b-0a1b2c3d4e5f"
)

const shimSandboxConfig = `{"State":{"Running":true,"Pid":4242,"StartedAt":"2023-03-01T10:00:00.5Z"},
"ID":"` + shimSandboxID + `","Name":"/k8s_POD_web-0_shop_` + shimPodUID + `_0",
"Image":"sha256:221177c6082a88ea4f6240ab2450d540955ac6f4d5454f0e15751b653ebda165",
"Config":{"Hostname":"web-0","Image":"k8s.gcr.io/pause:3.6","Labels":{
"annotation.kubernetes.io/config.source":"api",
"io.kubernetes.container.name":"POD","io.kubernetes.docker.type":"podsandbox",
"io.kubernetes.pod.name":"web-0","io.kubernetes.pod.namespace":"shop","io.kubernetes.pod.uid":"` + shimPodUID + `"}}}`

const shimCtrConfig = `{"State":{"Running":true,"Pid":4301,"StartedAt":"2023-03-01T10:00:02Z"},
"ID":"` + shimCtrID + `","Name":"/k8s_nginx_web-0_shop_` + shimPodUID + `_1",
"Image":"sha256:a6bd71f48f6839d9faae1f29d3babef831e76bc213107682c5cc80f0cbb30866",
"Config":{"Hostname":"web-0","Image":"nginx@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31","Labels":{
"io.kubernetes.container.name":"nginx","io.kubernetes.docker.type":"container",
"io.kubernetes.pod.name":"web-0","io.kubernetes.pod.namespace":"shop","io.kubernetes.pod.uid":"` + shimPodUID + `",
"io.kubernetes.sandbox.id":"` + shimSandboxID + `"}}}`

func TestParseDockerConfig(t *testing.T) {
	const id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	const name = "/var/lib/docker/containers/x/config.v2.json"
	tests := []struct {
		name string
		data string
		id   string
		want *Info
		err  error
	}{
		{
			name: "capture: running, with a label",
			data: string(capture(t, capDockerDir+capDockerRunning+"/config.v2.json")),
			id:   capDockerRunning,
			want: &Info{Runtime: "docker", ID: capDockerRunning, Name: "rs-probe", RuntimeName: "rs-probe",
				Image: "hostscope-rs-busybox:test", ImageID: capBusyboxDocker, Hostname: "62e0b2f51bd8",
				State: "running", PID: 11533, Labels: map[string]string{"app": "probe"}, Source: name},
		},
		{
			name: "capture: created, never started",
			data: string(capture(t, capDockerDir+capDockerCreated+"/config.v2.json")),
			id:   capDockerCreated,
			want: &Info{Runtime: "docker", ID: capDockerCreated, Name: "rs-exited", RuntimeName: "rs-exited",
				Image: "hostscope-rs-busybox:test", ImageID: capBusyboxDocker, Hostname: "d6b93c5eecce",
				State: "created", Source: name},
		},
		{
			name: "capture: exited",
			data: string(capture(t, capDockerDir+capDockerExited+"/config.v2.json")),
			id:   capDockerExited,
			want: &Info{Runtime: "docker", ID: capDockerExited, Name: "rs-exited2", RuntimeName: "rs-exited2",
				Image: "hostscope-rs-busybox:test", ImageID: capBusyboxDocker, Hostname: "c712d9f34ee2",
				State: "exited", Source: name},
		},
		{
			name: "dockershim sandbox",
			data: shimSandboxConfig,
			id:   shimSandboxID,
			want: &Info{Runtime: "docker", ID: shimSandboxID, Name: "POD", RuntimeName: "k8s_POD_web-0_shop_" + shimPodUID + "_0",
				Image: "k8s.gcr.io/pause:3.6", ImageID: "sha256:221177c6082a88ea4f6240ab2450d540955ac6f4d5454f0e15751b653ebda165",
				PodName: "web-0", PodNamespace: "shop", PodUID: shimPodUID, SandboxID: shimSandboxID, Sandbox: true,
				Hostname: "web-0", State: "running", PID: 4242, Source: name, Labels: map[string]string{
					"annotation.kubernetes.io/config.source": "api",
					"io.kubernetes.container.name":           "POD", "io.kubernetes.docker.type": "podsandbox",
					"io.kubernetes.pod.name": "web-0", "io.kubernetes.pod.namespace": "shop", "io.kubernetes.pod.uid": shimPodUID}},
		},
		{
			name: "dockershim container",
			data: shimCtrConfig,
			id:   shimCtrID,
			want: &Info{Runtime: "docker", ID: shimCtrID, Name: "nginx", RuntimeName: "k8s_nginx_web-0_shop_" + shimPodUID + "_1",
				Image:   "nginx@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31",
				ImageID: "sha256:a6bd71f48f6839d9faae1f29d3babef831e76bc213107682c5cc80f0cbb30866",
				PodName: "web-0", PodNamespace: "shop", PodUID: shimPodUID, SandboxID: shimSandboxID,
				Hostname: "web-0", State: "running", PID: 4301, Source: name, Labels: map[string]string{
					"io.kubernetes.container.name": "nginx", "io.kubernetes.docker.type": "container",
					"io.kubernetes.pod.name": "web-0", "io.kubernetes.pod.namespace": "shop", "io.kubernetes.pod.uid": shimPodUID,
					"io.kubernetes.sandbox.id": shimSandboxID}},
		},
		{
			name: "paused, restarting and dead states",
			data: `{"ID":"` + id + `","State":{"Running":true,"Paused":true,"Pid":7}}`,
			id:   id,
			want: &Info{Runtime: "docker", ID: id, State: "paused", PID: 7, Source: name},
		},
		{
			name: "restarting",
			data: `{"ID":"` + id + `","State":{"Running":true,"Restarting":true}}`,
			id:   id,
			want: &Info{Runtime: "docker", ID: id, State: "restarting", Source: name},
		},
		{
			name: "dead",
			data: `{"ID":"` + id + `","State":{"Dead":true,"StartedAt":"2024-01-01T00:00:00Z"}}`,
			id:   id,
			want: &Info{Runtime: "docker", ID: id, State: "dead", Source: name},
		},
		{
			name: "being removed",
			data: `{"ID":"` + id + `","State":{"RemovalInProgress":true}}`,
			id:   id,
			want: &Info{Runtime: "docker", ID: id, State: "removing", Source: name},
		},
		{
			name: "unknown fields and nulls are ignored; a name without its slash is kept",
			data: `{"ID":"` + id + `","Name":"plain","Future":{"x":[1,2]},"Config":null,"State":null,"Managed":true}`,
			id:   id,
			want: &Info{Runtime: "docker", ID: id, Name: "plain", RuntimeName: "plain", State: "created", Source: name},
		},
		{
			name: "no ID in the file: the directory's",
			data: `{"Name":"/n"}`,
			id:   id,
			want: &Info{Runtime: "docker", ID: id, Name: "n", RuntimeName: "n", State: "created", Source: name},
		},
		{name: "ID of another container", data: `{"ID":"ffff"}`, id: id, err: hostroot.ErrMalformed},
		{name: "ID with a slash, no directory to check", data: `{"ID":"../x"}`, err: hostroot.ErrMalformed},
		{name: "empty file", data: "", id: id, err: hostroot.ErrMalformed},
		{name: "blank file", data: " \n\t", id: id, err: hostroot.ErrMalformed},
		{name: "null", data: "null", id: id, err: hostroot.ErrMalformed},
		{name: "array", data: `[{"ID":"x"}]`, id: id, err: hostroot.ErrMalformed},
		{name: "truncated", data: shimCtrConfig[:len(shimCtrConfig)/2], id: shimCtrID, err: hostroot.ErrMalformed},
		{name: "trailing garbage", data: `{"ID":"` + id + `"} {}`, id: id, err: hostroot.ErrMalformed},
		{name: "Labels as a list", data: `{"Config":{"Labels":["a=b"]}}`, id: id, err: hostroot.ErrMalformed},
		{name: "label value a number", data: `{"Config":{"Labels":{"a":1}}}`, id: id, err: hostroot.ErrMalformed},
		{name: "Name a number", data: `{"Name":7}`, id: id, err: hostroot.ErrMalformed},
		{name: "Pid a string", data: `{"State":{"Pid":"7"}}`, id: id, err: hostroot.ErrMalformed},
		{name: "Pid a fraction", data: `{"State":{"Pid":7.5}}`, id: id, err: hostroot.ErrMalformed},
		{name: "Pid overflows", data: `{"State":{"Pid":99999999999999999999}}`, id: id, err: hostroot.ErrMalformed},
		{name: "Pid negative", data: `{"State":{"Pid":-1}}`, id: id, err: hostroot.ErrMalformed},
		{name: "Running a string", data: `{"State":{"Running":"yes"}}`, id: id, err: hostroot.ErrMalformed},
		{name: "StartedAt not a time", data: `{"State":{"StartedAt":"yesterday"}}`, id: id, err: hostroot.ErrMalformed},
		{name: "invalid UTF-8 and control bytes", data: "{\"Name\":\"/\xff\x01\"}", id: id, err: hostroot.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseDockerConfig(name, []byte(tt.data), tt.id)
			if diff := cmp.Diff(tt.err, err, cmpopts.EquateErrors()); diff != "" {
				t.Fatalf("parseDockerConfig() error %v, want %v", err, tt.err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseDockerConfig() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestMalformedNamesFileAndLine checks the error text locates the fault.
func TestMalformedNamesFileAndLine(t *testing.T) {
	data := "{\n\"ID\": \"x\",\n\"State\": {\"Pid\": \"seven\"}\n}"
	_, err := parseDockerConfig("/var/lib/docker/containers/x/config.v2.json", []byte(data), "")
	want := "malformed content: /var/lib/docker/containers/x/config.v2.json line 3: "
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error\n got %v\nwant %s...", err, want)
	}
}
