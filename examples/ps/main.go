// Command ps lists every process of a host, with the container each one runs
// in, read through a hostroot.Root: this machine, a host mounted at a
// directory, or the host a DaemonSet's HOST_* variables describe.
//
//	go run ./examples/ps                       # table: PID PPID USER STATE CONTAINER COMMAND
//	go run ./examples/ps --tree                # the process tree
//	go run ./examples/ps --json                # JSON Lines, one process per line
//	go run ./examples/ps --root /host --json   # a host mounted at /host
//	go run ./examples/ps --risky               # containers with posture findings, most exposed first
//	go run ./examples/ps --sockets             # and each process's sockets
//
// On a terminal, the table's and the tree's lines are cut to its width, as
// ps does; --wide keeps them whole (output to a pipe or file is never cut).
//
// The JSON output is a stable contract: one object per process with pid,
// ppid, comm, state, cmdline (list), exe, uid (real), start_time (RFC 3339),
// nspid (list) and container (null, or id, runtime, pod_uid, qos, name,
// image, pod_name, pod_namespace, sandbox, pod_id, and posture); with
// --sockets, also sockets (list of protocol, local_address, local_port,
// remote_address, remote_port, state, inode; a unix socket's local_address
// is its path). Absent values are "", 0, false, [] or null. Fields may be
// added; none changes meaning.
//
// posture (hostscope.Posture) is {privileged, capabilities (the bounding
// set), added_capabilities, seccomp, no_new_privs, root, user_namespace,
// host_namespaces, host_mounts: [{source, target, read_only, sensitive}],
// devices, findings: [{rule, subject, reason}], error, declared,
// declared_error}; sensitive is the name of the sensitive location a mount
// exposes, "" for none. declared (hostscope.Declared) is null, or what the
// runtime's state files say the container was configured with: {source,
// privileged, privileged_source, capabilities, seccomp, no_new_privs,
// host_namespaces, user_namespace, joined_namespaces, rootless};
// --no-names leaves it null.
// --json
// computes it for every container (a few files per container, next to
// several per process); --no-posture leaves it out, and the process lines
// then stream as they are read instead of after the whole scan.
//
// --risky lists only the containers whose posture breaks a rule, one line
// each: short ID, runtime, name, and the findings' reasons joined by "; ".
// The most exposed come first: containers are compared by their findings in
// the order hostscope.Rules gives them (privileged, beyond declared,
// writable sensitive mounts, host namespaces, added capabilities, read-only
// sensitive mounts, seccomp disabled, devices), the one whose first finding comes earlier in
// that order first; on a tie the next findings decide, then more findings
// before fewer, then runtime, name and ID. A container whose posture could
// not be read whole is marked "(posture incomplete)". --risky prints this
// text even with --json, whose lines carry the same findings.
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/hostscope/hostscope"
	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/internal/psjson"
	"github.com/hostscope/hostscope/proc"
	"golang.org/x/sys/unix"
)

func main() {
	var cfg config
	flag.StringVar(&cfg.root, "root", "", "directory holding the host's file system (default: the HOST_* environment, else /)")
	flag.BoolVar(&cfg.json, "json", false, "print JSON Lines, one process per line")
	flag.BoolVar(&cfg.tree, "tree", false, "draw the process tree")
	flag.BoolVar(&cfg.noNames, "no-names", false, "do not read the runtimes' state files for container names, images and declared postures")
	flag.BoolVar(&cfg.noPosture, "no-posture", false, "with --json, do not compute the containers' security posture")
	flag.BoolVar(&cfg.risky, "risky", false, "list only the containers with posture findings, most exposed first, with the reasons")
	flag.BoolVar(&cfg.sockets, "sockets", false, "list each process's sockets (a SOCKETS column; sockets in --json)")
	wide := flag.Bool("wide", false, "on a terminal, do not cut the table's and the tree's lines to its width")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "ps: unexpected argument %q\n", flag.Arg(0))
		os.Exit(2)
	}
	if ws, err := unix.IoctlGetWinsize(int(os.Stdout.Fd()), unix.TIOCGWINSZ); err == nil && !*wide {
		cfg.width = int(ws.Col)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	out := bufio.NewWriter(os.Stdout)
	err := run(ctx, cfg, out)
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ps:", err)
		os.Exit(1)
	}
}

type config struct {
	root       string
	json, tree bool
	noNames    bool
	noPosture  bool
	risky      bool
	sockets    bool
	// width, when not 0, is the terminal's width: the table's and the
	// tree's lines are cut to it, as ps does.
	width    int
	openRoot func() (*hostroot.Root, error) // tests replace it
}

func (c config) open() (*hostroot.Root, error) {
	switch {
	case c.openRoot != nil:
		return c.openRoot()
	case c.root != "":
		return hostroot.Dir(c.root)
	}
	return hostroot.FromEnv()
}

func run(ctx context.Context, cfg config, w io.Writer) error {
	root, err := cfg.open()
	if err != nil {
		return err
	}
	defer root.Close()
	opts := &hostscope.Options{
		Fields:  proc.FieldStat | proc.FieldStatus | proc.FieldCmdline | proc.FieldExe | proc.FieldCgroups,
		NoNames: cfg.noNames,
		Sockets: cfg.sockets,
	}
	if cfg.json && cfg.noPosture && !cfg.risky {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		return hostscope.Scan(ctx, root, opts, func(p *proc.Process) error {
			if cfg.sockets {
				return enc.Encode(psjson.FromProcessSockets(p))
			}
			return enc.Encode(psjson.FromProcess(p))
		})
	}
	opts.Posture = cfg.risky || cfg.json
	inv, err := hostscope.TakeInventory(ctx, root, opts)
	if err != nil {
		return err
	}
	if cfg.risky {
		return printRisky(w, inv.Containers)
	}
	if cfg.json {
		return printJSON(w, inv, cfg.sockets)
	}
	users := readUsers(root)
	var buf bytes.Buffer
	if cfg.tree {
		err = printTree(&buf, proc.NewTree(inv.Processes), users)
	} else {
		err = printTable(&buf, inv.Processes, users, cfg.sockets)
	}
	if err != nil {
		return err
	}
	if cfg.width > 0 {
		cutLines(&buf, cfg.width)
	}
	_, err = buf.WriteTo(w)
	return err
}

// cutLines cuts every line of buf to width characters (runes), ending a
// cut line with "…" in its last column.
func cutLines(buf *bytes.Buffer, width int) {
	var out bytes.Buffer
	for line := range bytes.Lines(buf.Bytes()) {
		text := bytes.TrimSuffix(line, []byte("\n"))
		if utf8.RuneCount(text) <= width {
			out.Write(line)
			continue
		}
		n := 0
		for i := range string(text) {
			if n == width-1 {
				out.Write(text[:i])
				break
			}
			n++
		}
		out.WriteString("…\n")
	}
	*buf = out
}

// readUsers maps UIDs to names from the host's /etc/passwd; a host without
// one (a sparse root) shows numbers.
func readUsers(root *hostroot.Root) map[uint32]string {
	users := map[uint32]string{}
	b, err := root.ReadFile("/etc/passwd")
	if err != nil {
		return users
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(line, ":")
		if len(f) < 3 {
			continue
		}
		if uid, err := strconv.ParseUint(f[2], 10, 32); err == nil {
			if _, dup := users[uint32(uid)]; !dup {
				users[uint32(uid)] = f[0]
			}
		}
	}
	return users
}

func userName(p *proc.Process, users map[uint32]string) string {
	if _, missing := p.Missing[proc.FieldStatus]; missing {
		return "?"
	}
	if n, ok := users[p.UIDs.Real]; ok {
		return n
	}
	return strconv.FormatUint(uint64(p.UIDs.Real), 10)
}

// containerColumn is the short ID and runtime, "-" on the host.
func containerColumn(p *proc.Process) string {
	c := p.Container
	if c == nil {
		return "-"
	}
	id := c.ID
	if len(id) > 12 {
		id = id[:12]
	}
	if id == "" {
		id = "pod:" + c.PodUID
	}
	if c.Runtime != "" {
		id += " " + c.Runtime
	}
	if c.Sandbox {
		id += " (sandbox)"
	}
	return id
}

func command(p *proc.Process) string {
	if len(p.Cmdline) == 0 {
		if p.Comm == "" {
			return "?"
		}
		return "[" + p.Comm + "]"
	}
	return strings.Join(p.Cmdline, " ")
}

// clean keeps a table cell on one line whatever a process put in its name.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

func printTable(w io.Writer, procs []*proc.Process, users map[uint32]string, sockets bool) error {
	tw := tabwriter.NewWriter(w, 0, 8, 1, ' ', 0)
	// SOCKETS comes last: it can be long, and a column after it would be
	// pushed out to its widest cell.
	socksHead := ""
	if sockets {
		socksHead = "\tSOCKETS"
	}
	fmt.Fprintf(tw, "PID\tPPID\tUSER\tSTATE\tCONTAINER\tCOMMAND%s\n", socksHead)
	for _, p := range procs {
		socks := ""
		if sockets {
			socks = "\t" + clean(socketsColumn(p))
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s%s\n", p.PID, p.PPID, clean(userName(p, users)), orDash(p.State), containerColumn(p), clean(command(p)), socks)
	}
	return tw.Flush()
}

// socketsColumn lists p's sockets compactly: "tcp *:22 LISTEN, udp
// 127.0.0.1:53 UNCONN, tcp6 [::1]:8080->[::1]:50000 ESTABLISHED, unix
// /run/x.sock LISTEN"; "-" when there is none, "?" when its descriptors
// could not be read.
func socketsColumn(p *proc.Process) string {
	if len(p.Sockets) == 0 {
		if p.Missing[proc.FieldFDs] != nil {
			return "?"
		}
		return "-"
	}
	var b strings.Builder
	for i, s := range p.Sockets {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(s.Protocol)
		if s.Protocol == "unix" {
			if s.Path != "" {
				b.WriteString(" " + s.Path)
			}
		} else {
			b.WriteString(" " + endpoint(s.LocalAddr, s.LocalPort))
			if s.RemotePort != 0 || !s.RemoteAddr.IsUnspecified() {
				b.WriteString("->" + endpoint(s.RemoteAddr, s.RemotePort))
			}
		}
		b.WriteString(" " + s.State)
	}
	return b.String()
}

// endpoint writes an address and port as "1.2.3.4:80" or "[::1]:80", with
// "*" for the unspecified address.
func endpoint(a netip.Addr, port uint16) string {
	if a.IsUnspecified() {
		return "*:" + strconv.Itoa(int(port))
	}
	return netip.AddrPortFrom(a, port).String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// printTree draws each root's descendants depth first, with box-drawing
// branches; a process whose parent is not in the scan is a root.
func printTree(w io.Writer, t *proc.Tree, users map[uint32]string) error {
	var walk func(p *proc.Process, prefix string, last, top bool) error
	seen := map[int]bool{}
	walk = func(p *proc.Process, prefix string, last, top bool) error {
		if seen[p.PID] {
			return errors.New("process tree has a cycle at PID " + strconv.Itoa(p.PID))
		}
		seen[p.PID] = true
		branch, next := "", ""
		if !top {
			branch, next = "├─ ", "│  "
			if last {
				branch, next = "└─ ", "   "
			}
		}
		ctr := ""
		if c := containerColumn(p); c != "-" {
			ctr = "  [" + c + "]"
		}
		if _, err := fmt.Fprintf(w, "%s%s%d %s %s%s\n", prefix, branch, p.PID, clean(userName(p, users)), clean(command(p)), ctr); err != nil {
			return err
		}
		kids := t.Children(p.PID)
		for i, k := range kids {
			if err := walk(k, prefix+next, i == len(kids)-1, false); err != nil {
				return err
			}
		}
		return nil
	}
	for _, r := range t.Roots() {
		if err := walk(r, "", true, true); err != nil {
			return err
		}
	}
	return nil
}

// printJSON writes one line per process, each container object carrying
// its container's posture.
func printJSON(w io.Writer, inv *hostscope.Inventory, sockets bool) error {
	postures := map[string]*psjson.Posture{}
	for _, c := range inv.Containers {
		postures[c.Runtime+"/"+c.ID] = psjson.FromPosture(c)
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, p := range inv.Processes {
		j := psjson.FromProcess(p)
		if sockets {
			j = psjson.FromProcessSockets(p)
		}
		if c := j.Container; c != nil && c.ID != "" {
			c.Posture = postures[c.Runtime+"/"+c.ID]
		}
		if err := enc.Encode(j); err != nil {
			return err
		}
	}
	return nil
}

// printRisky writes the containers with findings, most exposed first (see
// the package doc for the order).
func printRisky(w io.Writer, ctrs []*hostscope.Container) error {
	type risky struct {
		c        *hostscope.Container
		findings []hostscope.Finding
	}
	var list []risky
	for _, c := range ctrs {
		if fs := c.Posture.Findings(); len(fs) > 0 {
			list = append(list, risky{c, fs})
		}
	}
	rank := map[hostscope.Rule]int{}
	for i, r := range hostscope.Rules {
		rank[r] = i
	}
	slices.SortStableFunc(list, func(a, b risky) int {
		for i := 0; i < len(a.findings) && i < len(b.findings); i++ {
			if d := rank[a.findings[i].Rule] - rank[b.findings[i].Rule]; d != 0 {
				return d
			}
		}
		if d := len(b.findings) - len(a.findings); d != 0 {
			return d
		}
		return cmp.Or(strings.Compare(a.c.Runtime, b.c.Runtime), strings.Compare(a.c.Name, b.c.Name), strings.Compare(a.c.ID, b.c.ID))
	})
	for _, r := range list {
		reasons := make([]string, len(r.findings))
		for i, f := range r.findings {
			reasons[i] = f.Reason
		}
		line := fmt.Sprintf("%s %s %s: %s", shortID(r.c.ID), orDash(r.c.Runtime), orDash(r.c.Name), strings.Join(reasons, "; "))
		if r.c.PostureErr != nil {
			line += " (posture incomplete)"
		}
		if _, err := fmt.Fprintln(w, clean(line)); err != nil {
			return err
		}
	}
	return nil
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
