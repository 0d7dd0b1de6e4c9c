#!/usr/bin/env bash
# make bench: atrest against the reference tools on this machine, as figures and
# ratios. Nothing here asserts a time; it prints. BENCH_DIR holds the generated
# data (default /tmp/atrest-bench); BENCH_MB sets the dense log size (default 256),
# BENCH_ROWS the big table (default 1000000); BENCH_PARTS picks parts (default
# "files formats db journal backup drill sm soak pg"; drill and sm need backup; the
# soak's own knobs are in scripts/soak.sh).
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
rss() { { /usr/bin/time -f %M "$@" 2>&1 >/dev/null || true; } | tail -1; }   # peak RSS in KiB
gobench() { # gobench PKG REGEX [TAGS [BENCHTIME]]: the benchmark's runs, one line each
  go test -tags "${3:-}" -run '^$' -bench "$2" -benchtime "${4:-${BENCH_TIME:-10x}}" -count "${BENCH_COUNT:-5}" "$1" 2>/dev/null | grep -E '^Benchmark'
}
# timed NAME CMD...: one run, appended to $B/times as "NAME wall user sys"
timed() {
  local name=$1; shift
  /usr/bin/time -a -o "$B/times" -f "$name %e %U %S" "$@" > /dev/null 2>&1 || true
}
# medians: the runs in $B/times as lines "NAME wall cpu runs", wall and cpu
# (user + system) the medians of NAME's runs
medians() {
  python3 - "$B/times" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) == 4:  # time's own notes ("Command exited with ...") are longer
        runs.setdefault(f[0], []).append((float(f[1]), float(f[2]) + float(f[3])))
for name, r in runs.items():
    print(name, statistics.median(w for w, _ in r), statistics.median(c for _, c in r), len(r))
PY
}

PARTS=${BENCH_PARTS:-files formats db journal backup drill sm soak pg}
part() { [[ " $PARTS " == *" $1 "* ]]; }
# What the reference pipelines grep for: resident IDs, mobiles, UnionPay cards.
RE='[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]|1[3-9]\d{9}|62\d{14,17}'

if part files; then
# Figures on a shared machine wander: every contender runs BENCH_RUNS times
# (default 3), alternating, and the medians are compared. cpu s is user+system
# time, which a busy machine inflates less than the wall clock.
RUNS=${BENCH_RUNS:-3}
CPU="$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') ($(grep -m1 '^vendor_id' /proc/cpuinfo | cut -d: -f2 | tr -d ' '), family $(grep -m1 '^cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' '), model $(grep -m1 '^model[[:space:]]' /proc/cpuinfo | cut -d: -f2 | tr -d ' '); $(nproc) CPUs; avx2: $(grep -qw avx2 /proc/cpuinfo && echo yes || echo no))"
echo "== file scanning: ${MB} MiB of dense mixed log; CPU: $CPU"
LOG=$B/dense-$MB.log
[ -s "$LOG" ] || go run ./scripts/gendemo -log "$LOG" -size "$MB"
# vcpu_check WHEN: sha256sum of the log pinned to each CPU in turn. On a shared
# VM one vCPU can run scalar code a third slower than the other for minutes (a
# busy neighbour on its core); a spread here says this run's figures are low.
# It leaves the fastest CPU's number in FAST_CPU. (The first 8 CPUs this
# process may run on: a big server's figures do not need all of them.)
FAST_CPU=""
vcpu_check() {
  command -v taskset >/dev/null || return 0
  local line="" c t rate best=0
  for c in $(python3 -c 'import os; print(*sorted(os.sched_getaffinity(0))[:8])'); do
    t=$( { /usr/bin/time -f %e taskset -c "$c" sha256sum "$LOG" >/dev/null; } 2>&1 | tail -1)
    rate=$(python3 -c 'import sys
try: print("%.0f" % (float(sys.argv[1]) / max(float(sys.argv[2]), 0.001)))
except ValueError: print(0)' "$MB" "$t")
    line+=" cpu$c $rate"
    if [ "$rate" -gt "$best" ]; then best=$rate; FAST_CPU=$c; fi
  done
  echo "  vCPU check $1 (sha256sum of the log pinned to each CPU, MiB/s; apart by more than ~10%: a busy neighbour):$line"
}
cat "$LOG" > /dev/null
vcpu_check "before"
# The same program on the other two skip loops: build tag noavx2 runs the SSE2
# loop (what an x86-64 CPU without AVX2 runs), noasm the portable Go loop (what
# arm64 runs).
go build -tags noavx2 -o bin/atrest-noavx2 ./cmd/atrest
go build -tags noasm -o bin/atrest-noasm ./cmd/atrest
SSE2=$PWD/bin/atrest-noavx2
PORT=$PWD/bin/atrest-noasm
cat "$LOG" > /dev/null  # warm the page cache for every contender
: > "$B/times"
for i in $(seq 1 "$RUNS"); do
  timed rg rg -c -o "$RE" "$LOG"
  timed avx2-1 env GOMAXPROCS=1 $ATREST scan files --workers 1 --format jsonl "$LOG"
  timed sse2-1 env GOMAXPROCS=1 $SSE2 scan files --workers 1 --format jsonl "$LOG"
  timed portable-1 env GOMAXPROCS=1 $PORT scan files --workers 1 --format jsonl "$LOG"
  timed avx2-all $ATREST scan files --format jsonl "$LOG"
  timed sse2-all $SSE2 scan files --format jsonl "$LOG"
  timed portable-all $PORT scan files --format jsonl "$LOG"
  timed summary-all $ATREST scan files --format jsonl --findings summary "$LOG"
done
ALL_BYTES=$($ATREST scan files --format jsonl "$LOG" 2>/dev/null | wc -c || true)
SUM_BYTES=$($ATREST scan files --format jsonl --findings summary "$LOG" 2>/dev/null | wc -c || true)
python3 - "$MB" "$(medians)" "$ALL_BYTES" "$SUM_BYTES" <<'PY'
import sys
mb = float(sys.argv[1])
runs = {f[0]: (float(f[1]), float(f[2]), int(f[3])) for f in map(str.split, sys.argv[2].splitlines())}
def med(name):
    return runs.get(name, (float("nan"), float("nan")))[:2]
rg = med("rg")[0]
rows = [("rg -c -o REGEX (no validation)", "rg", ""),
        ("atrest AVX2 loop, 1 core", "avx2-1", ""),
        ("atrest SSE2 loop (noavx2), 1 core", "sse2-1", ""),
        ("atrest portable Go loop (noasm), 1 core", "portable-1", ""),
        ("atrest AVX2 loop, all cores", "avx2-all", "  (target >= 3x rg, goal 5x)"),
        ("atrest SSE2 loop (noavx2), all cores", "sse2-all", "  (target >= 3x rg)"),
        ("atrest portable Go loop (noasm), all cores", "portable-all", ""),
        ("atrest AVX2, all cores, --findings summary", "summary-all", "")]
print(f"  {'scan files --format jsonl, medians of ' + str(runs.get('rg', (0, 0, 0))[2]):44} {'wall s':>7} {'MiB/s':>7} {'cpu s':>7} {'x rg':>6}")
for label, name, note in rows:
    wall, cpu = med(name)
    print(f"  {label:44} {wall:7.2f} {mb/wall:7.0f} {cpu:7.2f} {rg/wall:6.2f}{note}")
for other, label in (("sse2", "SSE2"), ("portable", "portable Go")):
    for n in ("1", "all"):
        a, p = med("avx2-" + n), med(other + "-" + n)
        print(f"  AVX2/{label}, {n} core(s): wall {p[0]/a[0]:.2f}x faster, cpu {p[1]/a[1]:.2f}x less")
allb, sumb = int(sys.argv[3] or 0), int(sys.argv[4] or 0)
print(f"  output: --findings all {allb/1e6:.0f} MB of jsonl, --findings summary {sumb/1e3:.1f} kB")
PY

# The skip loops' builds are timed alternately, one run of each in turn,
# BENCH_COUNT rounds: a slow stretch of a shared machine then falls on all of
# them alike instead of on whichever ran during it.
# A third argument "pin" runs a one-thread benchmark on the CPU vcpu_check
# found fastest, so that every loop runs on the same vCPU: unpinned, each run
# lands on either, and one slowed vCPU scrambles the comparison.
loopbench() { # loopbench PKG REGEX [pin]: lines "LOOP Benchmark..." (LOOP avx2, sse2 or go)
  local t=$B/loopbench/$(basename "$1") pin=()
  [ "${3:-}" = pin ] && [ -n "$FAST_CPU" ] && pin=(taskset -c "$FAST_CPU")
  mkdir -p "$t"
  go test -c -o "$t/avx2.test" "$1" && go test -c -tags noavx2 -o "$t/sse2.test" "$1" &&
    go test -c -tags noasm -o "$t/go.test" "$1" || return 1
  for _ in $(seq 1 "${BENCH_COUNT:-5}"); do
    for l in avx2 sse2 go; do
      (cd "$1" && "${pin[@]}" "$t/$l.test" -test.run '^$' -test.bench "$2" -test.benchtime "${BENCH_TIME:-10x}" 2>/dev/null) |
        grep -E '^Benchmark' | sed "s/^/$l /"
    done
  done
}
python3 - "$(loopbench ./audit/detect/ 'BenchmarkFind$' pin)" "$(loopbench ./audit/filescan/ 'BenchmarkScanFile')" "$FAST_CPU" <<'PY'
import re, statistics, sys
def rates(text, metric):
    out = {}
    for line in text.splitlines():
        loop, bench = line.split()[:2]
        name = re.sub(r"-\d+$", "", bench)
        m = re.search(r"([\d.]+) " + re.escape(metric), line)
        if m:
            out.setdefault(loop, {}).setdefault(name, []).append(float(m.group(1)) * 1e6 / 2**20)
    return {l: {k: statistics.median(v) for k, v in d.items()} for l, d in out.items()}
nan = float("nan")
for title, text, what in (
        ("BenchmarkFind", sys.argv[1], "detectors only: 8 MiB of dense log, one core, counting"
         + (f", pinned to cpu{sys.argv[3]}" if sys.argv[3] else "")),
        ("BenchmarkScanFile", sys.argv[2], "whole pipeline on a 32 MiB dense log file: decode, detect, mask, fingerprint, jsonl; CPU of the process")):
    print(f"  {title} ({what}), MiB per CPU second, medians of runs alternating between the loops:")
    r = rates(text, "cpu-MB/s")
    a, s, p = r.get("avx2", {}), r.get("sse2", {}), r.get("go", {})
    for name in sorted(a):
        goal = "  (target >= 1024 on AVX2 and SSE2, the loops x86-64 runs; the Go loop is what arm64 runs)" if title == "BenchmarkFind" else ""
        print(f"    {name:36} AVX2 {a[name]:6.0f}  SSE2 {s.get(name, nan):6.0f}  portable Go {p.get(name, nan):6.0f},"
              f" AVX2/SSE2 {a[name]/s.get(name, nan):.2f}, AVX2/Go {a[name]/p.get(name, nan):.2f}{goal}")
PY
# Instructions are what a busy machine does not change: callgrind counts the
# detectors' own (the scan loop and below) per byte of BenchmarkFind's log.
if command -v valgrind >/dev/null; then
  echo "  BenchmarkFind, instructions per byte (callgrind; the same on any run of this CPU's build):"
  t=$B/loopbench/detect
  for l in avx2 sse2 go; do
    (cd audit/detect && GODEBUG=asyncpreemptoff=1 GOMAXPROCS=1 GOGC=off valgrind --tool=callgrind \
      --callgrind-out-file=/dev/null --toggle-collect='*scanner).run' "$t/$l.test" -test.run '^$' \
      -test.bench 'BenchmarkFind$' -test.benchtime 1x 2>&1) |
      awk -v l="$l" '/Collected/ { printf "    %-5s %6.2f\n", l, $4 / 2 / 8388608 }' # Count runs twice: its check and one op
  done
  # The whole CLI the same way (it exits 1: the log holds identifiers). With
  # the GC off and one thread the count is the same to 0.01% run to run.
  # cpu.rdtscp=off: the Go runtime reads the clock with RDTSCP where the CPU
  # has it, which valgrind cannot run; valgrind has no SHA-NI either, so
  # SHA-256 weighs more here than on the CPU.
  echo "  scan files --format jsonl, whole pipeline, instructions per byte of the log's first 32 MiB (callgrind, GC off):"
  head -c 33554432 "$LOG" > "$B/dense-first-32.log"
  for l in avx2:$ATREST sse2:$SSE2 go:$PORT; do
    { GOGC=off GOMAXPROCS=1 GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off valgrind --tool=callgrind \
      --callgrind-out-file=/dev/null "${l#*:}" scan files --format jsonl "$B/dense-first-32.log" 2>&1 >/dev/null || true; } |
      awk -v l="${l%%:*}" '/Collected/ { printf "    %-5s %6.1f\n", l, $4 / 33554432 }'
  done
fi
echo "  SHA-256 of 1 KiB right after a skip loop (BenchmarkSHA256AfterSkip, CPU ns per op; the dirty-upper"
echo "  control shows what a loop without VZEROUPPER would cost here: ~1.0 on AMD Zen, large on Intel):"
python3 - "$(gobench ./audit/detect/ 'BenchmarkSHA256AfterSkip' '' 300000x)" <<'PY'
import re, statistics, sys
ns = {}
for line in sys.argv[1].splitlines():
    name = re.sub(r"-\d+$", "", line.split()[0]).split("/")[-1]
    m = re.search(r"([\d.]+) cpu-ns/op", line)
    if m:
        ns.setdefault(name, []).append(float(m.group(1)))
ns = {k: statistics.median(v) for k, v in ns.items()}
base = ns.get("after-swar")
for k in ("alone", "after-swar", "after-sse2", "after-avx2", "after-dirty-upper"):
    if k in ns and base:
        print(f"    {k:18} {ns[k]:7.0f} ns  {ns[k]/base:5.2f}x after-swar")
PY

vcpu_check "after"
echo "== peak memory scanning a ${BIG_MB} MiB file"
BIG=$B/dense-$BIG_MB.log
[ -s "$BIG" ] || go run ./scripts/gendemo -log "$BIG" -size "$BIG_MB"
KB=$(rss $ATREST scan files --format jsonl "$BIG")
echo "  peak RSS, --findings all: $((KB/1024)) MiB (target < 64 MiB)"
KB=$(rss $ATREST scan files --format jsonl --findings summary "$BIG")
echo "  peak RSS, --findings summary: $((KB/1024)) MiB"
fi

if part formats; then
# Legacy office files and PDFs: atrest against the pipeline a person would
# use, xls2csv / catdoc / pdftotext into rg, on the same files (copies of the
# testdata/formats fixtures, written by LibreOffice and ghostscript).
N=${BENCH_FORMAT_COPIES:-300}
FD=$B/formats-$N
if [ ! -d "$FD" ]; then
  mkdir -p "$FD"
  for i in $(seq 1 "$N"); do
    cp testdata/formats/xls/people.xls "$FD/people-$i.xls"
    cp testdata/formats/doc/people.doc "$FD/people-$i.doc"
    cp testdata/formats/pdf/people-writer.pdf "$FD/people-$i.pdf"
  done
fi
MIB=$(du -sm "$FD" | cut -f1)
COUNT=$(find "$FD" -type f | wc -l)
echo "== legacy office and PDF: $COUNT files (.xls, .doc, .pdf), ${MIB} MiB; CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
cat "$FD"/* > /dev/null
reference() {
  for f in "$FD"/*.xls; do xls2csv "$f"; done 2>/dev/null | rg -c -o "$RE" > /dev/null || true
  for f in "$FD"/*.doc; do catdoc "$f"; done 2>/dev/null | rg -c -o "$RE" > /dev/null || true
  for f in "$FD"/*.pdf; do pdftotext -q "$f" -; done 2>/dev/null | rg -c -o "$RE" > /dev/null || true
}
t0=$(now); reference; t1=$(now); REF=$(secs $t0 $t1)
t0=$(now); GOMAXPROCS=1 $ATREST scan files --workers 1 --format jsonl "$FD" > /dev/null 2>&1 || true; t1=$(now); ONE=$(secs $t0 $t1)
t0=$(now); $ATREST scan files --format jsonl "$FD" > /dev/null 2>&1 || true; t1=$(now); ALL=$(secs $t0 $t1)
python3 - "$COUNT" "$MIB" "$REF" "$ONE" "$ALL" <<'PY'
import sys
n, mib, ref, one, allc = int(sys.argv[1]), float(sys.argv[2]), *map(float, sys.argv[3:])
print(f"  xls2csv|catdoc|pdftotext | rg  {ref:7.2f} s  {n/ref:7.0f} files/s  {mib/ref:6.1f} MiB/s  (one file at a time, as a shell loop runs them)")
print(f"  atrest, 1 core, jsonl            {one:7.2f} s  {n/one:7.0f} files/s  {mib/one:6.1f} MiB/s  {ref/one:5.2f}x the pipeline")
print(f"  atrest, all cores, jsonl         {allc:7.2f} s  {n/allc:7.0f} files/s  {mib/allc:6.1f} MiB/s  {ref/allc:5.2f}x the pipeline  (goal > 1x)")
PY
fi

if part db; then
echo "== database sampling (throwaway MariaDB; a 1M-row and a 10k-row table)"
go test -run '^$' -bench 'BenchmarkSample' -benchtime 10x ./audit/dbsrc/ 2>&1 | grep -E '^Benchmark' | sed 's/^/  /'
fi

if part journal; then
echo "== journal: append rate and verify time for 1M entries"
go test -run '^$' -bench 'BenchmarkAppend' -benchtime 1s ./audit/journal/ 2>&1 | grep -E '^Benchmark' | sed 's/^/  /'
go test -run '^$' -bench 'BenchmarkVerify1M' -benchtime 1x ./audit/journal/ 2>&1 | grep -E '^Benchmark' | sed 's/^/  /'
echo "== journal: one page (50 entries) at 1k and 1M entries: the same time is the goal"
go test -run '^$' -bench 'BenchmarkJournalPage' -benchtime 300x ./audit/journal/ 2>&1 | grep -E '^Benchmark' | sed 's/^/  /'
fi
if part soak; then  # serve under load for minutes: RSS, fds, start delays, p99 (scripts/soak.sh)
  SOAK_KEEP_SERVERS=$(part backup && echo 1 || true) bash scripts/soak.sh
fi
if part backup; then

# ---------------------------------------------------------------------------
# Backups and drills, end to end through the CLI, on a private MariaDB and
# versitygw, beside the reference pipelines on the same data.
source scripts/lib.sh
start_mariadb "$B/mariadb"
start_versitygw "$B/s3"
MY="mariadb --no-defaults -h127.0.0.1 -P$DB_PORT -uroot"
export BENCH_DSN="root@tcp(127.0.0.1:$DB_PORT)/"
go run ./scripts/gendemo -bucket bench-backups -endpoint "127.0.0.1:$S3_PORT" -lock-days 1
rm -f "$B/backup.agekey"; go run filippo.io/age/cmd/age-keygen -o "$B/backup.agekey" 2>/dev/null
RCP=$(grep -o "age1[0-9a-z]*" "$B/backup.agekey" | head -1)
# The sm suite's keys, made by OpenSSL as an operator would.
openssl genpkey -algorithm SM2 -out "$B/backup-sm2.key" 2>/dev/null
openssl pkey -in "$B/backup-sm2.key" -pubout -out "$B/backup-sm2.pub"

# make_db NAME ROWS: a sysbench-shaped table (id, k, c CHAR(120), pad CHAR(60)).
make_db() {
  $MY -e "DROP DATABASE IF EXISTS $1; CREATE DATABASE $1; USE $1;
    CREATE TABLE $1.sbtest (id INT PRIMARY KEY, k INT NOT NULL, c CHAR(120) NOT NULL, pad CHAR(60) NOT NULL, KEY (k));
    INSERT INTO $1.sbtest SELECT seq, seq * 7919 % $2, CONCAT(MD5(seq), '-', MD5(seq + 1), '-', MD5(seq * 3), '-', LEFT(MD5(seq * 5), 20)),
      CONCAT(MD5(seq * 11), '-', LEFT(MD5(seq * 13), 27)) FROM seq_1_to_$2;"
}

cat > "$B/atrest.yaml" <<YAML
state_dir: $B/state
sources:
  - {name: bench, dsn_env: BENCH_DSN}
storage:
  - {name: s3, endpoint: "127.0.0.1:$S3_PORT", access_key_env: S3_ACCESS_KEY, secret_key_env: S3_SECRET_KEY}
backups:
  - {name: small, source: bench, databases: [bench_small], storage: s3, bucket: bench-backups, prefix: b/, recipients: [$RCP], retention: 1d}
  - {name: big, source: bench, databases: [bench_big], storage: s3, bucket: bench-backups, prefix: b/, recipients: [$RCP], retention: 1d}
  - {name: big-sm, suite: sm, source: bench, databases: [bench_big], storage: s3, bucket: bench-backups, prefix: b/, recipients: [$B/backup-sm2.pub], retention: 1d}
drills:
  - {name: big-drill, backup: big, identity_file: $B/backup.agekey, target_dsn_env: BENCH_DSN}
  - {name: big-sm-drill, backup: big-sm, identity_file: $B/backup-sm2.key, target_dsn_env: BENCH_DSN}
YAML
$ATREST init --config "$B/atrest.yaml" > /dev/null

ROWS_BIG=${BENCH_ROWS:-1000000}
ROWS_SMALL=$((ROWS_BIG / 4))
echo "== backups: $ROWS_SMALL and $ROWS_BIG rows"
make_db bench_small "$ROWS_SMALL"
make_db bench_big "$ROWS_BIG"
for job in small big; do
  read -r T KB < <( { /usr/bin/time -f "%e %M" $ATREST backup run --config "$B/atrest.yaml" --job $job --format jsonl > "$B/backup-$job.jsonl"; } 2>&1 | tail -1)
  echo "  atrest backup run ($job): ${T}s, peak RSS $((KB/1024)) MiB (dump + digests + zstd + age + sha256 + upload)"
done
read -r T2 KB < <( { /usr/bin/time -f "%e %M" $ATREST backup run --config "$B/atrest.yaml" --job big --parallel 2 --format jsonl > /dev/null; } 2>&1 | tail -1)
echo "  atrest backup run (big, --parallel 2): ${T2}s, peak RSS $((KB/1024)) MiB"
t0=$(now); mariadb-dump --no-defaults -h127.0.0.1 -P"$DB_PORT" -uroot --single-transaction bench_big | zstd -3 -q | age -r "$RCP" > "$B/ref.sql.zst.age"; t1=$(now)
REF=$(secs $t0 $t1)
KB=$(rss mariadb-dump --no-defaults -h127.0.0.1 -P"$DB_PORT" -uroot --single-transaction --result-file=/dev/null bench_big)
echo "  mariadb-dump --single-transaction | zstd -3 | age -r (big, to a local file): ${REF}s, mariadb-dump peak RSS $((KB/1024)) MiB"
python3 -c "import sys; print('  ratio atrest/reference: %.2f (target <= 1.0, while also uploading and digesting)' % (float(sys.argv[1])/float(sys.argv[2])))" "$T" "$REF"

OBJ=$(find "$B/s3/data/bench-backups" -name '*.sql.zst.age' -newer "$B/backup-small.jsonl" | head -1)
SIZE=$(stat -c %s "$OBJ")
# Both run BENCH_RUNS times (default 3), alternating; the medians are compared.
# The check's CPU time (atrest's own, not the S3 server's) shows what bounds it
# on a machine of few cores: it does all the work below at once, sha256sum one
# hash on one core.
: > "$B/times"
rm -f "$B"/check-read-*.jsonl
for i in $(seq 1 "${BENCH_RUNS:-3}"); do
  timed sha sha256sum "$OBJ"
  timed check sh -c "$ATREST backup check --config $B/atrest.yaml --job big --read --identity $B/backup.agekey --format jsonl > $B/check-read-$i.jsonl"
done
python3 - "$SIZE" "$(medians)" "$(nproc)" "$B"/check-read-*.jsonl <<'PY'
import json, statistics, sys
s = int(sys.argv[1]) / 2**20
runs = {f[0]: (float(f[1]), float(f[2]), int(f[3])) for f in map(str.split, sys.argv[2].splitlines())}
chk, sha = runs["check"], runs["sha"]
# the integrity record times the read alone; the command also lists the
# bucket, verifies the manifests and asks for the bucket's posture
reads = [r["figures"]["seconds"] for f in sys.argv[4:] for r in map(json.loads, open(f))
         if r.get("check") == "integrity" and r.get("status") == "pass"]
print(f"  check --read (download + sha256 + age + zstd + sha256 of the SQL, over S3), median of {chk[2]}: {chk[0]:.2f}s {s/chk[0]:.0f} MiB/s, "
      f"CPU {chk[1]:.2f}s on {sys.argv[3]} cores")
print(f"  sha256sum of the same {s:.0f} MiB object, median: {sha[0]:.2f}s {s/sha[0]:.0f} MiB/s, CPU {sha[1]:.2f}s; "
      f"ratio check/sha256sum rate: {sha[0]/chk[0]:.2f} (target >= 1.0)")
if reads:
    r = statistics.median(reads)
    print(f"  the read alone (the integrity record's seconds; the command also lists, verifies manifests and asks for posture): "
          f"{r:.2f}s {s/r:.0f} MiB/s, ratio {sha[0]/r:.2f}")
PY
# The same read without S3 or a second process (BenchmarkRead: 64 MiB of
# generated SQL in memory), beside Go's SHA-256 of the object alone, which
# uses SHA-NI where the CPU has it (sha256sum above does not).
BENCH_COUNT=3 gobench ./backup/check/ BenchmarkRead '' 5x | python3 -c '
import re, statistics, sys
runs = {}
for line in sys.stdin:
    m = re.match(r"BenchmarkRead/(\S+?)-\d+\s.*?([\d.]+) MB/s", line)
    if m:
        runs.setdefault(m.group(1), []).append(float(m.group(2)) * 1e6 / 2**20)
for s in ("standard", "sm"):
    r, h = (statistics.median(runs.get(k + "/" + s, [float("nan")])) for k in ("read", "sha256-of-object"))
    print(f"  the read in memory, suite {s} (BenchmarkRead, median of 3): {r:.0f} MiB/s of object; Go SHA-256 of it alone {h:.0f} MiB/s")
'

if part drill; then
echo "== restore drill of the $ROWS_BIG-row backup (download → verify → load → digests)"
# The drill restores onto the same server (a scratch database): allowed, and the
# drill still never touches the source database. The drill and myloader run
# DRILL_RUNS times each (default 3), alternating, so that a slow moment of the
# machine does not decide the ratio, which compares the medians.
DRILL_RUNS=${BENCH_DRILL_RUNS:-3}
rm -rf "$B/mydumper"; mydumper -h 127.0.0.1 -P "$DB_PORT" -u root -t 2 -B bench_big -o "$B/mydumper" >/dev/null 2>&1
DRILLS=(); MLS=()
for i in $(seq 1 "$DRILL_RUNS"); do
  read -r T KB < <( { /usr/bin/time -f "%e %M" $ATREST drill run --config "$B/atrest.yaml" --job big-drill --allow-source-server --format jsonl > "$B/drill.jsonl"; } 2>&1 | tail -1)
  DRILLS+=("$T")
  PH=$(python3 -c 'import json,sys; p=json.loads(open(sys.argv[1]).readline()).get("phases",{}); print("load %.2fs, verify %.2fs" % (p.get("load_seconds",0), p.get("verify_seconds",0)))' "$B/drill.jsonl" 2>/dev/null || echo "phases unknown")
  echo "  atrest drill run $i/$DRILL_RUNS (verified, every table's digest): ${T}s ($PH), peak RSS $((KB/1024)) MiB, $(grep -o '"status":"[a-z]*"' "$B/drill.jsonl" | head -1)"
  $MY -e "DROP DATABASE IF EXISTS ml_restore"
  t0=$(now); myloader -h 127.0.0.1 -P "$DB_PORT" -u root -t 2 -d "$B/mydumper" -B ml_restore -o >/dev/null 2>&1; t1=$(now); ML=$(secs $t0 $t1)
  MLS+=("$ML")
  echo "  myloader -t 2 run $i/$DRILL_RUNS (plain restore, no verification): ${ML}s"
  # The drill drops its scratch database when done; so does this, so that
  # neither run shares the buffer pool with the other's restored copy.
  $MY -e "DROP DATABASE IF EXISTS ml_restore"
done
$MY -e "DROP DATABASE IF EXISTS ref_restore; CREATE DATABASE ref_restore"
t0=$(now); age -d -i "$B/backup.agekey" "$B/ref.sql.zst.age" | zstd -d -q | $MY ref_restore; t1=$(now)
echo "  age -d | zstd -d | mariadb (plain restore, no verification): $(secs $t0 $t1)s"
python3 - "${DRILLS[*]}" "${MLS[*]}" <<'PY'
import statistics, sys
drills, mls = ([float(x) for x in a.split()] for a in sys.argv[1:3])
d, m = statistics.median(drills), statistics.median(mls)
print(f"  atrest drill run, median of {len(drills)}: {d:.2f}s; myloader -t 2, median of {len(mls)}: {m:.2f}s")
print(f"  ratio drill/myloader (medians): {d/m:.2f} (target <= 1.0)")
PY
$MY -e "DROP DATABASE IF EXISTS ref_restore; DROP DATABASE IF EXISTS ml_restore"
fi

if part sm; then
# ---------------------------------------------------------------------------
# The national suite beside age on the same data (bench_big): backup, check
# --read and drill of an sm job and of the age job, alternating, medians of
# BENCH_SM_RUNS (default 3); the reference pipelines with openssl's SM4-CTR;
# and the ciphers alone (crypto/suite benchmarks). MiB/s are of SQL.
SM_RUNS=${BENCH_SM_RUNS:-3}
echo "== sm (SM4-CTR + HMAC-SM3, SM2) vs age (ChaCha20-Poly1305, X25519) on the $ROWS_BIG-row table; CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, aes: $(grep -qw aes /proc/cpuinfo && echo yes || echo no), avx2: $(grep -qw avx2 /proc/cpuinfo && echo yes || echo no)"
: > "$B/sm-times"
for i in $(seq 1 "$SM_RUNS"); do
  for job in big big-sm; do
    read -r T KB < <( { /usr/bin/time -f "%e %M" $ATREST backup run --config "$B/atrest.yaml" --job $job --format jsonl > "$B/sm-run.jsonl"; } 2>&1 | tail -1)
    SQLB=$(python3 -c 'import json,sys; r=json.loads(open(sys.argv[1]).readline()); print(r.get("plaintext_bytes",0))' "$B/sm-run.jsonl")
    echo "backup $job $T $SQLB $KB" >> "$B/sm-times"
    t0=$(now); $ATREST backup check --config "$B/atrest.yaml" --job $job --read --format jsonl > /dev/null || true; t1=$(now)
    echo "check $job $(secs $t0 $t1) $SQLB 0" >> "$B/sm-times"
  done
  if part drill; then
    for drill in big-drill big-sm-drill; do
      read -r T KB < <( { /usr/bin/time -f "%e %M" $ATREST drill run --config "$B/atrest.yaml" --job $drill --allow-source-server --format jsonl > "$B/sm-drill.jsonl"; } 2>&1 | tail -1)
      SQLB=$(python3 -c 'import json,sys; r=json.loads(open(sys.argv[1]).readline()); print(r.get("sql_bytes",0) if r.get("status")=="pass" else 0)' "$B/sm-drill.jsonl")
      echo "drill $drill $T $SQLB $KB" >> "$B/sm-times"
    done
  fi
done
python3 - "$B/sm-times" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    what, job, secs, sql, kb = line.split()
    runs.setdefault((what, job), []).append((float(secs), int(sql), int(kb)))
def med(what, job):
    r = runs.get((what, job))
    if not r:
        return None
    secs = statistics.median(x[0] for x in r)
    return secs, max(x[1] for x in r) / 2**20 / secs, max(x[2] for x in r) // 1024, len(r)
for what, label, a, s in (("backup", "backup run (dump + digests + zstd + encrypt + upload)", "big", "big-sm"),
                          ("check", "check --read (download + decrypt + zstd + SHA-256)", "big", "big-sm"),
                          ("drill", "drill run (restore, every digest verified)", "big-drill", "big-sm-drill")):
    ra, rs = med(what, a), med(what, s)
    if not ra or not rs:
        continue
    print(f"  {label}, median of {ra[3]}:")
    print(f"    age {ra[0]:7.2f}s {ra[1]:6.1f} MiB/s of SQL" + (f", peak RSS {ra[2]} MiB" if ra[2] else ""))
    print(f"    sm  {rs[0]:7.2f}s {rs[1]:6.1f} MiB/s of SQL" + (f", peak RSS {rs[2]} MiB" if rs[2] else "") + f"   sm/age time {rs[0]/ra[0]:.2f}")
PY
# The reference pipelines: what a person would run with the stock tools.
K=$(openssl rand -hex 16) IV=$(openssl rand -hex 16)
t0=$(now); mariadb-dump --no-defaults -h127.0.0.1 -P"$DB_PORT" -uroot --single-transaction bench_big | zstd -3 -q | openssl enc -sm4-ctr -K "$K" -iv "$IV" > "$B/ref.sql.zst.sm4ctr"; t1=$(now)
echo "  reference: mariadb-dump | zstd -3 | openssl enc -sm4-ctr (to a local file): $(secs $t0 $t1)s; the age pipeline above: ${REF}s"
t0=$(now); openssl enc -d -sm4-ctr -K "$K" -iv "$IV" < "$B/ref.sql.zst.sm4ctr" | zstd -d -q > /dev/null; t1=$(now)
t2=$(now); age -d -i "$B/backup.agekey" "$B/ref.sql.zst.age" | zstd -d -q > /dev/null; t3=$(now)
echo "  reference decode to /dev/null: openssl enc -d -sm4-ctr | zstd -d $(secs $t0 $t1)s; age -d | zstd -d $(secs $t2 $t3)s"
echo "  the ciphers alone (go test -bench 'Encrypt|Decrypt|SMParts' ./crypto/suite/, 32 MiB, MB/s = 10^6 B/s; one core, but sm's MAC runs on a second beside its SM4):"
go test -run '^$' -bench 'Encrypt|Decrypt|SMParts' -benchtime 10x -count "${BENCH_COUNT:-3}" ./crypto/suite/ 2>/dev/null | python3 -c '
import re, statistics, sys
rates = {}
for line in sys.stdin:
    m = re.match(r"(Benchmark\S+?)(-\d+)?\s+\d+\s+\d+ ns/op\s+([\d.]+) MB/s", line)
    if m:
        rates.setdefault(m.group(1), []).append(float(m.group(3)))
for name in sorted(rates):
    print(f"    {name:32} {statistics.median(rates[name]):8.1f} MB/s")
'
$MY -e "DROP DATABASE IF EXISTS ml_restore"
fi
stop_server "$B/mariadb"; stop_server "$B/s3"
fi

if part pg; then
# ---------------------------------------------------------------------------
# PostgreSQL: sampling cost by table size, then backup and drill through the
# CLI on a private PostgreSQL and versitygw, beside pg_dump and pg_restore.
echo "== PostgreSQL, on$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-), $(nproc) cores"
if [ -z "${BENCH_PG_SKIP_SAMPLING:-}" ]; then
echo "-- sampling 1000 rows (throwaway PostgreSQL; a 1M-row and a 10k-row table, each with a key and without)"
go test -run '^$' -bench 'BenchmarkSamplePostgres' -benchtime 10x ./audit/dbsrc/ 2>&1 | grep -E '^Benchmark' | sed 's/^/  /'
fi
source scripts/lib.sh
start_postgres "$B/pg"
start_versitygw "$B/s3"
go run ./scripts/gendemo -bucket bench-backups -endpoint "127.0.0.1:$S3_PORT" -lock-days 1 >/dev/null 2>&1 || true
[ -s "$B/backup.agekey" ] || go run filippo.io/age/cmd/age-keygen -o "$B/backup.agekey" 2>/dev/null
RCP=$(grep -o "age1[0-9a-z]*" "$B/backup.agekey" | head -1)
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
PG="-h 127.0.0.1 -p $PG_PORT -U postgres"
PSQL="psql -X -q -v ON_ERROR_STOP=1 $PG"
ROWS_PG=${BENCH_ROWS:-1000000}
export BENCH_PG_DSN="postgres://postgres@127.0.0.1:$PG_PORT/bench_pg?sslmode=disable"
export BENCH_PG_DRILL_DSN="postgres://postgres@127.0.0.1:$PG_PORT/postgres?sslmode=disable"
$PSQL -d postgres -c "DROP DATABASE IF EXISTS bench_pg" -c "CREATE DATABASE bench_pg"
# The sysbench-shaped table of the MariaDB part.
$PSQL -d bench_pg -c "CREATE TABLE sbtest (id int PRIMARY KEY, k int NOT NULL, c char(120) NOT NULL, pad char(60) NOT NULL);
  INSERT INTO sbtest SELECT g, (g * 7919 % $ROWS_PG)::int, md5(g::text) || '-' || md5((g + 1)::text) || '-' || md5((g * 3)::text) || '-' || left(md5((g * 5)::text), 20),
    md5((g * 11)::text) || '-' || left(md5((g * 13)::text), 27) FROM generate_series(1::bigint, $ROWS_PG) g;
  CREATE INDEX ON sbtest (k); ANALYZE sbtest;"
cat > "$B/atrest-pg.yaml" <<YAML
state_dir: $B/state-pg
sources:
  - {name: benchpg, driver: postgres, dsn_env: BENCH_PG_DSN}
storage:
  - {name: s3, endpoint: "127.0.0.1:$S3_PORT", access_key_env: S3_ACCESS_KEY, secret_key_env: S3_SECRET_KEY}
backups:
  - {name: pgbig, source: benchpg, storage: s3, bucket: bench-backups, prefix: pg/, recipients: [$RCP], retention: 1d}
drills:
  - {name: pgbig-drill, backup: pgbig, identity_file: $B/backup.agekey, target_dsn_env: BENCH_PG_DRILL_DSN}
YAML
$ATREST init --config "$B/atrest-pg.yaml" > /dev/null
echo "-- backup of $ROWS_PG rows"
read -r T1 KB < <( { /usr/bin/time -f "%e %M" $ATREST backup run --config "$B/atrest-pg.yaml" --job pgbig --format jsonl > /dev/null; } 2>&1 | tail -1)
echo "  atrest backup run: ${T1}s, peak RSS $((KB/1024)) MiB (snapshot + COPY + digests + pg_dump schema + zstd + age + sha256 + upload)"
read -r T2 KB < <( { /usr/bin/time -f "%e %M" $ATREST backup run --config "$B/atrest-pg.yaml" --job pgbig --parallel 2 --format jsonl > /dev/null; } 2>&1 | tail -1)
echo "  atrest backup run --parallel 2: ${T2}s, peak RSS $((KB/1024)) MiB"
t0=$(now); "$PGBIN/pg_dump" $PG -d bench_pg -Fc | age -r "$RCP" > "$B/ref.dump.age"; t1=$(now); FC=$(secs $t0 $t1)
echo "  pg_dump -Fc | age -r (to a local file): ${FC}s"
t0=$(now); "$PGBIN/pg_dump" $PG -d bench_pg | zstd -3 -q | age -r "$RCP" > "$B/ref.sql.zst.age"; t1=$(now); PZ=$(secs $t0 $t1)
echo "  pg_dump | zstd -3 | age -r (to a local file): ${PZ}s"
python3 - "$T1" "$T2" "$FC" "$PZ" <<'PY'
import sys
t1, t2, fc, pz = map(float, sys.argv[1:])
print(f"  ratio atrest/(pg_dump -Fc | age): {t1/fc:.2f}, --parallel 2: {t2/fc:.2f}")
print(f"  ratio atrest/(pg_dump | zstd | age): {t1/pz:.2f}, --parallel 2: {t2/pz:.2f}  (target <= 1.0, while also uploading and digesting)")
PY
echo "-- restore drill of the $ROWS_PG-row backup vs pg_restore -j 2 (same server; median of ${BENCH_DRILL_RUNS:-3})"
"$PGBIN/pg_dump" $PG -d bench_pg -Fc -f "$B/ref.dump"
DRILLS=(); PRS=()
for i in $(seq 1 "${BENCH_DRILL_RUNS:-3}"); do
  read -r T KB < <( { /usr/bin/time -f "%e %M" $ATREST drill run --config "$B/atrest-pg.yaml" --job pgbig-drill --allow-source-server --format jsonl > "$B/drill-pg.jsonl"; } 2>&1 | tail -1)
  DRILLS+=("$T")
  PH=$(python3 -c 'import json,sys; p=json.loads(open(sys.argv[1]).readline()).get("phases",{}); print("load %.2fs, verify %.2fs" % (p.get("load_seconds",0), p.get("verify_seconds",0)))' "$B/drill-pg.jsonl" 2>/dev/null || echo "phases unknown")
  echo "  atrest drill run $i (verified, every table's digest): ${T}s ($PH), peak RSS $((KB/1024)) MiB, $(grep -o '"status":"[a-z]*"' "$B/drill-pg.jsonl" | head -1)"
  $PSQL -d postgres -c "DROP DATABASE IF EXISTS pr_restore" -c "CREATE DATABASE pr_restore"
  t0=$(now); "$PGBIN/pg_restore" $PG -j 2 -d pr_restore "$B/ref.dump"; t1=$(now); PR=$(secs $t0 $t1)
  PRS+=("$PR")
  echo "  pg_restore -j 2 $i (plain restore, no verification): ${PR}s"
  $PSQL -d postgres -c "DROP DATABASE IF EXISTS pr_restore"
done
python3 - "${DRILLS[*]}" "${PRS[*]}" <<'PY'
import statistics, sys
drills, prs = ([float(x) for x in a.split()] for a in sys.argv[1:3])
d, p = statistics.median(drills), statistics.median(prs)
print(f"  atrest drill run, median: {d:.2f}s; pg_restore -j 2, median: {p:.2f}s; ratio drill/pg_restore: {d/p:.2f} (target <= 1.0)")
PY
stop_postgres "$B/pg"; stop_server "$B/s3"
fi
