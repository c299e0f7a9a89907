// Package parse holds the byte-level number and field scanners hostscope's
// /proc and /sys parsers share. They work on the caller's buffer in place,
// allocate nothing, and return strconv.ErrSyntax or strconv.ErrRange, which
// the caller wraps once, with hostroot.ErrMalformed, the file name and line.
package parse

import (
	"bytes"
	"strconv"
)

// Uint parses b as an unsigned decimal number of at most 64 bits. No sign,
// space or underscore is accepted.
func Uint(b []byte) (uint64, error) {
	if len(b) == 0 {
		return 0, strconv.ErrSyntax
	}
	var n uint64
	for _, c := range b {
		d := uint64(c) - '0'
		if d > 9 {
			return 0, strconv.ErrSyntax
		}
		if n > (1<<64-1)/10 {
			return 0, strconv.ErrRange
		}
		n *= 10
		if n+d < n {
			return 0, strconv.ErrRange
		}
		n += d
	}
	return n, nil
}

// Int parses b as a signed decimal number of at most 64 bits, with an
// optional leading '-' or '+'.
func Int(b []byte) (int64, error) {
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
	}
	u, err := Uint(b)
	if err != nil {
		return 0, err
	}
	if neg {
		if u > 1<<63 {
			return 0, strconv.ErrRange
		}
		return -int64(u), nil
	}
	if u > 1<<63-1 {
		return 0, strconv.ErrRange
	}
	return int64(u), nil
}

// Uint32 is Uint limited to 32 bits.
func Uint32(b []byte) (uint32, error) {
	n, err := Uint(b)
	if err != nil {
		return 0, err
	}
	if n > 1<<32-1 {
		return 0, strconv.ErrRange
	}
	return uint32(n), nil
}

// Int32 is Int limited to 32 bits, the size of the kernel's int and pid_t.
func Int32(b []byte) (int32, error) {
	n, err := Int(b)
	if err != nil {
		return 0, err
	}
	if n < -1<<31 || n > 1<<31-1 {
		return 0, strconv.ErrRange
	}
	return int32(n), nil
}

// Hex parses b as an unsigned hexadecimal number of at most 64 bits, without
// a "0x" prefix, as the kernel prints capability and signal masks.
func Hex(b []byte) (uint64, error) {
	if len(b) == 0 {
		return 0, strconv.ErrSyntax
	}
	var n uint64
	for _, c := range b {
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, strconv.ErrSyntax
		}
		if n>>60 != 0 {
			return 0, strconv.ErrRange
		}
		n = n<<4 | uint64(d)
	}
	return n, nil
}

// isSpace reports the separators the kernel puts between fields, space and
// tab, and the newline that ends a line.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' }

// Field returns the first field of b, separated by spaces, tabs or
// newlines, and what follows it. Leading separators are skipped; field is
// empty when b holds none.
func Field(b []byte) (field, rest []byte) {
	i := 0
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	j := i
	for j < len(b) && !isSpace(b[j]) {
		j++
	}
	return b[i:j], b[j:]
}

// CountFields returns the number of fields Field would return from b.
func CountFields(b []byte) int {
	n := 0
	in := false
	for _, c := range b {
		if isSpace(c) {
			in = false
		} else if !in {
			in = true
			n++
		}
	}
	return n
}

// Line returns the first line of b without its newline, and what follows.
func Line(b []byte) (line, rest []byte) {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i], b[i+1:]
	}
	return b, nil
}

// Digits reports whether s is a non-empty string of ASCII digits: a PID
// directory's name, a UID, a numbered path component.
func Digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
