package hostroot_test

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/hostroot/hostroottest"
)

// An in-memory host resolves links exactly as a host mounted at /host would:
// the absolute link stays inside the host, and the magic link is not followed.
func Example() {
	h := hostroottest.New().
		File("/run/systemd/resolve/stub-resolv.conf", "nameserver 127.0.0.53\n").
		Symlink("/etc/resolv.conf", "/run/systemd/resolve/stub-resolv.conf").
		File("/proc/42/stat", "42 (nginx) S 1 42 42 0 -1 4194560").
		Symlink("/proc/42/root", "/")
	root, err := h.Root()
	if err != nil {
		panic(err)
	}

	b, err := root.ReadFile("/etc/resolv.conf")
	fmt.Printf("%q %v\n", b, err)

	_, err = root.ReadFile("/proc/42/root/etc/resolv.conf")
	fmt.Println(errors.Is(err, syscall.ELOOP))
	// Output:
	// "nameserver 127.0.0.53\n" <nil>
	// true
}

// ProcRoot enters a process's own file system; in memory the fixture says
// which directory that is.
func ExampleRoot_ProcRoot() {
	h := hostroottest.New().
		File("/etc/os-release", "ID=debian\n").
		File("/proc/42/stat", "42 (app) S 1").
		File("/var/lib/c1/rootfs/etc/os-release", "ID=alpine\n").
		ProcRoot(42, "/var/lib/c1/rootfs")
	root := hostroot.FromAfero(h)
	inside, err := root.ProcRoot(42)
	if err != nil {
		panic(err)
	}
	b, _ := inside.ReadFile("/etc/os-release")
	fmt.Print(string(b))
	// Output:
	// ID=alpine
}

// AppendFile reuses one buffer across many reads, as a /proc scan does.
func ExampleRoot_AppendFile() {
	root := hostroot.FromAfero(hostroottest.New().
		File("/proc/1/comm", "systemd\n").
		File("/proc/2/comm", "kthreadd\n"))
	buf := make([]byte, 0, 16<<10)
	for _, pid := range []string{"1", "2"} {
		var err error
		buf, err = root.AppendFile(buf[:0], "/proc/"+pid+"/comm", 0)
		if err != nil {
			continue
		}
		fmt.Print(string(buf))
	}
	// Output:
	// systemd
	// kthreadd
}
