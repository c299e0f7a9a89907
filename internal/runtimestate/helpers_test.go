package runtimestate

import (
	"os"
	"path/filepath"
	"testing"
)

// IDs of the containers captured on a Debian 12 machine (Docker 20.10.24,
// podman 4.3.1, cgroupfs manager) into testdata/capture, which mirrors the
// host paths the files were copied from.
const (
	capDockerRunning = "62e0b2f51bd8ded5d3547fc190f0860cb4b48d1b302343e5ce12f31a0986f3e7" // docker run -d --name rs-probe --label app=probe
	capDockerCreated = "d6b93c5eecce6750d067c08bbc8d3ef7ad24bcc5ab3209d533c0b5a65c9818a0" // docker run whose command was not found
	capDockerExited  = "c712d9f34ee2fb59f40a8f2037d4b088b64ce0ccdf59c8881c5be405c1508f07" // docker run ... sleep 0
	capPodmanPlain   = "6d3a2fec4f9f129487d556be9f075bece074c88e700303ea1115bbd9d2f29b29" // podman run -d --name rs-podprobe
	capPodmanInfra   = "ad927a7547fb5b1c6abb2b37645b6006b8cbe404b215b9997efa3ab454b1a7b4" // podman pod create --name rs-pod
	capPodmanInPod   = "b00d944996a1b544d9879af976eac58d39999c0834c3a6a090b6bfc0ff98ea15" // podman run --pod rs-pod --name rs-inpod
	capKubeInfra     = "2c4479edbc92639688e56928df6396183abfe173a91644257807143bcf132723" // podman kube play, pod rs-kube
	capKubeWorker    = "7bd627301f5674308b8eebb37b3c99b18ef700434ee6dfeb2ac67f14d6e1f4bc" // its container "worker"
	// Rootless podman, under /home/hsrootless (uid 1001), chose the vfs
	// driver; under cgroup v1 it makes no cgroups, so its specs hold no pod ID.
	capRootlessCtr   = "864310194a929620df0c78ffeb793b5ef714ef102878e96cf1a8cad3147ce94c" // rootless: podman run -d --network none --name rl-ctr
	capRootlessInfra = "41b740af6b01bd39acbd6e46f24a65a3b16eb40a184849778e2bf7b082cf5860" // rootless: podman pod create --name rl-pod
	capRootlessInPod = "6647b1ff7390281c562473f9acc5577200094880be71cfe5993020ab771fcb00" // rootless: podman run --pod rl-pod --name rl-inpod
	capPodIDRsPod    = "36c80cbe33d5d1494ab5434d627d4cb682f84b3c2c60de76ad4c0b6799321386"
	capPodIDRsKube   = "a421446ce19200ba852fdc0cc971f86a24d62a4ab69e033e2447e0dffbb3f3f8"
	capBusyboxDocker = "sha256:35e49a83a99e242ded659f6a6372a567c1294bf1a086da03b8f2a17325276e9a"
	capBusyboxPodman = "680eebd2222edf119c59ebc419538af5d663ed4217e2680bc613d39a8f0107b0"
	capPausePodman   = "68b090ccac6d9454e00f094b9adb77a86ad9d1e614ffce3c4adcca12e5b14b81"
)

const (
	capDockerDir  = "/var/lib/docker/containers/"
	capStorageDir = "/var/lib/containers/storage/overlay-containers/"
	capMobyDir    = "/run/docker/containerd/daemon/io.containerd.runtime.v2.task/moby/"
)

// capture returns a captured file's content by its host name.
func capture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "capture", filepath.FromSlash(name)))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// podmanAnnotations are the annotations podman 4.3.1 put on every captured
// spec, plus extra (io.kubernetes.cri-o.TTY is on all but the kube play
// container).
func podmanAnnotations(created string, extra map[string]string) map[string]string {
	m := map[string]string{
		"io.container.manager":                "libpod",
		"io.kubernetes.cri-o.Created":         created,
		"io.podman.annotations.autoremove":    "FALSE",
		"io.podman.annotations.init":          "FALSE",
		"io.podman.annotations.privileged":    "FALSE",
		"io.podman.annotations.publish-all":   "FALSE",
		"org.opencontainers.image.stopSignal": "15",
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}
