package runtimestate

// Labels kubelet puts on every container it asks a runtime to create. The
// runtimes copy them to where hostscope reads them: docker's Config.Labels
// (dockershim), CRI-O's io.kubernetes.cri-o.Labels and, for sandboxes, the
// spec's annotations.
const (
	kubeContainerName = "io.kubernetes.container.name"
	kubePodName       = "io.kubernetes.pod.name"
	kubePodNamespace  = "io.kubernetes.pod.namespace"
	kubePodUID        = "io.kubernetes.pod.uid"
)

// kube fills the Kubernetes fields info still lacks from the kubelet labels
// in m. Runtime-specific keys are applied before it, so they win.
func kube(info *Info, m map[string]string) {
	set := func(dst *string, key string) {
		if *dst == "" {
			*dst = m[key]
		}
	}
	set(&info.Name, kubeContainerName)
	set(&info.PodName, kubePodName)
	set(&info.PodNamespace, kubePodNamespace)
	set(&info.PodUID, kubePodUID)
}
