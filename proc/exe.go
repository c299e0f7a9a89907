package proc

import "strings"

// deletedSuffix is what the kernel appends to the path of a file that has
// been unlinked, in /proc/PID/exe and other links to open files.
const deletedSuffix = " (deleted)"

// parseExe splits the text of a /proc/PID/exe link into the path and
// whether the binary was deleted. A binary whose real name ends in
// " (deleted)" is indistinguishable from a deleted one; the kernel offers no
// way to tell them apart in the link text.
func parseExe(link string) (path string, deleted bool) {
	if p, ok := strings.CutSuffix(link, deletedSuffix); ok {
		return p, true
	}
	return link, false
}
