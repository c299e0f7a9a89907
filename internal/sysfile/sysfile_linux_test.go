package sysfile

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestNames: short names go through the stack copy, long ones and names
// holding a NUL through x/sys, with the same answers.
func TestNames(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("l", 255) // a name of 255 bytes does not fit with its NUL
	longText := strings.Repeat("/x", 300)
	longLink := strings.Repeat("m", 255)
	for _, f := range []string{"short", long} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range []string{"link", longLink} {
		if err := os.Symlink(longText+l, filepath.Join(dir, l)); err != nil {
			t.Fatal(err)
		}
	}
	dirfd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dirfd)
	for _, tc := range []struct {
		name    string
		wantErr error
	}{
		{"short", nil},
		{long, nil},
		{"missing", unix.ENOENT},
		{"sho\x00rt", unix.EINVAL},
		{strings.Repeat("a/", 200) + "x", unix.ENOENT},
	} {
		fd, err := Openat(dirfd, tc.name, unix.O_RDONLY)
		if err != tc.wantErr {
			t.Errorf("Openat(%.20q) = %v, want %v", tc.name, err, tc.wantErr)
		}
		if err == nil {
			b, _, err := ReadAll(fd, nil, 1<<20)
			if err != nil || string(b) != tc.name {
				t.Errorf("Openat(%.20q) read %.20q, %v", tc.name, b, err)
			}
			Close(fd)
		} else if fd != -1 {
			t.Errorf("Openat(%.20q) = fd %d with an error", tc.name, fd)
		}
		fd, err = Openat2(dirfd, tc.name, unix.O_RDONLY, ResolveBeneath)
		if err != tc.wantErr && err != unix.ENOSYS {
			t.Errorf("Openat2(%.20q) = %v, want %v", tc.name, err, tc.wantErr)
		}
		if err == nil {
			Close(fd)
		}
	}
	for _, link := range []string{"link", longLink} {
		got, err := ReadlinkAt(dirfd, link)
		if err != nil || got != longText+link {
			t.Errorf("ReadlinkAt(%.20q) = %.20q..., %v", link, got, err)
		}
	}
	if _, err := ReadlinkAt(dirfd, "short"); err != unix.EINVAL {
		t.Errorf("ReadlinkAt of a file = %v, want EINVAL", err)
	}
	if _, err := ReadlinkAt(dirfd, "a\x00b"); err != unix.EINVAL {
		t.Errorf("ReadlinkAt of a name with a NUL = %v, want EINVAL", err)
	}
}

// TestNoAllocs: opening a short name and reading a short link allocate
// nothing but the link's text.
func TestNoAllocs(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "stat"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/usr/bin/true", filepath.Join(dir, "exe")); err != nil {
		t.Fatal(err)
	}
	dirfd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dirfd)
	buf := make([]byte, 0, 4096)
	if n := testing.AllocsPerRun(100, func() {
		fd, err := Openat(dirfd, "stat", unix.O_RDONLY)
		if err != nil {
			t.Fatal(err)
		}
		buf, _, _ = ReadAll(fd, buf[:0], 1<<20)
		Close(fd)
	}); n != 0 {
		t.Errorf("Openat + ReadAll + Close: %v allocations, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() {
		if _, err := ReadlinkAt(dirfd, "exe"); err != nil {
			t.Fatal(err)
		}
	}); n != 1 {
		t.Errorf("ReadlinkAt: %v allocations, want 1 (the text)", n)
	}
}

// TestIn: OpenatIn and ReadlinkAtIn open dir/name, from the stack when it
// fits and through a built string when it does not.
func TestIn(t *testing.T) {
	base := t.TempDir()
	long := strings.Repeat("d", 250)
	for _, d := range []string{"123", long} {
		if err := os.MkdirAll(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(base, d, "stat"), []byte(d), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("/usr/bin/"+d[:3], filepath.Join(base, d, "exe")); err != nil {
			t.Fatal(err)
		}
	}
	dirfd, err := unix.Open(base, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dirfd)
	for _, d := range []string{"123", long} {
		fd, err := OpenatIn(dirfd, []byte(d), "stat", unix.O_RDONLY)
		if err != nil {
			t.Fatalf("OpenatIn(%.10s, stat): %v", d, err)
		}
		b, _, err := ReadAll(fd, nil, 1<<20)
		Close(fd)
		if err != nil || string(b) != d {
			t.Errorf("OpenatIn(%.10s, stat) read %.10q, %v", d, b, err)
		}
		if s, err := ReadlinkAtIn(dirfd, []byte(d), "exe"); err != nil || s != "/usr/bin/"+d[:3] {
			t.Errorf("ReadlinkAtIn(%.10s, exe) = %q, %v", d, s, err)
		}
		if _, err := OpenatIn(dirfd, []byte(d), "missing", unix.O_RDONLY); err != unix.ENOENT {
			t.Errorf("OpenatIn(%.10s, missing) = %v, want ENOENT", d, err)
		}
	}
	if _, err := OpenatIn(dirfd, []byte("1\x0023"), "stat", unix.O_RDONLY); err != unix.EINVAL {
		t.Errorf("OpenatIn with a NUL = %v, want EINVAL", err)
	}
	dir := []byte("123")
	if n := testing.AllocsPerRun(50, func() {
		fd, err := OpenatIn(dirfd, dir, "stat", unix.O_RDONLY)
		if err != nil {
			t.Fatal(err)
		}
		Close(fd)
	}); n != 0 {
		t.Errorf("OpenatIn: %v allocations, want 0", n)
	}
}

// TestDirNames lists a directory of many entries, long names included,
// against os.ReadDir.
func TestDirNames(t *testing.T) {
	dir := t.TempDir()
	want := map[string]bool{}
	for i := range 3000 {
		name := strconv.Itoa(i)
		if i%500 == 0 {
			name = strings.Repeat("n", 200) + name
		}
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		want[name] = true
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	names, err := DirNames(fd)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, n := range names {
		if got[n] || !want[n] {
			t.Errorf("DirNames: unexpected or repeated %q", n)
		}
		got[n] = true
	}
	if len(got) != len(want) {
		t.Errorf("DirNames: %d names, want %d", len(got), len(want))
	}
}

// TestReadAllAt reads from the start whatever the descriptor's offset, and
// leaves the offset alone.
func TestReadAllAt(t *testing.T) {
	name := filepath.Join(t.TempDir(), "f")
	content := strings.Repeat("0123456789", 5000)
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if _, err := unix.Seek(fd, 123, 0); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		b, tooLarge, err := ReadAllAt(fd, nil, 1<<20)
		if err != nil || tooLarge || string(b) != content {
			t.Fatalf("ReadAllAt = %d bytes, %v, %v", len(b), tooLarge, err)
		}
	}
	if b, tooLarge, err := ReadAllAt(fd, nil, 100); err != nil || !tooLarge || string(b) != content[:100] {
		t.Errorf("ReadAllAt past the limit = %q, %v, %v", b, tooLarge, err)
	}
	if off, _ := unix.Seek(fd, 0, 1); off != 123 {
		t.Errorf("offset after ReadAllAt = %d, want 123", off)
	}
}
