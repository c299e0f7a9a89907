package dev

import (
	"io/fs"
	"path"
	"strings"
	"syscall"

	"github.com/hostscope/hostscope/hostroot"
)

// maxLinks bounds the symlinks one resolution follows, as the kernel's
// MAXSYMLINKS does.
const maxLinks = 40

// resolve returns the host path that name leads to, following every symlink
// on the way with the Root's chroot semantics: an absolute link starts again
// at the Root's "/", ".." stops there. It only uses the Root's Lstat and
// Readlink, so nothing leaves the Root; it is for the plain symlinks of
// /sys and /dev and refuses to walk through /proc, whose magic links have
// no meaningful text.
func resolve(r *hostroot.Root, name string) (string, error) {
	if !strings.HasPrefix(name, "/") {
		return "", &fs.PathError{Op: "resolve", Path: name, Err: fs.ErrInvalid}
	}
	todo := strings.Split(name, "/")
	cur := "/"
	links := 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, c)
		if next == "/proc" {
			return "", &fs.PathError{Op: "resolve", Path: name, Err: fs.ErrInvalid}
		}
		fi, err := r.Lstat(next)
		if err != nil {
			return "", &fs.PathError{Op: "resolve", Path: name, Err: underlying(err)}
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			cur = next
			continue
		}
		if links++; links > maxLinks {
			return "", &fs.PathError{Op: "resolve", Path: name, Err: syscall.ELOOP}
		}
		target, err := r.Readlink(next)
		if err != nil {
			return "", &fs.PathError{Op: "resolve", Path: name, Err: underlying(err)}
		}
		if strings.HasPrefix(target, "/") {
			cur = "/"
		}
		todo = append(strings.Split(target, "/"), todo...)
	}
	return cur, nil
}

// underlying strips a PathError so the caller's name is the one reported.
func underlying(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}
