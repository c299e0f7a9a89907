package proc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"slices"
	"strconv"

	"github.com/hostscope/hostscope/hostroot"
	"github.com/hostscope/hostscope/internal/parse"
)

// Socket is one socket of a network namespace, from its /proc/PID/net
// tables (tcp, tcp6, udp, udp6, raw, raw6, unix). Plain data.
type Socket struct {
	// Protocol is the table the socket is listed in: "tcp", "tcp6", "udp",
	// "udp6", "raw", "raw6" or "unix". An IPv6 socket that also accepts
	// IPv4 (the default for a "::" listener) is "tcp6" or "udp6".
	Protocol string
	// Type is the socket type for unix sockets: "stream", "dgram" or
	// "seqpacket" (empty for the other protocols, whose type the protocol
	// implies).
	Type string
	// LocalAddr and RemoteAddr are the addresses, 4 bytes for tcp, udp and
	// raw, 16 for their "6" forms; an IPv4 peer of an IPv6 socket is an
	// IPv4-mapped address (::ffff:a.b.c.d; Unmap gives the IPv4 form). The
	// unspecified address (0.0.0.0, ::) means any address for LocalAddr
	// and no peer for RemoteAddr. Invalid (the zero Addr) for unix sockets.
	LocalAddr  netip.Addr
	RemoteAddr netip.Addr
	// LocalPort and RemotePort are the ports in host order. For raw
	// sockets LocalPort is the IP protocol number the socket receives
	// (1 for ICMP, 255 for IPPROTO_RAW). 0 for unix sockets.
	LocalPort  uint16
	RemotePort uint16
	// Path is a unix socket's bound name: a file path, or for an abstract
	// name "@" followed by the name (the kernel writes each NUL of it as
	// "@"). Empty when unbound, which is the common case for the connected
	// end.
	Path string
	// State is the kernel's TCP state name for tcp ("LISTEN",
	// "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
	// "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "CLOSING",
	// "NEW_SYN_RECV", "BOUND_INACTIVE"). udp and raw sockets are "UNCONN"
	// when not connected and "ESTABLISHED" when connect(2) fixed a peer.
	// unix sockets are "LISTEN" (a listening stream or seqpacket socket),
	// "UNCONN", "CONNECTING", "ESTABLISHED" or "DISCONNECTING".
	State string
	// UID is the socket owner's user ID, in the user namespace of the
	// Root's /proc. The unix table has none: 0.
	UID uint32
	// Inode is the socket's inode number, what a process's
	// /proc/PID/fd link names ("socket:[Inode]"). Unique within the host.
	Inode uint64
	// NetNS is the inode of the network namespace whose tables list the
	// socket (as Namespaces.Net); 0 when the namespace link could not be
	// read.
	NetNS uint64
}

// netTables lists the tables NetSockets reads, by the Protocol they give.
// A table the kernel does not have (tcp6 with IPv6 disabled) is skipped.
var netTables = [...]string{"tcp", "tcp6", "udp", "udp6", "raw", "raw6", "unix"}

// netTableLimit caps the read of one table. A line is about 150 bytes
// (tcp6) or 100 (unix): this is over a million sockets.
const netTableLimit = 256 << 20

// tcpStates names the kernel's TCP states (include/net/tcp_states.h), by
// number.
var tcpStates = [...]string{
	1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2",
	6: "TIME_WAIT", 7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN",
	11: "CLOSING", 12: "NEW_SYN_RECV", 13: "BOUND_INACTIVE",
}

// parseNetTable parses a tcp, tcp6, udp, udp6, raw or raw6 table of
// /proc/PID/net, whose lines read
//
//	sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ...
//	0: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 20374 1 ...
//
// protocol is the table's name ("tcp6"), which fixes the address length
// and how states are named; name is the file's host name, for errors.
// Addresses are the kernel's 32-bit words printed in hex in the host's
// byte order, so they are decoded in the reader's (which is the host
// kernel's). Sockets with inode 0 (TIME_WAIT and other orphans) belong to
// no process and are skipped. On a malformed line the well-formed ones are
// still returned, with the first error.
func parseNetTable(data []byte, protocol, name string) ([]Socket, error) {
	v6 := protocol[len(protocol)-1] == '6'
	tcp := protocol[0] == 't'
	return parseSocketLines(data, name, func(line []byte) (Socket, error) {
		return parseNetLine(line, protocol, v6, tcp)
	})
}

// Errors of a table line's fields. A table can hold millions of lines and
// each malformed one is parsed to reach the good ones after it, so a field's
// error is a badField, formatted only when read: the parse of a table of
// garbage allocates a few words per line, not a message.
var (
	errNotSlot      = errors.New(`not "N:"`)
	errNotTwoHex    = errors.New("not two hex digits")
	errTooFewFields = errors.New("too few fields")
	errNotInetAddr  = errors.New("not hex digits of an address, a colon and 4 of a port")
	errNoSpace      = errors.New("does not follow one space")
)

// badField is a malformed field of a socket table line.
type badField struct {
	what  string // the field's name
	field []byte // its text, a slice of the table's buffer
	err   error
}

func (e *badField) Error() string { return fmt.Sprintf("%s %q: %v", e.what, e.field, e.err) }

func (e *badField) Unwrap() error { return e.err }

// parseSocketLines parses each line after the header with parseLine,
// keeping the sockets that have an inode, and returns the first malformed
// line's error with them.
func parseSocketLines(data []byte, name string, parseLine func([]byte) (Socket, error)) ([]Socket, error) {
	var socks []Socket
	var first error
	_, data = parse.Line(data) // the header
	for n := 2; len(data) > 0; n++ {
		var line []byte
		line, data = parse.Line(data)
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		s, err := parseLine(line)
		if err != nil {
			if first == nil {
				first = fmt.Errorf("%w: %s line %d: %v", hostroot.ErrMalformed, name, n, err)
			}
			continue
		}
		if s.Inode != 0 {
			socks = append(socks, s)
		}
	}
	return socks, first
}

func parseNetLine(line []byte, protocol string, v6, tcp bool) (Socket, error) {
	s := Socket{Protocol: protocol}
	sl, rest := parse.Field(line)
	if len(sl) < 2 || sl[len(sl)-1] != ':' {
		return s, &badField{"slot", sl, errNotSlot}
	}
	local, rest := parse.Field(rest)
	remote, rest := parse.Field(rest)
	st, rest := parse.Field(rest)
	var err error
	if s.LocalAddr, s.LocalPort, err = parseInetAddr(local, v6); err != nil {
		return s, &badField{"local address", local, err}
	}
	if s.RemoteAddr, s.RemotePort, err = parseInetAddr(remote, v6); err != nil {
		return s, &badField{"remote address", remote, err}
	}
	state, err := parse.Hex(st)
	if err != nil || len(st) != 2 {
		return s, &badField{"state", st, errNotTwoHex}
	}
	s.State = inetState(state, tcp)
	// tx_queue:rx_queue, tr:tm->when and retrnsmt are skipped.
	for range 3 {
		var f []byte
		if f, rest = parse.Field(rest); len(f) == 0 {
			return s, errTooFewFields
		}
	}
	uid, rest := parse.Field(rest)
	if s.UID, err = parse.Uint32(uid); err != nil {
		return s, &badField{"uid", uid, err}
	}
	_, rest = parse.Field(rest) // timeout
	ino, _ := parse.Field(rest)
	if s.Inode, err = parse.Uint(ino); err != nil {
		return s, &badField{"inode", ino, err}
	}
	return s, nil
}

// inetState names state n of a tcp (tcp true) or udp/raw socket.
func inetState(n uint64, tcp bool) string {
	if !tcp {
		switch n {
		case 7: // TCP_CLOSE: not connected
			return "UNCONN"
		case 1:
			return "ESTABLISHED"
		}
	}
	if n < uint64(len(tcpStates)) && tcpStates[n] != "" {
		return tcpStates[n]
	}
	return "STATE_" + strconv.FormatUint(n, 16)
}

// parseInetAddr parses "ADDR:PORT", ADDR 8 hex digits (v4) or 32 (v6),
// each group of 8 a 32-bit word in host byte order, and PORT 4 hex digits.
func parseInetAddr(b []byte, v6 bool) (netip.Addr, uint16, error) {
	hexLen := 8
	if v6 {
		hexLen = 32
	}
	if len(b) != hexLen+5 || b[hexLen] != ':' {
		return netip.Addr{}, 0, errNotInetAddr
	}
	port, err := parse.Hex(b[hexLen+1:])
	if err != nil {
		return netip.Addr{}, 0, err
	}
	var raw [16]byte
	for w := 0; w < hexLen/8; w++ {
		v, err := parse.Hex(b[w*8 : w*8+8])
		if err != nil {
			return netip.Addr{}, 0, err
		}
		binary.NativeEndian.PutUint32(raw[w*4:], uint32(v))
	}
	if !v6 {
		return netip.AddrFrom4([4]byte(raw[:4])), uint16(port), nil
	}
	return netip.AddrFrom16(raw), uint16(port), nil
}

// Unix socket flags and states, as the unix table writes them.
const (
	unixAcceptCon = 1 << 16 // __SO_ACCEPTCON: listening
)

var unixTypes = map[uint64]string{1: "stream", 2: "dgram", 5: "seqpacket"}

var unixStates = [...]string{1: "UNCONN", 2: "CONNECTING", 3: "ESTABLISHED", 4: "DISCONNECTING"}

// parseNetUnix parses the unix table of /proc/PID/net:
//
//	Num       RefCount Protocol Flags    Type St Inode Path
//	000000000426f9ef: 00000002 00000000 00010000 0001 01  4058 /run/docker.sock
//
// The path is everything after the one space that follows the inode, as
// the kernel writes it: it may hold spaces, and an abstract name's NULs
// are written as "@". A path holding a newline breaks its line in two:
// the tail is reported as malformed and the other lines are kept. name is
// the file's host name, for errors.
func parseNetUnix(data []byte, name string) ([]Socket, error) {
	return parseSocketLines(data, name, parseUnixLine)
}

func parseUnixLine(line []byte) (Socket, error) {
	s := Socket{Protocol: "unix"}
	num, rest := parse.Field(line)
	if len(num) < 2 || num[len(num)-1] != ':' {
		return s, &badField{"slot", num, errNotSlot}
	}
	_, rest = parse.Field(rest) // RefCount
	_, rest = parse.Field(rest) // Protocol
	fl, rest := parse.Field(rest)
	typ, rest := parse.Field(rest)
	st, rest := parse.Field(rest)
	ino, rest := parse.Field(rest)
	flags, err := parse.Hex(fl)
	if err != nil {
		return s, &badField{"flags", fl, err}
	}
	t, err := parse.Hex(typ)
	if err != nil {
		return s, &badField{"type", typ, err}
	}
	state, err := parse.Hex(st)
	if err != nil {
		return s, &badField{"state", st, err}
	}
	if s.Inode, err = parse.Uint(ino); err != nil {
		return s, &badField{"inode", ino, err}
	}
	s.Type = unixTypes[t]
	if s.Type == "" {
		s.Type = "type" + strconv.FormatUint(t, 10)
	}
	switch {
	case flags&unixAcceptCon != 0:
		s.State = "LISTEN"
	case state < uint64(len(unixStates)) && unixStates[state] != "":
		s.State = unixStates[state]
	default:
		s.State = "STATE_" + strconv.FormatUint(state, 16)
	}
	if len(rest) > 0 {
		if rest[0] != ' ' {
			return s, &badField{"path", rest, errNoSpace}
		}
		s.Path = string(rest[1:])
	}
	return s, nil
}

// readNetTables reads every table of a network namespace through read,
// which returns a table's content by its name under /proc/PID/net ("tcp").
// Tables the kernel lacks (fs.ErrNotExist) are skipped; when none is there
// the result is that error. Any other error is returned with the sockets
// read from the other tables, as is the first malformed line.
func readNetTables(read func(table string) ([]byte, error), dir string, netns uint64, add func(Socket)) error {
	var first, notExist error
	found := false
	for _, t := range netTables {
		data, err := read(t)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				notExist = err
				continue
			}
			if errors.Is(err, fs.ErrClosed) {
				return err
			}
			if first == nil {
				first = err
			}
			continue
		}
		found = true
		var socks []Socket
		if t == "unix" {
			socks, err = parseNetUnix(data, dir+"/"+t)
		} else {
			socks, err = parseNetTable(data, t, dir+"/"+t)
		}
		if err != nil && first == nil {
			first = err
		}
		for _, s := range socks {
			s.NetNS = netns
			add(s)
		}
	}
	if !found && first == nil {
		return notExist
	}
	return first
}

// NetSockets lists every socket of the network namespace process pid is in,
// from its /proc/PID/net tables (not only the process's own sockets: join
// them with its FDs, or scan with FieldSockets). NetNS is filled from the
// process's ns/net link when it can be read. The result is in table order
// (tcp, tcp6, udp, udp6, raw, raw6, unix). A malformed line is reported
// with the sockets of every well-formed line; an error wrapping
// fs.ErrNotExist means no table exists (the process is gone, or a sparse
// snapshot).
func NetSockets(r *hostroot.Root, pid int) ([]Socket, error) {
	d, err := r.OpenProc(pid)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	var netns uint64
	if link, err := d.Readlink("ns/net"); err == nil {
		netns, _ = parseNSLink(link, "net", "")
	}
	var socks []Socket
	err = readNetTables(func(t string) ([]byte, error) {
		return d.AppendFile(nil, "net/"+t, netTableLimit)
	}, "/proc/"+strconv.Itoa(pid)+"/net", netns, func(s Socket) { socks = append(socks, s) })
	return socks, err
}

// netNS is one network namespace's sockets, read once per scan.
type netNS struct {
	byInode map[uint64]Socket
	err     error // why a table could not be read, or its first malformed line
}

// sockets fills Sockets from the FDs that are sockets, joined with the
// tables of the process's own network namespace. The namespace is told by
// the ns/net link; when that link cannot be read (a sparse snapshot, or no
// ptrace access although the fd links were readable) the process's own
// tables are read and kept for it alone, and its sockets have NetNS 0.
func (pr *procReader) sockets() error {
	n := 0
	for _, fd := range pr.p.FDs {
		if fd.Type == FDSocket {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	netns := pr.p.Namespaces.Net
	if netns == 0 {
		if link, err := pr.d.Readlink(kindFile[kNS+nsNet]); err == nil {
			netns, _ = parseNSLink(link, "net", "")
		} else if errors.Is(err, fs.ErrClosed) {
			return err
		}
	}
	ns := pr.s.nets[netns]
	if ns == nil || netns == 0 {
		var err error
		if ns, err = pr.readNetNS(netns); err != nil {
			return err
		}
		if netns != 0 {
			if pr.s.nets == nil {
				pr.s.nets = make(map[uint64]*netNS)
			}
			pr.s.nets[netns] = ns
		}
	}
	if ns.err != nil {
		if err := pr.fail(FieldSockets, ns.err); err != nil {
			return err
		}
	}
	socks := make([]Socket, 0, n)
	for _, fd := range pr.p.FDs {
		if fd.Type != FDSocket {
			continue
		}
		s, ok := ns.byInode[fd.Inode]
		if !ok || slices.ContainsFunc(socks, func(t Socket) bool { return t.Inode == fd.Inode }) {
			continue
		}
		socks = append(socks, s)
	}
	if len(socks) > 0 {
		pr.p.Sockets = socks
	}
	return nil
}

// nsNet is the index of the net link in nsLinks.
const nsNet = 3

// readNetNS reads the socket tables through the process's directory. It
// returns errReused when none could be read because the process is gone:
// the next process of the namespace reads them instead.
func (pr *procReader) readNetNS(netns uint64) (*netNS, error) {
	ns := &netNS{byInode: map[uint64]Socket{}}
	err := readNetTables(func(t string) ([]byte, error) {
		b, err := pr.d.AppendFile((*pr.s.buf)[:0], "net/"+t, netTableLimit)
		*pr.s.buf = b[:0]
		return b, err
	}, "/proc/"+strconv.Itoa(pr.pid)+"/net", netns, func(s Socket) { ns.byInode[s.Inode] = s })
	if errors.Is(err, fs.ErrClosed) {
		return nil, err
	}
	if errors.Is(err, fs.ErrNotExist) && len(ns.byInode) == 0 && pr.d.Gone() {
		return nil, errReused
	}
	ns.err = err
	return ns, nil
}
