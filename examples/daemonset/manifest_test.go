package main

import (
	"io"
	"os"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

const manifestPath = "deploy/daemonset.yaml"

// manifest is deploy/daemonset.yaml, each document decoded strictly (an
// unknown or duplicated field fails) into its Kubernetes type.
type manifest struct {
	Namespace      *corev1.Namespace
	ServiceAccount *corev1.ServiceAccount
	DaemonSet      *appsv1.DaemonSet
}

var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

func loadManifest(t testing.TB) manifest {
	t.Helper()
	b, err := os.ReadFile(manifestPath)
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	for i, doc := range docSeparator.Split(string(b), -1) {
		var meta struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			t.Fatalf("%s document %d: %v", manifestPath, i, err)
		}
		var obj any
		switch meta.APIVersion + " " + meta.Kind {
		case "v1 Namespace":
			m.Namespace = &corev1.Namespace{}
			obj = m.Namespace
		case "v1 ServiceAccount":
			m.ServiceAccount = &corev1.ServiceAccount{}
			obj = m.ServiceAccount
		case "apps/v1 DaemonSet":
			m.DaemonSet = &appsv1.DaemonSet{}
			obj = m.DaemonSet
		case " ":
			if strings.TrimSpace(stripComments(doc)) == "" {
				continue
			}
			t.Fatalf("%s document %d has no apiVersion or kind", manifestPath, i)
		default:
			t.Fatalf("%s document %d: unexpected %s %s", manifestPath, i, meta.APIVersion, meta.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			t.Fatalf("%s document %d (%s): %v", manifestPath, i, meta.Kind, err)
		}
	}
	if m.Namespace == nil || m.ServiceAccount == nil || m.DaemonSet == nil {
		t.Fatalf("%s: want a Namespace, a ServiceAccount and a DaemonSet, got %+v", manifestPath, m)
	}
	return m
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// agentContainer returns the DaemonSet's only container.
func agentContainer(t testing.TB, ds *appsv1.DaemonSet) *corev1.Container {
	t.Helper()
	cs := ds.Spec.Template.Spec.Containers
	if len(cs) != 1 || len(ds.Spec.Template.Spec.InitContainers) != 0 {
		t.Fatalf("want exactly one container and no init container, got %d and %d", len(cs), len(ds.Spec.Template.Spec.InitContainers))
	}
	return &cs[0]
}

func env(c *corev1.Container) map[string]string {
	m := map[string]string{}
	for _, e := range c.Env {
		m[e.Name] = e.Value
	}
	return m
}

func TestManifestNamespaceAndAccount(t *testing.T) {
	m := loadManifest(t)
	ds := m.DaemonSet
	ns := ds.Namespace
	if m.Namespace.Name != ns || m.ServiceAccount.Namespace != ns {
		t.Errorf("namespaces: Namespace %q, ServiceAccount in %q, DaemonSet in %q", m.Namespace.Name, m.ServiceAccount.Namespace, ns)
	}
	// Pod Security's baseline forbids the hostPath volumes and capabilities.
	if got := m.Namespace.Labels["pod-security.kubernetes.io/enforce"]; got != "privileged" {
		t.Errorf("namespace's pod-security enforce label = %q, want privileged", got)
	}
	spec := ds.Spec.Template.Spec
	if spec.ServiceAccountName != m.ServiceAccount.Name {
		t.Errorf("serviceAccountName = %q, want %q", spec.ServiceAccountName, m.ServiceAccount.Name)
	}
	for what, v := range map[string]*bool{
		"ServiceAccount's automountServiceAccountToken": m.ServiceAccount.AutomountServiceAccountToken,
		"pod's automountServiceAccountToken":            spec.AutomountServiceAccountToken,
	} {
		if v == nil || *v {
			t.Errorf("%s must be false", what)
		}
	}
	sel := ds.Spec.Selector
	if sel == nil || len(sel.MatchLabels) == 0 {
		t.Fatal("DaemonSet has no selector")
	}
	for k, v := range sel.MatchLabels {
		if ds.Spec.Template.Labels[k] != v {
			t.Errorf("selector %s=%s does not match the template's labels %v", k, v, ds.Spec.Template.Labels)
		}
	}
}

func TestManifestHostNamespaces(t *testing.T) {
	spec := loadManifest(t).DaemonSet.Spec.Template.Spec
	if spec.HostPID || spec.HostNetwork || spec.HostIPC {
		t.Errorf("hostPID %v, hostNetwork %v, hostIPC %v: want all false (the node's /proc is mounted instead)", spec.HostPID, spec.HostNetwork, spec.HostIPC)
	}
	if spec.HostUsers != nil && !*spec.HostUsers {
		t.Error("hostUsers: false maps uid 0 away from the node's root, which owns the runtimes' state")
	}
	if spec.SecurityContext != nil && spec.SecurityContext.SeccompProfile != nil &&
		spec.SecurityContext.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod seccomp profile %v, want RuntimeDefault or unset", spec.SecurityContext.SeccompProfile.Type)
	}
}

func TestManifestSecurityContext(t *testing.T) {
	c := agentContainer(t, loadManifest(t).DaemonSet)
	sc := c.SecurityContext
	if sc == nil {
		t.Fatal("no securityContext")
	}
	type posture struct {
		RunAsUser, RunAsNonRoot, Privileged, AllowPrivilegeEscalation, ReadOnlyRootFilesystem string
		Drop, Add                                                                             []string
		Seccomp                                                                               string
	}
	str := func(v any) string {
		switch p := v.(type) {
		case *int64:
			if p != nil {
				return strconv.FormatInt(*p, 10)
			}
		case *bool:
			if p != nil {
				return strconv.FormatBool(*p)
			}
		}
		return "unset"
	}
	got := posture{
		RunAsUser: str(sc.RunAsUser), RunAsNonRoot: str(sc.RunAsNonRoot), Privileged: str(sc.Privileged),
		AllowPrivilegeEscalation: str(sc.AllowPrivilegeEscalation), ReadOnlyRootFilesystem: str(sc.ReadOnlyRootFilesystem),
		Seccomp: "unset",
	}
	if sc.Capabilities != nil {
		for _, c := range sc.Capabilities.Drop {
			got.Drop = append(got.Drop, string(c))
		}
		for _, c := range sc.Capabilities.Add {
			got.Add = append(got.Add, string(c))
		}
		sort.Strings(got.Add)
	}
	if sc.SeccompProfile != nil {
		got.Seccomp = string(sc.SeccompProfile.Type)
	}
	want := posture{
		RunAsUser: "0", RunAsNonRoot: "false", Privileged: "false",
		AllowPrivilegeEscalation: "false", ReadOnlyRootFilesystem: "true",
		Drop: []string{"ALL"}, Add: []string{"DAC_READ_SEARCH", "SYS_PTRACE"},
		Seccomp: "RuntimeDefault",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("securityContext mismatch (-want +got):\n%s", diff)
	}
	if sc.ProcMount != nil && *sc.ProcMount != corev1.DefaultProcMount {
		t.Errorf("procMount %v: an unmasked /proc is not needed", *sc.ProcMount)
	}
}

// hostEnv maps the top-level host directories to the variables
// hostroot.FromEnv reads for them.
var hostEnv = map[string]string{
	"/proc": "HOST_PROC", "/sys": "HOST_SYS", "/dev": "HOST_DEV",
	"/etc": "HOST_ETC", "/run": "HOST_RUN", "/var": "HOST_VAR",
}

func TestManifestVolumes(t *testing.T) {
	ds := loadManifest(t).DaemonSet
	c := agentContainer(t, ds)
	vars := env(c)
	vols := map[string]corev1.Volume{}
	for _, v := range ds.Spec.Template.Spec.Volumes {
		if v.HostPath == nil {
			t.Errorf("volume %s is not a hostPath: the agent needs no other volume", v.Name)
			continue
		}
		vols[v.Name] = v
	}
	mounted := map[string]bool{}
	for _, vm := range c.VolumeMounts {
		v, ok := vols[vm.Name]
		if !ok {
			t.Errorf("mount %s: no such hostPath volume", vm.Name)
			continue
		}
		host := v.HostPath.Path
		mounted[host] = true
		if !vm.ReadOnly {
			t.Errorf("mount of %s at %s is not read-only", host, vm.MountPath)
		}
		if vm.RecursiveReadOnly == nil || *vm.RecursiveReadOnly != corev1.RecursiveReadOnlyIfPossible {
			t.Errorf("mount of %s: recursiveReadOnly should be IfPossible, so submounts (/sys/fs/cgroup) are read-only too", host)
		}
		if vm.MountPropagation != nil && *vm.MountPropagation != corev1.MountPropagationNone {
			t.Errorf("mount of %s: propagation %s, want none", host, *vm.MountPropagation)
		}
		if vm.SubPath != "" || vm.SubPathExpr != "" {
			t.Errorf("mount of %s uses a subPath", host)
		}
		// FromEnv reads host path P at $HOST_X + (P below /x): the mount
		// must sit exactly there, and the variable name the directory.
		if vm.MountPath != "/host"+host {
			t.Errorf("host %s is mounted at %s, want /host%s", host, vm.MountPath, host)
		}
		top := "/" + strings.SplitN(strings.TrimPrefix(host, "/"), "/", 2)[0]
		name, ok := hostEnv[top]
		if !ok {
			t.Errorf("host %s is under %s, which no HOST_* variable relocates", host, top)
			continue
		}
		if got := vars[name]; got != "/host"+top {
			t.Errorf("%s = %q, want /host%s to read the mount of %s", name, got, top, host)
		}
	}
	for _, host := range []string{"/proc", "/sys", "/dev"} {
		if !mounted[host] {
			t.Errorf("%s is not mounted", host)
		}
	}
	for _, v := range vols {
		host := v.HostPath.Path
		if !mounted[host] {
			t.Errorf("volume %s (%s) is never mounted", v.Name, host)
		}
		typ := corev1.HostPathUnset
		if v.HostPath.Type != nil {
			typ = *v.HostPath.Type
		}
		switch {
		case host == "/proc" || host == "/sys" || host == "/dev":
			if typ != corev1.HostPathDirectory {
				t.Errorf("volume %s: type %q, want Directory", host, typ)
			}
		case typ != corev1.HostPathDirectoryOrCreate:
			t.Errorf("volume %s: type %q, want DirectoryOrCreate (nodes without that runtime)", host, typ)
		}
		// A runtime's whole state directory holds its API socket, which a
		// read-only mount does not protect (connect ignores it), and its
		// image layers: only per-container state directories are mounted.
		for _, broad := range []string{"/", "/var", "/run", "/var/lib", "/var/lib/docker", "/run/containerd", "/var/lib/containers", "/run/containers", "/run/docker", "/var/run", "/var/lib/kubelet", "/etc", "/home", "/root"} {
			if path.Clean(host) == broad {
				t.Errorf("volume %s mounts %s whole", v.Name, host)
			}
		}
	}
	// Every runtime state location hostscope names by default is covered
	// for the runtimes the manifest supports.
	for _, want := range []string{
		"/var/lib/docker/containers",
		"/run/containerd/io.containerd.runtime.v2.task",
		"/var/lib/containers/storage/overlay-containers",
		"/run/containers/storage/overlay-containers",
	} {
		if !mounted[want] {
			t.Errorf("%s is not mounted: that runtime's containers get no names", want)
		}
	}
}

func TestManifestSchedulingAndResources(t *testing.T) {
	ds := loadManifest(t).DaemonSet
	spec := ds.Spec.Template.Spec
	everywhere := slices.ContainsFunc(spec.Tolerations, func(t corev1.Toleration) bool {
		return t.Operator == corev1.TolerationOpExists && t.Key == "" && t.Effect == "" && t.TolerationSeconds == nil
	})
	if !everywhere {
		t.Errorf("tolerations %+v: want one {operator: Exists} so every taint is tolerated", spec.Tolerations)
	}
	if len(spec.NodeSelector) != 0 || spec.Affinity != nil {
		t.Errorf("nodeSelector %v, affinity %v: the agent belongs on every node", spec.NodeSelector, spec.Affinity)
	}
	c := agentContainer(t, ds)
	for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, okReq := c.Resources.Requests[res]
		lim, okLim := c.Resources.Limits[res]
		if !okReq || !okLim {
			t.Errorf("%s: request set %v, limit set %v; want both", res, okReq, okLim)
			continue
		}
		if req.Cmp(lim) > 0 {
			t.Errorf("%s: request %s above limit %s", res, req.String(), lim.String())
		}
	}
}

func TestManifestProbesAndConfig(t *testing.T) {
	c := agentContainer(t, loadManifest(t).DaemonSet)
	vars := env(c)
	// The agent's own configuration parses from the manifest's variables
	// alone, as it will in the pod.
	cfg, err := parseConfig(nil, func(k string) (string, bool) { v, ok := vars[k]; return v, ok }, io.Discard)
	if err != nil {
		t.Fatalf("the manifest's environment does not configure the agent: %v", err)
	}
	// The manifest keeps the defaults the README promises: postures on
	// (the security agent's point), sockets off (their cost is opt-in).
	if cfg.noPosture || cfg.sockets {
		t.Errorf("the manifest sets no-posture=%v sockets=%v, want the defaults false, false", cfg.noPosture, cfg.sockets)
	}
	_, portText, found := strings.Cut(cfg.listen, ":")
	port, err := strconv.Atoi(portText)
	if !found || err != nil {
		t.Fatalf("listen address %q has no port", cfg.listen)
	}
	var named string
	for _, p := range c.Ports {
		if int(p.ContainerPort) == port {
			named = p.Name
			if p.HostPort != 0 {
				t.Errorf("port %d has hostPort %d: Prometheus reaches the pod's own IP", port, p.HostPort)
			}
		}
	}
	if named == "" {
		t.Errorf("no container port %d, the agent's listen port", port)
	}
	for what, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil {
			t.Errorf("%s probe: want an HTTP GET of /healthz", what)
			continue
		}
		g := p.HTTPGet
		if g.Path != "/healthz" {
			t.Errorf("%s probe path %q, want /healthz", what, g.Path)
		}
		if g.Port.IntValue() != port && g.Port.String() != named {
			t.Errorf("%s probe port %s, want %d (%q)", what, g.Port.String(), port, named)
		}
	}
}
