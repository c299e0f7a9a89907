// Package testctr starts real containers for hostscope's end-to-end tests:
// a busybox image made without any registry, docker and podman commands
// with cleanup, and the skip reasons when a runtime is missing. Everything a
// test starts is removed in t.Cleanup.
package testctr

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Runtime runs one container engine's command line.
type Runtime struct {
	// Name is the command: "docker" or "podman".
	Name string
	// Env is added to the environment of every command.
	Env []string
}

// RequireRoot skips t unless it runs as root: the runtimes and their state
// directories need it.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to run containers and read their state (CI runs as root)")
	}
}

// Docker returns the docker engine, skipping t with the reason when no
// engine answers.
func Docker(t testing.TB) *Runtime {
	t.Helper()
	RequireRoot(t)
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("docker is not installed")
	}
	d := &Runtime{Name: "docker"}
	if _, err := d.Run(t, "info", "--format", "{{.ServerVersion}}"); err != nil {
		t.Skipf("no docker engine answers (docker info): %v", err)
	}
	return d
}

// Podman returns podman with a containers.conf fit for a machine where
// systemd does not manage cgroups (unless CONTAINERS_CONF already names
// one), skipping t with the reason when podman is missing or unusable.
func Podman(t testing.TB) *Runtime {
	t.Helper()
	RequireRoot(t)
	if _, err := exec.LookPath("podman"); err != nil {
		t.Skip("podman is not installed (apt-get install podman catatonit)")
	}
	p := &Runtime{Name: "podman"}
	if os.Getenv("CONTAINERS_CONF") == "" {
		conf := filepath.Join(t.TempDir(), "containers.conf")
		const text = `[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
`
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		p.Env = []string{"CONTAINERS_CONF=" + conf}
	}
	if _, err := p.Run(t, "info"); err != nil {
		t.Skipf("podman is not usable: %v", err)
	}
	return p
}

// Run runs the runtime's command and returns its trimmed standard output.
func (r *Runtime) Run(t testing.TB, args ...string) (string, error) {
	t.Helper()
	return Command(r.Env, r.Name, args...)
}

// MustRun is Run, failing the test on error.
func (r *Runtime) MustRun(t testing.TB, args ...string) string {
	t.Helper()
	out, err := r.Run(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Cleanup registers a command that undoes what the test started; its
// failure is only logged.
func (r *Runtime) Cleanup(t testing.TB, args ...string) {
	t.Cleanup(func() {
		if _, err := r.Run(t, args...); err != nil {
			t.Logf("cleanup: %v", err)
		}
	})
}

// CleanupContainer registers the forced removal of container id, without
// podman's ten-second stop timeout.
func (r *Runtime) CleanupContainer(t testing.TB, id string) {
	if r.Name == "podman" {
		r.Cleanup(t, "rm", "-f", "-t", "0", id)
		return
	}
	r.Cleanup(t, "rm", "-f", id)
}

// Command runs name with args (and env added) under a two-minute timeout,
// returning the trimmed standard output, or an error carrying the command
// and its standard error.
func Command(env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", &RunError{Cmd: name + " " + strings.Join(args, " "), Err: err, Stderr: stderr.String()}
	}
	return strings.TrimSpace(string(out)), nil
}

// RunError is a failed runtime command.
type RunError struct {
	Cmd, Stderr string
	Err         error
}

func (e *RunError) Error() string {
	return e.Cmd + ": " + e.Err.Error() + ": " + strings.TrimSpace(e.Stderr)
}

// Unwrap returns the process error.
func (e *RunError) Unwrap() error { return e.Err }

// Suffix returns a random suffix for names, so parallel or repeated runs
// never collide.
func Suffix(t testing.TB) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// BusyboxTar writes a root file system tar holding /bin/busybox and the
// applets the tests use (sh, sleep, cat, ls, and nc and httpd, which
// listen on TCP) and returns its path. It skips t when
// busybox-static is not installed.
func BusyboxTar(t testing.TB, extra map[string][]byte) string {
	t.Helper()
	bin, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Skipf("no /bin/busybox (apt-get install busybox-static): %v", err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(h *tar.Header, body []byte) {
		h.ModTime = time.Unix(0, 0)
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	add(&tar.Header{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755}, nil)
	add(&tar.Header{Name: "bin/busybox", Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(bin))}, bin)
	for _, applet := range []string{"sh", "sleep", "cat", "ls", "nc", "httpd"} {
		add(&tar.Header{Name: "bin/" + applet, Typeflag: tar.TypeSymlink, Linkname: "busybox", Mode: 0o777}, nil)
	}
	for name, body := range extra {
		add(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(body))}, body)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(t.TempDir(), "rootfs.tar")
	if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

// Image imports tarball as image ref (with PATH=/bin, which an imported
// image lacks) and removes it when the test ends.
func (r *Runtime) Image(t testing.TB, tarball, ref string) {
	t.Helper()
	r.ImageWith(t, tarball, ref)
}

// ImageWith is Image with more image settings, each one Dockerfile
// instruction as import's --change takes it (`ENTRYPOINT ["/agent"]`,
// `CMD ["--help"]`); docker and podman both accept that form.
func (r *Runtime) ImageWith(t testing.TB, tarball, ref string, changes ...string) {
	t.Helper()
	change := "ENV PATH=/bin"
	if r.Name == "podman" {
		change = "ENV=PATH=/bin"
	}
	args := []string{"import", "--change", change}
	for _, c := range changes {
		args = append(args, "--change", c)
	}
	r.MustRun(t, append(args, tarball, ref)...)
	r.Cleanup(t, "rmi", "-f", ref)
}

// RemoveNewPauseImages removes, when the test ends, the pod infra images
// (localhost/podman-pause:*) that podman builds on a pod's first use, if
// they were not there before: call it before the test's first pod. Register
// it before the pods' own cleanups, which then run first.
func (r *Runtime) RemoveNewPauseImages(t testing.TB) {
	t.Helper()
	list := func() ([]string, error) {
		out, err := r.Run(t, "images", "--format", "{{.Repository}}:{{.Tag}}")
		return strings.Fields(out), err
	}
	before, err := list()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		after, err := list()
		if err != nil {
			t.Logf("cleanup: %v", err)
			return
		}
		for _, img := range after {
			if strings.HasPrefix(img, "localhost/podman-pause:") && !slices.Contains(before, img) {
				if _, err := r.Run(t, "rmi", img); err != nil {
					t.Logf("cleanup: %v", err)
				}
			}
		}
	})
}

// Listener builds the program in internal/testctr/listener as a static
// binary (it runs in a busybox image too) and returns its path, in a
// directory removed when the test ends. It skips t when no go command is
// at hand.
func Listener(t testing.TB) string {
	t.Helper()
	return BuildStatic(t, "github.com/hostscope/hostscope/internal/testctr/listener")
}

// BuildStatic builds the Go program pkg (an import path, or a directory
// relative to the test's package) with CGO_ENABLED=0, so that it runs in
// a busybox image too, and returns the binary's path, in a directory
// removed when the test ends. It skips t when no go command is at hand.
func BuildStatic(t testing.TB, pkg string) string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command in PATH to build " + pkg + " with")
	}
	name := path.Base(pkg)
	if name == "." || name == ".." || name == "/" {
		name = "program"
	}
	out := filepath.Join(t.TempDir(), name)
	if _, err := Command([]string{"CGO_ENABLED=0"}, goCmd, "build", "-o", out, pkg); err != nil {
		t.Fatal(err)
	}
	return out
}
