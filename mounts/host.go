package mounts

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/internal/parse"
)

// Reason says which view of the mount table a HostTable holds, and why.
type Reason string

const (
	// ReasonInit: PID 1's table, the host's initial mount namespace. The
	// normal case.
	ReasonInit Reason = "init"
	// ReasonInitHidden: /proc/1 does not exist in the Root's /proc, as with
	// hidepid=invisible (2), or a /proc mounted for another PID namespace.
	ReasonInitHidden Reason = "init-hidden"
	// ReasonInitUnreadable: /proc/1/mountinfo exists but could not be read
	// (hidepid=noaccess (1), missing ptrace rights, a sparse snapshot).
	ReasonInitUnreadable Reason = "init-unreadable"
	// ReasonInitPause: PID 1 is a pod sandbox's pause process (its comm is
	// "pause" or "catatonit"), so its table is the sandbox's, not the
	// host's: the Root's /proc is a pod's shared PID namespace.
	ReasonInitPause Reason = "init-pause"
)

// HostTable is the host's mount table with where it came from. When PID 1's
// table cannot be used, Mounts is the best other view the Root offers and
// Reason says why; that view may be a container's mount namespace, not the
// host's, so code that must see host paths should check Reason.
type HostTable struct {
	Mounts []Mount
	PID    int    // the process whose /proc/PID/mountinfo Mounts is
	Reason Reason // why PID was chosen
	// Detail is the evidence behind Reason: the error reading PID 1's
	// table, or PID 1's comm, and whether a fallback was found. Empty for
	// ReasonInit.
	Detail string
}

// pauseComms are the comm values of pod sandbox processes that hold a pod's
// namespaces and do nothing else: Kubernetes' pause image and podman's pod
// infra container (catatonit -P).
var pauseComms = []string{"pause", "catatonit"}

// Host returns the host's mount table: PID 1's, the initial mount namespace
// on a host, with paths as the host sees them. f filters as in Parse (nil
// keeps all).
//
// When PID 1 is hidden, unreadable or a pause process, Host falls back to
// another process, tried in ascending PID order with the reader's own process
// (/proc/self) last, since the lowest PIDs are the host's oldest processes
// and kernel threads, which live in the initial mount namespace. With a pause
// PID 1, processes that share its mount namespace (same /proc/PID/ns/mnt
// link, when readable) or are pause processes themselves are skipped, since
// they would give the same sandbox view; if none is left, PID 1's own table
// is returned with ReasonInitPause. The scan checks ctx between processes.
//
// Malformed content is an error, never a reason to fall back.
func Host(ctx context.Context, r *hostroot.Root, f Filter) (*HostTable, error) {
	comm1, _ := readComm(r, 1)
	if !isPause(comm1) {
		ms, err := ProcessFiltered(r, 1, f)
		if err == nil {
			return &HostTable{Mounts: ms, PID: 1, Reason: ReasonInit}, nil
		}
		if errors.Is(err, hostroot.ErrMalformed) {
			return nil, err
		}
		reason := ReasonInitUnreadable
		if errors.Is(err, fs.ErrNotExist) && !exists(r, "/proc/1") {
			reason = ReasonInitHidden
		}
		t, ferr := fallback(ctx, r, f, "")
		if ferr != nil {
			return nil, fmt.Errorf("host mount table: %w (and no other process's table: %w)", err, ferr)
		}
		t.Reason, t.Detail = reason, err.Error()
		return t, nil
	}

	ns1, _ := r.Readlink("/proc/1/ns/mnt")
	t, ferr := fallback(ctx, r, f, ns1)
	if ferr == nil {
		t.Reason, t.Detail = ReasonInitPause, fmt.Sprintf("PID 1 is %q", comm1)
		return t, nil
	}
	if ctx.Err() != nil {
		return nil, ferr
	}
	ms, err := ProcessFiltered(r, 1, f)
	if err != nil {
		return nil, err
	}
	return &HostTable{
		Mounts: ms, PID: 1, Reason: ReasonInitPause,
		Detail: fmt.Sprintf("PID 1 is %q and no process outside its mount namespace is readable (%v)", comm1, ferr),
	}, nil
}

// errNoCandidate is returned by fallback when no process's table is readable.
var errNoCandidate = errors.New("no readable mount table")

// fallback reads the table of the lowest PID other than 1 (the reader's own
// last) whose mountinfo is readable, skipping pause processes and, when
// skipNS is set, processes in that mount namespace.
func fallback(ctx context.Context, r *hostroot.Root, f Filter, skipNS string) (*HostTable, error) {
	names, err := r.ReadDirNames("/proc")
	if err != nil {
		return nil, err
	}
	self := -1
	if s, err := r.Readlink("/proc/self"); err == nil {
		if n, err := strconv.Atoi(s); err == nil {
			self = n
		}
	}
	var pids []int
	for _, n := range names {
		if !parse.Digits(n) {
			continue
		}
		pid, err := strconv.Atoi(n)
		if err != nil || pid <= 1 || pid == self {
			continue
		}
		pids = append(pids, pid)
	}
	slices.Sort(pids)
	if self > 1 {
		pids = append(pids, self)
	}
	for _, pid := range pids {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if comm, err := readComm(r, pid); err == nil && isPause(comm) {
			continue
		}
		if skipNS != "" {
			if ns, err := r.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/mnt"); err == nil && ns == skipNS {
				continue
			}
		}
		ms, err := ProcessFiltered(r, pid, f)
		switch {
		case err == nil:
			return &HostTable{Mounts: ms, PID: pid}, nil
		case errors.Is(err, hostroot.ErrMalformed):
			return nil, err
		}
		// Exited, hidden or not ours to read: try the next one.
	}
	return nil, errNoCandidate
}

func readComm(r *hostroot.Root, pid int) (string, error) {
	b, err := r.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(string(b), "\n"), nil
}

func isPause(comm string) bool {
	return comm != "" && slices.Contains(pauseComms, comm)
}

func exists(r *hostroot.Root, name string) bool {
	_, err := r.Lstat(name)
	return err == nil
}
