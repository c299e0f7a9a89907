package hostroot

import (
	"io/fs"
	"syscall"
)

// Stat is the identity and ownership of a file, as Lstat and Stat report it
// through fs.FileInfo.Sys. It is the same type for every kind of Root, so code
// that inspects device numbers or owners works unchanged against an in-memory
// fixture.
type Stat struct {
	Dev   uint64 // device of the file system holding the file, kernel encoding
	Ino   uint64 // inode number
	Nlink uint64 // hard link count
	UID   uint32 // owner user ID, in the host's user namespace
	GID   uint32 // owner group ID
	// RdevMajor and RdevMinor are the device number of a block or character
	// device node; zero for other files.
	RdevMajor uint32
	RdevMinor uint32
}

// StatOf returns the Stat carried by fi. It understands the values Root
// returns, the *syscall.Stat_t of the os package, and any FileInfo whose Sys
// method returns a *Stat (as hostroottest's do). ok is false when fi carries
// no such information (a plain afero.MemMapFs file, for example).
func StatOf(fi fs.FileInfo) (st *Stat, ok bool) {
	if fi == nil {
		return nil, false
	}
	switch s := fi.Sys().(type) {
	case *Stat:
		return s, s != nil
	case Stat:
		return &s, true
	case *syscall.Stat_t:
		if s == nil {
			return nil, false
		}
		return statFromSyscall(s), true
	}
	return nil, false
}

// statFromSyscall decodes the kernel's device encoding the way the kernel's
// MAJOR/MINOR macros for the 64-bit dev_t do.
func statFromSyscall(s *syscall.Stat_t) *Stat {
	rdev := uint64(s.Rdev)
	return &Stat{
		Dev:       uint64(s.Dev),
		Ino:       uint64(s.Ino),
		Nlink:     uint64(s.Nlink),
		UID:       s.Uid,
		GID:       s.Gid,
		RdevMajor: uint32((rdev>>32)&0xfffff000) | uint32((rdev>>8)&0x00000fff),
		RdevMinor: uint32((rdev>>12)&0xffffff00) | uint32(rdev&0x000000ff),
	}
}
