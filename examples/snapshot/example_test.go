package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/hostscope/hostscope/hostroot/hostroottest"
)

// Capture a host, here an in-memory one, and load the snapshot back as a
// maintainer would in a unit test.
func ExampleCapture() {
	host := hostroottest.New().
		File("/proc/stat", "btime 1700000000\n").
		File("/proc/7/stat", "7 (sleep) S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 500 0 0\n").
		File("/proc/7/cmdline", "sleep\x00--token=s3cr3t\x00").
		Symlink("/proc/7/exe", "/usr/bin/sleep").
		Symlink("/sys/class/block/vda", "../../devices/virtual/block/vda").
		File("/sys/devices/virtual/block/vda/size", "2097152\n")
	root, err := host.Root()
	if err != nil {
		panic(err)
	}

	var archive bytes.Buffer
	sum, err := Capture(context.Background(), root, &archive, &Options{RedactCmdline: true, ModTime: time.Unix(0, 0)})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d processes, %d files, %d symlinks\n", sum.Processes, sum.Files, sum.Symlinks)

	loaded := hostroottest.New()
	if err := loaded.LoadTar(gunzip(&archive)); err != nil {
		panic(err)
	}
	snap, _ := loaded.Root()
	cmdline, _ := snap.ReadFile("/proc/7/cmdline")
	exe, _ := snap.Readlink("/proc/7/exe")
	size, _ := snap.ReadFile("/sys/class/block/vda/size")
	fmt.Printf("cmdline %q, exe %s, vda size %s", cmdline, exe, size)
	// Output:
	// 1 processes, 4 files, 2 symlinks
	// cmdline "sleep\x00REDACTED\x00", exe /usr/bin/sleep, vda size 2097152
}

func gunzip(r *bytes.Buffer) *bytes.Reader {
	zr, err := gzip.NewReader(r)
	if err != nil {
		panic(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		panic(err)
	}
	return bytes.NewReader(b)
}
