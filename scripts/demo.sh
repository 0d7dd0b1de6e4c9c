#!/usr/bin/env bash
# make demo: a ready-made installation under $DEMO_DIR (default /tmp/atrest-demo):
# config, keys, seeded demo data, then the scans; prints where to look.
set -euo pipefail
cd "$(dirname "$0")/.."
ATREST=$PWD/bin/atrest
DEMO=${DEMO_DIR:-/tmp/atrest-demo}
rm -rf "$DEMO/files" "$DEMO/out"
mkdir -p "$DEMO/out"

cat > "$DEMO/atrest.yaml" <<YAML
state_dir: $DEMO/state
journal:
  signing_key_file: $DEMO/keys/journal.key
  retention: 180d
fingerprint_key_file: $DEMO/keys/fingerprint.key
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

step "atrest scan files (table)"
# Exit status 1 means "found plaintext identifiers", which is the point of the demo.
$ATREST scan files --config "$DEMO/atrest.yaml" --format table | tail -25 || test $? -eq 1
$ATREST scan files --config "$DEMO/atrest.yaml" --format jsonl > "$DEMO/out/files.jsonl" || test $? -eq 1
$ATREST scan files --config "$DEMO/atrest.yaml" --format sarif > "$DEMO/out/files.sarif" || test $? -eq 1

step "where to look"
cat <<MSG
  config:          $DEMO/atrest.yaml
  file findings:   $DEMO/out/files.jsonl   (jq 'select(.record=="finding")' $DEMO/out/files.jsonl)
  SARIF:           $DEMO/out/files.sarif
  keys:            $DEMO/keys/ (0600; never overwritten by atrest init)
MSG
