package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
)

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestParseConfig(t *testing.T) {
	defaults := config{interval: 10 * time.Second, listen: ":9100", shutdownTimeout: 5 * time.Second}
	for _, tc := range []struct {
		name    string
		args    []string
		env     map[string]string
		want    config
		wantErr string
	}{
		{name: "defaults", want: defaults},
		{
			name: "flags",
			args: []string{"--root", "/host", "--interval", "2s", "--listen", "127.0.0.1:9200", "--kernel-threads", "--no-names", "--no-posture", "--sockets", "--shutdown-timeout", "1s"},
			want: config{root: "/host", interval: 2 * time.Second, listen: "127.0.0.1:9200", kernelThreads: true, noNames: true,
				noPosture: true, sockets: true, shutdownTimeout: time.Second},
		},
		{
			name: "environment",
			env: map[string]string{"HOSTSCOPE_ROOT": "/host", "HOSTSCOPE_INTERVAL": "30s", "HOSTSCOPE_LISTEN": ":9300",
				"HOSTSCOPE_KERNEL_THREADS": "true", "HOSTSCOPE_NO_NAMES": "1", "HOSTSCOPE_NO_POSTURE": "true", "HOSTSCOPE_SOCKETS": "true",
				"HOSTSCOPE_SHUTDOWN_TIMEOUT": "0s"},
			want: config{root: "/host", interval: 30 * time.Second, listen: ":9300", kernelThreads: true, noNames: true, noPosture: true, sockets: true},
		},
		{
			name: "flag wins over environment",
			args: []string{"--interval=1s", "--kernel-threads=false"},
			env:  map[string]string{"HOSTSCOPE_INTERVAL": "30s", "HOSTSCOPE_KERNEL_THREADS": "true"},
			want: config{interval: time.Second, listen: ":9100", shutdownTimeout: 5 * time.Second},
		},
		{name: "bad environment value", env: map[string]string{"HOSTSCOPE_INTERVAL": "often"}, wantErr: `environment HOSTSCOPE_INTERVAL="often"`},
		{name: "bad flag", args: []string{"--interval", "often"}, wantErr: "invalid value"},
		{name: "zero interval", args: []string{"--interval", "0s"}, wantErr: "--interval must be positive"},
		{name: "negative shutdown timeout", env: map[string]string{"HOSTSCOPE_SHUTDOWN_TIMEOUT": "-1s"}, wantErr: "--shutdown-timeout must not be negative"},
		{name: "argument", args: []string{"extra"}, wantErr: `unexpected argument "extra"`},
		{name: "unknown flag", args: []string{"--intervall", "1s"}, wantErr: "not defined"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseConfig(tc.args, envOf(tc.env), io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(config{})); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHelpListsEveryFlagAndVariable(t *testing.T) {
	var out bytes.Buffer
	_, err := parseConfig([]string{"--help"}, envOf(nil), &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v, want flag.ErrHelp", err)
	}
	for _, name := range flagNames {
		line := "--" + name + " "
		if !strings.Contains(out.String(), line) || !strings.Contains(out.String(), envName(name)) {
			t.Errorf("--help lacks %s or %s:\n%s", line, envName(name), out.String())
		}
	}
	for _, want := range []string{"/healthz", "/inventory", "/metrics", "HOST_PROC"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--help does not mention %s", want)
		}
	}
}

var flagNames = []string{"root", "interval", "listen", "kernel-threads", "no-names", "no-resources", "no-posture", "sockets", "shutdown-timeout"}

// TestREADMEListsEveryFlag: the README's table has a row for each flag,
// with its variable.
func TestREADMEListsEveryFlag(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range flagNames {
		row := "| `--" + name
		if !strings.Contains(string(readme), row) || !strings.Contains(string(readme), "| `"+envName(name)+"` |") {
			t.Errorf("README.md has no row %s ... | `%s` |", row, envName(name))
		}
	}
}

// TestServe runs the whole agent on an in-memory node and a loopback port:
// it answers once the first scan is done, writes its events, and on
// cancellation (SIGTERM in main) stops and returns nil.
func TestServe(t *testing.T) {
	n := newNode(t, initProc, nginx)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	var events safeBuffer
	cfg := config{interval: 50 * time.Millisecond, shutdownTimeout: time.Second}
	open := func() (*hostroot.Root, error) { return hostroottest.MustRoot(t, n.h), nil }
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, open, &events, slog.New(slog.NewTextHandler(io.Discard, nil)), ln) }()

	url := "http://" + ln.Addr().String()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz never answered 200: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	n.kill(nginx.pid)
	for !strings.Contains(events.String(), `"type":"container_stopped"`) {
		if time.Now().After(deadline) {
			t.Fatalf("no container_stopped event; events:\n%s", events.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve returned %v after cancellation, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not return after cancellation")
	}
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Error("the server still answers after shutdown")
	}
	decodeEvents(t, events.String()) // every line is a whole event
}

func TestServeFailsWithoutRoot(t *testing.T) {
	open := func() (*hostroot.Root, error) { return nil, errors.New("no root here") }
	err := serve(t.Context(), config{interval: time.Second}, open, io.Discard, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err == nil || !strings.Contains(err.Error(), "no root here") {
		t.Errorf("serve = %v, want the Root's error", err)
	}
}
