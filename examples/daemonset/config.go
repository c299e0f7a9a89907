package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// config is the agent's settings, from flags and their environment
// variables.
type config struct {
	root            string
	interval        time.Duration
	listen          string
	kernelThreads   bool
	noNames         bool
	noResources     bool
	noPosture       bool
	sockets         bool
	shutdownTimeout time.Duration
}

// envName is a flag's environment variable: HOSTSCOPE_ and the flag's name
// in upper case with '_' for '-'.
func envName(flagName string) string {
	return "HOSTSCOPE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

const usageHead = `Usage: hostscope-agent [flags]

Scans every process of the host and the container each runs in, every
interval, through the host's /proc (HOST_PROC=/host/proc and the other HOST_*
variables, or --root). Writes the changes between scans to standard output as
JSON Lines (container_started, container_stopped, container_posture_changed,
process_started, process_exited; the first scan reports what already runs as
"started" events with "initial": true) and serves over HTTP:

  /healthz    200 once a scan succeeded and the last success is recent,
              503 before, and when it is older than 3 intervals
  /inventory  the last scan as JSON: containers with their processes,
              their security posture and findings, their listening
              sockets (--sockets), and host processes
  /metrics    Prometheus metrics

Every flag can be given by its environment variable instead; a flag on the
command line wins over the variable.

`

// parseConfig reads the environment (through lookup) and then args. With
// --help it writes the usage to out and returns flag.ErrHelp.
func parseConfig(args []string, lookup func(string) (string, bool), out io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("hostscope-agent", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&cfg.root, "root", "", "`directory` holding the host's file system; empty: the HOST_ROOT, HOST_PROC, HOST_SYS, HOST_RUN, HOST_VAR... variables, else /")
	fs.DurationVar(&cfg.interval, "interval", 10*time.Second, "time between scans")
	fs.StringVar(&cfg.listen, "listen", ":9100", "`address` the HTTP server listens on")
	fs.BoolVar(&cfg.kernelThreads, "kernel-threads", false, "report kernel threads too (they come and go with the load)")
	fs.BoolVar(&cfg.noNames, "no-names", false, "do not read the runtimes' state files: containers get no name, image, pod name or declared posture")
	fs.BoolVar(&cfg.noResources, "no-resources", false, "do not read the containers' memory, CPU and pids figures from the host's /sys/fs/cgroup")
	fs.BoolVar(&cfg.noPosture, "no-posture", false, "do not compute the containers' security posture (capabilities, host namespaces and mounts, devices) and its findings")
	fs.BoolVar(&cfg.sockets, "sockets", false, "list each container's listening sockets: reads a link per open descriptor of every process, which costs more than the rest of a scan")
	fs.DurationVar(&cfg.shutdownTimeout, "shutdown-timeout", 5*time.Second, "how long HTTP requests in flight may take to finish on SIGTERM or SIGINT")
	fs.Usage = func() {
		fmt.Fprint(out, usageHead)
		tw := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "FLAG\tENVIRONMENT\tDEFAULT\tMEANING")
		fs.VisitAll(func(f *flag.Flag) {
			kind, usage := flag.UnquoteUsage(f)
			def := f.DefValue
			if def == "" {
				def = `""`
			}
			fmt.Fprintf(tw, "--%s %s\t%s\t%s\t%s\n", f.Name, kind, envName(f.Name), def, usage)
		})
		tw.Flush()
	}

	// The environment first, so that the command line overrides it.
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := envName(f.Name)
		v, ok := lookup(name)
		if !ok || envErr != nil {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			envErr = fmt.Errorf("environment %s=%q: %v", name, v, err)
		}
	})
	if envErr != nil {
		return cfg, envErr
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if cfg.interval <= 0 {
		return cfg, errors.New("--interval must be positive")
	}
	if cfg.shutdownTimeout < 0 {
		return cfg, errors.New("--shutdown-timeout must not be negative")
	}
	return cfg, nil
}
