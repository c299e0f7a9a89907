package main

import "bytes"

// redacted replaces each redacted command-line argument.
const redacted = "REDACTED"

// redactCmdline appends to dst the /proc/PID/cmdline buffer src with argv[0]
// kept and every later argument replaced by "REDACTED". The NUL separators
// and any trailing NUL padding are kept, so a parser finds as many
// arguments as before. A buffer with no NUL inside (a process that rewrote
// its argv as one string, "nginx: worker process") is all argv[0] and is
// kept whole.
func redactCmdline(dst, src []byte) []byte {
	body := bytes.TrimRight(src, "\x00")
	argv0, rest, found := bytes.Cut(body, []byte{0})
	dst = append(dst, argv0...)
	if found {
		for range bytes.Count(rest, []byte{0}) + 1 {
			dst = append(dst, 0)
			dst = append(dst, redacted...)
		}
	}
	return append(dst, src[len(body):]...)
}

// redactEnviron appends to dst the /proc/PID/environ buffer src with each
// "KEY=VALUE" entry cut to "KEY=". An entry with no "=" has no key to keep
// and becomes empty. NUL separators are kept.
func redactEnviron(dst, src []byte) []byte {
	for len(src) > 0 {
		entry, rest, found := bytes.Cut(src, []byte{0})
		if key, _, ok := bytes.Cut(entry, []byte{'='}); ok {
			dst = append(dst, key...)
			dst = append(dst, '=')
		}
		if found {
			dst = append(dst, 0)
		}
		src = rest
	}
	return dst
}
