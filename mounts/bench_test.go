package mounts

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/hostscope/hostscope/hostroot"
)

// BenchmarkParse parses a table the size of a busy Kubernetes node's
// (about 1,000 mounts), built by repeating the VM capture.
func BenchmarkParse(b *testing.B) {
	one, err := os.ReadFile("testdata/mountinfo-vm.txt")
	if err != nil {
		b.Fatal(err)
	}
	data := bytes.Repeat(one, 1000/bytes.Count(one, []byte("\n"))+1)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data, "bench", nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseFirst stops at the first overlay mount.
func BenchmarkParseFirst(b *testing.B) {
	one, err := os.ReadFile("testdata/mountinfo-vm.txt")
	if err != nil {
		b.Fatal(err)
	}
	data := bytes.Repeat(one, 1000/bytes.Count(one, []byte("\n"))+1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data, "bench", First(FSType("overlay"))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHostNative reads this machine's table through hostroot.Native.
func BenchmarkHostNative(b *testing.B) {
	r, err := hostroot.Native()
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Host(ctx, r, nil); err != nil {
			b.Skip(err)
		}
	}
}
