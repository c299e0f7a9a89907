package runtimestate

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hostscope/hostscope/hostroot"
)

// ociSpec is the part of an OCI runtime spec (config.json, see the
// opencontainers runtime-spec's config.md) that hostscope reads: what names
// a container (its annotations, where containerd's CRI plugin, CRI-O and
// podman record what the spec itself has no field for, the hostname, and
// the cgroups path, which holds podman's pod ID) and, for Spec, its
// security settings. One decoding serves both.
type ociSpec struct {
	Hostname    string            `json:"hostname"`
	Annotations map[string]string `json:"annotations"`
	Process     *struct {
		NoNewPrivileges bool `json:"noNewPrivileges"`
		Capabilities    *struct {
			Bounding []string `json:"bounding"`
		} `json:"capabilities"`
	} `json:"process"`
	Linux *struct {
		CgroupsPath string `json:"cgroupsPath"`
		Namespaces  []struct {
			Type string `json:"type"`
			Path string `json:"path"`
		} `json:"namespaces"`
		UIDMappings []struct{} `json:"uidMappings"`
		Seccomp     *skipValue `json:"seccomp"`
	} `json:"linux"`
}

// Annotations of containerd's CRI plugin (pkg/cri/annotations), set on
// every sandbox and container spec it creates.
const (
	criContainerType  = "io.kubernetes.cri.container-type" // sandbox or container
	criContainerName  = "io.kubernetes.cri.container-name"
	criSandboxID      = "io.kubernetes.cri.sandbox-id"
	criSandboxName    = "io.kubernetes.cri.sandbox-name"
	criSandboxNS      = "io.kubernetes.cri.sandbox-namespace"
	criSandboxUID     = "io.kubernetes.cri.sandbox-uid" // containerd 1.6 and later
	criImageName      = "io.kubernetes.cri.image-name"
	containerManager  = "io.container.manager" // libpod or cri-o
	crioContainerType = "io.kubernetes.cri-o.ContainerType"
	crioSandboxID     = "io.kubernetes.cri-o.SandboxID"
	crioContainerName = "io.kubernetes.cri-o.ContainerName" // k8s_<container>_<pod>_<namespace>_<uid>_<attempt>
	crioName          = "io.kubernetes.cri-o.Name"
	crioKubeName      = "io.kubernetes.cri-o.KubeName" // the pod's name, on sandboxes
	crioNamespace     = "io.kubernetes.cri-o.Namespace"
	crioLabels        = "io.kubernetes.cri-o.Labels" // the CRI labels, as a JSON object
	crioImage         = "io.kubernetes.cri-o.Image"
	crioImageName     = "io.kubernetes.cri-o.ImageName"
	crioImageRef      = "io.kubernetes.cri-o.ImageRef"
	crioPrefix        = "io.kubernetes.cri-o."
)

// parseOCIConfig parses the OCI runtime spec read from name for container
// id. runtime is what the location implies (containerd for a task bundle,
// docker for one in containerd's moby namespace, podman for
// containers/storage); the io.container.manager annotation overrides it.
func parseOCIConfig(name string, data []byte, id, runtime string) (*Info, error) {
	var spec ociSpec
	if err := decodeObject(name, data, &spec); err != nil {
		return nil, err
	}
	return ociInfo(name, &spec, id, runtime)
}

// ociInfo is parseOCIConfig's work on the decoded spec.
func ociInfo(name string, spec *ociSpec, id, runtime string) (*Info, error) {
	a := spec.Annotations
	switch a[containerManager] {
	case "libpod":
		runtime = "podman"
	case "cri-o":
		runtime = "cri-o"
	case "":
		// CRI-O before 1.18 did not set io.container.manager; podman
		// always has.
		if runtime == "podman" && hasKeyPrefix(a, crioPrefix) && a[crioContainerName] != "" {
			runtime = "cri-o"
		}
	}
	info := &Info{
		Runtime:     runtime,
		ID:          id,
		Hostname:    spec.Hostname,
		Annotations: nonEmpty(a),
		Source:      name,
	}
	switch runtime {
	case "cri-o":
		if err := crio(info, name, a); err != nil {
			return nil, err
		}
	case "podman":
		info.SandboxID = a[crioSandboxID]
		if spec.Linux != nil {
			info.PodID = podmanPodID(spec.Linux.CgroupsPath)
		}
	default:
		info.Name = a[criContainerName]
		info.PodName = a[criSandboxName]
		info.PodNamespace = a[criSandboxNS]
		info.PodUID = a[criSandboxUID]
		info.SandboxID = a[criSandboxID]
		info.Image = a[criImageName]
		info.Sandbox = a[criContainerType] == "sandbox"
		kube(info, a)
	}
	if info.Sandbox && info.SandboxID == "" {
		info.SandboxID = id
	}
	if info.Name == "" {
		info.Name = info.RuntimeName
	}
	return info, nil
}

// crio reads CRI-O's annotations. The kubelet's labels (container and pod
// names) are kept in io.kubernetes.cri-o.Labels; sandboxes also carry them,
// and the pod's name, as plain annotations.
func crio(info *Info, name string, a map[string]string) error {
	if s := a[crioLabels]; s != "" {
		var labels map[string]string
		if err := json.Unmarshal([]byte(s), &labels); err != nil {
			return fmt.Errorf("%w: %s: annotation %s: %v", hostroot.ErrMalformed, name, crioLabels, err)
		}
		info.Labels = nonEmpty(labels)
	}
	info.Sandbox = a[crioContainerType] == "sandbox"
	info.SandboxID = a[crioSandboxID]
	info.RuntimeName = first(a[crioContainerName], a[crioName])
	info.Image = first(a[crioImageName], a[crioImage])
	info.ImageID = a[crioImageRef]
	kube(info, info.Labels)
	kube(info, a)
	if info.Sandbox {
		info.PodName = first(info.PodName, a[crioKubeName])
		info.PodNamespace = first(info.PodNamespace, a[crioNamespace])
	}
	return nil
}

// podmanPodID extracts the pod ID from the cgroup parent podman gives a pod's
// containers: /libpod_parent/<pod>/libpod-<ctr> with the cgroupfs manager,
// machine-libpod_pod_<pod>.slice:libpod:<ctr> (user-libpod_pod_... when
// rootless) with systemd.
func podmanPodID(cgroupsPath string) string {
	if i := strings.Index(cgroupsPath, "libpod_pod_"); i >= 0 {
		rest := cgroupsPath[i+len("libpod_pod_"):]
		if j := strings.Index(rest, ".slice"); j > 0 && isHex(rest[:j]) {
			return rest[:j]
		}
		return ""
	}
	parts := strings.Split(cgroupsPath, "/")
	for i := 0; i+2 < len(parts); i++ {
		if parts[i] == "libpod_parent" && isHex(parts[i+1]) && strings.HasPrefix(parts[i+2], "libpod-") {
			return parts[i+1]
		}
	}
	return ""
}

func isHex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func hasKeyPrefix(m map[string]string, prefix string) bool {
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

// first returns the first non-empty string.
func first(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
