// Command hostinfo prints what a host root says about its machine: name,
// operating system, kernel, boot time and process count. It is the smallest
// program built on hostroot, and shows how one flag chooses the root.
//
//	go run ./examples/hostinfo                 # this machine, or the HOST_* environment
//	go run ./examples/hostinfo --root /host    # a host mounted at /host
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hostscope/hostscope/hostroot"
)

func main() {
	dir := flag.String("root", "", "directory holding the host's file system (default: the HOST_* environment, else /)")
	flag.Parse()
	var root *hostroot.Root
	var err error
	if *dir != "" {
		root, err = hostroot.Dir(*dir)
	} else {
		root, err = hostroot.FromEnv()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "hostinfo:", err)
		os.Exit(1)
	}
	defer root.Close()
	if err := run(root, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "hostinfo:", err)
		os.Exit(1)
	}
}

// run prints one "key: value" line per fact; a fact the root cannot tell is
// printed as "unknown (reason)" rather than failing the whole report.
func run(root *hostroot.Root, w io.Writer) error {
	fmt.Fprintf(w, "root:      %s\n", root)
	fmt.Fprintf(w, "hostname:  %s\n", orUnknown(firstLine(root, "/proc/sys/kernel/hostname", "/etc/hostname")))
	fmt.Fprintf(w, "os:        %s\n", orUnknown(osName(root)))
	fmt.Fprintf(w, "kernel:    %s\n", orUnknown(firstLine(root, "/proc/sys/kernel/osrelease")))
	fmt.Fprintf(w, "booted:    %s\n", orUnknown(bootTime(root)))
	n, err := processCount(root)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "processes: %d\n", n)
	return nil
}

func orUnknown(s string, err error) string {
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	return s
}

// firstLine returns the first line of the first of names that can be read.
func firstLine(root *hostroot.Root, names ...string) (string, error) {
	var err error
	for _, name := range names {
		var b []byte
		if b, err = root.ReadFile(name); err == nil {
			line, _, _ := bytes.Cut(b, []byte{'\n'})
			return string(line), nil
		}
	}
	return "", err
}

// osName reads PRETTY_NAME from os-release, in the two places systemd
// documents for it.
func osName(root *hostroot.Root) (string, error) {
	var err error
	for _, name := range []string{"/etc/os-release", "/usr/lib/os-release"} {
		var b []byte
		if b, err = root.ReadFile(name); err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
				return strings.Trim(v, `"'`), nil
			}
		}
		return "", fmt.Errorf("%w: %s has no PRETTY_NAME", hostroot.ErrMalformed, name)
	}
	return "", err
}

// bootTime reads the btime line of /proc/stat (seconds since the epoch).
func bootTime(root *hostroot.Root) (string, error) {
	b, err := root.ReadFile("/proc/stat")
	if err != nil {
		return "", err
	}
	for i, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			sec, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return "", fmt.Errorf("%w: /proc/stat line %d: %v", hostroot.ErrMalformed, i+1, err)
			}
			return time.Unix(sec, 0).UTC().Format(time.RFC3339), nil
		}
	}
	return "", fmt.Errorf("%w: /proc/stat has no btime line", hostroot.ErrMalformed)
}

// processCount counts the numeric entries of /proc; a root without /proc
// has none.
func processCount(root *hostroot.Root) (int, error) {
	names, err := root.ReadDirNames("/proc")
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n := 0
	for _, name := range names {
		if _, err := strconv.Atoi(name); err == nil {
			n++
		}
	}
	return n, nil
}
