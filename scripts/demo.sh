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
bash scripts/deps.sh test
rm -rf "$DEMO/files" "$DEMO/out" "$DEMO/state" "$DEMO/keys"
mkdir -p "$DEMO/out" "$DEMO/keys"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "starting a private MariaDB and S3 server (versitygw) for the demo"
start_mariadb "$DEMO/mariadb"
start_versitygw "$DEMO/s3"
export DEMO_YB_DSN="root@tcp(127.0.0.1:$DB_PORT)/"
export DEMO_DRILL_DSN="root@tcp(127.0.0.1:$DB_PORT)/"
go run ./scripts/gendemo -bucket yb-backups -endpoint "127.0.0.1:$S3_PORT" -lock-days 30
echo "  MariaDB 127.0.0.1:$DB_PORT   S3 http://127.0.0.1:$S3_PORT (bucket yb-backups, object lock 30d)"

# The backup key pair: the public half goes in the config (making a backup needs
# no secret); the identity stays with the drill.
AGEKEY=$DEMO/keys/backup.agekey
go run filippo.io/age/cmd/age-keygen -o "$AGEKEY" 2>/dev/null
RECIPIENT=$(grep -o "age1[0-9a-z]*" "$AGEKEY" | head -1)

cat > "$DEMO/atrest.yaml" <<YAML
state_dir: $DEMO/state
journal:
  signing_key_file: $DEMO/keys/journal.key
  retention: 180d
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
    probes:
      - {name: insured persons present, sql: "SELECT COUNT(*) > 0 FROM cb_ryxx"}
      - {name: settlements present, sql: "SELECT COUNT(*) > 0 FROM js_jsmx"}
http:
  listen: 127.0.0.1:0
YAML

step "atrest init: keys and state directory"
$ATREST init --config "$DEMO/atrest.yaml"

step "seeding demo data (synthetic identifiers): database yb and a file tree"
go run ./scripts/gendemo -sql "$DEMO/yb.sql" -rows 2000
mariadb --no-defaults -h127.0.0.1 -P"$DB_PORT" -uroot < "$DEMO/yb.sql"
go run ./scripts/gendemo -files "$DEMO/files"
find "$DEMO/files" -type f | sed "s|$DEMO/|  |"

# Exit status 1 means "found something wrong", which is the point of the scans.
step "atrest scan db"
$ATREST scan db --config "$DEMO/atrest.yaml" --source demo-yb --format jsonl > "$DEMO/out/db.jsonl" || test $? -eq 1
$ATREST scan db --config "$DEMO/atrest.yaml" --source demo-yb --format table < /dev/null 2>/dev/null | sed -n 1,24p || true

step "atrest scan files"
$ATREST scan files --config "$DEMO/atrest.yaml" --format jsonl > "$DEMO/out/files.jsonl" || test $? -eq 1
$ATREST scan files --config "$DEMO/atrest.yaml" --format sarif > "$DEMO/out/files.sarif" || test $? -eq 1
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

step "where to look"
cat <<MSG
  config:          $DEMO/atrest.yaml
  database scan:   $DEMO/out/db.jsonl      (jq 'select(.record=="column" and .state=="plaintext")' $DEMO/out/db.jsonl)
  file findings:   $DEMO/out/files.jsonl   (jq 'select(.record=="finding")' $DEMO/out/files.jsonl)
  SARIF:           $DEMO/out/files.sarif
  journal:         $DEMO/state/journal/    (bin/atrest audit log --config $DEMO/atrest.yaml)
  backups:         s3://yb-backups/yb/ on http://127.0.0.1:$S3_PORT (demo credentials: scripts/lib.sh)
  keys:            $DEMO/keys/ (0600; atrest init never overwrites a key)
  servers:         MariaDB 127.0.0.1:$DB_PORT, versitygw 127.0.0.1:$S3_PORT (left running; make demo reuses them)
MSG
