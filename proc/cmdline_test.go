package proc

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseCmdline(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want []string
	}{
		{"init", capture(t, "init.cmdline"), []string{"/process_api", "--firecracker-init", "--addr", "0.0.0.0:2024",
			"--max-ws-buffer-size", "32768", "--block-local-connections", "--log-vsock-port", "5002",
			"--control-vsock-port", "5001", "--listen-vsock-port", "2024", "--tcp-readiness-only", "--auth-required"}},
		{"kernel thread: empty", capture(t, "kthreadd.cmdline"), nil},
		{"zombie: empty", capture(t, "zombie.cmdline"), nil},
		{"argument with spaces and parenthesis", capture(t, "weirdcomm.cmdline"), []string{"/tmp/we ird) (na me", "30"}},
		{"empty arguments inside are kept, the trailing one is lost", capture(t, "emptyargs.cmdline"),
			[]string{"perl", "-e", "sleep 30", "", "a b"}},
		{"setproctitle padding with NULs", capture(t, "titlepad.cmdline"), []string{"title: master process with spaces"}},
		{"setproctitle padding with spaces, running into the environment", capture(t, "titlespaces.cmdline"),
			[]string{"title: master process with spaces" + strings.Repeat(" ", 39) + "SHELL=/bin/bash"}},
		{"no trailing NUL", []byte("a\x00b"), []string{"a", "b"}},
		{"only NULs", []byte("\x00\x00\x00"), nil},
		{"leading NUL", []byte("\x00a\x00"), []string{"", "a"}},
		{"non-UTF-8 bytes kept", []byte("\xff\xfe\x00"), []string{"\xff\xfe"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, parseCmdline(tt.data)); diff != "" {
				t.Errorf("parseCmdline() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseCmdline(f *testing.F) {
	for _, name := range []string{"init", "emptyargs", "titlepad", "titlespaces", "kthreadd"} {
		f.Add(capture(f, name+".cmdline"))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		args := parseCmdline(data)
		// Joining the arguments back gives the buffer without its trailing NULs.
		want := strings.TrimRight(string(data), "\x00")
		if got := strings.Join(args, "\x00"); got != want {
			t.Fatalf("joined %q, want %q", got, want)
		}
		if want == "" && args != nil {
			t.Fatalf("empty command line gave %q", args)
		}
	})
}
