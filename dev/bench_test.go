package dev

import (
	"context"
	"testing"

	"github.com/hostscope/hostscope/hostroot"
)

// BenchmarkBlocksNative lists this machine's block devices.
func BenchmarkBlocksNative(b *testing.B) {
	r, err := hostroot.Native()
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Blocks(ctx, r, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBlocksMemory lists the in-memory server fixture.
func BenchmarkBlocksMemory(b *testing.B) {
	r := serverRoot(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Blocks(ctx, r, nil); err != nil {
			b.Fatal(err)
		}
	}
}
