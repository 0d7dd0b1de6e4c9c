#!/usr/bin/env bash
# The soak of make bench (BENCH_PARTS=soak), or alone: scripts/soak.sh after make build.
# A bounded run of `atrest serve` with every job on a fast schedule (scan files and
# db, backup then prune, check, check --read, drill) against private MariaDB and
# versitygw servers, with HTTP load on the dashboard, the API, /metrics and /healthz
# (scripts/soak). It prints serve's RSS and open fds over the run, each endpoint's
# latency (median, p99, max), how late scheduled runs started (figures.start_delay_seconds
# in the journal), what ran and how it ended, and the CPU. A regression shows as a
# figure; nothing is asserted.
#   SOAK_SECONDS      how long serve runs under load (default 180)
#   SOAK_RATE         HTTP requests per second (default 40), SOAK_CONCURRENCY clients (default 8)
#   BENCH_DIR         where the servers and state live (default /tmp/atrest-bench)
#   SOAK_KEEP_SERVERS leave the source MariaDB and versitygw running (bench.sh's backup part follows)
set -euo pipefail
cd "$(dirname "$0")/.."
ATREST=$PWD/bin/atrest
B=${BENCH_DIR:-/tmp/atrest-bench}
SECS=${SOAK_SECONDS:-180}
S=$B/soak
[ -x "$ATREST" ] || { echo "soak: build first (make build)" >&2; exit 2; }
source scripts/lib.sh

echo "== soak: atrest serve for ${SECS}s, every job every 10-30 s, HTTP at ${SOAK_RATE:-40} req/s"
echo "  CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores"
start_mariadb "$B/mariadb"
SRC_PORT=$DB_PORT
start_mariadb "$B/mariadb-drill"   # drills refuse their source server
DRILL_PORT=$DB_PORT
start_versitygw "$B/s3"
MY="mariadb --no-defaults -h127.0.0.1 -P$SRC_PORT -uroot"
export SOAK_DSN="root@tcp(127.0.0.1:$SRC_PORT)/" SOAK_DRILL_DSN="root@tcp(127.0.0.1:$DRILL_PORT)/"
go run ./scripts/gendemo -bucket soak-backups -endpoint "127.0.0.1:$S3_PORT" -lock-days 0   # no lock: prune deletes

rm -rf "$S"; mkdir -p "$S/exports"
go run ./scripts/gendemo -sql "$S/yb.sql" -rows 2000
$MY -e "DROP DATABASE IF EXISTS yb"; $MY < "$S/yb.sql"
go run ./scripts/gendemo -log "$S/exports/app.log" -size 2
go run filippo.io/age/cmd/age-keygen -o "$S/backup.agekey" 2>/dev/null
RCP=$(grep -o "age1[0-9a-z]*" "$S/backup.agekey" | head -1)
PORT=$(free_port)
cat > "$S/atrest.yaml" <<YAML
state_dir: $S/state
file_roots:
  - {name: exports, paths: [$S/exports], scan_schedule: "*/20 * * * * *"}
sources:
  - {name: yb-prod, dsn_env: SOAK_DSN, databases: [yb], sample: 200, scan_schedule: "5/20 * * * * *"}
storage:
  - {name: s3, endpoint: "127.0.0.1:$S3_PORT", access_key_env: S3_ACCESS_KEY, secret_key_env: S3_SECRET_KEY}
backups:
  - name: yb-soak
    source: yb-prod
    databases: [yb]
    storage: s3
    bucket: soak-backups
    prefix: soak/
    recipients: [$RCP]
    schedule: "*/10 * * * * *"
    check_schedule: "3/15 * * * * *"
    read_schedule: "7/30 * * * * *"
    retention: 60s
    keep_last: 3
drills:
  - {name: yb-soak-drill, backup: yb-soak, identity_file: $S/backup.agekey, target_dsn_env: SOAK_DRILL_DSN,
     schedule: "2/20 * * * * *", probes: [{name: people, sql: "SELECT COUNT(*) > 0 FROM cb_ryxx"}]}
http:
  listen: 127.0.0.1:$PORT
YAML
$ATREST init --config "$S/atrest.yaml" > /dev/null
export SOAK_PASSWORD="soak-password-$(date +%s%N)"
echo "$SOAK_PASSWORD" | $ATREST user add --config "$S/atrest.yaml" --role auditor soak > /dev/null

$ATREST serve --config "$S/atrest.yaml" --jitter 2s 2> "$S/serve.log" &
SERVE=$!
trap 'kill $SERVE 2>/dev/null || true' EXIT
wait_for "atrest serve" "$S/serve.log" curl -sf "http://127.0.0.1:$PORT/healthz"
go run ./scripts/soak -url "http://127.0.0.1:$PORT" -pid "$SERVE" -user soak -job yb-soak \
  -duration "${SECS}s" -rate "${SOAK_RATE:-40}" -concurrency "${SOAK_CONCURRENCY:-8}"
kill -TERM "$SERVE"; wait "$SERVE" || true; trap - EXIT

$ATREST audit log --config "$S/atrest.yaml" --format jsonl > "$S/journal.jsonl"
python3 - "$S/journal.jsonl" <<'PY'
import collections, json, sys
runs = collections.Counter(); delays = collections.defaultdict(list); deleted = 0; kept = 0
failed = collections.Counter()
for line in open(sys.argv[1]):
    e = json.loads(line)
    k, o, f = e["kind"], e["outcome"], e.get("figures") or {}
    if k in ("scan.files", "scan.db", "backup.run", "backup.check", "drill.run"):
        if k == "backup.check" and f.get("read"):
            k = "backup.check --read"
        runs[(k, o)] += 1
        for name, v in (f.get("checks") or {}).items():
            failed[name] += v == 0
        if "start_delay_seconds" in f:
            delays[k].append(f["start_delay_seconds"])
    if k == "backup.prune":
        deleted += o == "deleted"
        kept += f.get("kept", 0) if o == "ok" else 0
print("  runs by kind and outcome: " + ", ".join(f"{k} {o} {n}" for (k, o), n in sorted(runs.items())))
if +failed:
    print("  checks that failed (the soak's bucket has no object lock, so that prune can delete): " +
          ", ".join(f"{n} {c}×" for n, c in sorted((+failed).items())))
allv = sorted(v for vs in delays.values() for v in vs)
def q(v, p): return v[min(len(v) - 1, max(0, int(p * len(v) + 0.5) - 1))] if v else float("nan")
for k, v in sorted(delays.items()):
    v.sort()
    print(f"  start delay, {k:12}: {len(v):4} runs, median {q(v, .5)*1000:6.1f} ms, p99 {q(v, .99)*1000:6.1f} ms, max {v[-1]*1000:6.1f} ms")
print(f"  start delay, all scheduled runs: p99 {q(allv, .99)*1000:.1f} ms, max {allv[-1]*1000 if allv else float('nan'):.1f} ms")
print(f"  pruned: {deleted} expired backups deleted and journaled ({kept} expired kept, summed over prunes)")
PY
if $ATREST audit verify --config "$S/atrest.yaml" > "$S/verify.txt" 2>&1; then
  echo "  journal verifies: $(head -1 "$S/verify.txt")"
else
  echo "  journal DOES NOT verify: $(head -3 "$S/verify.txt")"
fi
stop_server "$B/mariadb-drill"
# make bench's backup part reuses the source MariaDB and versitygw, and stops them.
[ -n "${SOAK_KEEP_SERVERS:-}" ] || { stop_server "$B/mariadb"; stop_server "$B/s3"; }
