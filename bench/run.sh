#!/bin/sh
# run.sh reproduces the measurement in ../BENCHMARKS.md in one command:
#
#   bench/run.sh [OUTDIR]          (default: bench/results)
#
# It records the machine, runs the inventory benchmarks in COUNT rounds of
# every reader (the ratios come from that one run), the socket inventory
# benchmarks in COUNT rounds, runs the per-file benchmarks, takes CPU profiles of hostscope and the floor, and counts
# system calls per reader with strace. Run it as root on a quiet machine:
# root, so that every process's exe link is readable by every reader.
#
# Knobs (environment):
#   HOSTSCOPE_BENCH_SPAWN  sleeping processes added to the machine (2000)
#   COUNT                  rounds, each running every benchmark once (5)
#   BENCHTIME              scans per repetition, as -benchtime (5x)
set -eu

cd "$(dirname "$0")"
out=${1:-results}
mkdir -p "$out"
: "${HOSTSCOPE_BENCH_SPAWN:=2000}"
: "${COUNT:=5}"
: "${BENCHTIME:=5x}"
export HOSTSCOPE_BENCH_SPAWN

if ! go mod tidy -diff >/dev/null 2>&1; then
	echo "run.sh: bench/go.mod is out of step with the library's; run 'go mod tidy' in bench/ first" >&2
	exit 1
fi

{
	echo "date:      $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "cpu:       $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
	echo "cores:     $(nproc)"
	echo "kernel:    $(uname -r)"
	echo "go:        $(go version)"
	echo "cgroup:    $(if [ -f /sys/fs/cgroup/cgroup.controllers ]; then echo v2; else echo v1 or hybrid; fi)"
	echo "processes: $(ls /proc | grep -c '^[0-9]') before the benchmarks start theirs"
	echo "load:      $(cat /proc/loadavg)"
	echo "spawn:     $HOSTSCOPE_BENCH_SPAWN, count $COUNT, benchtime $BENCHTIME"
} | tee "$out/machine.txt"

go test -c -o "$out/bench.test" .
go build -o "$out/scanonce" ./cmd/scanonce

echo "== inventory benchmarks (one run, $COUNT rounds)"
# Each round runs every reader once, so the readers take turns: on a shared
# machine whose speed drifts, -count would give each reader its own stretch
# of time instead, and the ratios would measure the drift.
: >"$out/bench.txt"
round=0
while [ "$round" -lt "$COUNT" ]; do
	round=$((round + 1))
	echo "-- round $round of $COUNT"
	"$out/bench.test" -test.run '^$' -test.bench 'Live|Memory' -test.benchtime "$BENCHTIME" \
		-test.count 1 -test.benchmem | tee -a "$out/bench.txt"
done
go run ./cmd/ratios <"$out/bench.txt" | tee "$out/ratios.md"

echo "== layers: the floor, the files through hostroot alone, hostscope ($COUNT rounds)"
: >"$out/layers.txt"
round=0
while [ "$round" -lt "$COUNT" ]; do
	round=$((round + 1))
	"$out/bench.test" -test.run '^$' -test.bench 'Layers' -test.benchtime "$BENCHTIME" \
		-test.count 1 -test.benchmem | tee -a "$out/layers.txt"
done
go run ./cmd/ratios <"$out/layers.txt" | tee "$out/layers.md"
if go run golang.org/x/perf/cmd/benchstat@latest "$out/bench.txt" >"$out/benchstat.txt" 2>/dev/null; then
	cat "$out/benchstat.txt"
else
	echo "(benchstat unavailable: no module proxy?)"
fi

echo "== socket inventory: $COUNT rounds (2,000 sockets open in the benchmark process)"
: >"$out/sockets.txt"
round=0
while [ "$round" -lt "$COUNT" ]; do
	round=$((round + 1))
	"$out/bench.test" -test.run '^$' -test.bench 'Socket' -test.benchtime "$BENCHTIME" \
		-test.count 1 -test.benchmem | tee -a "$out/sockets.txt"
done

echo "== per-file costs"
"$out/bench.test" -test.run '^$' -test.bench 'FileOps' -test.count "$COUNT" -test.benchmem | tee "$out/fileops.txt"

echo "== CPU profiles"
profile() { # name benchmark-regexp benchtime [pprof focus]
	"$out/bench.test" -test.run '^$' -test.bench "$2" -test.benchtime "$3" \
		-test.cpuprofile "$out/$1.cpu.prof" >"$out/$1.bench.txt"
	# -focus keeps the scan and drops the sleepers' start-up.
	if [ -n "${4:-}" ]; then
		go tool pprof -top -focus "$4" "$out/bench.test" "$out/$1.cpu.prof" >"$out/$1.top.txt" 2>/dev/null
	else
		go tool pprof -top "$out/bench.test" "$out/$1.cpu.prof" >"$out/$1.top.txt" 2>/dev/null
	fi
	head -25 "$out/$1.top.txt"
}
profile live-hostscope 'Live/hostscope$' 20x 'bench.Hostscope'
profile live-floor 'Live/floor$' 20x 'Floor.*Scan'
profile live-procfs 'Live/procfs$' 10x 'bench.Procfs'
profile memory-1k 'Memory/1k$' 200x 'bench.Hostscope'
profile memory-100k 'Memory/100k$' 3x 'bench.Hostscope'

echo "== system calls per reader (strace -c -f, one scan)"
if command -v strace >/dev/null 2>&1; then
	"$out/scanonce" -hold -spawn "$HOSTSCOPE_BENCH_SPAWN" >"$out/hold.txt" &
	holder=$!
	trap 'kill "$holder" 2>/dev/null || true' EXIT
	i=0
	until grep -q ready "$out/hold.txt" 2>/dev/null; do
		i=$((i + 1))
		if [ "$i" -gt 600 ] || ! kill -0 "$holder" 2>/dev/null; then
			echo "run.sh: the sleeping processes did not start" >&2
			exit 1
		fi
		sleep 0.1
	done
	for r in floor hostscope procfs gopsutil gopsutil-btcache hostscope-sockets procfs-sockets gopsutil-sockets; do
		strace -c -f -o "$out/strace.$r.txt" "$out/scanonce" -reader "$r" | tee "$out/strace.$r.procs"
		echo "-- $r"
		grep -E 'calls|openat|read|close|readlink|getdents|fcntl|epoll|fstat|total' "$out/strace.$r.txt"
	done
	kill "$holder"
	wait "$holder" || true
	trap - EXIT
else
	echo "(strace not installed: skipped)"
fi

echo "results in $out/"
