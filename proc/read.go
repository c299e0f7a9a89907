package proc

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"strconv"
	"time"

	"github.com/hostscope/hostscope/cgroup"
	"github.com/hostscope/hostscope/hostroot"
)

// procReader is the state of reading one process.
type procReader struct {
	s   *scanner
	p   *Process
	pid int
	// d is the process's directory. Files are read through it by name and
	// confirmed by reading stat last (see hostroot.ProcDir).
	d *hostroot.ProcDir
	// missing holds the files and links found missing (ENOENT) before the
	// process was confirmed: whether each is absent (the process was
	// exiting, or is a kernel thread's exe) or Missing is only known then.
	missing [kindCount]struct {
		f   Field
		err error
	}
	nMissing int
	// fromStatus is what status said the process is, for skipping links a
	// zombie or kernel thread cannot have, and for the fields stat gives
	// when stat is not read; haveStatus says it is set. Its name is copied
	// to nameBuf (nameLen bytes), or longName when longer: the scan's
	// buffer is reused by the next file. (A pointer into pr stored in pr
	// would move pr to the heap.)
	fromStatus status
	haveStatus bool
	nameBuf    [64]byte
	nameLen    int
	longName   []byte
	// rssFromStatus says RSS is status's VmRSS, which is exact; stat's
	// page count only fills it when status was not read.
	rssFromStatus bool
	// exiting says stat found the process exiting or a zombie.
	exiting bool
}

// errReused reports that the process opened as PID went away while its
// files were read: the PID may belong to a new process by now.
var errReused = errors.New("process gone during the read")

// maxReads bounds how often read starts over on a PID that changed hands
// while it was read.
const maxReads = 3

// read reads the scan's fields of process pid. It returns errVanished when
// the process exited, and a non-nil error only for failures that concern the
// whole scan (a closed Root). The files are read through one
// hostroot.ProcDir and confirmed by its stat, read last: when the process
// went away meanwhile, what was read may be another process's, and the read
// starts over on whatever holds the PID now (nothing, usually), so a Process
// never mixes two processes.
func (s *scanner) read(pid int) (*Process, error) {
	for range maxReads {
		p, err := s.readOnce(pid)
		if !errors.Is(err, errReused) {
			return p, err
		}
	}
	return nil, errVanished // the PID changes hands faster than it is read
}

func (s *scanner) readOnce(pid int) (*Process, error) {
	pr := procReader{s: s, p: &Process{PID: pid}, pid: pid}
	d, err := s.r.OpenProc(pid)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, errVanished
	case errors.Is(err, fs.ErrClosed):
		return nil, err
	case err != nil:
		// Nothing of the process can be read (out of descriptors, say):
		// every field is missing, for the same reason.
		for f := Field(1); f < fieldEnd; f <<= 1 {
			if s.fields&f != 0 && f != FieldContainer {
				pr.miss(f, err)
			}
		}
		return pr.p, nil
	}
	defer d.Close()
	pr.d = d
	// Direct calls: through a table of method values pr would escape to
	// the heap, a large allocation per process.
	f := s.fields
	if f&FieldStatus != 0 {
		if err := pr.status(); err != nil {
			return nil, err
		}
	}
	if f&FieldCmdline != 0 {
		if err := pr.cmdline(); err != nil {
			return nil, err
		}
	}
	if f&FieldExe != 0 {
		if err := pr.exe(); err != nil {
			return nil, err
		}
	}
	if f&FieldCwd != 0 {
		if err := pr.cwd(); err != nil {
			return nil, err
		}
	}
	if f&FieldNamespaces != 0 {
		if err := pr.namespaces(); err != nil {
			return nil, err
		}
	}
	if f&FieldCgroups != 0 {
		if err := pr.cgroups(); err != nil {
			return nil, err
		}
	}
	if f&FieldFDs != 0 {
		if err := pr.fds(); err != nil {
			return nil, err
		}
	}
	if f&FieldSockets != 0 {
		if err := pr.sockets(); err != nil {
			return nil, err
		}
	}
	if err := pr.confirm(); err != nil {
		return nil, err
	}
	pr.settle()
	return pr.p, nil
}

// confirm reads stat last, through the file OpenProc holds: if it reads,
// the process was there all along and every file read before is its own.
// It returns errReused when the process is gone. A scan without FieldStat
// asks Gone instead, which confirms the same way without reading stat
// through the Root.
func (pr *procReader) confirm() error {
	if pr.s.fields&FieldStat == 0 {
		if pr.d.Gone() {
			return errReused
		}
		return nil
	}
	data, err := pr.d.AppendStat((*pr.s.buf)[:0], 0)
	*pr.s.buf = data[:0]
	switch {
	case errors.Is(err, fs.ErrClosed):
		return err
	case errors.Is(err, fs.ErrNotExist) && pr.d.Gone():
		return errReused
	case err != nil:
		// A snapshot without stat: the directory is there, so the files
		// read are the process's.
		pr.miss(FieldStat, err)
		return nil
	}
	st, err := parseStat(data, "")
	if err != nil {
		// procfs writes -1 for the process group and session of a task
		// it caught being reaped: such a process is gone, not malformed.
		if pr.d.Gone() {
			return errReused
		}
		_, err = parseStat(data, pr.name(kStat))
		pr.miss(FieldStat, err)
		return nil
	}
	pr.exiting = st.state == 'Z' || st.state == 'X' || st.flags&pfExiting != 0
	pr.applyStat(&st)
	return nil
}

// settle fills what status gives when stat was not read, and decides each
// missing file: absent if the process was exiting (procfs keeps the
// directory of an exiting process but drops its links) or it is a kernel
// thread's exe; Missing otherwise.
func (pr *procReader) settle() {
	p := pr.p
	if st := &pr.fromStatus; pr.haveStatus && (pr.s.fields&FieldStat == 0 || p.Missing[FieldStat] != nil) {
		p.PPID = st.ppid
		name := pr.longName
		if name == nil {
			name = pr.nameBuf[:pr.nameLen]
		}
		p.Comm = pr.s.intern(unescapeName(name))
		p.State = stateString(st.state)
		p.Threads = st.threads
		p.VSize = st.vmSize
		p.KernelThread = st.kthread
		if !pr.exiting {
			pr.exiting = st.state == 'Z' || st.state == 'X'
		}
	}
	for _, m := range pr.missing[:pr.nMissing] {
		if pr.exiting || (m.f == FieldExe && p.KernelThread) {
			continue
		}
		pr.miss(m.f, m.err)
	}
}

// pfExiting is the PF_EXITING bit of the flags field of stat: set when a
// process starts to exit, before it becomes a zombie.
const pfExiting = 0x00000004

// fail handles an error reading a file of field f: the error itself if it
// dooms the whole scan, and otherwise nil, having recorded it in Missing or,
// for a missing file, for confirm and settle to decide.
func (pr *procReader) fail(f Field, err error) error {
	if errors.Is(err, fs.ErrClosed) {
		return err
	}
	if errors.Is(err, fs.ErrNotExist) {
		pr.missing[pr.nMissing].f, pr.missing[pr.nMissing].err = f, err
		pr.nMissing++
		return nil
	}
	pr.miss(f, err)
	return nil
}

func (pr *procReader) miss(f Field, err error) {
	if pr.p.Missing == nil {
		pr.p.Missing = make(map[Field]error, 1)
	}
	pr.p.Missing[f] = err
}

// name is the host name of file kind k, for errors. The parsers are first
// given no name and, only when they fail, the same data again with it: a
// process's names then cost nothing unless one of its files is malformed.
func (pr *procReader) name(k int) string {
	return "/proc/" + strconv.Itoa(pr.pid) + "/" + kindFile[k]
}

// readFile reads file kind k into the scan's buffer. The result is valid
// until the next read.
func (pr *procReader) readFile(k int) ([]byte, error) {
	b, err := pr.d.AppendFile((*pr.s.buf)[:0], kindFile[k], 0)
	*pr.s.buf = b[:0] // keep the buffer if it grew
	return b, err
}

// zombie reports whether status said the process is a zombie (or dead):
// its executable, working directory and namespaces are gone.
func (pr *procReader) zombie() bool {
	return pr.haveStatus && (pr.fromStatus.state == 'Z' || pr.fromStatus.state == 'X')
}

// applyStat fills the fields stat gives.
func (pr *procReader) applyStat(st *stat) {
	s, p := pr.s, pr.p
	utime, ok1 := ticks(st.utime, s.hz)
	stime, ok2 := ticks(st.stime, s.hz)
	start, ok3 := ticks(st.starttime, s.hz)
	if !ok1 || !ok2 || !ok3 || st.rss > math.MaxUint64/s.pageSize {
		pr.miss(FieldStat, fmt.Errorf("%w: %s line 1: a time or size is out of range", hostroot.ErrMalformed, pr.name(kStat)))
		return
	}
	p.PPID, p.PGID, p.SID = st.ppid, st.pgid, st.sid
	p.TTY = ttyFromNr(st.ttyNr)
	p.Comm = s.intern(st.comm)
	p.State = stateString(st.state)
	p.KernelThread = st.flags&pfKthread != 0
	p.UTime, p.STime = utime, stime
	p.Priority, p.Nice = st.priority, st.nice
	p.Threads = st.threads
	p.VSize = st.vsize
	if !pr.rssFromStatus {
		p.RSS = st.rss * s.pageSize
	}
	p.StartTicks = st.starttime
	if s.bootErr != nil {
		pr.miss(FieldStartTime, s.bootErr)
	} else {
		p.StartTime = s.boot.Add(start)
	}
}

func (pr *procReader) status() error {
	data, err := pr.readFile(kStatus)
	if err != nil {
		return pr.fail(FieldStatus, err)
	}
	st, err := parseStatus(data, "")
	if err != nil {
		_, err = parseStatus(data, pr.name(kStatus))
		pr.miss(FieldStatus, err)
		return nil
	}
	p := pr.p
	p.UIDs, p.GIDs, p.Groups = st.uids, st.gids, st.groups
	p.CapInh, p.CapPrm, p.CapEff, p.CapBnd, p.CapAmb = st.capInh, st.capPrm, st.capEff, st.capBnd, st.capAmb
	p.NoNewPrivs, p.Seccomp = st.noNewPrivs, st.seccomp
	p.NSpid = st.nspid
	p.RSS, pr.rssFromStatus = st.vmRSS, true
	if st.state != 0 {
		if len(st.name) <= len(pr.nameBuf) {
			pr.nameLen = copy(pr.nameBuf[:], st.name)
		} else {
			pr.longName = bytes.Clone(st.name)
		}
		st.name = nil
		pr.fromStatus, pr.haveStatus = st, true
	}
	return nil
}

func (pr *procReader) cmdline() error {
	data, err := pr.readFile(kCmdline)
	if err != nil {
		return pr.fail(FieldCmdline, err)
	}
	pr.p.Cmdline = parseCmdline(data)
	return nil
}

func (pr *procReader) exe() error {
	if (pr.haveStatus && pr.fromStatus.kthread) || pr.zombie() {
		return nil
	}
	link, err := pr.d.Readlink(kindFile[kExe])
	if err != nil {
		return pr.fail(FieldExe, err)
	}
	pr.p.Exe, pr.p.ExeDeleted = parseExe(link)
	return nil
}

func (pr *procReader) cwd() error {
	if pr.zombie() {
		return nil
	}
	link, err := pr.d.Readlink(kindFile[kCwd])
	if err != nil {
		return pr.fail(FieldCwd, err)
	}
	pr.p.Cwd = link
	return nil
}

// namespaces reads the ns links. A link missing while others are there is a
// namespace type the kernel lacks, and stays zero; all of them missing is a
// Missing entry (or absent, for an exiting process). The first other error
// stops the loop: the links share one permission check.
func (pr *procReader) namespaces() error {
	if pr.zombie() {
		return nil
	}
	var notExist error
	found := false
	for i, l := range nsLinks {
		link, err := pr.d.Readlink(kindFile[kNS+i])
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				if notExist == nil {
					notExist = err
				}
				continue
			}
			return pr.fail(FieldNamespaces, err)
		}
		ino, err := parseNSLink(link, l.kind, "")
		if err != nil {
			_, err = parseNSLink(link, l.kind, pr.name(kNS+i))
			pr.miss(FieldNamespaces, err)
			return nil
		}
		*pr.p.Namespaces.slot(i) = ino
		found = true
	}
	if !found && notExist != nil {
		return pr.fail(FieldNamespaces, notExist)
	}
	return nil
}

func (pr *procReader) cgroups() error {
	data, err := pr.readFile(kCgroup)
	if err != nil {
		return pr.fail(FieldCgroups, err)
	}
	// A malformed line is recorded, and the well-formed lines are kept:
	// one bad line must not hide the process's container.
	entries, err := cgroup.ParseEntries(data, "")
	if err != nil {
		entries, err = cgroup.ParseEntries(data, pr.name(kCgroup))
	}
	pr.p.Cgroups = entries
	if err != nil {
		pr.miss(FieldCgroups, err)
	}
	return nil
}

// ticks converts a clock-tick count to a Duration; false if it does not fit.
func ticks(n, hz uint64) (time.Duration, bool) {
	per := uint64(time.Second) / hz
	if n > math.MaxInt64/per {
		return 0, false
	}
	return time.Duration(n * per), true
}

// intern returns b as a string, shared with earlier equal names of the scan.
func (s *scanner) intern(b []byte) string {
	if c, ok := s.comms[string(b)]; ok {
		return c
	}
	c := string(b)
	if len(s.comms) < maxInterned {
		if s.comms == nil {
			s.comms = make(map[string]string)
		}
		s.comms[c] = c
	}
	return c
}

// letters backs the one-letter State strings, so they cost no allocation.
const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func stateString(c byte) string {
	switch {
	case 'A' <= c && c <= 'Z':
		return letters[c-'A' : c-'A'+1]
	case 'a' <= c && c <= 'z':
		return letters[26+c-'a' : 26+c-'a'+1]
	}
	return ""
}
