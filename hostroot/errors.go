package hostroot

import "errors"

// ErrMalformed is wrapped by every parser in hostscope when a file's content
// does not have the shape the kernel or runtime writes. The function that knows
// the file wraps it once, naming the file and line:
//
//	fmt.Errorf("%w: %s line %d: %v", hostroot.ErrMalformed, name, line, detail)
//
// so callers test for it with errors.Is and never compare strings.
var ErrMalformed = errors.New("malformed content")

// ErrTooLarge is wrapped when a file is longer than the read limit. Reads never
// trust the size Stat reports (pseudo-files say 0 or 4096), so the limit is what
// keeps a hostile or runaway file from exhausting memory.
var ErrTooLarge = errors.New("file larger than the read limit")

// ErrNotRegular is wrapped when a whole-file read meets a device node, FIFO or
// socket where a regular file is expected. Such files are never opened for
// reading: opening a device can have side effects and reading it could return
// another file system's data, and a FIFO can block forever.
var ErrNotRegular = errors.New("not a regular file")
