package testctr

import (
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// hostMounts is this process's hold on the host mounts lock: the file
// holding the flock and how many tests of the process hold it.
var hostMounts struct {
	sync.Mutex
	f *os.File
	n int
}

// LockHostMounts serializes, across the test binaries a `go test` run
// starts in parallel, the tests that add mounts to the host's mount
// namespace (a bind of /proc for HOST_PROC) and those that need its mount
// table to hold still: a container started with the host's root bound in
// (-v /:/host) takes along every mount the host has at that moment, and a
// test's mount gone by the time its posture is read leaves it a mount the
// host no longer shows. It takes an exclusive flock on a file in the
// temporary directory, released when t and every other test of this
// process that took it have ended; tests of one process share the hold,
// so a subtest may take it under its parent.
func LockHostMounts(t testing.TB) {
	t.Helper()
	hostMounts.Lock()
	defer hostMounts.Unlock()
	if hostMounts.n == 0 {
		f, err := os.OpenFile(filepath.Join(os.TempDir(), "hostscope-test-host-mounts.lock"), os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatalf("host mounts lock: %v", err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			t.Fatalf("host mounts lock: %v", err)
		}
		hostMounts.f = f
	}
	hostMounts.n++
	t.Cleanup(func() {
		hostMounts.Lock()
		defer hostMounts.Unlock()
		if hostMounts.n--; hostMounts.n == 0 {
			hostMounts.f.Close() // releases the flock
			hostMounts.f = nil
		}
	})
}
