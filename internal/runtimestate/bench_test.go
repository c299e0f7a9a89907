package runtimestate

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/hostscope/hostscope/hostroot"
)

// The benchmarks read the captures from disk through an OS-backed Root, as
// an agent reads a host: what a Lookup costs per container named, and what
// List costs per scan.
func captureRoot(b *testing.B) *hostroot.Root {
	b.Helper()
	dir, err := filepath.Abs("testdata/capture")
	if err != nil {
		b.Fatal(err)
	}
	r, err := hostroot.Dir(dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })
	return r
}

func BenchmarkLookup(b *testing.B) {
	r := captureRoot(b)
	for _, bm := range []struct{ name, runtime, id string }{
		{"docker", "docker", capDockerRunning},
		{"podman-in-pod", "podman", capPodmanInPod},
		{"rootless-podman", "podman", capRootlessInPod},
		{"absent", "docker", idAbsent},
	} {
		b.Run(bm.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Lookup(r, bm.runtime, bm.id, nil); err != nil && bm.id != idAbsent {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkList(b *testing.B) {
	r := captureRoot(b)
	for b.Loop() {
		if _, err := List(context.Background(), r, nil); err != nil {
			b.Fatal(err)
		}
	}
}
