// Command helper is the static program the hardening tests run as the other
// side of a fault: a churn of short-lived processes (in the host's PID
// namespace or, as its init, in a PID namespace of its own where it forces
// PID reuse), a scan run as an unprivileged user that prints what it got as
// JSON, and a stage that mounts a hidepid /proc in a private mount namespace
// before dropping to that user. The tests build it with CGO_ENABLED=0.
//
// Started under a name beginning with "p", "x" or "y" (a symlink to this
// binary), it is one of the churn's short-lived children instead.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hostscope/hostscope"
	"github.com/hostscope/hostscope/cgroup"
	"github.com/hostscope/hostscope/dev"
	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/internal/runtimestate"
	"github.com/hostscope/hostscope/mounts"
	"github.com/hostscope/hostscope/proc"
)

func main() {
	base := filepath.Base(os.Args[0])
	switch {
	case strings.HasPrefix(base, "x"):
		// Replace ourselves by our "y" twin, the same slot number.
		y := filepath.Join(filepath.Dir(os.Args[0]), "y"+base[1:])
		syscall.Exec(y, append([]string{y}, os.Args[1:]...), os.Environ())
		os.Exit(4)
	case strings.HasPrefix(base, "p"), strings.HasPrefix(base, "y"):
		os.Exit(0)
	}
	if len(os.Args) < 2 {
		fatalf("usage: helper MODE ...")
	}
	var err error
	switch os.Args[1] {
	case "pidns-churn":
		err = pidnsChurn(os.Args[2:])
	case "host-churn":
		err = hostChurn(os.Args[2:])
	case "scan":
		err = scan(os.Args[2:])
	case "hidepid":
		err = hidepid(os.Args[2:])
	case "exercise":
		err = exercise()
	case "sleep":
		fmt.Println("ready")
		io.Copy(io.Discard, os.Stdin)
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fatalf("%v", err)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "helper: "+format+"\n", args...)
	os.Exit(2)
}

// stopOnStdin returns a flag set once stdin closes: the test's way to end a
// churn.
func stopOnStdin() *atomic.Bool {
	var stop atomic.Bool
	go func() {
		io.Copy(io.Discard, os.Stdin)
		stop.Store(true)
	}()
	return &stop
}

// childLinks makes, in dir, the names the churn's children run under: pK,
// xK and yK for K < slots, all symlinks to this binary.
func childLinks(dir string, slots int) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	for k := 0; k < slots; k++ {
		for _, pfx := range []string{"p", "x", "y"} {
			l := filepath.Join(dir, pfx+strconv.Itoa(k))
			os.Remove(l)
			if err := os.Symlink(self, l); err != nil {
				return err
			}
		}
	}
	return nil
}

// pidnsChurn runs as init of a new PID namespace (and a new mount
// namespace). It mounts that namespace's procfs at PROCDIR, prints
// "ready", then starts children until stdin closes. Child i is told apart
// from every other by three fields read from three files: its user ID,
// 100000+i (status), its name pK (stat) and its working directory
// LINKDIR/dK (the cwd link), K = i mod 97. Every 50th child instead execs
// LINKDIR/xK with argument i, which execs its twin yK (cmdline too). Before
// each start the helper points the namespace's ns_last_pid just below one
// of SLOTS PIDs, so the same few PIDs are reused over and over. It prints
// the number of children started and how many got the PID aimed at.
func pidnsChurn(args []string) error {
	if len(args) != 3 {
		return errors.New("pidns-churn PROCDIR LINKDIR SLOTS")
	}
	procDir, linkDir := args[0], args[1]
	slots, err := strconv.Atoi(args[2])
	if err != nil {
		return err
	}
	if os.Getpid() != 1 {
		return fmt.Errorf("not the init of a PID namespace (pid %d)", os.Getpid())
	}
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making mounts private: %v", err)
	}
	if err := syscall.Mount("proc", procDir, "proc", 0, ""); err != nil {
		return fmt.Errorf("mounting proc: %v", err)
	}
	if err := childLinks(linkDir, 97); err != nil {
		return err
	}
	for k := 0; k < 97; k++ {
		if err := os.Mkdir(filepath.Join(linkDir, "d"+strconv.Itoa(k)), 0o755); err != nil {
			return err
		}
	}
	// ns_last_pid acts on the writer's PID namespace, whichever procfs
	// holds it.
	lastPID, err := os.OpenFile(filepath.Join(procDir, "sys/kernel/ns_last_pid"), os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	stop := stopOnStdin()
	fmt.Println("ready")
	const first = 300 // far above the PIDs the Go runtime's threads take
	var (
		mu              sync.Mutex // serializes aiming ns_last_pid and forking
		next            int
		started, reused atomic.Int64
		wg              sync.WaitGroup
		failure         atomic.Value
	)
	forker := func() {
		defer wg.Done()
		for !stop.Load() {
			mu.Lock()
			i := next
			next++
			k := strconv.Itoa(i % 97)
			slot := first + i%slots
			if _, err := lastPID.WriteAt([]byte(strconv.Itoa(slot-1)), 0); err != nil {
				mu.Unlock()
				failure.Store(fmt.Errorf("ns_last_pid: %v", err))
				return
			}
			var pid int
			var err error
			if i%50 == 49 {
				attr := &syscall.ProcAttr{
					Dir: filepath.Join(linkDir, "d"+k),
					Sys: &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(100000 + i), Gid: 0}},
				}
				x := filepath.Join(linkDir, "x"+k)
				pid, err = syscall.ForkExec(x, []string{x, strconv.Itoa(i)}, attr)
			} else {
				dir := []byte(filepath.Join(linkDir, "d"+k) + "\x00")
				comm := []byte("p" + k + "\x00")
				// Most children exit at once; one in four lives long
				// enough for a slow reader to meet it.
				nap := syscall.NsecToTimespec(int64(i%4) * int64(time.Millisecond))
				if i%4 == 3 {
					nap = syscall.NsecToTimespec(int64(20 * time.Millisecond))
				}
				pid, err = forkChild(dir, comm, 100000+i, nap)
			}
			mu.Unlock()
			if err != nil {
				failure.Store(err)
				return
			}
			started.Add(1)
			if pid == slot {
				reused.Add(1)
			}
			var ws syscall.WaitStatus
			syscall.Wait4(pid, &ws, 0, nil)
		}
	}
	for n := 0; n < 4; n++ {
		wg.Add(1)
		go forker()
	}
	wg.Wait()
	if err, ok := failure.Load().(error); ok {
		return err
	}
	fmt.Printf("started %d reused %d\n", started.Load(), reused.Load())
	return nil
}

// hostChurn starts short-lived processes in the caller's PID namespace
// until stdin closes, from several goroutines: forked children that exit
// at once or after a few milliseconds, named and placed as pidnsChurn's are
// (uid 200000+i, name pK, working directory LINKDIR/dK); forked sleepers
// killed with SIGKILL after milliseconds or, a few, after seconds;
// /bin/true; "x" children that exec-replace
// themselves by their "y" twin; and, in this process, threads that start
// and exit. It prints "ready" first and the counts last.
func hostChurn(args []string) error {
	if len(args) != 1 {
		return errors.New("host-churn LINKDIR")
	}
	linkDir := args[0]
	if err := childLinks(linkDir, 97); err != nil {
		return err
	}
	for k := 0; k < 97; k++ {
		if err := os.Mkdir(filepath.Join(linkDir, "d"+strconv.Itoa(k)), 0o755); err != nil {
			return err
		}
	}
	stop := stopOnStdin()
	fmt.Println("ready")
	var seq, started, killed, threads atomic.Int64
	var wg sync.WaitGroup
	// fork starts children that live up to life and kills them after
	// killAfter when that is shorter.
	fork := func(life, killAfter func(i int) time.Duration) {
		defer wg.Done()
		for !stop.Load() {
			i := int(seq.Add(1))
			k := strconv.Itoa(i % 97)
			nap := syscall.NsecToTimespec(int64(life(i)))
			pid, err := forkChild([]byte(filepath.Join(linkDir, "d"+k)+"\x00"), []byte("p"+k+"\x00"), 200000+i, nap)
			if err != nil {
				continue
			}
			started.Add(1)
			if d := killAfter(i); d < life(i) {
				for end := time.Now().Add(d); time.Now().Before(end) && !stop.Load(); {
					time.Sleep(time.Millisecond)
				}
				syscall.Kill(pid, syscall.SIGKILL)
				killed.Add(1)
			}
			var ws syscall.WaitStatus
			syscall.Wait4(pid, &ws, 0, nil)
		}
	}
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	never := func(int) time.Duration { return time.Hour }
	run := func(kind int) {
		defer wg.Done()
		for i := 0; !stop.Load(); i++ {
			var cmd *exec.Cmd
			if kind == 0 {
				cmd = exec.Command("/bin/true")
			} else {
				cmd = exec.Command(filepath.Join(linkDir, "x"+strconv.Itoa(i%97)), strconv.Itoa(i))
			}
			if cmd.Start() == nil {
				started.Add(1)
				cmd.Wait()
			}
		}
	}
	// Children that exit at once or within 2 ms.
	for n := 0; n < 3; n++ {
		wg.Add(1)
		go fork(func(i int) time.Duration { return ms(i % 3) }, never)
	}
	// Sleepers killed after up to 4 ms, and a few that linger for seconds
	// (so that even a slow scan meets some) before they are killed.
	wg.Add(4)
	go fork(func(int) time.Duration { return time.Second }, func(i int) time.Duration { return ms(i % 5) })
	for n := 0; n < 3; n++ {
		go fork(func(int) time.Duration { return time.Minute }, func(i int) time.Duration { return ms(1000 + 1000*(i%4)) })
	}
	wg.Add(2)
	go run(0)
	go run(1)
	// Threads that start and exit: a goroutine that returns while locked to
	// its thread takes the thread with it.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			var tw sync.WaitGroup
			for j := 0; j < 8; j++ {
				tw.Add(1)
				go func() {
					defer tw.Done()
					runtime.LockOSThread()
					threads.Add(1)
					time.Sleep(100 * time.Microsecond)
				}()
			}
			tw.Wait()
		}
	}()
	wg.Wait()
	fmt.Printf("started %d killed %d threads %d\n", started.Load(), killed.Load(), threads.Load())
	return nil
}

// ScanResult is what the scan mode prints: the PID directories an
// independent listing showed before and after the scan, and every process
// the scan returned with the fields it could not read.
type ScanResult struct {
	UID        int
	ListBefore []int
	ListAfter  []int
	ListErr    string
	ScanErr    string
	Processes  []ScanProcess
	// Facade says the scan went through hostscope.Scan, which fills
	// ScanProcess's container fields.
	Facade bool
}

// ScanProcess is one process as the scan returned it.
type ScanProcess struct {
	PID          int
	Comm         string
	State        string
	KernelThread bool
	UID          uint32
	Exe          string
	ContainerID  string
	Name         string
	// Missing maps a field name to its error's class ("permission",
	// "notexist", "esrch", "malformed" or "other: " and the message).
	Missing map[string]string
}

func classify(err error) string {
	switch {
	case errors.Is(err, fs.ErrPermission):
		return "permission"
	case errors.Is(err, fs.ErrNotExist):
		return "notexist"
	case errors.Is(err, syscall.ESRCH):
		return "esrch"
	case errors.Is(err, hostroot.ErrMalformed):
		return "malformed"
	}
	return "other: " + err.Error()
}

func listPIDs(dir string) ([]int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	sort.Ints(pids)
	return pids, nil
}

// scan reads every process through FromEnv (the test sets HOST_PROC and
// friends) with every field, or through the hostscope facade with
// "facade", and prints a ScanResult as JSON. PROCDIR is listed with the os
// package before and after, as ls would.
func scan(args []string) error {
	if len(args) != 2 {
		return errors.New("scan PROCDIR proc|facade")
	}
	res := ScanResult{UID: os.Getuid(), Facade: args[1] == "facade"}
	var err error
	res.ListBefore, err = listPIDs(args[0])
	if err != nil {
		res.ListErr = err.Error()
	}
	r, err := hostroot.FromEnv()
	if err != nil {
		return err
	}
	defer r.Close()
	add := func(p *proc.Process) error {
		sp := ScanProcess{PID: p.PID, Comm: p.Comm, State: p.State, KernelThread: p.KernelThread, UID: p.UIDs.Real, Exe: p.Exe}
		if p.Container != nil {
			sp.ContainerID, sp.Name = p.Container.ID, p.Container.Name
		}
		for f, e := range p.Missing {
			if sp.Missing == nil {
				sp.Missing = map[string]string{}
			}
			sp.Missing[f.String()] = classify(e)
		}
		res.Processes = append(res.Processes, sp)
		return nil
	}
	ctx := context.Background()
	if res.Facade {
		err = hostscope.Scan(ctx, r, &hostscope.Options{Fields: proc.FieldAll}, add)
	} else {
		err = proc.Scan(ctx, r, &proc.ScanOptions{Fields: proc.FieldAll}, add)
	}
	if err != nil {
		res.ScanErr = err.Error()
	}
	res.ListAfter, _ = listPIDs(args[0])
	return json.NewEncoder(os.Stdout).Encode(res)
}

// hidepid runs as root in a new mount namespace: it mounts a procfs with
// OPTIONS at PROCDIR, starts a sleeper as UID (so that user has a process
// of its own to see), then runs the scan mode as UID with HOST_PROC=PROCDIR
// and copies its output.
func hidepid(args []string) error {
	if len(args) != 4 {
		return errors.New("hidepid PROCDIR OPTIONS UID proc|facade")
	}
	procDir, opts := args[0], args[1]
	uid, err := strconv.Atoi(args[2])
	if err != nil {
		return err
	}
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making mounts private: %v", err)
	}
	if err := syscall.Mount("proc", procDir, "proc", 0, opts); err != nil {
		return fmt.Errorf("mounting proc -o %s: %v", opts, err)
	}
	cred := &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	sleeper := exec.Command(self, "sleep")
	sleeper.SysProcAttr = cred
	in, err := sleeper.StdinPipe()
	if err != nil {
		return err
	}
	out, err := sleeper.StdoutPipe()
	if err != nil {
		return err
	}
	if err := sleeper.Start(); err != nil {
		return err
	}
	defer func() { in.Close(); sleeper.Wait() }()
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
		return fmt.Errorf("sleeper: %q, %v", line, err)
	}
	cmd := exec.Command(self, "scan", procDir, args[3])
	cmd.SysProcAttr = cred
	cmd.Env = append(os.Environ(), "HOST_PROC="+procDir)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd.Run()
}

// exercise runs every reader of the library once against the machine's
// own root (FromEnv, so the test may relocate subtrees), plus reads
// through ProcRoot and the io/fs and afero views, so that a tracer sees
// every kind of open the library makes. It prints what each step did.
func exercise() error {
	ctx := context.Background()
	r, err := hostroot.FromEnv()
	if err != nil {
		return err
	}
	defer r.Close()
	report := func(step string, n int, err error) {
		fmt.Printf("%s: %d", step, n)
		if err != nil {
			fmt.Printf(" (%v)", err)
		}
		fmt.Println()
	}
	inv, err := hostscope.TakeInventory(ctx, r, &hostscope.Options{Fields: proc.FieldAll, Resources: true})
	if err != nil {
		return err
	}
	report("processes", len(inv.Processes), nil)
	report("containers", len(inv.Containers), nil)
	blocks, err := dev.Blocks(ctx, r, nil)
	report("block devices", len(blocks), err)
	chars, err := dev.Chars(ctx, r)
	report("char devices", len(chars), err)
	nodes, err := dev.Nodes(ctx, r)
	report("nodes", len(nodes), err)
	links, err := dev.DiskLinks(ctx, r)
	report("disk links", len(links), err)
	drivers, err := dev.ProcDevices(r)
	report("drivers", btoi(drivers != nil), err)
	for _, b := range blocks {
		_, err := dev.Udev(r, dev.KindBlock, b.Major, b.Minor)
		report("udev "+b.Name, 1, err)
	}
	table, err := mounts.Host(ctx, r, nil)
	report("host mounts", btoi(table != nil), err)
	own, err := mounts.Process(r, os.Getpid())
	report("own mounts", len(own), err)
	layout, err := cgroup.DetectLayout(ctx, r)
	report("cgroup layout", btoi(layout != nil), err)
	states, err := runtimestate.List(ctx, r, nil)
	report("runtime states", len(states), err)
	pr, err := r.ProcRoot(os.Getpid())
	if err != nil {
		return err
	}
	defer pr.Close()
	b, err := pr.ReadFile("/etc/hostname")
	report("ProcRoot read", len(b), err)
	fsys := r.FS()
	n := 0
	err = fs.WalkDir(fsys, "etc", func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && n < 50 {
			n++
			fs.ReadFile(fsys, p)
		}
		return nil
	})
	report("io/fs walk of /etc", n, err)
	f, err := r.Afero().Open("/etc")
	if err == nil {
		names, _ := f.Readdirnames(-1)
		report("afero readdir /etc", len(names), nil)
		f.Close()
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
