package bench

import (
	"flag"
	"os"
	"strconv"
	"sync"
	"testing"

	"github.com/hostscope/hostscope/hostroot"
)

// spawnEnv sets how many sleeping processes the live benchmarks add to the
// machine. Unset, it is defaultSpawn, or smokeSpawn in a smoke run.
const (
	spawnEnv     = "HOSTSCOPE_BENCH_SPAWN"
	defaultSpawn = 2000
	smokeSpawn   = 100
	// testSpawn is what the consistency test adds: enough processes it
	// controls to check the readers on, cheap enough for go test.
	testSpawn = 32
)

// spawnCount is the number of sleepers the live benchmarks want.
func spawnCount(tb testing.TB) int {
	tb.Helper()
	if v, ok := os.LookupEnv(spawnEnv); ok && v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			tb.Fatalf("%s=%q: want a number of processes >= 0", spawnEnv, v)
		}
		return n
	}
	if smokeRun() {
		return smokeSpawn
	}
	return defaultSpawn
}

// smokeRun reports whether the benchmarks run once each (-benchtime 1x), as
// the CI run that only checks they build and work does.
func smokeRun() bool {
	f := flag.Lookup("test.benchtime")
	return f != nil && f.Value.String() == "1x"
}

// sleepers are the test binary's sleeping children, stopped in TestMain.
var sleepers Sleepers

// TestMain kills the sleepers, by PID, whatever the tests did.
func TestMain(m *testing.M) {
	code := m.Run()
	sleepers.Stop()
	os.Exit(code)
}

// ensureSleepers makes sure at least n sleepers run and returns their PIDs.
func ensureSleepers(tb testing.TB, n int) []int {
	tb.Helper()
	if err := sleepers.Ensure(n); err != nil {
		tb.Fatalf("%v (set %s lower)", err, spawnEnv)
	}
	return sleepers.PIDs()
}

// native is the machine's Root, shared by the tests.
var native = sync.OnceValues(hostroot.Native)

func readFile(name string) ([]byte, error) {
	r, err := native()
	if err != nil {
		return nil, err
	}
	return r.ReadFile(name)
}
