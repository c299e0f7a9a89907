// Package alloccount measures what a piece of code allocates, for the tests
// that hold hostscope's parsers to memory linear in their input.
package alloccount

import "runtime"

// Bytes returns the bytes f allocates, from the runtime's own count of every
// allocation since the program started (runtime.MemStats.TotalAlloc). It
// counts whatever else runs meanwhile too, so a bound on it needs a margin.
func Bytes(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
