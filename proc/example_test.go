package proc_test

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/hostscope/hostscope/hostroot/hostroottest"
	"github.com/hostscope/hostscope/proc"
)

// exampleHost is a tiny host: init, a shell and the sleep it started, and a
// kernel thread.
func exampleHost() *hostroottest.Host {
	stat := func(pid, ppid int, comm, state string, flags, start int) string {
		return fmt.Sprintf("%d (%s) %s %d %d %d 0 -1 %d 0 0 0 0 12 3 0 0 20 0 1 0 %d 4096 1 18446744073709551615 0 0 0\n",
			pid, comm, state, ppid, pid, pid, flags, start)
	}
	return hostroottest.New().
		File("/proc/stat", "cpu  1 2 3 4\nbtime 1700000000\n").
		File("/proc/1/stat", stat(1, 0, "systemd", "S", 0x400100, 5)).
		File("/proc/1/cmdline", "/sbin/init\x00").
		Symlink("/proc/1/exe", "/usr/lib/systemd/systemd").
		File("/proc/2/stat", stat(2, 0, "kthreadd", "S", 0x208040, 5)).
		File("/proc/2/cmdline", "").
		File("/proc/80/stat", stat(80, 1, "bash", "S", 0x400000, 1234)).
		File("/proc/80/cmdline", "-bash\x00").
		Symlink("/proc/80/exe", "/usr/bin/bash").
		File("/proc/81/stat", stat(81, 80, "sleep", "S", 0x400000, 2000)).
		File("/proc/81/cmdline", "sleep\x00600\x00").
		Symlink("/proc/81/exe", "/usr/bin/sleep (deleted)")
}

func ExampleScan() {
	r, err := exampleHost().Root()
	if err != nil {
		fmt.Println(err)
		return
	}
	opts := &proc.ScanOptions{Fields: proc.FieldStat | proc.FieldCmdline | proc.FieldExe}
	err = proc.Scan(context.Background(), r, opts, func(p *proc.Process) error {
		fmt.Printf("%d %d %s %s kthread=%v %q exe=%q deleted=%v %s\n", p.PID, p.PPID, p.State, p.Comm,
			p.KernelThread, p.Cmdline, p.Exe, p.ExeDeleted, p.StartTime.UTC().Format("15:04:05.00"))
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// 1 0 S systemd kthread=false ["/sbin/init"] exe="/usr/lib/systemd/systemd" deleted=false 22:13:20.05
	// 2 0 S kthreadd kthread=true [] exe="" deleted=false 22:13:20.05
	// 80 1 S bash kthread=false ["-bash"] exe="/usr/bin/bash" deleted=false 22:13:32.34
	// 81 80 S sleep kthread=false ["sleep" "600"] exe="/usr/bin/sleep" deleted=true 22:13:40.00
}

func ExampleNewTree() {
	r, err := exampleHost().Root()
	if err != nil {
		fmt.Println(err)
		return
	}
	procs, err := proc.List(context.Background(), r, &proc.ScanOptions{Fields: proc.FieldStat})
	if err != nil {
		fmt.Println(err)
		return
	}
	tree := proc.NewTree(procs)
	var draw func(p *proc.Process, depth int)
	draw = func(p *proc.Process, depth int) {
		fmt.Printf("%s%d %s\n", strings.Repeat("  ", depth), p.PID, p.Comm)
		for _, c := range tree.Children(p.PID) {
			draw(c, depth+1)
		}
	}
	for _, root := range tree.Roots() {
		draw(root, 0)
	}
	for _, a := range tree.Ancestors(81) {
		fmt.Print(a.Comm, " ")
	}
	fmt.Println()
	// Output:
	// 1 systemd
	//   80 bash
	//     81 sleep
	// 2 kthreadd
	// bash systemd
}

// A field that cannot be read is reported in Missing; the rest is filled.
func ExampleRead() {
	r, err := exampleHost().Root()
	if err != nil {
		fmt.Println(err)
		return
	}
	p, err := proc.Read(r, 80, proc.FieldStat|proc.FieldStatus)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Comm, p.PPID, p.Missing[proc.FieldStatus])
	_, err = proc.Read(r, 99, proc.FieldStat)
	fmt.Println(err)
	// Output:
	// bash 1 read /proc/80/status: no such file or directory
	// read /proc/99: no such file or directory
}

// CapabilityNames decodes the capability masks of /proc/PID/status.
func ExampleCapabilityNames() {
	// CapBnd of a container started with docker run --cap-drop ALL --cap-add NET_ADMIN.
	fmt.Println(proc.CapabilityNames(0x0000000000001000))
	// A set with a bit the table does not know yet keeps it by number.
	fmt.Println(proc.CapabilityNames(1<<21 | 1<<45))
	// Output:
	// [CAP_NET_ADMIN]
	// [CAP_SYS_ADMIN CAP_45]
}

// A process's sockets: its descriptors joined with the tables of its
// network namespace.
func ExampleRead_sockets() {
	r, err := hostroottest.New().
		File("/proc/stat", "btime 1700000000\n").
		File("/proc/90/stat", "90 (sshd) S 1 90 90 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 50 0 0 0\n").
		Symlink("/proc/90/ns/net", "net:[4026531840]").
		Symlink("/proc/90/fd/0", "/dev/null").
		Symlink("/proc/90/fd/3", "socket:[7001]").
		Symlink("/proc/90/fd/4", "socket:[7002]").
		File("/proc/90/net/tcp6", "  sl  local_address remote_address st tx_queue rx_queue tr tm->when retrnsmt uid timeout inode\n"+
			"   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7001 1\n").
		File("/proc/90/net/unix", "Num       RefCount Protocol Flags    Type St Inode Path\n"+
			"0000000000000000: 00000002 00000000 00010000 0001 01  7002 /run/sshd.sock\n").
		Root()
	if err != nil {
		fmt.Println(err)
		return
	}
	p, err := proc.Read(r, 90, proc.FieldSockets)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, fd := range p.FDs {
		fmt.Println(fd.Number, fd.Type, fd.Target)
	}
	for _, s := range p.Sockets {
		if s.Protocol == "unix" {
			fmt.Println(s.Protocol, s.Path, s.State, s.Inode)
			continue
		}
		fmt.Println(s.Protocol, netip.AddrPortFrom(s.LocalAddr, s.LocalPort), s.State, s.Inode)
	}
	// Output:
	// 0 file /dev/null
	// 3 socket socket:[7001]
	// 4 socket socket:[7002]
	// tcp6 [::]:22 LISTEN 7001
	// unix /run/sshd.sock LISTEN 7002
}
