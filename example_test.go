package hostscope_test

import (
	"fmt"
	"strings"

	"github.com/hostscope/hostscope/hostroot/hostroottest"
)

// The same reading code runs against a fake host in a test and against
// hostroot.Native() or hostroot.FromEnv() in production.
func Example() {
	root, err := hostroottest.New().
		File("/usr/lib/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n").
		Symlink("/etc/os-release", "../usr/lib/os-release").
		Root()
	if err != nil {
		panic(err)
	}
	b, err := root.ReadFile("/etc/os-release")
	if err != nil {
		panic(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
			fmt.Println(strings.Trim(v, `"`))
		}
	}
	// Output:
	// Debian GNU/Linux 12 (bookworm)
}
