package runtimestate

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
	"github.com/spf13/afero"
)

// mobyDefaultBounding is the bounding set of docker's and podman's default
// containers in the captures, sorted.
var mobyDefaultBounding = []string{
	"CAP_AUDIT_WRITE", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_MKNOD", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP",
	"CAP_SETUID", "CAP_SYS_CHROOT",
}

func TestParseOCISecurity(t *testing.T) {
	const name = "/run/x/config.json"
	for _, tc := range []struct {
		name string
		data string
		want Spec
		err  string // a part of the error; "" for none
	}{
		{
			name: "docker default (moby bundle capture)",
			data: string(capture(t, capMobyDir+capDockerRunning+"/config.json")),
			want: Spec{Capabilities: true, Bounding: mobyDefaultBounding, Seccomp: "filter",
				HostNamespaces: []string{"cgroup", "time", "user"}},
		},
		{
			name: "podman default (capture): its network namespace is joined by path",
			data: string(capture(t, capStorageDir+capPodmanPlain+"/userdata/config.json")),
			want: Spec{Capabilities: true, Bounding: mobyDefaultBounding, Seccomp: "filter",
				HostNamespaces: []string{"cgroup", "time", "user"}, JoinedNamespaces: []string{"net"},
				PrivilegedSource: name},
		},
		{
			name: "podman --privileged: the annotation, no seccomp, sorted and deduplicated capabilities",
			data: `{"process":{"noNewPrivileges":true,"capabilities":{"bounding":["CAP_SYS_ADMIN","CAP_CHOWN","CAP_SYS_ADMIN"]}},
				"annotations":{"io.podman.annotations.privileged":"TRUE"},
				"linux":{"namespaces":[{"type":"pid"},{"type":"network"},{"type":"ipc"},{"type":"uts"},{"type":"mount"},{"type":"cgroup"}]}}`,
			want: Spec{Privileged: true, PrivilegedSource: name, Capabilities: true, NoNewPrivileges: true,
				Bounding: []string{"CAP_CHOWN", "CAP_SYS_ADMIN"}, Seccomp: "disabled",
				HostNamespaces: []string{"time", "user"}},
		},
		{
			name: "host network and pid, user namespace by mappings, seccomp null",
			data: `{"process":{},"linux":{"seccomp":null,"uidMappings":[{"containerID":0,"hostID":100000,"size":65536}],
				"namespaces":[{"type":"ipc"},{"type":"uts"},{"type":"mount"},{"type":"pid","path":"/proc/1/ns/pid"},{"type":"pid","path":"/proc/1/ns/pid"}]}}`,
			want: Spec{Seccomp: "disabled", UserNamespace: true,
				HostNamespaces: []string{"cgroup", "net", "time", "user"}, JoinedNamespaces: []string{"pid"}},
		},
		{
			name: "a user namespace entry, no process",
			data: `{"linux":{"seccomp":{"defaultAction":"SCMP_ACT_ERRNO"},"namespaces":[{"type":"user"},{"type":"time"}]}}`,
			want: Spec{Seccomp: "filter", UserNamespace: true,
				HostNamespaces: []string{"cgroup", "ipc", "mnt", "net", "pid", "uts"}},
		},
		{name: "not a Linux spec", data: `{"process":{}}`, err: "no linux object"},
		{name: "bad capability name", data: `{"process":{"capabilities":{"bounding":["cap_sys_admin"]}},"linux":{}}`, err: `capability "cap_sys_admin"`},
		{name: "unknown namespace type", data: `{"linux":{"namespaces":[{"type":"nets"}]}}`, err: `namespace type "nets"`},
		{name: "namespace twice, two ways", data: `{"linux":{"namespaces":[{"type":"pid"},{"type":"pid","path":"/x"}]}}`, err: "given twice"},
		{name: "privileged annotation not a boolean", data: `{"annotations":{"io.podman.annotations.privileged":"yes"},"linux":{}}`, err: "annotation io.podman.annotations.privileged"},
		{name: "capabilities of the wrong type", data: "{\"linux\":{},\n\"process\":{\"capabilities\":{\"bounding\":\"CAP_CHOWN\"}}}", err: "line 2"},
		{name: "array", data: `[]`, err: "want a JSON object"},
		{name: "empty", data: "", err: "empty file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got Spec
			err := parseOCISecurity(name, []byte(tc.data), &got)
			if tc.err != "" {
				if err == nil || !errors.Is(err, hostroot.ErrMalformed) || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), name) {
					t.Fatalf("parseOCISecurity() error %v, want ErrMalformed naming %s and saying %q", err, name, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.want.Source = name
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("parseOCISecurity() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseDockerHostConfig(t *testing.T) {
	const name = "/var/lib/docker/containers/x/hostconfig.json"
	for _, tc := range []struct {
		data string
		want bool
		err  string
	}{
		{data: `{"Binds":null,"NetworkMode":"default","Privileged":false,"PidMode":""}`, want: false},
		{data: `{"Binds":["/:/host"],"Privileged":true}`, want: true},
		{data: `{"Binds":null}`, err: "no Privileged field"},
		{data: `{"Privileged":"true"}`, err: "line 1"},
		{data: `null`, err: "want a JSON object"},
	} {
		var got Spec
		err := parseDockerHostConfig(name, []byte(tc.data), &got)
		if tc.err != "" {
			if err == nil || !errors.Is(err, hostroot.ErrMalformed) || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), name) {
				t.Errorf("parseDockerHostConfig(%s) error %v, want ErrMalformed naming the file and saying %q", tc.data, err, tc.err)
			}
			continue
		}
		if err != nil || got.Privileged != tc.want || got.PrivilegedSource != name {
			t.Errorf("parseDockerHostConfig(%s) = %+v, %v; want Privileged %v from %s", tc.data, got, err, tc.want, name)
		}
	}
}

// IDs of the Spec fixture's containers.
const (
	idSpecPrivDocker = "5bec5bec5bec5bec5bec5bec5bec5bec5bec5bec5bec5bec5bec5bec5bec5bec"
	idSpecNoBundle   = "5bed5bed5bed5bed5bed5bed5bed5bed5bed5bed5bed5bed5bed5bed5bed5bed"
	idSpecBadHost    = "5bee5bee5bee5bee5bee5bee5bee5bee5bee5bee5bee5bee5bee5bee5bee5bee"
	idSpecCRI        = "5bef5bef5bef5bef5bef5bef5bef5bef5bef5bef5bef5bef5bef5bef5bef5bef"
)

func TestReaderSpec(t *testing.T) {
	h := hostroottest.New()
	capFile := func(name string) { h.File(name, string(capture(t, name))) }
	capFile(capMobyDir + capDockerRunning + "/config.json")
	capFile(capStorageDir + capPodmanPlain + "/userdata/config.json")
	capFile("/home/hsrootless/.local/share/containers/storage/vfs-containers/" + capRootlessCtr + "/userdata/config.json")
	h.File(capDockerDir+capDockerRunning+"/hostconfig.json", `{"Privileged":false}`)
	// A privileged docker container: hostconfig says so, its bundle's spec
	// cannot.
	h.File(capDockerDir+idSpecPrivDocker+"/hostconfig.json", `{"Privileged":true}`)
	h.File(capMobyDir+idSpecPrivDocker+"/config.json", `{"process":{"capabilities":{"bounding":["CAP_SYS_ADMIN"]}},"linux":{"namespaces":[{"type":"mount"}]}}`)
	// A docker container whose containerd keeps its bundles elsewhere.
	h.File(capDockerDir+idSpecNoBundle+"/hostconfig.json", `{"Privileged":true}`)
	// Broken hostconfig, good bundle.
	h.File(capDockerDir+idSpecBadHost+"/hostconfig.json", `{"Privileged":`)
	h.File(capMobyDir+idSpecBadHost+"/config.json", `{"linux":{}}`)
	// A containerd CRI container.
	h.File("/run/containerd/io.containerd.runtime.v2.task/k8s.io/"+idSpecCRI+"/config.json",
		`{"process":{"noNewPrivileges":true,"capabilities":{"bounding":["CAP_CHOWN"]}},"linux":{"seccomp":{},"namespaces":[{"type":"pid"},{"type":"ipc","path":"/proc/9/ns/ipc"},{"type":"uts","path":"/proc/9/ns/uts"},{"type":"mount"}]}}`)
	rd := NewReader(hostroottest.MustRoot(t, h), nil)

	moby := capMobyDir + capDockerRunning + "/config.json"
	podman := capStorageDir + capPodmanPlain + "/userdata/config.json"
	rootless := "/home/hsrootless/.local/share/containers/storage/vfs-containers/" + capRootlessCtr + "/userdata/config.json"
	for _, tc := range []struct {
		runtime, id string
		want        *Spec
		err         error
		errName     string
	}{
		{runtime: "docker", id: capDockerRunning, want: &Spec{Source: moby, PrivilegedSource: capDockerDir + capDockerRunning + "/hostconfig.json",
			Capabilities: true, Bounding: mobyDefaultBounding, Seccomp: "filter", HostNamespaces: []string{"cgroup", "time", "user"}}},
		// The runtime only orders the search: a wrong guess finds the
		// same files, though containerd's search stops at the bundle.
		{runtime: "", id: capDockerRunning, want: &Spec{Source: moby, PrivilegedSource: capDockerDir + capDockerRunning + "/hostconfig.json",
			Capabilities: true, Bounding: mobyDefaultBounding, Seccomp: "filter", HostNamespaces: []string{"cgroup", "time", "user"}}},
		{runtime: "containerd", id: capDockerRunning, want: &Spec{Source: moby,
			Capabilities: true, Bounding: mobyDefaultBounding, Seccomp: "filter", HostNamespaces: []string{"cgroup", "time", "user"}}},
		{runtime: "docker", id: idSpecPrivDocker, want: &Spec{Source: capMobyDir + idSpecPrivDocker + "/config.json",
			Privileged: true, PrivilegedSource: capDockerDir + idSpecPrivDocker + "/hostconfig.json",
			Capabilities: true, Bounding: []string{"CAP_SYS_ADMIN"}, Seccomp: "disabled",
			HostNamespaces: []string{"cgroup", "ipc", "net", "pid", "time", "user", "uts"}}},
		{runtime: "docker", id: idSpecNoBundle, want: &Spec{Privileged: true, PrivilegedSource: capDockerDir + idSpecNoBundle + "/hostconfig.json"}},
		{runtime: "docker", id: idSpecBadHost, want: &Spec{Source: capMobyDir + idSpecBadHost + "/config.json", Seccomp: "disabled",
			HostNamespaces: []string{"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"}}},
		{runtime: "podman", id: capPodmanPlain, want: &Spec{Source: podman, PrivilegedSource: podman,
			Capabilities: true, Bounding: mobyDefaultBounding, Seccomp: "filter",
			HostNamespaces: []string{"cgroup", "time", "user"}, JoinedNamespaces: []string{"net"}}},
		{runtime: "containerd", id: idSpecCRI, want: &Spec{Source: "/run/containerd/io.containerd.runtime.v2.task/k8s.io/" + idSpecCRI + "/config.json",
			Capabilities: true, NoNewPrivileges: true, Bounding: []string{"CAP_CHOWN"}, Seccomp: "filter",
			HostNamespaces: []string{"cgroup", "net", "time", "user"}, JoinedNamespaces: []string{"ipc", "uts"}}},
		{runtime: "podman", id: idAbsent, err: ErrNotFound},
		{runtime: "docker", id: "../etc", err: fs.ErrInvalid},
	} {
		got, err := rd.Spec(tc.runtime, tc.id)
		if tc.err != nil {
			if !errors.Is(err, tc.err) || got != nil {
				t.Errorf("Spec(%q, %s) = %+v, %v; want %v", tc.runtime, tc.id, got, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Spec(%q, %s): %v", tc.runtime, tc.id, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("Spec(%q, %s) mismatch (-want +got):\n%s", tc.runtime, tc.id, diff)
		}
	}

	// A rootless user's spec says so: the user wrote it.
	got, err := rd.Spec("podman", capRootlessCtr)
	if err != nil || got.Source != rootless || !got.Rootless {
		t.Errorf("Spec(rootless) = %+v, %v; want Rootless from %s", got, err, rootless)
	}
	// ... and is never taken for another runtime's container: mallory's
	// storage claims a docker container that has only its hostconfig.json
	// (its bundle is elsewhere) and a containerd one.
	mallory := "/home/mallory/.local/share/containers/storage/overlay-containers/"
	h.File(mallory+idSpecNoBundle+"/userdata/config.json", `{"process":{"capabilities":{"bounding":["CAP_SYS_ADMIN"]}},"linux":{}}`)
	h.File(mallory+idAbsent+"/userdata/config.json", `{"linux":{}}`)
	rd = NewReader(hostroottest.MustRoot(t, h), nil)
	got, err = rd.Spec("docker", idSpecNoBundle)
	if err != nil || got.Source != "" || got.Rootless || !got.Privileged {
		t.Errorf("Spec(docker, claimed by a rootless user) = %+v, %v; want hostconfig.json's alone", got, err)
	}
	for _, runtime := range []string{"containerd", "cri-o"} {
		if got, err := rd.Spec(runtime, idAbsent); !errors.Is(err, ErrNotFound) {
			t.Errorf("Spec(%s, claimed by a rootless user) = %+v, %v; want ErrNotFound", runtime, got, err)
		}
	}
	if got, err := rd.Spec("", idAbsent); err != nil || !got.Rootless {
		t.Errorf("Spec(unknown runtime, a rootless user's) = %+v, %v; want it, marked Rootless", got, err)
	}

	// Only a broken file: its error, naming it.
	h2 := hostroottest.New().File(capDockerDir+idSpecBadHost+"/hostconfig.json", `{"Privileged":`)
	_, err = NewReader(hostroottest.MustRoot(t, h2), nil).Spec("docker", idSpecBadHost)
	if err == nil || !errors.Is(err, hostroot.ErrMalformed) || !strings.Contains(err.Error(), "hostconfig.json") {
		t.Errorf("Spec(broken hostconfig only) error %v, want ErrMalformed naming hostconfig.json", err)
	}
}

// specCountingFS counts the opens of OCI spec files, by name.
type specCountingFS struct {
	*hostroottest.Host
	opens map[string]int
}

func (c *specCountingFS) Open(name string) (afero.File, error) {
	if strings.HasSuffix(name, "/config.json") {
		c.opens[name]++
	}
	return c.Host.Open(name)
}

// A Reader with Options.Specs reads each container's spec once for both its
// names (Lookup) and its security part (Spec), and Spec answers as a Reader
// without it does, errors included.
func TestReaderSpecsReadOnce(t *testing.T) {
	h := fixtureFS(t)
	h.File(capStorageDir+idSpecBadHost+"/userdata/config.json", `{"annotations":{"io.container.manager":"libpod"},"linux":{"namespaces":[{"type":"nope"}]}}`)
	fsys := &specCountingFS{Host: h, opens: map[string]int{}}
	r := hostroot.FromAfero(fsys)
	cases := []struct{ runtime, id string }{
		{"podman", capPodmanPlain}, {"podman", capPodmanInPod}, {"containerd", criCtrID}, {"cri-o", crioCtrID}, {"podman", idSpecBadHost},
	}
	kept := NewReader(r, &Options{Specs: true})
	fresh := NewReader(r, nil)
	for _, c := range cases {
		if _, err := kept.Lookup(c.runtime, c.id); err != nil {
			t.Fatalf("Lookup(%s, %s): %v", c.runtime, c.id, err)
		}
		before := maps.Clone(fsys.opens)
		got, err := kept.Spec(c.runtime, c.id)
		if !maps.Equal(before, fsys.opens) {
			t.Errorf("Spec(%s, %s) after Lookup opened spec files again: %v, then %v", c.runtime, c.id, before, fsys.opens)
		}
		want, wantErr := fresh.Spec(c.runtime, c.id)
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" || fmt.Sprint(err) != fmt.Sprint(wantErr) {
			t.Errorf("Spec(%s, %s) with a kept spec = %+v, %v; read afresh %+v, %v", c.runtime, c.id, got, err, want, wantErr)
		}
		if c.id == idSpecBadHost && !errors.Is(err, hostroot.ErrMalformed) {
			t.Errorf("Spec of a bad spec: %v, want ErrMalformed", err)
		}
	}
	for name, n := range fsys.opens {
		// The kept Reader read each once (a pod's infra spec too, for
		// the pod's name); the fresh one at most once more.
		if n > 2 {
			t.Errorf("%s opened %d times by the two Readers, want at most 2", name, n)
		}
	}
}
