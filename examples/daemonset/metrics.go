package main

import (
	"errors"
	"io/fs"
	"maps"
	"slices"
	"sort"

	"github.com/hostscope/hostscope"
	"github.com/hostscope/hostscope/cgroup"
	"github.com/hostscope/hostscope/hostroot"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Scan error kinds, the values of hostscope_scan_errors_total's kind label.
const (
	errListProc   = "list_proc"  // the scan failed as a whole: /proc could not be listed
	errPermission = "permission" // a process's file or link was denied (no SYS_PTRACE, hardening)
	errMalformed  = "malformed"  // a process's file did not parse
	errMissing    = "missing"    // a process's file was absent although the process was there
	errOther      = "other"
)

var errorKinds = []string{errListProc, errPermission, errMalformed, errMissing, errOther}

// errorKind classifies one field's failure from proc.Process.Missing.
func errorKind(err error) string {
	switch {
	case errors.Is(err, fs.ErrPermission):
		return errPermission
	case errors.Is(err, hostroot.ErrMalformed):
		return errMalformed
	case errors.Is(err, fs.ErrNotExist):
		return errMissing
	}
	return errOther
}

// metrics is the agent's Prometheus registry. The per-container and per-pod
// series are not kept in vectors: they are generated from the latest scan's
// state at each collection, so a stopped container's series disappear with
// it and the label cardinality is bounded by what runs on the node.
type metrics struct {
	reg          *prometheus.Registry
	scanDuration prometheus.Histogram
	scanErrors   *prometheus.CounterVec
}

func newMetrics(current func() *snapshot) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		scanDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "hostscope_scan_duration_seconds",
			Help: "Time one scan of every process and container took, successful or not.",
			// 5 ms (a near-empty node) to 10 s (tens of thousands of processes).
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
		}),
		scanErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hostscope_scan_errors_total",
			Help: "Failures met while scanning, by kind: list_proc (a whole scan failed), permission, malformed, missing (a per-process file), other.",
		}, []string{"kind"}),
	}
	for _, k := range errorKinds {
		m.scanErrors.WithLabelValues(k)
	}
	m.reg.MustRegister(
		m.scanDuration, m.scanErrors,
		newInventoryCollector(current),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// inventoryCollector turns the latest scan into gauges.
type inventoryCollector struct {
	current                                       func() *snapshot
	ctrProcs, podProcs, ctrs, hostProcs, lastScan *prometheus.Desc
	// Resource figures of each container's cgroup.
	memUsage, memLimit, cpu, throttled, pids, pidsMax *prometheus.Desc
	// Posture findings per container and per rule; listening sockets.
	findings, ctrsWithFinding, listening *prometheus.Desc
}

// ctrLabels name a container's series.
var ctrLabels = []string{"container_id", "runtime", "name", "pod_name", "namespace"}

func newInventoryCollector(current func() *snapshot) *inventoryCollector {
	return &inventoryCollector{
		current: current,
		ctrProcs: prometheus.NewDesc("hostscope_container_processes",
			"Processes in each running container, as of the last successful scan.", ctrLabels, nil),
		memUsage: prometheus.NewDesc("hostscope_container_memory_usage_bytes",
			"Memory charged to each container's cgroup.", ctrLabels, nil),
		memLimit: prometheus.NewDesc("hostscope_container_memory_limit_bytes",
			"Memory limit of each container's cgroup; no series when unlimited.", ctrLabels, nil),
		cpu: prometheus.NewDesc("hostscope_container_cpu_usage_seconds_total",
			"CPU time consumed by each container's cgroup.", ctrLabels, nil),
		throttled: prometheus.NewDesc("hostscope_container_cpu_throttled_seconds_total",
			"Time each container's cgroup spent throttled by its CPU quota.", ctrLabels, nil),
		pids: prometheus.NewDesc("hostscope_container_pids",
			"Tasks (processes and threads) in each container's cgroup.", ctrLabels, nil),
		pidsMax: prometheus.NewDesc("hostscope_container_pids_limit",
			"Task limit of each container's cgroup; no series when unlimited.", ctrLabels, nil),
		findings: prometheus.NewDesc("hostscope_container_findings",
			"Posture findings of each container by rule (a host namespace or a mount each count one), as of the last scan that read its posture whole; no series for a rule the container does not break.",
			append(slices.Clone(ctrLabels), "rule"), nil),
		ctrsWithFinding: prometheus.NewDesc("hostscope_containers_with_finding",
			"Running containers that break each posture rule, by each one's findings as of the last scan that read its posture whole; every rule has a series.",
			[]string{"rule"}, nil),
		listening: prometheus.NewDesc("hostscope_container_listening_sockets",
			"Sockets each container waits for peers on, by protocol (tcp, tcp6, udp, udp6, unix), with --sockets; no series for a protocol it does not listen on.",
			append(slices.Clone(ctrLabels), "protocol"), nil),
		podProcs: prometheus.NewDesc("hostscope_pod_processes",
			"Processes in each pod (Kubernetes, or podman's), as of the last successful scan.",
			[]string{"pod_name", "namespace", "pod_uid"}, nil),
		ctrs: prometheus.NewDesc("hostscope_containers",
			"Running containers by runtime (\"unknown\" when the cgroup path does not say), as of the last successful scan.",
			[]string{"runtime"}, nil),
		hostProcs: prometheus.NewDesc("hostscope_host_processes",
			"Processes in no container, as of the last successful scan.", nil, nil),
		lastScan: prometheus.NewDesc("hostscope_last_scan_success_timestamp_seconds",
			"When the last successful scan ended, in seconds since the Unix epoch.", nil, nil),
	}
}

func (c *inventoryCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.ctrProcs
	ch <- c.podProcs
	ch <- c.ctrs
	ch <- c.hostProcs
	ch <- c.lastScan
	for _, d := range []*prometheus.Desc{c.memUsage, c.memLimit, c.cpu, c.throttled, c.pids, c.pidsMax,
		c.findings, c.ctrsWithFinding, c.listening} {
		ch <- d
	}
}

// resources writes a container's cgroup figures, each only when read.
func (c *inventoryCollector) resources(ch chan<- prometheus.Metric, r *cgroup.Resources, labels []string) {
	if r == nil {
		return
	}
	gauge := func(d *prometheus.Desc, v uint64) {
		if v != cgroup.Unlimited {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
		}
	}
	if m := r.Memory; m != nil {
		gauge(c.memUsage, m.Usage)
		gauge(c.memLimit, m.Limit)
	}
	if cpu := r.CPU; cpu != nil {
		ch <- prometheus.MustNewConstMetric(c.cpu, prometheus.CounterValue, cpu.Usage.Seconds(), labels...)
		if t := cpu.Throttling; t != nil {
			ch <- prometheus.MustNewConstMetric(c.throttled, prometheus.CounterValue, t.ThrottledTime.Seconds(), labels...)
		}
	}
	if p := r.Pids; p != nil {
		gauge(c.pids, p.Current)
		gauge(c.pidsMax, p.Max)
	}
}

// posture writes a container's findings, one series per rule it breaks
// valued with the rule's number of findings, and counts the container in
// breaking for each of those rules.
func (c *inventoryCollector) posture(ch chan<- prometheus.Metric, e *ctrEntry, labels []string, breaking map[string]int) {
	if e.c.Posture == nil {
		return
	}
	// The findings of the last scan that read the posture whole, as events
	// report them: a posture read in part can lack findings the container
	// has, or hold a moment's (a runc exec's setup process briefly has
	// every capability, which reads as privileged and hides the
	// added-capabilities finding).
	findings := e.c.Posture.Findings
	if e.known {
		findings = e.findings
	}
	perRule := map[string]int{}
	for _, f := range findings {
		perRule[f.Rule]++
	}
	for _, r := range hostscope.Rules {
		if n := perRule[string(r)]; n > 0 {
			ch <- prometheus.MustNewConstMetric(c.findings, prometheus.GaugeValue, float64(n), append(labels, string(r))...)
			breaking[string(r)]++
		}
	}
}

// sockets writes a container's listening sockets by protocol, when they
// were read.
func (c *inventoryCollector) sockets(ch chan<- prometheus.Metric, e *ctrEntry, labels []string) {
	if e.listening == nil {
		return
	}
	perProto := map[string]int{}
	for _, s := range e.listening {
		perProto[s.Protocol]++
	}
	for _, proto := range slices.Sorted(maps.Keys(perProto)) {
		ch <- prometheus.MustNewConstMetric(c.listening, prometheus.GaugeValue, float64(perProto[proto]), append(labels, proto)...)
	}
}

type podLabels struct{ name, namespace, uid string }

func (c *inventoryCollector) Collect(ch chan<- prometheus.Metric) {
	snap := c.current()
	if snap == nil {
		return // no scan yet: no series rather than misleading zeros
	}
	st := snap.state
	byRuntime := map[string]int{}
	breaking := map[string]int{}
	for _, key := range sortedContainers(st.containers) {
		e := st.containers[key]
		labels := []string{e.c.ID, e.c.Runtime, e.c.Name, e.c.PodName, e.c.PodNamespace}
		ch <- prometheus.MustNewConstMetric(c.ctrProcs, prometheus.GaugeValue, float64(len(e.pids)), labels...)
		c.resources(ch, e.res, labels)
		c.posture(ch, e, labels, breaking)
		c.sockets(ch, e, labels)
		rt := e.c.Runtime
		if rt == "" {
			rt = "unknown"
		}
		byRuntime[rt]++
	}
	rts := make([]string, 0, len(byRuntime))
	for rt := range byRuntime {
		rts = append(rts, rt)
	}
	sort.Strings(rts)
	for _, rt := range rts {
		ch <- prometheus.MustNewConstMetric(c.ctrs, prometheus.GaugeValue, float64(byRuntime[rt]), rt)
	}
	if st.postures {
		for _, r := range hostscope.Rules {
			ch <- prometheus.MustNewConstMetric(c.ctrsWithFinding, prometheus.GaugeValue, float64(breaking[string(r)]), string(r))
		}
	}
	pods := map[podLabels]int{}
	host := 0
	for _, e := range st.procs {
		ct := e.p.Container
		if ct != nil && (ct.PodUID != "" || ct.PodName != "") {
			pods[podLabels{ct.PodName, ct.PodNamespace, ct.PodUID}]++
		}
		if e.ckey == "" {
			host++
		}
	}
	for p, n := range pods {
		ch <- prometheus.MustNewConstMetric(c.podProcs, prometheus.GaugeValue, float64(n), p.name, p.namespace, p.uid)
	}
	ch <- prometheus.MustNewConstMetric(c.hostProcs, prometheus.GaugeValue, float64(host))
	ch <- prometheus.MustNewConstMetric(c.lastScan, prometheus.GaugeValue, float64(snap.end.UnixNano())/1e9)
}
