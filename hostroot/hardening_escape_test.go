package hostroot_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/internal/testctr"
	"golang.org/x/sys/unix"
)

// The escape suite plants a hostile tree, the root of a real chroot-ed
// process in its own mount namespace, and reads it through every way into
// it: ProcRoot from the native root and from a HOST_PROC bind mount, and
// Dir on the tree itself, each with the kernel's resolution (openat2) and
// with the userspace resolver. Host-side markers live outside the tree; no
// read may ever return them, block, read past its cap or fail unclearly.

// hostile is one planted tree and what lives outside it.
type hostile struct {
	dir      string // the tree, the process's root
	hostSide string // a directory outside it, on the same file system
	marker   string // content of hostSide/secret: must never be read
	// Unique contents of the tree's own files.
	hostname, shadow, inA, inRace string
	// The host's real files, which must never come back either.
	hostShadow, hostHostname []byte
}

// opTimeout bounds every single operation: anything slower is taken as
// blocked.
const opTimeout = 10 * time.Second

func newHostile(t *testing.T) *hostile {
	t.Helper()
	tag := strconv.FormatUint(rand.Uint64(), 36)
	hostSide, err := os.MkdirTemp("", "hostside-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(hostSide) })
	h := &hostile{
		dir:      t.TempDir(),
		hostSide: hostSide,
		marker:   "HOSTSIDE-MARKER-" + tag + "\n",
		hostname: "chroot-hostname-" + tag + "\n",
		shadow:   "chroot-shadow-" + tag + "\n",
		inA:      "inside-a-" + tag + "\n",
		inRace:   "inside-race-" + tag + "\n",
	}
	h.hostShadow, _ = os.ReadFile("/etc/shadow")
	h.hostHostname, _ = os.ReadFile("/etc/hostname")
	if err := os.WriteFile(filepath.Join(hostSide, "secret"), []byte(h.marker), 0o644); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(hostSide, "secret") // host-absolute
	up := strings.Repeat("../", 12)
	writeTree(t, h.dir,
		map[string]string{
			"etc/hostname": h.hostname,
			"etc/shadow":   h.shadow,
			"a/secret":     h.inA,
			"a/b/c/file":   "deep\n",
			// race/ is the directory the swap test flips; it holds the
			// same path as the host-side secret, with the tree's content.
			"race" + secret: h.inRace,
		},
		map[string]string{
			"abs-hostname":    "/etc/hostname",
			"abs-shadow":      "/etc/shadow",
			"abs-secret":      secret,
			"host-etc":        "/etc",
			"dotdot-secret":   up + secret[1:],
			"dotdot-hostname": up + "etc/hostname",
			"a/b/c/up":        "../../secret",
			"a/b/c/deep-up":   up + "etc/shadow",
			"loop1":           "loop2",
			"loop2":           "/loop1",
			"selfloop":        "selfloop",
			"dirloop":         ".",
			"proc-magic":      "/proc/self/root" + secret,
			"proc-cwd":        "/proc/1/cwd/etc/shadow",
			"fifolink":        "/etc/fifo",
			"race.up":         up,
			"race.root":       "/",
			"race.magic":      "/proc/1/root",
		})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(unix.Mkfifo(filepath.Join(h.dir, "etc/fifo"), 0o644))
	must(unix.Mknod(filepath.Join(h.dir, "etc/zero"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 5))))
	// A block device node with the major:minor of the host's own root file
	// system: opening it would read the host's disk.
	var st unix.Stat_t
	must(unix.Stat("/", &st))
	must(unix.Mknod(filepath.Join(h.dir, "etc/disk"), unix.S_IFBLK|0o600, int(st.Dev)))
	l, err := net.Listen("unix", filepath.Join(h.dir, "etc/socket"))
	must(err)
	t.Cleanup(func() { l.Close() })
	// 1 GiB, sparse: what a small file was expected to be.
	big, err := os.Create(filepath.Join(h.dir, "etc/big"))
	must(err)
	must(big.Truncate(1 << 30))
	must(big.Close())
	// A real procfs inside the tree, as a container has: its /proc/1/root
	// is the host's root, the most direct way out there is.
	must(os.MkdirAll(filepath.Join(h.dir, "proc"), 0o555))
	testctr.LockHostMounts(t)
	must(unix.Mount("proc", filepath.Join(h.dir, "proc"), "proc", 0, ""))
	t.Cleanup(func() { unix.Unmount(filepath.Join(h.dir, "proc"), unix.MNT_DETACH) })
	return h
}

// leak reports whether b holds anything from outside the tree.
func (h *hostile) leak(b []byte) bool {
	return bytes.Contains(b, []byte(h.marker)) ||
		len(h.hostShadow) > 0 && bytes.Equal(b, h.hostShadow) ||
		len(h.hostHostname) > 0 && bytes.Equal(b, h.hostHostname) && string(b) != h.hostname
}

// within runs f, failing the test if it does not return in opTimeout.
func within(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(opTimeout):
		t.Fatalf("%s blocked for %v", what, opTimeout)
	}
}

// escapeCase is one read of the hostile tree and its only acceptable
// answer.
type escapeCase struct {
	name    string
	content string // when wantErr is nil
	wantErr error
}

func (h *hostile) cases() []escapeCase {
	secret := filepath.Join(h.hostSide, "secret")
	return []escapeCase{
		{"/etc/hostname", h.hostname, nil},
		{"/abs-hostname", h.hostname, nil},
		{"/abs-shadow", h.shadow, nil},
		{"/host-etc/shadow", h.shadow, nil},
		{"/dotdot-hostname", h.hostname, nil},
		{"/a/b/c/up", h.inA, nil},
		{"/a/b/c/deep-up", h.shadow, nil},
		{"/../../../../etc/shadow", h.shadow, nil},
		{"/a/b/../../../../../etc/shadow", h.shadow, nil},
		{"/dirloop/dirloop/etc/hostname", h.hostname, nil},
		{secret, "", syscall.ENOENT},
		{"/abs-secret", "", syscall.ENOENT},
		{"/dotdot-secret", "", syscall.ENOENT},
		{"/../../../.." + secret, "", syscall.ENOENT},
		{"/loop1", "", syscall.ELOOP},
		{"/selfloop", "", syscall.ELOOP},
		{strings.Repeat("/dirloop", 41) + "/etc/hostname", "", syscall.ELOOP},
		{"/proc-magic", "", syscall.ELOOP},
		{"/proc-cwd", "", syscall.ELOOP},
		{"/proc/1/root" + secret, "", syscall.ELOOP},
		{"/proc/self/root" + secret, "", syscall.ELOOP},
		{"/proc/1/cwd/etc/shadow", "", syscall.ELOOP},
		{"/proc/self/fd/0", "", syscall.ELOOP},
		{"/etc/fifo", "", hostroot.ErrNotRegular},
		{"/fifolink", "", hostroot.ErrNotRegular},
		{"/etc/zero", "", hostroot.ErrNotRegular},
		{"/etc/disk", "", hostroot.ErrNotRegular},
		{"/etc/socket", "", hostroot.ErrNotRegular},
		{"/etc/big", "", hostroot.ErrTooLarge},
	}
}

// escapeRoots returns the ways into the tree, each built fresh.
func escapeRoots(t *testing.T, h *hostile, pid int) map[string]func(t *testing.T) *hostroot.Root {
	procRootOf := func(t *testing.T, host *hostroot.Root, err error) *hostroot.Root {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { host.Close() })
		pr, err := host.ProcRoot(pid)
		if err != nil {
			t.Fatalf("ProcRoot(%d): %v", pid, err)
		}
		t.Cleanup(func() { pr.Close() })
		return pr
	}
	bind := t.TempDir()
	testctr.LockHostMounts(t)
	if err := unix.Mount("/proc", bind, "", unix.MS_BIND, ""); err != nil {
		t.Fatalf("bind-mounting /proc: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(bind, unix.MNT_DETACH) })
	return map[string]func(t *testing.T) *hostroot.Root{
		"ProcRoot via Native": func(t *testing.T) *hostroot.Root {
			host, err := hostroot.Native()
			return procRootOf(t, host, err)
		},
		"ProcRoot via HOST_PROC bind mount": func(t *testing.T) *hostroot.Root {
			host, err := hostroot.FromEnvLookup(func(k string) (string, bool) {
				if k == "HOST_PROC" {
					return bind, true
				}
				return "", false
			})
			return procRootOf(t, host, err)
		},
		"Dir on the tree": func(t *testing.T) *hostroot.Root {
			r, err := hostroot.Dir(h.dir)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
			return r
		},
	}
}

// escapeCounts tallies what the suite tried, for the log and RELIABILITY.md.
type escapeCounts struct {
	static, raceReads, raceFlips, renameReads, renames atomic.Int64
}

func TestEscapeHostileRoot(t *testing.T) {
	requireRoot(t)
	h := newHostile(t)
	pid := startChrooted(t, h.dir)
	var counts escapeCounts
	for label, mk := range escapeRoots(t, h, pid) {
		for _, resolver := range []string{"kernel", "userspace"} {
			t.Run(label+"/"+resolver, func(t *testing.T) {
				newRoot := func(t *testing.T) *hostroot.Root {
					r := mk(t)
					if resolver == "userspace" {
						hostroot.ForceUserspace(r)
					}
					return r
				}
				t.Run("static", func(t *testing.T) { h.static(t, newRoot(t), &counts) })
				t.Run("swap dir for symlink", func(t *testing.T) { h.swapRace(t, newRoot(t), &counts) })
				t.Run("move dir out of root", func(t *testing.T) { h.renameRace(t, newRoot(t), &counts) })
			})
		}
	}
	t.Logf("escape attempts: %d static reads, %d reads racing %d dir/symlink swaps, %d reads racing %d moves out of the root",
		counts.static.Load(), counts.raceReads.Load(), counts.raceFlips.Load(), counts.renameReads.Load(), counts.renames.Load())
}

// static reads every case with every operation and checks the answer, the
// error's sentinel and name, and that nothing blocks or leaks.
func (h *hostile) static(t *testing.T, r *hostroot.Root, counts *escapeCounts) {
	for _, c := range h.cases() {
		var b []byte
		var err error
		within(t, "ReadFile("+c.name+")", func() { b, err = r.ReadFile(c.name) })
		counts.static.Add(1)
		if h.leak(b) {
			t.Errorf("ReadFile(%s) returned host data: %q", c.name, b)
		}
		checkAnswer(t, "ReadFile", c, b, err)

		// Open, Stat and listing must not block or leak either; Open
		// refuses what ReadFile refuses (bar the size cap).
		within(t, "Open("+c.name+")", func() {
			f, err := r.Open(c.name)
			counts.static.Add(1)
			if c.wantErr != nil && c.wantErr != hostroot.ErrTooLarge {
				if err == nil || !errors.Is(err, c.wantErr) {
					t.Errorf("Open(%s): err = %v, want %v", c.name, err, c.wantErr)
				}
			}
			if err == nil {
				buf := make([]byte, 4096)
				n, _ := f.Read(buf)
				if h.leak(buf[:n]) {
					t.Errorf("Open(%s) read host data: %q", c.name, buf[:n])
				}
				f.Close()
			}
		})
		within(t, "Stat("+c.name+")", func() { r.Stat(c.name); r.Lstat(c.name); counts.static.Add(2) })
		within(t, "ReadDirNames("+c.name+")", func() {
			names, err := r.ReadDirNames(c.name)
			counts.static.Add(1)
			if err == nil && c.wantErr != nil {
				t.Errorf("ReadDirNames(%s) = %v, want an error", c.name, names)
			}
		})
	}
	h.sizeCap(t, r)
}

// checkAnswer holds one read to its case: the content, or an error wrapping
// the sentinel whose *fs.PathError names what was asked for.
func checkAnswer(t *testing.T, op string, c escapeCase, b []byte, err error) {
	t.Helper()
	if c.wantErr == nil {
		if err != nil || string(b) != c.content {
			t.Errorf("%s(%s) = %q, %v; want %q", op, c.name, b, err, c.content)
		}
		return
	}
	if !errors.Is(err, c.wantErr) {
		t.Errorf("%s(%s) = %q, %v; want an error wrapping %v", op, c.name, b, err, c.wantErr)
		return
	}
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Path != c.name || !strings.Contains(err.Error(), c.name) {
		t.Errorf("%s(%s): error %q does not name the file", op, c.name, err)
	}
	if len(b) != 0 {
		t.Errorf("%s(%s) failed with %v but returned %d bytes", op, c.name, err, len(b))
	}
}

// sizeCap reads the 1 GiB sparse file with two limits: each read stops one
// byte past its limit (the kernel's own count of bytes read, /proc/self/io,
// says so) and allocates a small multiple of it.
func (h *hostile) sizeCap(t *testing.T, r *hostroot.Root) {
	for _, limit := range []int{4096, 1 << 20, hostroot.DefaultReadLimit} {
		var ms0, ms1 runtime.MemStats
		rchar0 := readChars(t)
		runtime.ReadMemStats(&ms0)
		var b []byte
		var err error
		within(t, "AppendFile(/etc/big)", func() { b, err = r.AppendFile(nil, "/etc/big", limit) })
		runtime.ReadMemStats(&ms1)
		read := readChars(t) - rchar0
		alloc := ms1.TotalAlloc - ms0.TotalAlloc
		if !errors.Is(err, hostroot.ErrTooLarge) || len(b) != 0 {
			t.Errorf("AppendFile(/etc/big, %d) = %d bytes, %v; want ErrTooLarge", limit, len(b), err)
		}
		// The second /proc/self/io read counts the first one's bytes.
		if read > uint64(limit)+1+4096 {
			t.Errorf("AppendFile(/etc/big, %d) read %d bytes", limit, read)
		}
		if alloc > 4*uint64(limit)+64<<10 {
			t.Errorf("AppendFile(/etc/big, %d) allocated %d bytes", limit, alloc)
		}
	}
}

// readChars returns the bytes this process has read so far (rchar).
func readChars(t *testing.T) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "rchar: "); ok {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no rchar in /proc/self/io: %q", b)
	return 0
}

// raceBudget is how long each race runs per root; reads stop early once
// they reach raceReads.
const (
	raceBudget = time.Second
	raceReads  = 3000
)

// swapRace reads race/<the host-side secret's path> while another goroutine
// swaps the directory race with symlinks to "/", to "../../.." and to the
// magic link /proc/1/root (renameat2 RENAME_EXCHANGE, so the name always
// exists). Every read must give the tree's own file or fail with ENOENT or
// ELOOP, the answers of some state of the tree, or EAGAIN when the tree
// changed under every attempt; none may give host data.
func (h *hostile) swapRace(t *testing.T, r *hostroot.Root, counts *escapeCounts) {
	name := "/race" + filepath.Join(h.hostSide, "secret")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		race := filepath.Join(h.dir, "race")
		alts := []string{"race.root", "race.up", "race.magic"}
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			alt := filepath.Join(h.dir, alts[i%len(alts)])
			// Swap in the symlink, then back, so race ends as a directory.
			for range 2 {
				if err := unix.Renameat2(unix.AT_FDCWD, race, unix.AT_FDCWD, alt, unix.RENAME_EXCHANGE); err != nil {
					t.Errorf("swap: %v", err)
					return
				}
				counts.raceFlips.Add(1)
			}
		}
	}()
	outcomes := map[string]int{}
	deadline := time.Now().Add(raceBudget)
	var buf []byte
	for i := 0; i < raceReads && time.Now().Before(deadline); i++ {
		var err error
		within(t, "ReadFile("+name+") during swaps", func() { buf, err = r.AppendFile(buf[:0], name, 4096) })
		counts.raceReads.Add(1)
		switch {
		case h.leak(buf):
			t.Fatalf("read %d of %s returned host data: %q", i, name, buf)
		case err == nil && string(buf) == h.inRace:
			outcomes["tree's file"]++
		case errors.Is(err, syscall.ENOENT):
			outcomes["ENOENT"]++
		case errors.Is(err, syscall.ELOOP):
			outcomes["ELOOP"]++
		case errors.Is(err, syscall.EAGAIN):
			outcomes["EAGAIN"]++ // changed under every attempt
		default:
			t.Errorf("read %d of %s = %q, %v", i, name, buf, err)
		}
	}
	close(stop)
	wg.Wait()
	if outcomes["tree's file"] == 0 {
		t.Errorf("no read found the directory in place: the race proves nothing (%v)", outcomes)
	}
	t.Logf("%s during swaps: %v", name, outcomes)
}

// renameRace reads /a/b/c/up, a symlink to ../../secret, while another
// goroutine moves a/b out of the tree into the host-side directory and
// back. Resolving ".." physically after the move would reach the host-side
// secret; every read must give the tree's a/secret or fail with ENOENT (or
// EAGAIN, as above).
func (h *hostile) renameRace(t *testing.T, r *hostroot.Root, counts *escapeCounts) {
	in, out := filepath.Join(h.dir, "a/b"), filepath.Join(h.hostSide, "b")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			for _, mv := range [][2]string{{in, out}, {out, in}} {
				if err := os.Rename(mv[0], mv[1]); err != nil {
					t.Errorf("move: %v", err)
					return
				}
				counts.renames.Add(1)
			}
		}
	}()
	outcomes := map[string]int{}
	deadline := time.Now().Add(raceBudget)
	var buf []byte
	for i := 0; i < raceReads && time.Now().Before(deadline); i++ {
		for _, name := range []string{"/a/b/c/up", "/a/b/c/../../secret"} {
			var err error
			within(t, "ReadFile("+name+") during moves", func() { buf, err = r.AppendFile(buf[:0], name, 4096) })
			counts.renameReads.Add(1)
			switch {
			case h.leak(buf):
				t.Fatalf("read %d of %s returned host data: %q", i, name, buf)
			case err == nil && string(buf) == h.inA:
				outcomes[name+": tree's file"]++
			case errors.Is(err, syscall.ENOENT):
				outcomes[name+": ENOENT"]++
			case errors.Is(err, syscall.EAGAIN):
				outcomes[name+": EAGAIN"]++
			default:
				t.Errorf("read %d of %s = %q, %v", i, name, buf, err)
			}
		}
	}
	close(stop)
	wg.Wait()
	if outcomes["/a/b/c/up: tree's file"] == 0 {
		t.Errorf("no read found a/b in place: the race proves nothing (%v)", outcomes)
	}
	t.Logf("during moves out of the root: %v", fmt.Sprint(outcomes))
}
