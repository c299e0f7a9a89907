package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/hostscope/hostscope"
	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/proc"
)

// agent scans a Root on an interval, writes the changes between scans as
// JSON Lines and serves the latest scan over HTTP. scan and loop run on
// one goroutine; the HTTP side reads only the published snapshot.
type agent struct {
	root          *hostroot.Root
	opts          *hostscope.Options
	interval      time.Duration
	kernelThreads bool
	events        *json.Encoder
	log           *slog.Logger
	now           func() time.Time // tests replace it
	metrics       *metrics

	prev *state // the last successful scan's state; the scanning goroutine's alone
	snap atomic.Pointer[snapshot]
}

// snapshot is the last successful scan, published to the HTTP handlers.
type snapshot struct {
	state *state
	end   time.Time     // when the scan ended
	took  time.Duration // how long it took
}

// fields is what the agent reads of each process: what its events and
// /inventory report (ps's fields), the cgroups attribution needs.
const fields = proc.FieldStat | proc.FieldStatus | proc.FieldCmdline | proc.FieldExe | proc.FieldCgroups

func newAgent(root *hostroot.Root, cfg config, events io.Writer, log *slog.Logger) *agent {
	enc := json.NewEncoder(events)
	enc.SetEscapeHTML(false)
	a := &agent{
		root: root,
		opts: &hostscope.Options{Fields: fields, NoNames: cfg.noNames, Resources: !cfg.noResources,
			Posture: !cfg.noPosture, Sockets: cfg.sockets},
		interval:      cfg.interval,
		kernelThreads: cfg.kernelThreads,
		events:        enc,
		log:           log,
		now:           time.Now,
	}
	a.metrics = newMetrics(a.snap.Load)
	return a
}

// scan takes one inventory, writes its events and publishes it. Only a
// failure of the whole scan is returned; per-process failures are counted
// by kind in the metrics.
func (a *agent) scan(ctx context.Context) error {
	start := a.now()
	inv, err := hostscope.TakeInventory(ctx, a.root, a.opts)
	end := a.now()
	took := end.Sub(start)
	a.metrics.scanDuration.Observe(took.Seconds())
	if err != nil {
		if ctx.Err() == nil {
			a.metrics.scanErrors.WithLabelValues(errListProc).Inc()
		}
		return err
	}
	for _, p := range inv.Processes {
		for _, ferr := range p.Missing {
			a.metrics.scanErrors.WithLabelValues(errorKind(ferr)).Inc()
		}
	}
	for _, c := range inv.Containers {
		// A container that stopped since its processes were read has no
		// cgroup or process files left: that is churn, not a failure.
		for _, err := range []error{c.ResourcesErr, c.PostureErr, c.DeclaredErr} {
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				a.metrics.scanErrors.WithLabelValues(errorKind(err)).Inc()
			}
		}
	}
	st := newState(inv, a.prev, a.kernelThreads, a.opts)
	for _, ev := range diff(a.prev, st, end) {
		if err := a.events.Encode(ev); err != nil {
			// Standard output is the event stream's only consumer; a
			// broken one must not stop the scans or the HTTP side.
			a.log.Error("writing events", "err", err)
			break
		}
	}
	a.prev = st
	a.snap.Store(&snapshot{state: st, end: end, took: took})
	return nil
}

// loop scans at once and then every interval until ctx is done. A failed
// scan is logged and the next one tried on schedule; /healthz reports when
// scans keep failing.
func (a *agent) loop(ctx context.Context) {
	t := time.NewTicker(a.interval)
	defer t.Stop()
	for {
		if err := a.scan(ctx); err != nil {
			if errors.Is(err, context.Canceled) && ctx.Err() != nil {
				return
			}
			a.log.Error("scan failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
