package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// staleAfter is how many intervals may pass after the last successful scan
// before /healthz fails: one missed or slow scan is not a reason for the
// kubelet to restart the agent, three in a row are.
const staleAfter = 3

// handler serves /healthz, /inventory and /metrics.
func (a *agent) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", a.healthz)
	mux.HandleFunc("GET /inventory", a.inventory)
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.metrics.reg, promhttp.HandlerOpts{}))
	return mux
}

// healthz answers 200 when the last successful scan is recent, 503 before
// the first one and once it is more than staleAfter intervals old.
func (a *agent) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	snap := a.snap.Load()
	if snap == nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "no scan has succeeded yet")
		return
	}
	age := a.now().Sub(snap.end)
	if age > staleAfter*a.interval {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "last successful scan ended %s ago, more than %d intervals of %s\n", age.Round(time.Millisecond), staleAfter, a.interval)
		return
	}
	fmt.Fprintf(w, "ok: last scan ended %s ago\n", age.Round(time.Millisecond))
}

// inventory answers the last successful scan as JSON (jsonInventory), 503
// before the first one.
func (a *agent) inventory(w http.ResponseWriter, r *http.Request) {
	snap := a.snap.Load()
	if snap == nil {
		http.Error(w, "no scan has succeeded yet", http.StatusServiceUnavailable)
		return
	}
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false) // as the events: command lines keep their "<" and "&"
	if err := enc.Encode(snap.state.inventory(snap.end, snap.took)); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body.Bytes())
}
