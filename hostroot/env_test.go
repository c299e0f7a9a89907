package hostroot_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hostscope/hostscope/hostroot"
)

// envTrees makes one directory per relocatable subtree, each file saying
// which directory it came from, so a read tells where the Root looked.
func envTrees(t *testing.T) (base string) {
	t.Helper()
	base = t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(base, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The "host" tree at base/host, with its own copy of every subtree.
	for _, sub := range []string{"proc", "sys", "dev", "etc", "run", "var"} {
		write("host/"+sub+"/marker", "host-"+sub)
		write("alt-"+sub+"/marker", "alt-"+sub)
	}
	// A symlink from one relocated subtree into another.
	if err := os.Symlink("/run/resolv/resolv.conf", filepath.Join(base, "alt-etc", "resolv.conf")); err != nil {
		t.Fatal(err)
	}
	write("alt-run/resolv/resolv.conf", "nameserver alt-run")
	write("host/run/resolv/resolv.conf", "nameserver host-run")
	return base
}

func TestFromEnv(t *testing.T) {
	base := envTrees(t)
	vars := map[string]string{
		"HOST_PROC": "proc", "HOST_SYS": "sys", "HOST_DEV": "dev",
		"HOST_ETC": "etc", "HOST_RUN": "run", "HOST_VAR": "var",
	}
	type want map[string]string // host name -> content
	allHost := func() want {
		w := want{}
		for _, sub := range vars {
			w["/"+sub+"/marker"] = "host-" + sub
		}
		return w
	}
	tests := []struct {
		name string
		env  map[string]string
		want want
	}{
		{"HOST_ROOT alone", map[string]string{"HOST_ROOT": base + "/host"}, allHost()},
	}
	// Each variable alone, over HOST_ROOT: only its subtree moves.
	for v, sub := range vars {
		w := allHost()
		w["/"+sub+"/marker"] = "alt-" + sub
		tests = append(tests, struct {
			name string
			env  map[string]string
			want want
		}{v + " alone", map[string]string{"HOST_ROOT": base + "/host", v: base + "/alt-" + sub}, w})
	}
	// All combined.
	all := map[string]string{"HOST_ROOT": base + "/host"}
	wAll := want{}
	for v, sub := range vars {
		all[v] = base + "/alt-" + sub
		wAll["/"+sub+"/marker"] = "alt-" + sub
	}
	wAll["/etc/resolv.conf"] = "nameserver alt-run" // crosses from HOST_ETC into HOST_RUN
	tests = append(tests, struct {
		name string
		env  map[string]string
		want want
	}{"all combined", all, wAll})
	// HOST_ETC relocated but /run not: the link lands in the host tree.
	tests = append(tests, struct {
		name string
		env  map[string]string
		want want
	}{"cross-subtree link", map[string]string{"HOST_ROOT": base + "/host", "HOST_ETC": base + "/alt-etc"},
		want{"/etc/resolv.conf": "nameserver host-run", "/etc/marker": "alt-etc", "/run/marker": "host-run"}})
	// A variable naming the subtree's own place in HOST_ROOT changes nothing.
	tests = append(tests, struct {
		name string
		env  map[string]string
		want want
	}{"alias of HOST_ROOT's own subtree", map[string]string{"HOST_ROOT": base + "/host", "HOST_PROC": base + "/host/proc"}, allHost()})

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := hostroot.FromEnvLookup(func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok })
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			got := map[string]string{}
			for name := range tt.want {
				b, err := r.ReadFile(name)
				if err != nil {
					got[name] = "error: " + err.Error()
					continue
				}
				got[name] = string(b)
			}
			if diff := cmp.Diff(map[string]string(tt.want), got); diff != "" {
				t.Errorf("reads (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFromEnvDaemonSet is the least-privilege DaemonSet layout: only the
// node's /proc and /sys are mounted in, at /host/proc and /host/sys, and
// the rest of the tree is the agent's own.
func TestFromEnvDaemonSet(t *testing.T) {
	base := envTrees(t)
	r, err := hostroot.FromEnvLookup(func(k string) (string, bool) {
		v, ok := map[string]string{"HOST_PROC": base + "/host/proc", "HOST_SYS": base + "/host/sys"}[k]
		return v, ok
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for name, want := range map[string]string{"/proc/marker": "host-proc", "/sys/marker": "host-sys"} {
		b, err := r.ReadFile(name)
		if err != nil || string(b) != want {
			t.Errorf("ReadFile(%s) = %q, %v; want %q", name, b, err, want)
		}
	}
	// Everything else is the reader's own "/".
	own, err := os.ReadFile("/etc/hostname")
	if err == nil {
		b, err := r.ReadFile("/etc/hostname")
		if err != nil || string(b) != string(own) {
			t.Errorf("ReadFile(/etc/hostname) = %q, %v; want the reader's own %q", b, err, own)
		}
	}
	if !strings.Contains(r.String(), "HOST_PROC="+base+"/host/proc") {
		t.Errorf("String() = %q, want it to name HOST_PROC", r.String())
	}
}

func TestFromEnvErrors(t *testing.T) {
	base := envTrees(t)
	for name, env := range map[string]map[string]string{
		"relative":     {"HOST_PROC": "host/proc"},
		"missing":      {"HOST_SYS": base + "/does-not-exist"},
		"missing root": {"HOST_ROOT": base + "/nope"},
		"a file":       {"HOST_ETC": base + "/host/etc/marker"},
	} {
		_, err := hostroot.FromEnvLookup(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		if err == nil {
			t.Errorf("%s: FromEnv succeeded, want an error", name)
		}
	}
}

// TestFromEnvProcess checks the exported constructor reads the real
// environment.
func TestFromEnvProcess(t *testing.T) {
	base := envTrees(t)
	t.Setenv("HOST_ROOT", base+"/host")
	t.Setenv("HOST_RUN", base+"/alt-run")
	r, err := hostroot.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := r.ReadFile("/run/marker")
	if err != nil || string(b) != "alt-run" {
		t.Errorf("ReadFile(/run/marker) = %q, %v", b, err)
	}
	if _, err := r.ReadFile("/run/../../../../alt-run/marker"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a .. chain out of HOST_ROOT: err = %v, want ENOENT", err)
	}
}
