package runtimestate

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/hostscope/hostscope/hostroot"
)

// The parsers must never panic, must fail only with ErrMalformed, and must
// never return an Info that says less than the rules promise.

func FuzzParseDockerConfig(f *testing.F) {
	f.Add(string(capture(f, capDockerDir+capDockerRunning+"/config.v2.json")), capDockerRunning)
	f.Add(string(capture(f, capDockerDir+capDockerCreated+"/config.v2.json")), "")
	f.Add(shimSandboxConfig, shimSandboxID)
	f.Add(shimCtrConfig, shimCtrID)
	f.Add(`{"State":{"Pid":-1}}`, "")
	f.Add(`{"Config":{"Labels":{"a":1}}}`, "x")
	f.Add("null", "")
	f.Fuzz(func(t *testing.T, data, id string) {
		const name = "/var/lib/docker/containers/x/config.v2.json"
		info, err := parseDockerConfig(name, []byte(data), id)
		if err != nil {
			if info != nil || !errors.Is(err, hostroot.ErrMalformed) || !strings.Contains(err.Error(), name) {
				t.Fatalf("parseDockerConfig() = %+v, %v", info, err)
			}
			return
		}
		if info.Runtime != "docker" || !validID(info.ID) || (id != "" && info.ID != id) || info.PID < 0 || info.State == "" || info.Source != name {
			t.Fatalf("parseDockerConfig() = %+v", info)
		}
		if info.Sandbox && info.SandboxID != info.ID {
			t.Fatalf("sandbox %s with SandboxID %q", info.ID, info.SandboxID)
		}
	})
}

func FuzzParseOCIConfig(f *testing.F) {
	for _, id := range []string{capPodmanPlain, capPodmanInfra, capPodmanInPod, capKubeWorker} {
		f.Add(string(capture(f, capStorageDir+id+"/userdata/config.json")), "podman")
	}
	f.Add(string(capture(f, capMobyDir+capDockerRunning+"/config.json")), "docker")
	f.Add(criSandboxSpec, "containerd")
	f.Add(criCtrSpec, "containerd")
	f.Add(crioSandboxSpec, "podman")
	f.Add(crioCtrSpec, "podman")
	f.Add(`{"annotations":{"io.container.manager":"cri-o","io.kubernetes.cri-o.Labels":"{\"a\":1}"}}`, "podman")
	f.Fuzz(func(t *testing.T, data, runtime string) {
		const name = "/run/x/config.json"
		const id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
		info, err := parseOCIConfig(name, []byte(data), id, runtime)
		if err != nil {
			if info != nil || !errors.Is(err, hostroot.ErrMalformed) || !strings.Contains(err.Error(), name) {
				t.Fatalf("parseOCIConfig() = %+v, %v", info, err)
			}
			return
		}
		if info.ID != id || info.Source != name || info.Runtime == "" && runtime != "" {
			t.Fatalf("parseOCIConfig() = %+v", info)
		}
		if info.Sandbox && info.SandboxID == "" {
			t.Fatalf("sandbox without SandboxID: %+v", info)
		}
		if info.PodID != "" && !isHex(info.PodID) {
			t.Fatalf("PodID %q", info.PodID)
		}
	})
}

func FuzzParseContainersJSON(f *testing.F) {
	f.Add(string(capture(f, capStorageDir+"containers.json")))
	f.Add(crioContainersJSON)
	f.Add(`[{"id":"aa","metadata":"not json"},{"id":"../x"}]`)
	f.Add("[]")
	f.Fuzz(func(t *testing.T, data string) {
		const name = "/var/lib/containers/storage/overlay-containers/containers.json"
		infos, err := parseContainersJSON(name, []byte(data))
		if err != nil {
			if infos != nil || !errors.Is(err, hostroot.ErrMalformed) || !strings.Contains(err.Error(), name) {
				t.Fatalf("parseContainersJSON() = %+v, %v", infos, err)
			}
			return
		}
		for _, info := range infos {
			if !validID(info.ID) || info.Runtime != "podman" && info.Runtime != "cri-o" {
				t.Fatalf("parseContainersJSON() entry %+v", info)
			}
		}
	})
}

func FuzzParseOCISecurity(f *testing.F) {
	f.Add(string(capture(f, capMobyDir+capDockerRunning+"/config.json")))
	f.Add(string(capture(f, capStorageDir+capPodmanPlain+"/userdata/config.json")))
	f.Add(`{"annotations":{"io.podman.annotations.privileged":"TRUE"},"linux":{"namespaces":[{"type":"pid","path":"/p"},{"type":"user"}],"uidMappings":[{}]}}`)
	f.Add(`{"process":{"capabilities":{"bounding":["CAP_B","CAP_A","CAP_A"]}},"linux":{"seccomp":null}}`)
	f.Fuzz(func(t *testing.T, data string) {
		const name = "/run/x/config.json"
		var spec Spec
		err := parseOCISecurity(name, []byte(data), &spec)
		if err != nil {
			if !errors.Is(err, hostroot.ErrMalformed) || !strings.Contains(err.Error(), name) {
				t.Fatalf("parseOCISecurity() error %v", err)
			}
			return
		}
		if spec.Source != name || (spec.Seccomp != "filter" && spec.Seccomp != "disabled") {
			t.Fatalf("parseOCISecurity() = %+v", spec)
		}
		if !slices.IsSorted(spec.Bounding) || len(slices.Compact(slices.Clone(spec.Bounding))) != len(spec.Bounding) {
			t.Fatalf("bounding set %q not sorted and unique", spec.Bounding)
		}
		for _, c := range spec.Bounding {
			if !capName(c) {
				t.Fatalf("capability %q", c)
			}
		}
		// Each namespace type is either kept from the host, joined, or
		// created: never two of them.
		seen := map[string]bool{}
		for _, n := range append(slices.Clone(spec.HostNamespaces), spec.JoinedNamespaces...) {
			if seen[n] || !slices.Contains([]string{"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"}, n) {
				t.Fatalf("namespaces host %q joined %q", spec.HostNamespaces, spec.JoinedNamespaces)
			}
			seen[n] = true
		}
		if spec.Privileged && spec.PrivilegedSource != name {
			t.Fatalf("privileged without its source: %+v", spec)
		}
	})
}

func FuzzParseDockerHostConfig(f *testing.F) {
	f.Add(`{"Binds":null,"Privileged":false}`)
	f.Add(`{"Privileged":true}`)
	f.Add(`{"Privileged":null}`)
	f.Fuzz(func(t *testing.T, data string) {
		const name = "/var/lib/docker/containers/x/hostconfig.json"
		var spec Spec
		err := parseDockerHostConfig(name, []byte(data), &spec)
		if err != nil {
			if !errors.Is(err, hostroot.ErrMalformed) || !strings.Contains(err.Error(), name) {
				t.Fatalf("parseDockerHostConfig() error %v", err)
			}
			return
		}
		if spec.PrivilegedSource != name {
			t.Fatalf("parseDockerHostConfig() = %+v", spec)
		}
	})
}
