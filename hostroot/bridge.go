package hostroot

import (
	"github.com/prometheus/procfs"
	"github.com/prometheus/procfs/sysfs"
)

// ProcFS returns a github.com/prometheus/procfs FS pointed at this Root's
// /proc, so everything procfs parses is at hand without recomputing paths.
// procfs opens paths itself, outside the Root's confinement, which is safe for
// the kernel-made /proc tree and nothing else. A Root without a directory in
// the reader's file system (in memory, or from ProcRoot) fails with an error
// wrapping errors.ErrUnsupported.
func (r *Root) ProcFS() (procfs.FS, error) {
	p, err := r.readerPath("procfs", "/proc")
	if err != nil {
		return procfs.FS{}, err
	}
	return procfs.NewFS(p)
}

// SysFS is ProcFS for /sys and github.com/prometheus/procfs/sysfs.
func (r *Root) SysFS() (sysfs.FS, error) {
	p, err := r.readerPath("sysfs", "/sys")
	if err != nil {
		return sysfs.FS{}, err
	}
	return sysfs.NewFS(p)
}
