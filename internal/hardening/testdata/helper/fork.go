package main

import (
	"syscall"
	"unsafe"
)

// forkChild starts a child that is a copy of this process and runs only
// raw system calls: it changes to directory dir, takes user ID uid, names
// itself comm (the name stat and status show), sleeps for nap and exits.
// Without an exec, a child costs one fork, so the churn starts hundreds a
// second even on a slow machine. dir and comm must end in a NUL byte.
func forkChild(dir, comm []byte, uid int, nap syscall.Timespec) (int, error) {
	syscall.ForkLock.Lock()
	pid, _, errno := syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
	if errno != 0 {
		syscall.ForkLock.Unlock()
		return 0, errno
	}
	if pid == 0 {
		inChild(&dir[0], &comm[0], uintptr(uid), &nap)
	}
	syscall.ForkLock.Unlock()
	return int(pid), nil
}

// inChild runs in the forked child, where only the forking thread exists:
// no Go runtime call is safe there, so it makes raw system calls only and
// never returns.
//
//go:nosplit
//go:norace
func inChild(dir, comm *byte, uid uintptr, nap *syscall.Timespec) {
	syscall.RawSyscall(syscall.SYS_CHDIR, uintptr(unsafe.Pointer(dir)), 0, 0)
	syscall.RawSyscall(syscall.SYS_SETUID, uid, 0, 0)
	syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_NAME, uintptr(unsafe.Pointer(comm)), 0)
	syscall.RawSyscall(syscall.SYS_NANOSLEEP, uintptr(unsafe.Pointer(nap)), 0, 0)
	for {
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
	}
}
