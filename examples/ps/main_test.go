package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

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
	h := hostroottest.New().
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
			`{"ID":"`+ctrID+`","Name":"/web","Config":{"Image":"nginx:1.25"}}`).
		// What the runtime was asked for: posture.declared.
		File("/var/lib/docker/containers/"+ctrID+"/hostconfig.json", `{"Privileged":false}`).
		File("/run/containerd/io.containerd.runtime.v2.task/moby/"+ctrID+"/config.json",
			`{"process":{"capabilities":{"bounding":["CAP_CHOWN"]}},"linux":{"namespaces":[{"type":"mount"},{"type":"network","path":"/run/netns/x"},{"type":"uts"},{"type":"pid"},{"type":"ipc"},{"type":"cgroup"}]}}`).
		// What the posture reads: the host's capability limit, its
		// namespaces and mount table, and the container's.
		File("/proc/sys/kernel/cap_last_cap", "40\n").
		File("/proc/1/mountinfo", "21 1 254:0 / / rw - ext4 /dev/vda rw\n25 21 0:25 / /run rw - tmpfs tmpfs rw\n").
		File("/proc/50/mountinfo", "600 500 0:40 / / rw - overlay overlay rw\n"+
			"601 600 254:0 /var/lib/docker/containers/"+ctrID+"/hosts /etc/hosts rw - ext4 /dev/vda rw\n"+
			"602 600 254:0 /srv/www /var/www ro - ext4 /dev/vda rw\n").
		File("/proc/50/uid_map", "         0          0 4294967295\n").
		Device("/ctr/50/dev/null", hostroottest.Char, 1, 3, 0o666).
		ProcRoot(50, "/ctr/50")
	for name, ino := range map[string]int{"cgroup": 10, "ipc": 11, "mnt": 12, "net": 13, "pid": 14, "time": 15, "user": 16, "uts": 17} {
		h.Symlink("/proc/1/ns/"+name, fmt.Sprintf("%s:[%d]", name, ino))
		ctr := ino + 100
		if name == "user" || name == "time" {
			ctr = ino
		}
		h.Symlink("/proc/50/ns/"+name, fmt.Sprintf("%s:[%d]", name, ctr))
	}
	return h
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
				"name": "web", "image": "nginx:1.25", "pod_name": "", "pod_namespace": "", "sandbox": false, "pod_id": "",
				"posture": map[string]any{"privileged": false, "capabilities": []any{}, "added_capabilities": []any{},
					"seccomp": "disabled", "no_new_privs": false, "root": false, "user_namespace": false,
					"host_namespaces": []any{"time", "user"},
					"host_mounts":     []any{map[string]any{"source": "/srv/www", "target": "/var/www", "read_only": true, "sensitive": ""}},
					"devices":         []any{},
					"findings": []any{map[string]any{"rule": "seccomp-disabled", "subject": "",
						"reason": "seccomp disabled: every system call is reachable"}},
					"error": "",
					"declared": map[string]any{"source": "/run/containerd/io.containerd.runtime.v2.task/moby/" + ctrID + "/config.json",
						"privileged": false, "privileged_source": "/var/lib/docker/containers/" + ctrID + "/hostconfig.json",
						"capabilities": []any{"CAP_CHOWN"}, "seccomp": "disabled", "no_new_privs": false,
						"host_namespaces": []any{"time", "user"}, "user_namespace": false, "joined_namespaces": []any{"net"},
						"rootless": false},
					"declared_error": ""}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ps --json (-want +got):\n%s", diff)
	}

	// --no-posture streams the same lines without it.
	delete(want[2]["container"].(map[string]any), "posture")
	got = decode(t, runPS(t, config{json: true, noPosture: true}, memRoot(t, memHost())))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ps --json --no-posture (-want +got):\n%s", diff)
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
	// PID 9's container has a posture made of nothing: every part is
	// missing, and its error says so part by part.
	if len(got) == 4 && got[2]["container"] != nil {
		c := got[2]["container"].(map[string]any)
		post, _ := c["posture"].(map[string]any)
		msg, _ := post["error"].(string)
		for _, part := range []string{"privilege: ", "namespaces: ", "user: ", "mounts: ", "devices: "} {
			if !strings.Contains(msg, part) {
				t.Errorf("sparse container's posture error %q does not name %q", msg, part)
			}
		}
		if post["privileged"] != false || len(post["capabilities"].([]any)) != 0 || len(post["findings"].([]any)) != 0 {
			t.Errorf("sparse container's posture has content: %v", post)
		}
		delete(c, "posture")
	}
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

// riskyCtr adds a docker container of one process to h: pid, its name,
// bounding set, seccomp mode, the host namespaces it shares and extra
// mountinfo lines.
func riskyCtr(h *hostroottest.Host, pid int, name string, capBnd uint64, seccomp int, hostNS []string, mounts string) string {
	id := strings.Repeat(fmt.Sprintf("%02x", pid), 32)
	dir := fmt.Sprintf("/proc/%d", pid)
	h.File(dir+"/stat", stat(pid, 1, "app", 0x400100)).
		File(dir+"/status", status(pid, 1, "app", 0, fmt.Sprintf("%d\t1", pid))+
			fmt.Sprintf("CapEff:\t%016x\nCapPrm:\t%016x\nCapBnd:\t%016x\nSeccomp:\t%d\n", capBnd, capBnd, capBnd, seccomp)).
		File(dir+"/cmdline", "app\x00").
		File(dir+"/cgroup", "0::/system.slice/docker-"+id+".scope\n").
		File(dir+"/uid_map", "         0          0 4294967295\n").
		File(dir+"/mountinfo", "600 500 0:40 / / rw - overlay overlay rw\n"+mounts).
		Device(fmt.Sprintf("/ctr/%d/dev/null", pid), hostroottest.Char, 1, 3, 0o666).
		ProcRoot(pid, fmt.Sprintf("/ctr/%d", pid)).
		File("/var/lib/docker/containers/"+id+"/config.v2.json", `{"ID":"`+id+`","Name":"/`+name+`","Config":{"Image":"app:1"}}`)
	for i, ns := range []string{"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"} {
		ino := 100 + i
		if slices.Contains(hostNS, ns) {
			ino = 10 + i
		}
		h.Symlink(fmt.Sprintf("%s/ns/%s", dir, ns), fmt.Sprintf("%s:[%d]", ns, ino))
	}
	return id
}

func TestRisky(t *testing.T) {
	const docker, all = 0xa80425fb, 1<<41 - 1
	h := hostroottest.New().
		File("/proc/stat", "cpu  1 1 1 1\nbtime 1700000000\n").
		File("/proc/sys/kernel/cap_last_cap", "40\n").
		File("/proc/1/stat", stat(1, 0, "init", 0x400100)).
		File("/proc/1/status", status(1, 0, "init", 0, "1")+"CapBnd:\t000001ffffffffff\n").
		File("/proc/1/cgroup", "0::/init.scope\n").
		File("/proc/1/mountinfo", "21 1 254:0 / / rw - ext4 /dev/vda rw\n25 21 0:25 / /run rw - tmpfs tmpfs rw\n")
	for i, ns := range []string{"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"} {
		h.Symlink("/proc/1/ns/"+ns, fmt.Sprintf("%s:[%d]", ns, 10+i))
	}
	dflt := []string{"cgroup", "time", "user"}
	riskyCtr(h, 100, "plain", docker, 2, dflt, "")
	ids := map[string]string{
		"admin":  riskyCtr(h, 101, "admin", docker|1<<21, 2, dflt, ""),
		"netns":  riskyCtr(h, 102, "netns", docker, 0, append(dflt, "net"), ""),
		"sock":   riskyCtr(h, 103, "sock", docker, 2, dflt, "601 600 0:25 /docker.sock /var/run/docker.sock rw - tmpfs tmpfs rw\n"),
		"priv":   riskyCtr(h, 104, "priv", all, 0, dflt, ""),
		"ro-etc": riskyCtr(h, 105, "ro-etc", docker, 2, dflt, "601 600 254:0 /etc /host/etc ro - ext4 /dev/vda rw\n"),
		"admin2": riskyCtr(h, 106, "admin2", docker|1<<21, 0, dflt, ""),
	}
	got := runPS(t, config{risky: true}, memRoot(t, h))
	line := func(name, reasons string) string { return ids[name][:12] + " docker " + name + ": " + reasons + "\n" }
	want := line("priv", "privileged: every capability the host grants, as the host's root; seccomp disabled: every system call is reachable") +
		line("sock", "host /run/docker.sock (runtime socket docker.sock) mounted read-write at /var/run/docker.sock, as the host's root") +
		line("netns", "host net namespace: uses the host's network stack and its localhost services; seccomp disabled: every system call is reachable") +
		line("admin2", "capabilities beyond the runtime's default: CAP_SYS_ADMIN; seccomp disabled: every system call is reachable") +
		line("admin", "capabilities beyond the runtime's default: CAP_SYS_ADMIN") +
		line("ro-etc", "host /etc (under /etc) mounted read-only at /host/etc")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ps --risky (-want +got):\n%s", diff)
	}

	// A container whose posture is incomplete says so.
	h.Remove("/proc/105/mountinfo")
	h.File("/proc/105/status", status(105, 1, "app", 0, "105\t1")+"CapBnd:\t000001ffffffffff\nSeccomp:\t2\n")
	got = runPS(t, config{risky: true}, memRoot(t, h))
	if !strings.Contains(got, ids["ro-etc"][:12]+" docker ro-etc: privileged: every capability the host grants, as the host's root (posture incomplete)\n") {
		t.Errorf("ps --risky with an unreadable mount table:\n%s", got)
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

// On a terminal the table and the tree are cut to its width; a line that
// fits is left alone, and a cut one ends with "…" in its last column.
func TestTerminalWidth(t *testing.T) {
	for _, tree := range []bool{false, true} {
		whole := runPS(t, config{tree: tree}, memRoot(t, memHost()))
		cut := runPS(t, config{tree: tree, width: 24}, memRoot(t, memHost()))
		wholeLines := strings.Split(strings.TrimSuffix(whole, "\n"), "\n")
		cutLines := strings.Split(strings.TrimSuffix(cut, "\n"), "\n")
		if len(cutLines) != len(wholeLines) {
			t.Fatalf("tree %v: %d lines cut, %d whole", tree, len(cutLines), len(wholeLines))
		}
		shortened := 0
		for i, line := range cutLines {
			w := wholeLines[i]
			switch {
			case utf8.RuneCountInString(w) <= 24:
				if line != w {
					t.Errorf("tree %v: line %q that fits became %q", tree, w, line)
				}
			case utf8.RuneCountInString(line) != 24 || !strings.HasSuffix(line, "…") || !strings.HasPrefix(w, strings.TrimSuffix(line, "…")):
				t.Errorf("tree %v: line %q cut to %q, want its first 23 characters and …", tree, w, line)
			default:
				shortened++
			}
		}
		if shortened == 0 {
			t.Errorf("tree %v: no line was longer than 24 characters: the test proves nothing\n%s", tree, whole)
		}
	}
	// JSON is never cut.
	if a, b := runPS(t, config{json: true}, memRoot(t, memHost())), runPS(t, config{json: true, width: 24}, memRoot(t, memHost())); a != b {
		t.Error("--json output depends on the terminal's width")
	}
}
