package hostscope

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"

	"github.com/hostscope/hostscope/cgroup"
	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/internal/runtimestate"
	"github.com/hostscope/hostscope/mounts"
	"github.com/hostscope/hostscope/proc"
)

// Options tunes Scan and Inventory. A nil *Options means the defaults.
type Options struct {
	// Fields selects what is read for each process (proc.DefaultFields when
	// zero). FieldCgroups is always added: it is what attribution reads.
	Fields proc.Field
	// NoNames skips the runtimes' state files: containers keep their
	// identity (ID, runtime, pod UID, QoS) but get no name, image or pod
	// name, and no Posture.Declared.
	NoNames bool
	// Resources reads each container's memory, CPU and pids figures from
	// the Root's /sys/fs/cgroup (Inventory only).
	Resources bool
	// Posture computes each container's security posture (Inventory only;
	// see Container.Posture). It adds FieldStatus to Fields.
	Posture bool
	// Sockets adds proc.FieldSockets: each process's descriptors and
	// sockets, and in an Inventory each container's Listening and
	// Established sockets. It reads a link per descriptor of every process
	// and the socket tables once per network namespace.
	Sockets bool
}

func (o *Options) fields() proc.Field {
	f := proc.DefaultFields
	if o != nil && o.Fields != 0 {
		f = o.Fields
	}
	if o != nil && o.Posture {
		f |= proc.FieldStatus
	}
	if o != nil && o.Sockets {
		f |= proc.FieldSockets
	}
	return f | proc.FieldCgroups
}

// attributor works out which container each process is in, once per scan:
// it remembers the runtime state it has read for each container ID and the
// host's cgroup namespace, and nothing after the scan returns.
type attributor struct {
	root  *hostroot.Root
	opts  *Options
	state *runtimestate.Reader
	names map[string]nameResult // by container ID
	// hostCgroupNS is the inode of the host's cgroup namespace (that of PID
	// 1 or kthreadd), 0 when unknown. A process in it whose cgroup paths are
	// all "/" is in the root cgroup, not hiding behind a private namespace.
	hostCgroupNS uint64
	nsKnown      bool
}

// nameResult is what the runtimes' state said of one container ID.
type nameResult struct {
	info *runtimestate.Info // nil: nothing found
	err  error              // why the state could not be read; nil when simply absent
}

// newAttributor returns an attributor for one scan. With Options.Posture
// its Reader keeps the security part of every spec it reads for names,
// for readPostures to use without reading them again.
func newAttributor(r *hostroot.Root, opts *Options) *attributor {
	state := runtimestate.NewReader(r, &runtimestate.Options{Specs: opts != nil && opts.Posture})
	return &attributor{root: r, opts: opts, state: state, names: map[string]nameResult{}}
}

// hostNS reads, once, the cgroup namespace of the host's first processes.
func (a *attributor) hostNS() uint64 {
	if a.nsKnown {
		return a.hostCgroupNS
	}
	a.nsKnown = true
	for _, pid := range []int{1, 2} {
		if p, err := proc.Read(a.root, pid, proc.FieldNamespaces); err == nil && p.Namespaces.Cgroup != 0 {
			a.hostCgroupNS = p.Namespaces.Cgroup
			break
		}
	}
	return a.hostCgroupNS
}

// attribute fills p.Container. It never fails the scan: what cannot be
// read leaves the process unattributed or unnamed, and the reason is
// recorded in p.Missing[proc.FieldContainer].
func (a *attributor) attribute(p *proc.Process) {
	if p.KernelThread {
		return
	}
	c, ok := cgroup.Identify(p.Cgroups)
	if !ok && cgroup.AtNamespaceRoot(p.Cgroups) && a.privateCgroupNS(p.PID) {
		ms, err := mounts.Process(a.root, p.PID)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				missing(p, fmt.Errorf("container from the mount table: %w", err))
			}
			return
		}
		c, ok = cgroup.IdentifyFromMounts(ms)
	}
	if !ok {
		return
	}
	if c.ID != "" && !a.opts.noNames() {
		if err := a.name(c); err != nil {
			missing(p, fmt.Errorf("container names: %w", err))
		}
	}
	p.Container = c
}

func missing(p *proc.Process, err error) {
	if p.Missing == nil {
		p.Missing = map[proc.Field]error{}
	}
	p.Missing[proc.FieldContainer] = err
}

func (o *Options) noNames() bool { return o != nil && o.NoNames }

// privateCgroupNS reports whether pid may be hiding its cgroup behind a
// cgroup namespace of its own: true unless its namespace is known to be the
// host's. Reading one link is far cheaper than the mount table.
func (a *attributor) privateCgroupNS(pid int) bool {
	host := a.hostNS()
	if host == 0 {
		return true
	}
	p, err := proc.Read(a.root, pid, proc.FieldNamespaces)
	if err != nil || p.Namespaces.Cgroup == 0 {
		return true
	}
	return p.Namespaces.Cgroup != host
}

// name fills c's naming fields from the runtime's state files. A container
// with no state file (ErrNotFound: a runtime keeping it elsewhere) is simply
// unnamed; an unreadable or malformed one is unnamed and the error says why.
func (a *attributor) name(c *cgroup.Container) error {
	res, seen := a.names[c.ID]
	if !seen {
		info, err := a.state.Lookup(c.Runtime, c.ID)
		if errors.Is(err, runtimestate.ErrNotFound) {
			err = nil
		}
		res = nameResult{info, err}
		a.names[c.ID] = res
	}
	info := res.info
	if info == nil {
		return res.err
	}
	c.Name, c.Image = info.Name, info.Image
	c.PodName, c.PodNamespace = info.PodName, info.PodNamespace
	if c.PodUID == "" {
		c.PodUID = info.PodUID
	}
	if c.Runtime == "" {
		c.Runtime = info.Runtime
	}
	c.SandboxID, c.PodID = info.SandboxID, info.PodID
	if info.Sandbox {
		c.MarkSandbox()
	}
	return nil
}

// Scan streams every process of the Root, as proc.Scan does, with each
// process's Container filled when it runs in one. Attribution reads only
// the host's files: cgroup paths, the mount table of a process behind a
// private cgroup namespace, and the runtimes' state files for names.
func Scan(ctx context.Context, r *hostroot.Root, opts *Options, fn func(*proc.Process) error) error {
	return scan(ctx, r, opts, newAttributor(r, opts), fn)
}

func scan(ctx context.Context, r *hostroot.Root, opts *Options, a *attributor, fn func(*proc.Process) error) error {
	return proc.Scan(ctx, r, &proc.ScanOptions{Fields: opts.fields()}, func(p *proc.Process) error {
		a.attribute(p)
		return fn(p)
	})
}

// Container is a container running on the host, with its member processes.
type Container struct {
	cgroup.Container
	// InitPID is the host PID of the container's first process: the member
	// whose PID in its innermost namespace is 1 (needs FieldStatus for
	// NSpid), else the member whose parent is not a member. 0 when neither
	// is known.
	InitPID int
	// PIDs are the host PIDs of the container's processes, ascending.
	PIDs []int
	// Resources are the container's cgroup figures, when Options.Resources
	// asked for them and they could be read.
	Resources *cgroup.Resources
	// ResourcesErr says why Resources is nil although asked for.
	ResourcesErr error
	// Posture is what the container can do to its host, set whenever
	// Options.Posture asks for it. Parts that could not be read (the
	// container exited meanwhile, a link was denied) are left empty and
	// PostureErr says which and why.
	Posture *Posture
	// PostureErr joins the reasons parts of Posture are missing, each
	// prefixed with the part: "privilege", "privileged", "namespaces",
	// "user", "mounts" or "devices". A Posture with a non-nil PostureErr
	// may miss findings. It is also set, under "privilege", while runc's
	// setup process is a member (a container starting, or a command being
	// exec'd into it): that process holds the runtime's capabilities for a
	// moment, and they are counted, so the findings may be transient.
	PostureErr error
	// DeclaredErr says why Posture.Declared is nil although the runtime's
	// state files for the container were found: one could not be read or
	// parsed (it names the file). It does not make the kernel's view in
	// Posture any less whole, so it is kept apart from PostureErr.
	DeclaredErr error
	// Listening and Established are the sockets of the container's
	// processes that Listening and Established return for each of them,
	// each socket once however many members share it (a forking server's
	// workers share its listener), in the order of ascending PID, then
	// descriptor. Filled when Options.Sockets is set. A container that
	// shares the host's network namespace lists only the sockets its own
	// processes hold.
	Listening   []proc.Socket
	Established []proc.Socket
}

// Inventory is one scan's processes and the containers they form.
type Inventory struct {
	Processes  []*proc.Process // ascending PID
	Containers []*Container    // by runtime, then ID
}

// Host returns the processes that run in no container: the host's own,
// and those a Kubernetes pod is charged for outside any of its containers
// (a CRI-O conmon; their Container names the pod, with an empty ID).
// Together with the Containers' PIDs they are every process of the scan.
func (inv *Inventory) Host() []*proc.Process {
	var out []*proc.Process
	for _, p := range inv.Processes {
		if p.Container == nil || p.Container.ID == "" {
			out = append(out, p)
		}
	}
	return out
}

// TakeInventory scans every process and groups them into containers.
//
// With Options.Posture it then reads, once, the host's side of every
// posture: the namespaces of the host's init (PID 1; when PID 1 runs in a
// container, is a pod's pause process or its namespace links cannot be
// read, the lowest PID that can stand for the host, usually a kernel
// thread), the host's capability limit (cap_last_cap and init's bounding
// set) and the host mount table (mounts.Host, with its fallbacks); and,
// per container, its init process's namespace links, uid_map, mountinfo
// and /dev (through Root.ProcRoot). That costs about one process's read
// per container, plus its /dev walk. Only a cancelled ctx fails the
// inventory; what cannot be read is in each Container's PostureErr.
func TakeInventory(ctx context.Context, r *hostroot.Root, opts *Options) (*Inventory, error) {
	inv := &Inventory{}
	a := newAttributor(r, opts)
	if err := scan(ctx, r, opts, a, func(p *proc.Process) error {
		inv.Processes = append(inv.Processes, p)
		return nil
	}); err != nil {
		return nil, err
	}
	inv.Containers = group(inv.Processes)
	if opts != nil && opts.Resources {
		readResources(ctx, r, inv)
	}
	if opts != nil && opts.Posture {
		var state *runtimestate.Reader
		if !opts.NoNames {
			state = a.state
		}
		if err := readPostures(ctx, r, inv, state); err != nil {
			return nil, err
		}
	}
	return inv, nil
}

// group collects processes sharing a container ID into Containers.
func group(procs []*proc.Process) []*Container {
	byID := map[string]*Container{}
	var out []*Container
	members := map[string]map[int]bool{}
	for _, p := range procs {
		c := p.Container
		if c == nil || c.ID == "" {
			continue
		}
		key := c.Runtime + "/" + c.ID
		ct := byID[key]
		if ct == nil {
			ct = &Container{Container: *c}
			byID[key] = ct
			members[key] = map[int]bool{}
			out = append(out, ct)
		}
		ct.PIDs = append(ct.PIDs, p.PID)
		ct.Listening = filterSockets(ct.Listening, p.Sockets, isListening)
		ct.Established = filterSockets(ct.Established, p.Sockets, isEstablished)
		members[key][p.PID] = true
		if n := len(p.NSpid); n > 1 && p.NSpid[n-1] == 1 && (ct.InitPID == 0 || p.PID < ct.InitPID) {
			ct.InitPID = p.PID
		}
	}
	ppid := map[int]int{}
	for _, p := range procs {
		ppid[p.PID] = p.PPID
	}
	for key, ct := range byID {
		if ct.InitPID != 0 {
			continue
		}
		for _, pid := range ct.PIDs { // ascending: the first root wins
			if !members[key][ppid[pid]] {
				ct.InitPID = pid
				break
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Runtime != out[j].Runtime {
			return out[i].Runtime < out[j].Runtime
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// readResources fills each container's resource figures.
func readResources(ctx context.Context, r *hostroot.Root, inv *Inventory) {
	layout, err := cgroup.DetectLayout(ctx, r)
	byPID := map[int]*proc.Process{}
	for _, p := range inv.Processes {
		byPID[p.PID] = p
	}
	for _, c := range inv.Containers {
		if err != nil {
			c.ResourcesErr = err
			continue
		}
		p := byPID[c.PIDs[0]]
		res, rerr := layout.Resources(r, cgroup.ContainerEntries(p.Cgroups, &c.Container))
		if rerr != nil {
			c.ResourcesErr = rerr
			continue
		}
		c.Resources = res
	}
}

// readPostures fills every container's Posture, with Declared from state
// unless it is nil.
func readPostures(ctx context.Context, r *hostroot.Root, inv *Inventory, state *runtimestate.Reader) error {
	if len(inv.Containers) == 0 {
		return nil
	}
	host := readPostureHost(ctx, r, inv.Processes)
	byPID := make(map[int]*proc.Process, len(inv.Processes))
	for _, p := range inv.Processes {
		byPID[p.PID] = p
	}
	for _, c := range inv.Containers {
		if err := ctx.Err(); err != nil {
			return err
		}
		members := make([]*proc.Process, 0, len(c.PIDs))
		for _, pid := range c.PIDs {
			members = append(members, byPID[pid])
		}
		c.Posture, c.PostureErr = containerPosture(ctx, r, c, members, host)
		if state != nil {
			c.Posture.Declared, c.DeclaredErr = declaredPosture(state, c)
		}
	}
	return ctx.Err()
}
