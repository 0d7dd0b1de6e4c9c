#!/usr/bin/env bash
# Installs what atrest's tests, demo and benchmarks need and a fresh Debian
# machine may lack. Idempotent: installs only what is missing.
#   scripts/deps.sh test    MariaDB and PostgreSQL servers and clients, rsyslog (tests start their own throwaway servers),
#                           openssl and zstd (the by-hand restore of an sm backup)
#   scripts/deps.sh bench   + ripgrep, age, mydumper, catdoc (xls2csv), poppler-utils (pdftotext): the reference tools
set -euo pipefail
want=(mariadb-server mariadb-client postgresql-15 postgresql-client-15 chromium fonts-wqy-microhei rsyslog rsyslog-gnutls openssl zstd)
case "${1:-test}" in
  bench) want+=(ripgrep age mydumper time catdoc poppler-utils) ;;
esac
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# The S3 peer for tests and the demo (Apache-2.0), built from the Go module proxy
# once and cached in GOPATH/bin (~2 min the first time).
VERSITYGW_VERSION=v1.8.0
if ! command -v versitygw >/dev/null && [ ! -x "$(go env GOPATH)/bin/versitygw" ]; then
  echo "deps: go install github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION" >&2
  go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
fi
