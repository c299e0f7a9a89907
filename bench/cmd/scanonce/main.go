// Command scanonce runs one inventory reader over the live /proc a given
// number of times and prints how many processes the last scan saw. It
// exists to be run under strace -c -f or a profiler, where a test binary's
// harness would blur the counts:
//
//	go build -o /tmp/scanonce ./cmd/scanonce
//	/tmp/scanonce -hold -spawn 2000 & holder=$!   # prints "ready" when they run
//	strace -c -f /tmp/scanonce -reader hostscope
//	kill $holder
//
// With -hold it starts -spawn sleeping processes, prints "ready", and waits
// for SIGINT or SIGTERM to kill them; started this way, apart from the
// traced process, their own system calls stay out of strace's counts.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/hostscope/hostscope/bench"
	"github.com/hostscope/hostscope/hostroot"
	"github.com/prometheus/procfs"
	"github.com/shirou/gopsutil/v4/process"
)

func main() {
	reader := flag.String("reader", "hostscope", "floor, hostscope, procfs, gopsutil or gopsutil-btcache; or the socket inventory: hostscope-sockets, procfs-sockets, gopsutil-sockets")
	n := flag.Int("n", 1, "number of scans")
	spawn := flag.Int("spawn", 0, "sleeping processes to start first (killed on exit)")
	hold := flag.Bool("hold", false, "only start the sleepers, print \"ready\", and keep them until SIGINT or SIGTERM")
	flag.Parse()
	var sleepers bench.Sleepers
	err := sleepers.Ensure(*spawn)
	switch {
	case err != nil:
	case *hold:
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
		fmt.Println("ready", len(sleepers.PIDs()))
		<-stop
	default:
		err = run(*reader, *n)
	}
	sleepers.Stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "scanonce:", err)
		os.Exit(1)
	}
}

func run(reader string, n int) error {
	ctx := context.Background()
	var scan func() (int, error)
	visit := func(*bench.Proc) {}
	switch reader {
	case "floor":
		f := bench.NewFloor()
		scan = func() (int, error) { return f.Scan(visit) }
	case "hostscope":
		root, err := hostroot.Native()
		if err != nil {
			return err
		}
		defer root.Close()
		scan = func() (int, error) { return bench.Hostscope(ctx, root, visit) }
	case "procfs":
		fs, err := procfs.NewFS("/proc")
		if err != nil {
			return err
		}
		scan = func() (int, error) { return bench.Procfs(fs, visit) }
	case "gopsutil", "gopsutil-btcache":
		process.EnableBootTimeCache(reader == "gopsutil-btcache")
		scan = func() (int, error) { return bench.Gopsutil(ctx, visit) }
	case "hostscope-sockets":
		root, err := hostroot.Native()
		if err != nil {
			return err
		}
		defer root.Close()
		scan = func() (int, error) {
			procs, _, err := bench.HostscopeSockets(ctx, root, func(int, uint64) {})
			return procs, err
		}
	case "procfs-sockets":
		fs, err := procfs.NewFS("/proc")
		if err != nil {
			return err
		}
		scan = func() (int, error) {
			procs, _, err := bench.ProcfsSockets(fs, func(int, uint64) {})
			return procs, err
		}
	case "gopsutil-sockets":
		scan = func() (int, error) {
			procs, _, err := bench.GopsutilSockets(ctx, func(int, uint64) {})
			return procs, err
		}
	default:
		return fmt.Errorf("unknown reader %q", reader)
	}
	procs := 0
	for i := 0; i < n; i++ {
		var err error
		if procs, err = scan(); err != nil {
			return err
		}
	}
	fmt.Println(procs, "processes")
	return nil
}
