#!/usr/bin/env bash
# make bench: atrest against the reference tools on this machine, as figures and
# ratios. Nothing here asserts a time; it prints. BENCH_DIR holds the generated
# data (default /tmp/atrest-bench); BENCH_MB sets the dense log size (default 256).
set -euo pipefail
cd "$(dirname "$0")/.."
ATREST=$PWD/bin/atrest
B=${BENCH_DIR:-/tmp/atrest-bench}
MB=${BENCH_MB:-256}
BIG_MB=${BENCH_BIG_MB:-2048}
mkdir -p "$B"
export XDG_CONFIG_HOME=$B/config   # the scan's own fingerprint key lives here

secs() { python3 -c 'import sys; print("%.3f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$@"; }
now() { date +%s.%N; }
rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }   # peak RSS in KiB

echo "== file scanning: ${MB} MiB of dense mixed log"
LOG=$B/dense-$MB.log
[ -s "$LOG" ] || go run ./scripts/gendemo -log "$LOG" -size "$MB"
cat "$LOG" > /dev/null  # warm the page cache for every contender
RE='[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]|1[3-9]\d{9}|62\d{14,17}'
t0=$(now); rg -c -o "$RE" "$LOG" > /dev/null || true; t1=$(now); RG=$(secs $t0 $t1)
t0=$(now); GOMAXPROCS=1 $ATREST scan files --workers 1 --format jsonl "$LOG" > /dev/null || true; t1=$(now); ONE=$(secs $t0 $t1)
t0=$(now); $ATREST scan files --format jsonl "$LOG" > /dev/null || true; t1=$(now); ALL=$(secs $t0 $t1)
python3 - "$MB" "$RG" "$ONE" "$ALL" <<'PY'
import sys
mb, rg, one, allc = float(sys.argv[1]), *map(float, sys.argv[2:])
print(f"  rg -c -o REGEX           {rg:7.2f} s  {mb/rg:8.1f} MiB/s")
print(f"  atrest, 1 core, jsonl    {one:7.2f} s  {mb/one:8.1f} MiB/s   {rg/one:5.2f}x rg")
print(f"  atrest, all cores, jsonl {allc:7.2f} s  {mb/allc:8.1f} MiB/s   {rg/allc:5.2f}x rg  (target >= 3x)")
PY
echo "  detectors only, counting (Go benchmark on the same kind of log, one core):"
go test -run '^$' -bench 'BenchmarkFind$' -benchtime 2x ./audit/detect/ 2>/dev/null | grep -E 'Benchmark|MB/s' | sed 's/^/    /' || true

echo "== peak memory scanning a ${BIG_MB} MiB file"
BIG=$B/dense-$BIG_MB.log
[ -s "$BIG" ] || go run ./scripts/gendemo -log "$BIG" -size "$BIG_MB"
KB=$(rss $ATREST scan files --format jsonl "$BIG")
echo "  peak RSS: $((KB/1024)) MiB (target < 200 MB)"

echo "== database sampling (throwaway MariaDB; a 1M-row and a 10k-row table)"
go test -run '^$' -bench 'BenchmarkSample' -benchtime 10x ./audit/dbsrc/ 2>&1 | grep -E '^Benchmark' | sed 's/^/  /'

echo "== journal: append rate and verify time for 1M entries"
go test -run '^$' -bench 'BenchmarkAppend' -benchtime 1s ./audit/journal/ 2>&1 | grep -E '^Benchmark' | sed 's/^/  /'
go test -run '^$' -bench 'BenchmarkVerify1M' -benchtime 1x ./audit/journal/ 2>&1 | grep -E '^Benchmark' | sed 's/^/  /'
