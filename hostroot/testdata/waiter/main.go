// Command waiter prints "ready" and waits for stdin to close. Tests build it
// statically and run it chroot-ed or in a namespace, as the process whose
// /proc/PID/root they read.
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
}
