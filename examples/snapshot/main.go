package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hostscope/hostscope/hostroot"
	"golang.org/x/sys/unix"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// config is what the flags say.
type config struct {
	root, out, mtime string
	quiet, verbose   bool
	opts             Options
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	var c config
	fs := flag.NewFlagSet("snapshot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: snapshot [flags]\n\nCaptures a host's /proc, /sys, udev and runtime state files into a .tar.gz\nthat hostroottest.LoadArchive turns back into an in-memory host.\n\n")
		fs.PrintDefaults()
	}
	maxFile := sizeFlag(DefaultMaxFileSize)
	maxTotal := sizeFlag(DefaultMaxTotalSize)
	fs.StringVar(&c.root, "root", "", "directory holding the host's file system (default: the HOST_* environment, else /)")
	fs.StringVar(&c.out, "o", "snapshot.tar.gz", "output file, - for standard output")
	fs.StringVar(&c.out, "out", "snapshot.tar.gz", "same as -o")
	fs.BoolVar(&c.opts.Environ, "environ", false, "include /proc/PID/environ (holds secrets: see --redact-environ)")
	fs.BoolVar(&c.opts.RedactEnviron, "redact-environ", false, "include environments with their values dropped (KEY=); implies --environ")
	fs.BoolVar(&c.opts.RedactCmdline, "redact-cmdline", false, "replace every argument after argv[0] with REDACTED")
	fs.BoolVar(&c.opts.FDInfo, "fdinfo", false, "include /proc/PID/fdinfo (position, flags, mount ID: one file per open descriptor)")
	fs.BoolVar(&c.opts.Dev, "dev", false, "include /dev: directories, symlinks, device nodes and FIFOs (never opened)")
	fs.Var(&maxFile, "max-file", "skip files larger than this (bytes; K, M, G suffixes are powers of 1024)")
	fs.Var(&maxTotal, "max-total", "stop adding file content past this total (hostroottest loads up to 1G)")
	fs.IntVar(&c.opts.CgroupDepth, "cgroup-depth", DefaultCgroupDepth, "levels of /sys/fs/cgroup to walk below each hierarchy")
	fs.IntVar(&c.opts.Level, "level", 0, "gzip level, 1 (fastest) to 9 (smallest); 0 is gzip's default")
	fs.StringVar(&c.mtime, "mtime", "", "give every entry this mtime (RFC 3339, or @UNIX-SECONDS), for reproducible archives")
	fs.BoolVar(&c.quiet, "q", false, "print neither progress nor the summary")
	fs.BoolVar(&c.verbose, "v", false, "name each skipped file and why")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if c.opts.Level < 0 || c.opts.Level > 9 {
		return nil, fmt.Errorf("--level %d: want 0 to 9", c.opts.Level)
	}
	if c.opts.CgroupDepth < 1 {
		return nil, fmt.Errorf("--cgroup-depth %d: want at least 1", c.opts.CgroupDepth)
	}
	if int64(maxFile) > int64(maxTotal) {
		return nil, fmt.Errorf("--max-file %d is larger than --max-total %d", maxFile, maxTotal)
	}
	c.opts.MaxFileSize, c.opts.MaxTotalSize = int(maxFile), int64(maxTotal)
	if c.mtime != "" {
		t, err := parseTime(c.mtime)
		if err != nil {
			return nil, fmt.Errorf("--mtime: %w", err)
		}
		c.opts.ModTime = t
	}
	return &c, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "snapshot:", err)
		return 2
	}
	var root *hostroot.Root
	if cfg.root != "" {
		root, err = hostroot.Dir(cfg.root)
	} else {
		root, err = hostroot.FromEnv()
	}
	if err != nil {
		fmt.Fprintln(stderr, "snapshot:", err)
		return 1
	}
	defer root.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var w io.Writer = stdout
	var f *os.File
	if cfg.out != "-" {
		// The archive is the program's output, not a host file: it is the
		// one file written, and nothing is read through it.
		if f, err = os.Create(cfg.out); err != nil {
			fmt.Fprintln(stderr, "snapshot:", err)
			return 1
		}
		w = f
	}
	var pp *progressPrinter
	if !cfg.quiet {
		pp = newProgressPrinter(stderr, isTerminal(stderr))
		cfg.opts.Progress = pp.update
	}
	if cfg.verbose {
		cfg.opts.Skip = func(err error) {
			if pp != nil {
				pp.clear()
			}
			fmt.Fprintln(stderr, "snapshot: skipped:", err)
		}
	}
	start := time.Now()
	sum, err := Capture(ctx, root, w, &cfg.opts)
	if pp != nil {
		pp.clear()
	}
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(cfg.out)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "snapshot:", err)
		return 1
	}
	if !cfg.quiet {
		writeSummary(stderr, cfg.out, root.String(), sum, time.Since(start))
	}
	return 0
}

// writeSummary prints what was captured, in sizes a person reads.
func writeSummary(w io.Writer, out, root string, s *Summary, took time.Duration) {
	if out == "-" {
		out = "standard output"
	}
	fmt.Fprintf(w, "snapshot of %s written to %s in %.1fs\n", root, out, took.Seconds())
	fmt.Fprintf(w, "  entries:   %d (%d files, %d directories, %d symlinks, %d nodes)\n", s.Entries, s.Files, s.Dirs, s.Symlinks, s.Nodes)
	fmt.Fprintf(w, "  processes: %d (%d vanished during the capture)\n", s.Processes, s.Vanished)
	ratio := 0.0
	if s.Compressed > 0 {
		ratio = float64(s.Bytes) / float64(s.Compressed)
	}
	fmt.Fprintf(w, "  size:      %s raw, %s compressed (%.1fx)\n", humanBytes(s.Bytes), humanBytes(s.Compressed), ratio)
	if len(s.Skipped) == 0 {
		fmt.Fprintf(w, "  skipped:   none\n")
		return
	}
	reasons := make([]string, 0, len(s.Skipped))
	for r := range s.Skipped {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	var parts []string
	for _, r := range reasons {
		parts = append(parts, fmt.Sprintf("%s %d", r, s.Skipped[r]))
	}
	fmt.Fprintf(w, "  skipped:   %s\n", strings.Join(parts, ", "))
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	f := float64(n)
	for _, suffix := range []string{"KiB", "MiB", "GiB"} {
		f /= unit
		if f < unit || suffix == "GiB" {
			return fmt.Sprintf("%.1f %s", f, suffix)
		}
	}
	return ""
}

// isTerminal reports whether w is a terminal: the progress bar redraws one
// line with carriage returns, which only a terminal renders.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// progressPrinter draws Capture's progress: a bar redrawn ten times a
// second on a terminal, a plain line every ten seconds otherwise.
type progressPrinter struct {
	w     io.Writer
	tty   bool
	every time.Duration
	last  time.Time
	drawn bool
}

func newProgressPrinter(w io.Writer, tty bool) *progressPrinter {
	p := &progressPrinter{w: w, tty: tty, every: 10 * time.Second, last: time.Now()}
	if tty {
		p.every = 100 * time.Millisecond
	}
	return p
}

func (p *progressPrinter) update(pr Progress) {
	now := time.Now()
	if now.Sub(p.last) < p.every && pr.Phase != "done" {
		return
	}
	p.last = now
	if !p.tty {
		if pr.Phase != "done" {
			fmt.Fprintf(p.w, "snapshot: %s, %d/%d processes, %d entries, %s\n", pr.Phase, pr.Processes, pr.ProcessesTotal, pr.Entries, humanBytes(pr.Bytes))
		}
		return
	}
	fmt.Fprintf(p.w, "\r\x1b[K%s %-9s %d/%d processes  %d entries  %s", bar(pr, 24), pr.Phase, pr.Processes, pr.ProcessesTotal, pr.Entries, humanBytes(pr.Bytes))
	p.drawn = true
}

// clear erases the bar so the summary starts on a clean line.
func (p *progressPrinter) clear() {
	if p.tty && p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

// bar is a progress bar over the processes, the one phase whose size is
// known in advance and which dominates the capture; it is full afterwards.
func bar(pr Progress, width int) string {
	filled := width
	if pr.Phase == "host" || pr.Phase == "processes" {
		filled = 0
		if pr.ProcessesTotal > 0 {
			filled = width * pr.Processes / pr.ProcessesTotal
		}
	}
	return "[" + strings.Repeat("=", filled) + strings.Repeat(" ", width-filled) + "]"
}

// sizeFlag is a byte count written as 4194304, 4096K, 4M or 1G.
type sizeFlag int64

func (s *sizeFlag) String() string { return strconv.FormatInt(int64(*s), 10) }

func (s *sizeFlag) Set(v string) error {
	n, err := parseSize(v)
	if err != nil {
		return err
	}
	*s = sizeFlag(n)
	return nil
}

func parseSize(v string) (int64, error) {
	mult := int64(1)
	num := v
	if v != "" {
		switch v[len(v)-1] {
		case 'k', 'K':
			mult = 1 << 10
		case 'm', 'M':
			mult = 1 << 20
		case 'g', 'G':
			mult = 1 << 30
		}
		if mult != 1 {
			num = v[:len(v)-1]
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("size %q: want a positive number of bytes, optionally with K, M or G", v)
	}
	return n * mult, nil
}

func parseTime(v string) (time.Time, error) {
	if s, ok := strings.CutPrefix(v, "@"); ok {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q: want @SECONDS since the epoch", v)
		}
		return time.Unix(n, 0).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: want RFC 3339 or @SECONDS", v)
	}
	return t, nil
}
