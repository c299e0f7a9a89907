package bench

import (
	"bytes"
	"strconv"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Floor is the least a Go program can do for the inventory: raw system
// calls, one reused buffer, and byte scans that only locate each value. It
// is the yardstick, not a reader anyone should ship: it ignores malformed
// files, reads only the reading process's /proc and checks nothing a
// library must.
//
// Per process it costs, as the kernel sees it: openat, read until end of
// file (two reads for a file that fits the buffer: the data, then 0) and
// close for stat, status, cmdline and cgroup, and one readlinkat for exe.
// The listing is getdents64 into a reused buffer. Opens are
// O_RDONLY|O_CLOEXEC|O_NONBLOCK, the flags os.Open would add fcntl calls
// and an epoll registration to reach.
//
// A Floor is not safe for concurrent use; reuse one across scans.
type Floor struct {
	buf   []byte // every file's content, 16 KiB
	dents []byte // getdents64 records
	pids  []int
	// path holds "/proc/PID/" and then a file name and a NUL; dir is the
	// length of "/proc/PID/".
	path [64]byte
	dir  int
}

// NewFloor allocates a Floor's buffers.
func NewFloor() *Floor {
	return &Floor{
		buf:   make([]byte, 16<<10),
		dents: make([]byte, 32<<10),
		pids:  make([]int, 0, 4096),
	}
}

// Scan lists /proc and calls visit for every process whose stat it could
// read. It returns the number of processes visited.
func (f *Floor) Scan(visit func(*Proc)) (int, error) {
	if err := f.list(); err != nil {
		return 0, err
	}
	rec := Proc{Comm: make([]byte, 0, 64), Exe: make([]byte, 0, unix.PathMax)}
	n := 0
	for _, pid := range f.pids {
		if f.process(pid, &rec) {
			visit(&rec)
			n++
		}
	}
	return n, nil
}

// list reads the PIDs of /proc with getdents64, parsing the records in
// place: no name becomes a string.
func (f *Floor) list() error {
	fd, err := unix.Open("/proc", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	f.pids = f.pids[:0]
	for {
		n, err := unix.ReadDirent(fd, f.dents)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n <= 0 {
			return nil
		}
		for b := f.dents[:n]; len(b) >= 19; {
			// linux_dirent64: d_ino 8, d_off 8, d_reclen 2, d_type 1, d_name.
			reclen := int(b[16]) | int(b[17])<<8
			if reclen < 19 || reclen > len(b) {
				break
			}
			if b[18] == unix.DT_DIR {
				if pid, ok := atoiName(b[19:reclen]); ok {
					f.pids = append(f.pids, pid)
				}
			}
			b = b[reclen:]
		}
	}
}

// cwdFD is AT_FDCWD held in a variable, so converting it to a system call
// argument wraps (-100 as a uintptr) instead of failing to compile.
var cwdFD = unix.AT_FDCWD

// atoiName parses a NUL-terminated all-digit name.
func atoiName(b []byte) (int, bool) {
	n, i := 0, 0
	for ; i < len(b) && b[i] != 0; i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, i > 0
}

// process fills rec for pid; false if its stat could not be read (it
// exited).
func (f *Floor) process(pid int, rec *Proc) bool {
	p := append(f.path[:0], "/proc/"...)
	p = strconv.AppendInt(p, int64(pid), 10)
	p = append(p, '/')
	f.dir = len(p)
	rec.reset(pid)

	data, ok := f.readSmall("stat")
	if !ok || !parseStatFloor(data, rec) {
		return false
	}
	if data, ok := f.readSmall("status"); ok {
		rec.UID = uint32(numberAfter(data, "\nUid:"))
		rec.RSS = numberAfter(data, "\nVmRSS:") << 10
	}
	rec.Args = f.countArgs()
	rec.Cgroups = f.countLines("cgroup")
	rec.Exe = f.readlink("exe", rec.Exe)
	return true
}

// setName puts name and a NUL after "/proc/PID/".
func (f *Floor) setName(name string) {
	n := copy(f.path[f.dir:], name)
	f.path[f.dir+n] = 0
}

func (f *Floor) open(name string) (int, bool) {
	f.setName(name)
	for {
		fd, _, e := unix.Syscall6(unix.SYS_OPENAT, uintptr(cwdFD), uintptr(unsafe.Pointer(&f.path[0])),
			uintptr(unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK), 0, 0, 0)
		if e == unix.EINTR {
			continue
		}
		return int(fd), e == 0
	}
}

// fill reads from fd into the buffer until end of file or a full buffer.
func (f *Floor) fill(fd int) (data []byte, eof bool) {
	n := 0
	for n < len(f.buf) {
		m, err := unix.Read(fd, f.buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil || m <= 0 {
			return f.buf[:n], true
		}
		n += m
	}
	return f.buf[:n], false
}

// readSmall reads a file whose values all lie in its first 16 KiB (stat,
// status), draining the rest so the work matches a whole-file read.
func (f *Floor) readSmall(name string) ([]byte, bool) {
	fd, ok := f.open(name)
	if !ok {
		return nil, false
	}
	data, eof := f.fill(fd)
	if !eof {
		// The values are at the front of the buffer; read the rest into a
		// scratch tail so they stay intact.
		for {
			m, err := unix.Read(fd, f.buf[len(f.buf)/2:])
			if err == unix.EINTR {
				continue
			}
			if err != nil || m <= 0 {
				break
			}
		}
		data = data[:len(f.buf)/2]
	}
	unix.Close(fd)
	return data, true
}

// countArgs counts the NUL-separated arguments of cmdline after dropping
// trailing NULs, whatever its size.
func (f *Floor) countArgs() int {
	fd, ok := f.open("cmdline")
	if !ok {
		return 0
	}
	nuls, trail, total := 0, 0, 0
	for {
		data, eof := f.fill(fd)
		total += len(data)
		nuls += bytes.Count(data, []byte{0})
		if i := len(data) - 1; i >= 0 {
			end := i
			for end >= 0 && data[end] == 0 {
				end--
			}
			if end >= 0 {
				trail = i - end
			} else {
				trail += len(data)
			}
		}
		if eof {
			break
		}
	}
	unix.Close(fd)
	if total == trail {
		return 0
	}
	return nuls - trail + 1
}

// countLines counts the newline-terminated lines of a file.
func (f *Floor) countLines(name string) int {
	fd, ok := f.open(name)
	if !ok {
		return 0
	}
	n := 0
	for {
		data, eof := f.fill(fd)
		n += bytes.Count(data, []byte{'\n'})
		if eof {
			break
		}
	}
	unix.Close(fd)
	return n
}

// readlink reads a link's text into dst's memory; empty on any error.
func (f *Floor) readlink(name string, dst []byte) []byte {
	f.setName(name)
	dst = dst[:cap(dst)]
	for {
		n, _, e := unix.Syscall6(unix.SYS_READLINKAT, uintptr(cwdFD), uintptr(unsafe.Pointer(&f.path[0])),
			uintptr(unsafe.Pointer(&dst[0])), uintptr(len(dst)), 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return dst[:0]
		}
		return dst[:n]
	}
}

// parseStatFloor locates comm, state, ppid, utime and stime in a stat line.
func parseStatFloor(data []byte, rec *Proc) bool {
	open := bytes.IndexByte(data, '(')
	end := bytes.LastIndexByte(data, ')')
	if open < 0 || end < open || end+3 > len(data) {
		return false
	}
	rec.Comm = append(rec.Comm, data[open+1:end]...)
	rest := data[end+2:]
	rec.State = rest[0]
	// Fields after ") ": 0 state, 1 ppid, ..., 11 utime, 12 stime.
	field := 0
	for i := 0; i < len(rest) && field <= 12; {
		j := i
		for j < len(rest) && rest[j] != ' ' {
			j++
		}
		switch field {
		case 1:
			rec.PPID = int(atou(rest[i:j]))
		case 11:
			rec.UTime = time.Duration(atou(rest[i:j])) * (time.Second / userHZ)
		case 12:
			rec.STime = time.Duration(atou(rest[i:j])) * (time.Second / userHZ)
		}
		field++
		i = j + 1
	}
	return field > 12
}

// numberAfter returns the first decimal number after key in data, 0 if key
// is absent.
func numberAfter(data []byte, key string) uint64 {
	i := bytes.Index(data, unsafe.Slice(unsafe.StringData(key), len(key)))
	if i < 0 {
		return 0
	}
	b := data[i+len(key):]
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return atou(b)
}

// atou parses the leading decimal digits of b.
func atou(b []byte) uint64 {
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + uint64(c-'0')
	}
	return n
}
