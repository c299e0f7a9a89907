package bench

import (
	"os"
	"strconv"
	"testing"

	"github.com/hostscope/hostscope/cgroup"
	"github.com/hostscope/hostscope/hostroot"
)

// BenchmarkFileOps isolates the per-file cost under the inventory: reading
// one /proc file and one exe link of this process, by the floor's raw
// system calls, by hostroot (a Root by name, and a ProcDir as proc.Scan
// reads them), and by the standard library. Each op is one whole read
// (open, reads to end of file, close) or one link read; "procdir-open" is
// opening and closing a ProcDir, which holds the stat file. The difference
// between floor and hostroot is hostroot's overhead per file.
func BenchmarkFileOps(b *testing.B) {
	root, err := hostroot.Native()
	if err != nil {
		b.Fatal(err)
	}
	dir := "/proc/" + strconv.Itoa(os.Getpid()) + "/"
	f := NewFloor()
	p := append(f.path[:0], dir...)
	f.dir = len(p)
	buf := make([]byte, 0, 16<<10)
	pd, err := root.OpenProc(os.Getpid())
	if err != nil {
		b.Fatal(err)
	}
	defer pd.Close()
	for _, name := range []string{"stat", "status", "cgroup"} {
		b.Run(name+"/floor", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := f.readSmall(name); !ok {
					b.Fatal("read failed")
				}
			}
		})
		full := dir + name
		b.Run(name+"/hostroot", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if buf, err = root.AppendFile(buf[:0], full, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/procdir", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if buf, err = pd.AppendFile(buf[:0], name, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/os", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := os.ReadFile(dir + name); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("exe/floor", func(b *testing.B) {
		b.ReportAllocs()
		dst := make([]byte, 0, 4096)
		for b.Loop() {
			if len(f.readlink("exe", dst)) == 0 {
				b.Fatal("readlink failed")
			}
		}
	})
	exe := dir + "exe"
	b.Run("exe/hostroot", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := root.Readlink(exe); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("exe/procdir", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := pd.Readlink("exe"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("procdir-open", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			d, err := root.OpenProc(os.Getpid())
			if err != nil {
				b.Fatal(err)
			}
			d.Close()
		}
	})
	b.Run("exe/os", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := os.Readlink(exe); err != nil {
				b.Fatal(err)
			}
		}
	})
	// Parsing alone: the cgroup file of this machine's PID 1, the shape
	// every process of a cgroup v1 or hybrid host has.
	data, err := root.ReadFile("/proc/1/cgroup")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("cgroup-parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := cgroup.ParseEntries(data, "/proc/1/cgroup"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
