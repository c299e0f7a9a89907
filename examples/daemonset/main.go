package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/hostscope/hostscope/hostroot"
)

func main() {
	cfg, err := parseConfig(os.Args[1:], os.LookupEnv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "hostscope-agent:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := serve(ctx, cfg, openRoot(cfg), os.Stdout, log, nil); err != nil {
		log.Error("exiting", "err", err)
		os.Exit(1)
	}
}

// openRoot opens --root, else the HOST_* environment's Root.
func openRoot(cfg config) func() (*hostroot.Root, error) {
	return func() (*hostroot.Root, error) {
		if cfg.root != "" {
			return hostroot.Dir(cfg.root)
		}
		return hostroot.FromEnv()
	}
}

// serve runs the agent until ctx is done: the scans on one goroutine, the
// HTTP server on cfg.listen (or on ln when not nil). On cancellation it
// stops scanning, lets requests in flight finish for cfg.shutdownTimeout,
// and returns nil.
func serve(ctx context.Context, cfg config, open func() (*hostroot.Root, error), events io.Writer, log *slog.Logger, ln net.Listener) error {
	root, err := open()
	if err != nil {
		return err
	}
	defer root.Close()
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.listen); err != nil {
			return err
		}
	}
	a := newAgent(root, cfg, events, log)
	srv := &http.Server{
		Handler:           a.handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       time.Minute,
	}
	log.Info("starting", "root", root.String(), "listen", ln.Addr().String(), "interval", cfg.interval)

	srvErr := make(chan error, 1)
	go func() { srvErr <- srv.Serve(ln) }()
	scanCtx, stopScans := context.WithCancel(ctx)
	defer stopScans()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.loop(scanCtx)
	}()

	select {
	case <-ctx.Done():
	case err = <-srvErr: // the listener failed: nothing left to serve
	}
	stopScans()
	stopCtx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	if serr := srv.Shutdown(stopCtx); serr != nil && err == nil {
		err = fmt.Errorf("draining HTTP: %w", serr)
	}
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	log.Info("stopped")
	return err
}
