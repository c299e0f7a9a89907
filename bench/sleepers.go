package bench

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/hostscope/hostscope/hostroot"
	"golang.org/x/sys/unix"
)

// Sleepers are sleeping processes started to give an inventory a realistic
// number of processes to list. They are direct children of the calling
// process, run "sleep 3600", and are killed and reaped by PID in Stop; each
// also carries PR_SET_PDEATHSIG, so a caller that crashes takes them with it.
// A Sleepers is safe for concurrent use.
type Sleepers struct {
	mu   sync.Mutex
	pids []int
}

// PIDs lists the running sleepers.
func (s *Sleepers) PIDs() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.pids...)
}

// Ensure starts sleepers until at least n run. It checks first that they
// fit under pid_max and the pids cgroup limit, with headroom for the rest
// of the machine, and on any failure stops the ones it started and says
// which limits apply.
func (s *Sleepers) Ensure(n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	missing := n - len(s.pids)
	if missing <= 0 {
		return nil
	}
	if err := roomFor(missing); err != nil {
		return fmt.Errorf("cannot start %d sleeping processes: %w", missing, err)
	}
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		return fmt.Errorf("cannot start sleeping processes: %w", err)
	}
	null, err := os.Open(os.DevNull)
	if err != nil {
		return err
	}
	defer null.Close()
	fd := null.Fd()
	attr := &syscall.ProcAttr{
		Files: []uintptr{fd, fd, fd},
		Sys:   &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL},
	}
	had := len(s.pids)
	for i := 0; i < missing; i++ {
		pid, err := syscall.ForkExec(sleep, []string{"sleep", "3600"}, attr)
		if err != nil {
			kill(s.pids[had:])
			s.pids = s.pids[:had]
			return fmt.Errorf("starting sleeping process %d of %d: %w; %s", had+i+1, n, err, limits())
		}
		s.pids = append(s.pids, pid)
	}
	return nil
}

// Stop kills and reaps every sleeper.
func (s *Sleepers) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	kill(s.pids)
	s.pids = nil
}

// kill sends SIGKILL to each PID, then waits for each.
func kill(pids []int) {
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	for _, pid := range pids {
		var ws syscall.WaitStatus
		for {
			_, err := syscall.Wait4(pid, &ws, 0, nil)
			if err != syscall.EINTR {
				break
			}
		}
	}
}

// roomFor checks that n more processes fit under pid_max and the pids
// cgroup limit, leaving headroom for the rest of the machine.
func roomFor(n int) error {
	const headroom = 512
	pidMax, err := readInt("/proc/sys/kernel/pid_max")
	if err != nil {
		return err
	}
	tasks, err := tasksInUse()
	if err != nil {
		return err
	}
	if tasks+n+headroom > pidMax {
		return fmt.Errorf("pid_max is %d and %d tasks already run", pidMax, tasks)
	}
	if max, cur, ok := pidsCgroup(); ok && cur+n+headroom/8 > max {
		return fmt.Errorf("the pids cgroup allows %d tasks and holds %d", max, cur)
	}
	return nil
}

// limits describes the limits a failed start may have hit.
func limits() string {
	var b strings.Builder
	if v, err := readInt("/proc/sys/kernel/pid_max"); err == nil {
		fmt.Fprintf(&b, "pid_max %d", v)
	}
	if t, err := tasksInUse(); err == nil {
		fmt.Fprintf(&b, ", %d tasks running", t)
	}
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NPROC, &rl) == nil {
		fmt.Fprintf(&b, ", RLIMIT_NPROC %d (ulimit -u)", rl.Cur)
	}
	if max, cur, ok := pidsCgroup(); ok {
		fmt.Fprintf(&b, ", pids cgroup %d/%d", cur, max)
	}
	return b.String()
}

// readHostFile reads a file of the machine through hostroot.
func readHostFile(name string) ([]byte, error) {
	r, err := hostroot.Native()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.ReadFile(name)
}

func readInt(name string) (int, error) {
	b, err := readHostFile(name)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(string(bytes.TrimSpace(b)))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return n, nil
}

// tasksInUse is the number of threads on the machine (each holds a PID):
// the total after the slash in /proc/loadavg.
func tasksInUse() (int, error) {
	b, err := readHostFile("/proc/loadavg")
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b))
	if len(f) < 4 {
		return 0, fmt.Errorf("/proc/loadavg: %q has no task count", b)
	}
	_, total, ok := strings.Cut(f[3], "/")
	if !ok {
		return 0, fmt.Errorf("/proc/loadavg: %q has no task count", b)
	}
	return strconv.Atoi(total)
}

// pidsCgroup returns this process's pids cgroup limit and use; ok is false
// when there is no limit or it cannot be read.
func pidsCgroup() (max, cur int, ok bool) {
	b, err := readHostFile("/proc/self/cgroup")
	if err != nil {
		return 0, 0, false
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		cols := strings.SplitN(line, ":", 3)
		if len(cols) != 3 {
			continue
		}
		var dir string
		switch {
		case cols[1] == "pids":
			dir = "/sys/fs/cgroup/pids" + cols[2]
		case cols[0] == "0" && cols[1] == "":
			dir = "/sys/fs/cgroup" + cols[2]
		default:
			continue
		}
		dir = strings.TrimSuffix(dir, "/")
		m, err := readHostFile(dir + "/pids.max")
		if errors.Is(err, fs.ErrNotExist) || err != nil || strings.TrimSpace(string(m)) == "max" {
			continue
		}
		max, err1 := strconv.Atoi(strings.TrimSpace(string(m)))
		cur, err2 := readInt(dir + "/pids.current")
		if err1 == nil && err2 == nil {
			return max, cur, true
		}
	}
	return 0, 0, false
}
