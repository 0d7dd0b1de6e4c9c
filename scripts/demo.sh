#!/usr/bin/env bash
# make demo: a ready-made installation under $DEMO_DIR (default /tmp/atrest-demo):
# config, keys, seeded demo data, then the scans; prints where to look.
set -euo pipefail
cd "$(dirname "$0")/.."
ATREST=$PWD/bin/atrest
DEMO=${DEMO_DIR:-/tmp/atrest-demo}
bash scripts/deps.sh test
rm -rf "$DEMO/files" "$DEMO/out"
mkdir -p "$DEMO/out"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# A private MariaDB for the demo, so the demo never touches a server of yours.
start_mariadb() {
  local dir=$DEMO/mariadb
  if [ -f "$dir/port" ] && mariadb --no-defaults -h127.0.0.1 -P"$(cat "$dir/port")" -uroot -e 'select 1' >/dev/null 2>&1; then
    DB_PORT=$(cat "$dir/port"); return
  fi
  rm -rf "$dir"; mkdir -p "$dir"
  mariadb-install-db --no-defaults --datadir="$dir/data" --user="$(id -un)" --auth-root-authentication-method=normal >"$dir/install.log" 2>&1
  DB_PORT=$(free_port)
  nohup mariadbd --no-defaults --datadir="$dir/data" --user="$(id -un)" --port="$DB_PORT" --bind-address=127.0.0.1 \
    --socket="$dir/sock" --log-bin="$dir/data/binlog" --server-id=1 >"$dir/server.log" 2>&1 &
  echo "$DB_PORT" > "$dir/port"
  for _ in $(seq 1 60); do
    mariadb --no-defaults -h127.0.0.1 -P"$DB_PORT" -uroot -e 'select 1' >/dev/null 2>&1 && return
    sleep 0.5
  done
  echo "demo: MariaDB did not start; see $dir/server.log" >&2; exit 2
}

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
YAML

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "atrest init: keys and state directory"
$ATREST init --config "$DEMO/atrest.yaml"

step "seeding demo data (synthetic identifiers) into $DEMO/files"
go run ./scripts/gendemo -files "$DEMO/files"
find "$DEMO/files" -type f | sed "s|$DEMO/||"

step "starting a private MariaDB for the demo and loading database yb"
start_mariadb
export DEMO_YB_DSN="root@tcp(127.0.0.1:$DB_PORT)/"
go run ./scripts/gendemo -sql "$DEMO/yb.sql" -rows 2000
mariadb --no-defaults -h127.0.0.1 -P"$DB_PORT" -uroot < "$DEMO/yb.sql"
echo "  MariaDB on 127.0.0.1:$DB_PORT, database yb (cb_ryxx 2000 rows, js_jsmx 2000 rows)"

step "atrest scan db (table)"
$ATREST scan db --config "$DEMO/atrest.yaml" --source demo-yb --format table || test $? -eq 1
$ATREST scan db --config "$DEMO/atrest.yaml" --source demo-yb --format jsonl > "$DEMO/out/db.jsonl" || test $? -eq 1

step "atrest scan files (table)"
# Exit status 1 means "found plaintext identifiers", which is the point of the demo.
$ATREST scan files --config "$DEMO/atrest.yaml" --format table | tail -25 || test $? -eq 1
$ATREST scan files --config "$DEMO/atrest.yaml" --format jsonl > "$DEMO/out/files.jsonl" || test $? -eq 1
$ATREST scan files --config "$DEMO/atrest.yaml" --format sarif > "$DEMO/out/files.sarif" || test $? -eq 1

step "atrest audit verify: the journal of everything above"
$ATREST audit verify --config "$DEMO/atrest.yaml"
$ATREST audit log --config "$DEMO/atrest.yaml" | tail -8

step "where to look"
cat <<MSG
  config:          $DEMO/atrest.yaml
  database scan:   $DEMO/out/db.jsonl      (jq 'select(.record=="column" and .state=="plaintext")' $DEMO/out/db.jsonl)
  journal:         $DEMO/state/journal/    (atrest audit log --config $DEMO/atrest.yaml)
  file findings:   $DEMO/out/files.jsonl   (jq 'select(.record=="finding")' $DEMO/out/files.jsonl)
  SARIF:           $DEMO/out/files.sarif
  keys:            $DEMO/keys/ (0600; never overwritten by atrest init)
MSG
