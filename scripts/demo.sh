#!/usr/bin/env bash
# make demo: a ready-made installation under $DEMO_DIR (default /tmp/atrest-demo)
# with its own MariaDB and S3 server (versitygw) on free loopback ports: keys,
# seeded data, scans, a backup, a check, a drill, the journal verified. Prints
# where to look. Run it again to start over with the same servers.
set -euo pipefail
cd "$(dirname "$0")/.."
ATREST=$PWD/bin/atrest
DEMO=${DEMO_DIR:-/tmp/atrest-demo}
source scripts/lib.sh
if [ "${1:-}" = stop ]; then
  for d in serve mariadb mariadb-drill s3; do stop_server "$DEMO/$d" || true; done
  echo "demo servers under $DEMO stopped (its files stay; make demo starts over)"
  exit 0
fi
bash scripts/deps.sh test
# A dashboard left running by an earlier demo reads the state we start over; stop it.
stop_server "$DEMO/serve" || true
# Keys survive a re-run (atrest init never overwrites one), so the backups of
# earlier runs still verify; the journal starts over.
rm -rf "$DEMO/files" "$DEMO/out" "$DEMO/state"
mkdir -p "$DEMO/out" "$DEMO/keys" "$DEMO/serve"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "starting private MariaDB servers (source and drill target) and an S3 server (versitygw)"
start_mariadb "$DEMO/mariadb-drill"
DRILL_PORT=$DB_PORT
start_mariadb "$DEMO/mariadb"
start_versitygw "$DEMO/s3"
export DEMO_YB_DSN="root@tcp(127.0.0.1:$DB_PORT)/"
export DEMO_DRILL_DSN="root@tcp(127.0.0.1:$DRILL_PORT)/"
go run ./scripts/gendemo -bucket yb-backups -endpoint "127.0.0.1:$S3_PORT" -lock-days 30
go run ./scripts/gendemo -bucket atrest-journal -endpoint "127.0.0.1:$S3_PORT" -lock-days 180
echo "  source MariaDB 127.0.0.1:$DB_PORT, drill MariaDB 127.0.0.1:$DRILL_PORT"
echo "  S3 http://127.0.0.1:$S3_PORT: bucket yb-backups (object lock 30d), atrest-journal (object lock 180d)"

HTTP_PORT=$(free_port)

# The backup key pair: the public half goes in the config (making a backup needs
# no secret); the identity stays with the drill.
AGEKEY=$DEMO/keys/backup.agekey
[ -s "$AGEKEY" ] || go run filippo.io/age/cmd/age-keygen -o "$AGEKEY" 2>/dev/null
RECIPIENT=$(grep -o "age1[0-9a-z]*" "$AGEKEY" | head -1)

cat > "$DEMO/atrest.yaml" <<YAML
state_dir: $DEMO/state
timezone: Asia/Shanghai
journal:
  signing_key_file: $DEMO/keys/journal.key
  retention: 180d
  # each demo run starts a new journal, so each gets its own anchor prefix
  anchor: {storage: demo-s3, bucket: atrest-journal, prefix: "demo-$(date +%Y%m%dT%H%M%S)/"}
fingerprint_key_file: $DEMO/keys/fingerprint.key
sources:
  - name: demo-yb
    dsn_env: DEMO_YB_DSN
    databases: [yb]
file_roots:
  - name: demo-exports
    paths: [$DEMO/files]
storage:
  - name: demo-s3
    endpoint: 127.0.0.1:$S3_PORT
    access_key_env: S3_ACCESS_KEY
    secret_key_env: S3_SECRET_KEY
backups:
  - name: yb-nightly
    source: demo-yb
    databases: [yb]
    storage: demo-s3
    bucket: yb-backups
    prefix: yb/
    recipients: [$RECIPIENT]
    rpo: 26h
    retention: 30d
drills:
  - name: yb-nightly-drill
    backup: yb-nightly
    identity_file: $AGEKEY
    target_dsn_env: DEMO_DRILL_DSN
    rto: 10m                     # targets: the record, /metrics and the report say met or missed
    rpo: 26h
    definers: keep               # as the README's restore by hand: the definers' accounts must exist
    probes:
      - {name: insured persons present, sql: "SELECT COUNT(*) > 0 FROM cb_ryxx"}
      - {name: settlements present, sql: "SELECT COUNT(*) > 0 FROM js_jsmx"}
http:
  listen: 127.0.0.1:$HTTP_PORT
YAML

step "atrest init: keys and state directory"
$ATREST init --config "$DEMO/atrest.yaml"

step "seeding demo data (synthetic identifiers): database yb and a file tree"
go run ./scripts/gendemo -sql "$DEMO/yb.sql" -rows 2000
mariadb --no-defaults -h127.0.0.1 -P"$DB_PORT" -uroot < "$DEMO/yb.sql"
go run ./scripts/gendemo -files "$DEMO/files"
find "$DEMO/files" -type f | sed "s|$DEMO/|  |"

# Exit status 1 means "found something wrong", which is the point of the scans.
# Each scan runs once (each run is journaled); the tables below are read from its jsonl.
step "atrest scan db"
$ATREST scan db --config "$DEMO/atrest.yaml" --source demo-yb --format jsonl > "$DEMO/out/db.jsonl" || test $? -eq 1
python3 - "$DEMO/out/db.jsonl" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
cols = [r for r in recs if r.get("record") == "column" and r.get("state") != "none"]
cols.sort(key=lambda r: (r["state"] != "plaintext", r["database"], r["table"], r["column"]))
print("  %-34s %-10s %-15s %-7s %s" % ("COLUMN", "STATE", "TYPE", "SEVERITY", "MASKED EXAMPLE"))
for r in cols[:20]:
    print("  %-34s %-10s %-15s %-7s %s" % ("%s.%s.%s" % (r["database"], r["table"], r["column"]), r["state"], r.get("type", ""), r.get("severity", ""), r.get("masked_example", "")))
PY

step "atrest scan files"
$ATREST scan files --config "$DEMO/atrest.yaml" --format jsonl > "$DEMO/out/files.jsonl" || test $? -eq 1
grep "\"record\":\"finding\"" "$DEMO/out/files.jsonl" | sed -n 1,5p
grep '"record":"summary"' "$DEMO/out/files.jsonl"

step "atrest backup run: consistent snapshot → zstd → age → S3, signed manifest last"
$ATREST backup run --config "$DEMO/atrest.yaml" --job yb-nightly --format table

step "atrest backup check --read: freshness, completeness, signature, integrity, posture"
$ATREST backup check --config "$DEMO/atrest.yaml" --job yb-nightly --read --format table || true

if $ATREST drill --help >/dev/null 2>&1; then
  step "atrest drill run: restore into a scratch database, verify every table, run the probes"
  $ATREST drill run --config "$DEMO/atrest.yaml" --job yb-nightly-drill --format table || true
fi

step "atrest audit verify: the journal of everything above"
$ATREST audit verify --config "$DEMO/atrest.yaml"
$ATREST audit log --config "$DEMO/atrest.yaml" --format table | cut -c1-150

step "dashboard users (three separated roles), an auditor's review, and the period report"
SECADMIN_PW=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
AUDITOR_PW=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
ADMIN_PW=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
# The first security administrator is made on the host; they add the others.
echo "$SECADMIN_PW" | $ATREST user add --config "$DEMO/atrest.yaml" --role secadmin secadmin
printf '%s\n%s\n' "$SECADMIN_PW" "$AUDITOR_PW" | $ATREST user add --config "$DEMO/atrest.yaml" --as secadmin --role auditor auditor
printf '%s\n%s\n' "$SECADMIN_PW" "$ADMIN_PW" | $ATREST user add --config "$DEMO/atrest.yaml" --as secadmin --role sysadmin admin
printf 'secadmin %s\nauditor %s\nadmin %s\n' "$SECADMIN_PW" "$AUDITOR_PW" "$ADMIN_PW" > "$DEMO/keys/dashboard-credentials"
chmod 600 "$DEMO/keys/dashboard-credentials"
TODAY=$(date +%F)
echo "$AUDITOR_PW" | $ATREST audit review --config "$DEMO/atrest.yaml" --period "$TODAY..$TODAY" --as auditor --note "demo: reviewed the day's scans, backup, check and drill"
$ATREST report --config "$DEMO/atrest.yaml" --period "$TODAY..$TODAY" --format html -o "$DEMO/out/report.html"
$ATREST report --config "$DEMO/atrest.yaml" --period "$TODAY..$TODAY" --format json -o "$DEMO/out/report.json"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); [print("  %-22s %s" % (c.get("id"), c.get("verdict"))) for c in r.get("controls", [])[:12]]' "$DEMO/out/report.json" || true

step "atrest serve: schedules, dashboard, /metrics (left running in the background)"
nohup $ATREST serve --config "$DEMO/atrest.yaml" > "$DEMO/serve/serve.log" 2>&1 &
echo $! > "$DEMO/serve/pid"
wait_for "atrest serve" "$DEMO/serve/serve.log" curl -sf "http://127.0.0.1:$HTTP_PORT/healthz"
curl -s "http://127.0.0.1:$HTTP_PORT/metrics" | grep '^atrest_' | grep -v '^atrest_runs_total' | sed 's/^/  /' | head -12

step "where to look"
cat <<MSG
  dashboard:       http://127.0.0.1:$HTTP_PORT/   (demo logins secadmin, auditor and admin (sysadmin); passwords in
                   $DEMO/keys/dashboard-credentials, 0600; stop it with: kill \$(cat $DEMO/serve/pid))
  report:          $DEMO/out/report.html (printable, A4) and $DEMO/out/report.json
  config:          $DEMO/atrest.yaml
  database scan:   $DEMO/out/db.jsonl      (jq 'select(.record=="column" and .state=="plaintext")' $DEMO/out/db.jsonl)
  file findings:   $DEMO/out/files.jsonl   (jq 'select(.record=="finding")' $DEMO/out/files.jsonl)
  journal:         $DEMO/state/journal/    (bin/atrest audit log --config $DEMO/atrest.yaml)
  backups:         s3://yb-backups/yb/ on http://127.0.0.1:$S3_PORT (demo credentials: scripts/lib.sh)
  keys:            $DEMO/keys/ (0600; atrest init never overwrites a key)
  servers:         MariaDB 127.0.0.1:$DB_PORT (source), 127.0.0.1:$DRILL_PORT (drills), versitygw 127.0.0.1:$S3_PORT
                   (left running; make demo reuses them; make demo-stop stops them and serve)

  To run more commands against the demo, paste this into your shell:
    export ATREST_CONFIG=$DEMO/atrest.yaml S3_ACCESS_KEY=$S3_ACCESS_KEY S3_SECRET_KEY=$S3_SECRET_KEY \\
      DEMO_YB_DSN='$DEMO_YB_DSN' DEMO_DRILL_DSN='$DEMO_DRILL_DSN'
    bin/atrest audit verify && bin/atrest backup check --job yb-nightly
MSG
