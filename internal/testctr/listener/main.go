// Command listener holds the sockets that hostscope's live socket tests
// look for, in whatever network namespace it runs in (a container, an
// `unshare -n` child): a TCP listener with one connection to itself (both
// ends ESTABLISHED), a bound UDP socket and a listening unix socket. It
// prints "ready TCPPORT UDPPORT" once every socket is open, then holds
// them until it is killed. testctr.Listener builds it as a static binary,
// so it runs in a busybox image.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"time"
)

func main() {
	tcpAddr := flag.String("tcp", "0.0.0.0:0", "TCP address to listen on")
	udpAddr := flag.String("udp", "0.0.0.0:0", "UDP address to bind")
	unixPath := flag.String("unix", "", "unix socket path to listen on (none when empty)")
	flag.Parse()
	l, err := net.Listen("tcp4", *tcpAddr)
	check(err)
	port := l.Addr().(*net.TCPAddr).Port
	client, err := net.Dial("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
	check(err)
	server, err := l.Accept()
	check(err)
	u, err := net.ListenPacket("udp4", *udpAddr)
	check(err)
	keep := []any{l, client, server, u}
	if *unixPath != "" {
		ul, err := net.Listen("unix", *unixPath)
		check(err)
		keep = append(keep, ul)
	}
	fmt.Printf("ready %d %d\n", port, u.LocalAddr().(*net.UDPAddr).Port)
	for range time.Tick(time.Hour) {
		_ = keep // held until killed
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "listener:", err)
		os.Exit(1)
	}
}
