package proc

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"syscall"
	"time"

	"github.com/hostscope/hostscope/cgroup"
	"github.com/hostscope/hostscope/hostroot"
)

// procReader is the state of reading one process.
type procReader struct {
	s *scanner
	p *Process
	n procNames
	// d is the process's directory: every file is read through it, so all
	// of them are the same process's (see hostroot.ProcDir).
	d *hostroot.ProcDir
	// exists caches whether the process being read is still there: 0 not
	// checked yet, 1 yes, -1 gone. It is only checked when a file is found
	// missing.
	exists int8
	// exiting caches whether the process has begun to exit (or is a
	// zombie), as a second read of stat shows: 0 not checked, 1 yes, -1 no.
	exiting int8
	// stateKnown says State and KernelThread were read, so links that a
	// kernel thread or zombie cannot have are not asked for.
	stateKnown bool
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
// hostroot.ProcDir, so they all describe the process it opened; when that
// process goes away meanwhile, the read starts over on whatever holds the
// PID now (nothing, usually), so a Process never mixes two processes.
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
	pr := procReader{s: s, p: &Process{PID: pid}}
	s.namesFor(pid, &pr.n)
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
	for _, step := range [...]struct {
		f    Field
		read func(*procReader) error
	}{
		{FieldStat, (*procReader).stat},
		{FieldStatus, (*procReader).status},
		{FieldCmdline, (*procReader).cmdline},
		{FieldExe, (*procReader).exe},
		{FieldCwd, (*procReader).cwd},
		{FieldNamespaces, (*procReader).namespaces},
		{FieldCgroups, (*procReader).cgroups},
	} {
		if s.fields&step.f == 0 {
			continue
		}
		if err := step.read(&pr); err != nil {
			if errors.Is(err, errVanished) {
				// The process opened is gone; a new one may hold its PID.
				return nil, errReused
			}
			return nil, err
		}
	}
	return pr.p, nil
}

// gone reports whether the process being read has disappeared (it was
// reaped, or, on Roots that read by name, its directory went away or passed
// to another process).
func (pr *procReader) gone() bool {
	if pr.exists == 0 {
		pr.exists = 1
		if pr.d.Gone() {
			pr.exists = -1
		}
	}
	return pr.exists < 0
}

// pfExiting is the PF_EXITING bit of the flags field of stat: set when a
// process starts to exit, before it becomes a zombie.
const pfExiting = 0x00000004

// exited reports whether the process has begun to exit or is a zombie, by
// reading its stat again. procfs keeps the directory of such a process but
// answers ENOENT for its exe, cwd and ns links, so a field that fails that
// way is absent, like a zombie's, not missing. It is only asked after such a
// failure, and only in scans that read stat anyway: without it a scan
// cannot tell an exiting process from a kernel thread either.
func (pr *procReader) exited() bool {
	if pr.s.fields&FieldStat == 0 {
		return false
	}
	if pr.exiting == 0 {
		pr.exiting = -1
		b, err := pr.d.AppendFile((*pr.s.buf)[:0], "stat", 0)
		*pr.s.buf = b[:0]
		switch {
		case err == nil:
			if st, err := parseStat(b, pr.n.name(kStat)); err == nil && (st.state == 'Z' || st.state == 'X' || st.flags&pfExiting != 0) {
				pr.exiting = 1
			}
		case errors.Is(err, fs.ErrNotExist) && pr.d.Gone():
			// Reaped since gone was asked: the caller must skip the
			// process (see vanishedSince).
			pr.exists = -1
		}
	}
	return pr.exiting > 0
}

// vanishedSince reports whether exited found the process gone after gone
// had said it was there.
func (pr *procReader) vanishedSince() bool { return pr.exists < 0 }

// fail handles an error opening or reading a file of field f: errVanished
// if the process is gone, the error itself if it dooms the whole scan, and
// otherwise nil, having recorded it in Missing.
func (pr *procReader) fail(f Field, err error) error {
	if errors.Is(err, fs.ErrClosed) {
		return err
	}
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
		if pr.gone() {
			return errVanished
		}
		if pr.exited() {
			return nil
		}
		if pr.vanishedSince() {
			return errVanished
		}
	}
	pr.miss(f, err)
	return nil
}

// malformed records a parse error of field f, unless the file was empty
// because the process exited while it was read.
func (pr *procReader) malformed(f Field, data []byte, err error) error {
	if len(data) == 0 && pr.gone() {
		return errVanished
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

// readFile reads file kind k into the scan's buffer. The result is valid
// until the next read.
func (pr *procReader) readFile(k int) ([]byte, error) {
	b, err := pr.d.AppendFile((*pr.s.buf)[:0], kindFile[k], 0)
	*pr.s.buf = b[:0] // keep the buffer if it grew
	return b, err
}

// zombie reports whether the process is known to be a zombie (or dead):
// its executable, working directory and namespaces are gone.
func (pr *procReader) zombie() bool {
	return pr.stateKnown && (pr.p.State == "Z" || pr.p.State == "X") || pr.exiting > 0
}

func (pr *procReader) stat() error {
	data, err := pr.readFile(kStat)
	if err != nil {
		return pr.fail(FieldStat, err)
	}
	name := pr.n.name(kStat)
	st, err := parseStat(data, name)
	if err != nil {
		return pr.malformed(FieldStat, data, err)
	}
	s, p := pr.s, pr.p
	utime, ok1 := ticks(st.utime, s.hz)
	stime, ok2 := ticks(st.stime, s.hz)
	start, ok3 := ticks(st.starttime, s.hz)
	if !ok1 || !ok2 || !ok3 || st.rss > math.MaxUint64/s.pageSize {
		pr.miss(FieldStat, fmt.Errorf("%w: %s line 1: a time or size is out of range", hostroot.ErrMalformed, name))
		return nil
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
	p.RSS = st.rss * s.pageSize
	p.StartTicks = st.starttime
	if s.bootErr != nil {
		pr.miss(FieldStartTime, s.bootErr)
	} else {
		p.StartTime = s.boot.Add(start)
	}
	pr.stateKnown = true
	return nil
}

func (pr *procReader) status() error {
	data, err := pr.readFile(kStatus)
	if err != nil {
		return pr.fail(FieldStatus, err)
	}
	st, err := parseStatus(data, pr.n.name(kStatus))
	if err != nil {
		return pr.malformed(FieldStatus, data, err)
	}
	p := pr.p
	p.UIDs, p.GIDs, p.Groups = st.uids, st.gids, st.groups
	p.CapInh, p.CapPrm, p.CapEff, p.CapBnd, p.CapAmb = st.capInh, st.capPrm, st.capEff, st.capBnd, st.capAmb
	p.NoNewPrivs, p.Seccomp = st.noNewPrivs, st.seccomp
	p.NSpid = st.nspid
	p.RSS = st.vmRSS
	if pr.s.fields&FieldStat == 0 || pr.p.Missing[FieldStat] != nil {
		p.PPID = st.ppid
		p.Comm = pr.s.intern(unescapeName(st.name))
		p.State = stateString(st.state)
		p.Threads = st.threads
		p.VSize = st.vmSize
		p.KernelThread = st.kthread
		pr.stateKnown = st.state != 0
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
	if (pr.stateKnown && pr.p.KernelThread) || pr.zombie() {
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
// Missing entry. The first other error stops the loop: the links share one
// permission check.
func (pr *procReader) namespaces() error {
	if pr.zombie() {
		return nil
	}
	var notExist error
	found := false
	for i, l := range nsLinks {
		link, err := pr.d.Readlink(kindFile[kNS+i])
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
				if pr.gone() {
					return errVanished
				}
				if notExist == nil {
					notExist = err
				}
				continue
			}
			return pr.fail(FieldNamespaces, err)
		}
		ino, err := parseNSLink(link, l.kind, pr.n.name(kNS+i))
		if err != nil {
			pr.miss(FieldNamespaces, err)
			return nil
		}
		*pr.p.Namespaces.slot(i) = ino
		found = true
	}
	if !found && notExist != nil && !pr.exited() {
		if pr.vanishedSince() {
			return errVanished
		}
		pr.miss(FieldNamespaces, notExist)
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
	entries, err := cgroup.ParseEntries(data, pr.n.name(kCgroup))
	pr.p.Cgroups = entries
	if err != nil {
		return pr.malformed(FieldCgroups, data, err)
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
