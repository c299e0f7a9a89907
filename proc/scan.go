package proc

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/hostscope/hostscope/hostroot"
)

// ScanOptions tunes Scan and List. A nil *ScanOptions means the defaults.
type ScanOptions struct {
	// Fields selects what is read for each process; zero means
	// DefaultFields. Only the files of these fields are opened.
	Fields Field
}

func (o *ScanOptions) fields() Field {
	if o == nil || o.Fields == 0 {
		return DefaultFields
	}
	return o.Fields
}

// Scan calls fn for every process of the Root's /proc, in ascending PID
// order, each Process freshly allocated (fn may keep it). A process that
// exits during the scan is skipped; a field that cannot be read is recorded
// in the Process's Missing map. Scan checks ctx before each process and
// returns ctx.Err() once it is done; it stops and returns fn's error as soon
// as fn returns one. Its own errors are failing to list /proc and a closed
// Root.
//
// The PIDs are listed once, at the start: a process started during the scan
// is not seen. Each process's files are read one after the other, so they
// can describe slightly different moments of a live process.
func Scan(ctx context.Context, r *hostroot.Root, opts *ScanOptions, fn func(*Process) error) error {
	pids, err := PIDs(r)
	if err != nil {
		return err
	}
	s := newScanner(r, opts.fields())
	defer s.release()
	for _, pid := range pids {
		if err := ctx.Err(); err != nil {
			return err
		}
		p, err := s.read(pid)
		if errors.Is(err, errVanished) {
			continue
		}
		if err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	return nil
}

// List is Scan collecting the processes into a slice, in ascending PID order.
func List(ctx context.Context, r *hostroot.Root, opts *ScanOptions) ([]*Process, error) {
	var procs []*Process
	err := Scan(ctx, r, opts, func(p *Process) error {
		procs = append(procs, p)
		return nil
	})
	return procs, err
}

// Read reads one process. fields zero means DefaultFields. It fails with an
// error wrapping fs.ErrNotExist when the process does not exist (or exits
// while being read); fields that cannot be read are recorded in Missing, as
// in Scan. With FieldStat it also reads the Root's /proc/stat for the boot
// time: to read many processes, Scan is cheaper.
func Read(r *hostroot.Root, pid int, fields Field) (*Process, error) {
	if pid <= 0 {
		return nil, &fs.PathError{Op: "read", Path: "/proc/" + strconv.Itoa(pid), Err: fs.ErrInvalid}
	}
	if fields == 0 {
		fields = DefaultFields
	}
	s := newScanner(r, fields)
	defer s.release()
	p, err := s.read(pid)
	if errors.Is(err, errVanished) {
		return nil, &fs.PathError{Op: "read", Path: "/proc/" + strconv.Itoa(pid), Err: syscall.ENOENT}
	}
	return p, err
}

// PIDs lists the processes of the Root's /proc, ascending: the names of its
// directory that are PIDs (decimal, no leading zero). It reads the directory
// once and stats nothing.
func PIDs(r *hostroot.Root) ([]int, error) {
	names, err := r.ReadDirNames("/proc")
	if err != nil {
		return nil, err
	}
	pids := make([]int, 0, len(names))
	for _, n := range names {
		if pid, ok := pidName(n); ok {
			pids = append(pids, pid)
		}
	}
	slices.Sort(pids)
	return pids, nil
}

// pidName parses a /proc entry name that is a PID the kernel would write.
func pidName(n string) (int, bool) {
	if n == "" || len(n) > 10 || n[0] == '0' {
		return 0, false
	}
	pid := 0
	for i := 0; i < len(n); i++ {
		c := n[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		pid = pid*10 + int(c-'0')
	}
	if pid > 1<<31-1 {
		return 0, false
	}
	return pid, true
}

// errVanished reports that a process exited while being read.
var errVanished = errors.New("process vanished")

// bufPool holds read buffers between scans. 16 KiB reads the files of a
// process in one read(2) each (status is about 1.5 KiB, cmdline rarely more
// than a few); buffers grown by a huge cmdline are not kept.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

const maxPooledBuf = 256 << 10

// scanner reads processes of one Root. It belongs to one scan (or one Read):
// the boot time is read when it is made, the buffer is reused for every file
// it reads, and it is not safe for concurrent use.
type scanner struct {
	r      *hostroot.Root
	fields Field
	buf    *[]byte
	// boot is the Root's boot time; bootErr why it is missing.
	boot    time.Time
	bootErr error
	// hz is the unit of clock-tick fields, pageSize that of stat's rss.
	hz       uint64
	pageSize uint64
	// comms interns command names: many processes share one (workers of a
	// server, shells), so a scan allocates each name once.
	comms map[string]string
	// nets holds the socket tables of each network namespace met, by its
	// inode, so a namespace's tables are read once per scan however many
	// processes share it. It lives and dies with the scan.
	nets map[uint64]*netNS
}

// maxInterned bounds the intern table of one scan.
const maxInterned = 4096

func newScanner(r *hostroot.Root, fields Field) *scanner {
	if fields&(FieldStat|FieldStartTime) != 0 {
		fields |= FieldStat | FieldStartTime
	}
	if fields&(FieldFDInfo|FieldSockets) != 0 {
		fields |= FieldFDs
	}
	s := &scanner{
		r:        r,
		fields:   fields & FieldAll,
		buf:      bufPool.Get().(*[]byte),
		hz:       userHZ,
		pageSize: uint64(os.Getpagesize()),
	}
	if fields&FieldStat != 0 {
		// /proc/stat can be large (a line per CPU and per interrupt): it goes
		// through the reused buffer too.
		b, err := r.AppendFile((*s.buf)[:0], "/proc/stat", 0)
		*s.buf = b[:0]
		if err == nil {
			s.boot, err = parseBootTime(b, "/proc/stat")
		}
		s.bootErr = err
	}
	return s
}

func (s *scanner) release() {
	if cap(*s.buf) <= maxPooledBuf {
		*s.buf = (*s.buf)[:0]
		bufPool.Put(s.buf)
	}
	s.buf = nil
}

// File kinds of a process, indexes into kindFile.
const (
	kStat = iota
	kStatus
	kCmdline
	kExe
	kCwd
	kCgroup
	kFD
	kNS       // kNS+i is nsLinks[i]
	kindCount = kNS + len(nsLinks)
)

var kindFile = [kindCount]string{"stat", "status", "cmdline", "exe", "cwd", "cgroup", "fd"}

func init() {
	for i, l := range nsLinks {
		kindFile[kNS+i] = "ns/" + l.link
	}
}
