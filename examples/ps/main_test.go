package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
)

const ctrID = "9d2f0c8b7a6e5d4c3b2a19080706050403020100ffeeddccbbaa998877665544"

func stat(pid, ppid int, comm string, flags int) string {
	f := []string{fmt.Sprint(pid), "(" + comm + ")", "S", fmt.Sprint(ppid), fmt.Sprint(pid), fmt.Sprint(pid), "0", "-1", fmt.Sprint(flags),
		"0", "0", "0", "0", "7", "3", "0", "0", "20", "0", "1", "0", "250", "8192000", "300"}
	for len(f) < 52 {
		f = append(f, "0")
	}
	return strings.Join(f, " ") + "\n"
}

func status(pid, ppid int, comm string, uid int, nspid string) string {
	return fmt.Sprintf("Name:\t%s\nState:\tS (sleeping)\nPid:\t%d\nPPid:\t%d\nUid:\t%d\t%d\t%d\t%d\nGid:\t0\t0\t0\t0\nThreads:\t1\nNSpid:\t%s\n",
		comm, pid, ppid, uid, uid, uid, uid, nspid)
}

func memHost() *hostroottest.Host {
	return hostroottest.New().
		File("/proc/stat", "cpu  1 1 1 1\nbtime 1700000000\n").
		File("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\nwww:x:33:33::/var/www:/bin/false\n").
		File("/proc/1/stat", stat(1, 0, "init", 0x400100)).
		File("/proc/1/status", status(1, 0, "init", 0, "1")).
		File("/proc/1/cmdline", "/sbin/init\x00splash\x00").
		Symlink("/proc/1/exe", "/usr/lib/systemd/systemd").
		File("/proc/1/cgroup", "0::/init.scope\n").
		File("/proc/2/stat", stat(2, 0, "kthreadd", 0x208040)).
		File("/proc/2/status", status(2, 0, "kthreadd", 0, "2")).
		File("/proc/2/cmdline", "").
		File("/proc/2/cgroup", "0::/\n").
		File("/proc/50/stat", stat(50, 1, "nginx", 0x400100)).
		File("/proc/50/status", status(50, 1, "nginx", 33, "50\t1")).
		File("/proc/50/cmdline", "nginx: master process\x00").
		Symlink("/proc/50/exe", "/usr/sbin/nginx (deleted)").
		File("/proc/50/cgroup", "0::/system.slice/docker-"+ctrID+".scope\n").
		File("/var/lib/docker/containers/"+ctrID+"/config.v2.json",
			`{"ID":"`+ctrID+`","Name":"/web","Config":{"Image":"nginx:1.25"}}`)
}

func runPS(t *testing.T, cfg config, root func() (*hostroot.Root, error)) string {
	t.Helper()
	cfg.openRoot = root
	var out bytes.Buffer
	if err := run(context.Background(), cfg, &out); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func memRoot(t *testing.T, h *hostroottest.Host) func() (*hostroot.Root, error) {
	return func() (*hostroot.Root, error) { return hostroottest.MustRoot(t, h), nil }
}

// decode parses JSON Lines into generic values, so the test checks the
// contract's field names and types, not this program's structs.
func decode(t *testing.T, out string) []map[string]any {
	t.Helper()
	var got []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON line: %q: %v", line, err)
		}
		got = append(got, m)
	}
	return got
}

func TestJSONContract(t *testing.T) {
	got := decode(t, runPS(t, config{json: true}, memRoot(t, memHost())))
	start := "2023-11-14T22:13:22.5Z" // btime 1700000000 + 250 ticks
	want := []map[string]any{
		{"pid": 1.0, "ppid": 0.0, "comm": "init", "state": "S", "cmdline": []any{"/sbin/init", "splash"},
			"exe": "/usr/lib/systemd/systemd", "uid": 0.0, "start_time": start, "nspid": []any{1.0}, "container": nil},
		{"pid": 2.0, "ppid": 0.0, "comm": "kthreadd", "state": "S", "cmdline": []any{},
			"exe": "", "uid": 0.0, "start_time": start, "nspid": []any{2.0}, "container": nil},
		{"pid": 50.0, "ppid": 1.0, "comm": "nginx", "state": "S", "cmdline": []any{"nginx: master process"},
			"exe": "/usr/sbin/nginx", "uid": 33.0, "start_time": start, "nspid": []any{50.0, 1.0},
			"container": map[string]any{"id": ctrID, "runtime": "docker", "pod_uid": "", "qos": "",
				"name": "web", "image": "nginx:1.25", "pod_name": "", "pod_namespace": "", "sandbox": false, "pod_id": ""}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ps --json (-want +got):\n%s", diff)
	}
}

// A sparse on-disk root: process directories holding only some files still
// give a line each, with the missing fields empty.
func TestJSONSparseRoot(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("proc/7/stat", stat(7, 1, "onlystat", 0x400100))
	write("proc/8/cmdline", "only\x00cmdline\x00")
	write("proc/9/cgroup", "0::/system.slice/docker-"+ctrID+".scope\n")
	os.MkdirAll(filepath.Join(dir, "proc/10"), 0o755) // an empty process directory
	got := decode(t, runPS(t, config{json: true, root: dir}, nil))
	empty := func(pid float64) map[string]any {
		return map[string]any{"pid": pid, "ppid": 0.0, "comm": "", "state": "", "cmdline": []any{}, "exe": "",
			"uid": 0.0, "start_time": "", "nspid": []any{}, "container": nil}
	}
	p7, p8, p9 := empty(7), empty(8), empty(9)
	p7["ppid"], p7["comm"], p7["state"] = 1.0, "onlystat", "S" // no /proc/stat: no start time
	p8["cmdline"] = []any{"only", "cmdline"}
	p9["container"] = map[string]any{"id": ctrID, "runtime": "docker", "pod_uid": "", "qos": "",
		"name": "", "image": "", "pod_name": "", "pod_namespace": "", "sandbox": false, "pod_id": ""}
	want := []map[string]any{p7, p8, p9, empty(10)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ps --json on a sparse root (-want +got):\n%s", diff)
	}
}

func TestTable(t *testing.T) {
	got := runPS(t, config{}, memRoot(t, memHost()))
	want := `PID PPID USER STATE CONTAINER           COMMAND
1   0    root S     -                   /sbin/init splash
2   0    root S     -                   [kthreadd]
50  1    www  S     9d2f0c8b7a6e docker nginx: master process
`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
}

func TestTree(t *testing.T) {
	got := runPS(t, config{tree: true}, memRoot(t, memHost()))
	want := `1 root /sbin/init splash
└─ 50 www nginx: master process  [9d2f0c8b7a6e docker]
2 root [kthreadd]
`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tree (-want +got):\n%s", diff)
	}
}

// The README's first command: ps against this machine finds this test.
func TestNative(t *testing.T) {
	out := runPS(t, config{json: true}, hostroot.Native)
	self := fmt.Sprintf(`{"pid":%d,`, os.Getpid())
	if !strings.Contains(out, self) {
		t.Fatalf("ps --json on this machine has no line for this test's PID %d", os.Getpid())
	}
	for _, m := range decode(t, out) {
		if int(m["pid"].(float64)) == os.Getpid() {
			exe, _ := os.Executable()
			if m["exe"] != exe || m["start_time"] == "" {
				t.Errorf("own line: %v; want exe %s and a start time", m, exe)
			}
		}
	}
}

// socketHost is memHost with sockets: nginx listens on :80 (IPv4 and, in
// tcp6, [::]:80), serves a client, and holds a unix listener; init's
// descriptors cannot be read.
func socketHost() *hostroottest.Host {
	return memHost().
		Symlink("/proc/50/ns/net", "net:[4026532600]").
		Symlink("/proc/50/fd/0", "/dev/null").
		Symlink("/proc/50/fd/6", "socket:[9001]").
		Symlink("/proc/50/fd/7", "socket:[9002]").
		Symlink("/proc/50/fd/8", "socket:[9003]").
		Symlink("/proc/50/fd/9", "socket:[9004]").
		File("/proc/50/net/tcp", "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"+
			"   0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000    33        0 9001 1 0 100 0 0 10 0\n"+
			"   1: 0200110A:0050 0101A8C0:C350 01 00000000:00000000 02:00000444 00000000    33        0 9002 2 0 21 4 33 91 146\n").
		File("/proc/50/net/tcp6", "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"+
			"   0: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000    33        0 9003 1 0 100 0 0 10 0\n").
		File("/proc/50/net/unix", "Num       RefCount Protocol Flags    Type St Inode Path\n"+
			"0000000000000000: 00000002 00000000 00010000 0001 01  9004 /run/nginx.sock\n").
		Dir("/proc/2/fd")
}

func TestJSONSockets(t *testing.T) {
	got := decode(t, runPS(t, config{json: true, sockets: true}, memRoot(t, socketHost())))
	sock := func(proto, laddr string, lport float64, raddr string, rport float64, state string, inode float64) map[string]any {
		return map[string]any{"protocol": proto, "local_address": laddr, "local_port": lport,
			"remote_address": raddr, "remote_port": rport, "state": state, "inode": inode}
	}
	want := map[float64]any{
		1: []any{}, // its fd directory is absent here: no sockets, an empty list
		2: []any{},
		50: []any{
			sock("tcp", "0.0.0.0", 80, "0.0.0.0", 0, "LISTEN", 9001),
			sock("tcp", "10.17.0.2", 80, "192.168.1.1", 50000, "ESTABLISHED", 9002),
			sock("tcp6", "::", 80, "::", 0, "LISTEN", 9003),
			sock("unix", "/run/nginx.sock", 0, "", 0, "LISTEN", 9004),
		},
	}
	gotSocks := map[float64]any{}
	for _, m := range got {
		gotSocks[m["pid"].(float64)] = m["sockets"]
	}
	if diff := cmp.Diff(want, gotSocks); diff != "" {
		t.Errorf("ps --json --sockets: sockets (-want +got):\n%s", diff)
	}
	// The other fields are those of ps --json.
	plain := decode(t, runPS(t, config{json: true}, memRoot(t, socketHost())))
	for i := range got {
		delete(got[i], "sockets")
	}
	if diff := cmp.Diff(plain, got); diff != "" {
		t.Errorf("ps --json --sockets, other fields (-plain +sockets):\n%s", diff)
	}
}

func TestTableSockets(t *testing.T) {
	got := runPS(t, config{sockets: true}, memRoot(t, socketHost()))
	want := `PID PPID USER STATE CONTAINER           COMMAND               SOCKETS
1   0    root S     -                   /sbin/init splash     ?
2   0    root S     -                   [kthreadd]            -
50  1    www  S     9d2f0c8b7a6e docker nginx: master process tcp *:80 LISTEN, tcp 10.17.0.2:80->192.168.1.1:50000 ESTABLISHED, tcp6 *:80 LISTEN, unix /run/nginx.sock LISTEN
`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
}
