package hostscope

import (
	"slices"

	"github.com/hostscope/hostscope/proc"
)

// Listening returns the sockets of p (read with proc.FieldSockets, which
// Options.Sockets adds) that wait for peers:
//
//   - tcp and tcp6 sockets in state LISTEN;
//   - udp and udp6 sockets bound to a port and not connected (UNCONN with
//     a non-zero LocalPort): UDP has no listen(2), and a bound unconnected
//     socket is what receives datagrams from anyone, which is what
//     `ss -lu` lists too;
//   - unix stream and seqpacket sockets in state LISTEN.
//
// Raw sockets and unix datagram sockets are not listed. The order is p's
// descriptor order; nil when there is none.
func Listening(p *proc.Process) []proc.Socket {
	return filterSockets(nil, p.Sockets, isListening)
}

// Established returns the sockets of p connected to a peer (state
// ESTABLISHED): tcp connections, udp sockets that connect(2) fixed a peer
// for, and connected unix sockets. The order is p's descriptor order; nil
// when there is none.
func Established(p *proc.Process) []proc.Socket {
	return filterSockets(nil, p.Sockets, isEstablished)
}

func isListening(s *proc.Socket) bool {
	switch s.Protocol {
	case "tcp", "tcp6", "unix":
		return s.State == "LISTEN"
	case "udp", "udp6":
		return s.State == "UNCONN" && s.LocalPort != 0
	}
	return false
}

func isEstablished(s *proc.Socket) bool { return s.State == "ESTABLISHED" }

// filterSockets appends to dst the sockets of src that keep says to keep
// and dst does not hold yet (by inode: a socket shared by several
// processes or descriptors is one socket).
func filterSockets(dst, src []proc.Socket, keep func(*proc.Socket) bool) []proc.Socket {
	for i := range src {
		s := &src[i]
		if keep(s) && !slices.ContainsFunc(dst, func(t proc.Socket) bool { return t.Inode == s.Inode }) {
			dst = append(dst, *s)
		}
	}
	return dst
}
