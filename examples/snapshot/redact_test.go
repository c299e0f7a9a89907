package main

import (
	"bytes"
	"testing"
)

func TestRedactCmdline(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"argv", "/usr/bin/mysql\x00-uroot\x00-phunter2\x00", "/usr/bin/mysql\x00REDACTED\x00REDACTED\x00"},
		{"argv0 only", "/sbin/init\x00", "/sbin/init\x00"},
		{"kernel thread", "", ""},
		{"no trailing NUL", "sh\x00-c\x00echo hi", "sh\x00REDACTED\x00REDACTED"},
		// perl -e 'sleep 30' "" "a b" "": the trailing empty argument
		// cannot be told from padding, and stays a NUL.
		{"empty arguments", "perl\x00-e\x00sleep 30\x00\x00a b\x00\x00", "perl\x00REDACTED\x00REDACTED\x00REDACTED\x00REDACTED\x00\x00"},
		// setproctitle padding: the trailing NUL run is kept as is.
		{"title padded with NULs", "nginx: worker\x00\x00\x00\x00", "nginx: worker\x00\x00\x00\x00"},
		{"title with spaces", "postgres: alice db 10.0.0.1(5432) idle", "postgres: alice db 10.0.0.1(5432) idle"},
		{"leading NUL", "\x00secret\x00", "\x00REDACTED\x00"},
	}
	for _, tt := range tests {
		got := string(redactCmdline([]byte("prefix:"), []byte(tt.in)))
		if want := "prefix:" + tt.want; got != want {
			t.Errorf("%s: redactCmdline(%q) = %q, want %q", tt.name, tt.in, got, want)
		}
	}
}

func TestRedactEnviron(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"pairs", "HOME=/root\x00TOKEN=s3cr3t\x00", "HOME=\x00TOKEN=\x00"},
		{"value with =", "OPTS=a=b=c\x00", "OPTS=\x00"},
		{"empty value", "EMPTY=\x00", "EMPTY=\x00"},
		{"no =", "garbage\x00K=v\x00", "\x00K=\x00"},
		{"no trailing NUL", "A=1\x00B=2", "A=\x00B="},
		{"empty", "", ""},
		{"only NULs", "\x00\x00", "\x00\x00"},
	}
	for _, tt := range tests {
		got := string(redactEnviron([]byte("prefix:"), []byte(tt.in)))
		if want := "prefix:" + tt.want; got != want {
			t.Errorf("%s: redactEnviron(%q) = %q, want %q", tt.name, tt.in, got, want)
		}
	}
}

// Redaction keeps the NUL structure and argv[0], and leaves no byte of an
// argument after argv[0].
func FuzzRedactCmdline(f *testing.F) {
	for _, s := range []string{"", "a\x00b\x00", "a", "\x00\x00", "a\x00\x00b\x00\x00\x00"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out := redactCmdline(nil, in)
		if bytes.Count(out, []byte{0}) != bytes.Count(in, []byte{0}) {
			t.Fatalf("NUL count changed: %q -> %q", in, out)
		}
		argv0, _, _ := bytes.Cut(in, []byte{0})
		if !bytes.HasPrefix(out, argv0) {
			t.Fatalf("argv[0] lost: %q -> %q", in, out)
		}
		body := bytes.TrimRight(out, "\x00")
		parts := bytes.Split(body, []byte{0})
		for _, p := range parts[1:] {
			if string(p) != redacted {
				t.Fatalf("argument %q left in %q", p, out)
			}
		}
	})
}

// Redaction keeps the NUL structure and leaves only keys.
func FuzzRedactEnviron(f *testing.F) {
	for _, s := range []string{"", "A=1\x00", "A\x00=\x00", "A=b=c"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out := redactEnviron(nil, in)
		if bytes.Count(out, []byte{0}) != bytes.Count(in, []byte{0}) {
			t.Fatalf("NUL count changed: %q -> %q", in, out)
		}
		for _, e := range bytes.Split(out, []byte{0}) {
			if len(e) > 0 && (bytes.IndexByte(e, '=') != len(e)-1) {
				t.Fatalf("entry %q of %q is not KEY=", e, out)
			}
		}
	})
}
