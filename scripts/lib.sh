# Shared by demo.sh and bench.sh: private servers on free loopback ports, so
# neither ever touches a server of the user's. Source it; set $WORK first.

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_for() { # wait_for WHAT LOG CMD...
  local what=$1 log=$2; shift 2
  for _ in $(seq 1 120); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  echo "$what did not start; see $log" >&2; exit 2
}

# start_mariadb DIR: a MariaDB with its own datadir and binlog; sets DB_PORT.
# Reuses the server a previous run left in DIR.
start_mariadb() {
  local dir=$1
  if [ -f "$dir/port" ] && mariadb --no-defaults -h127.0.0.1 -P"$(cat "$dir/port")" -uroot -e 'select 1' >/dev/null 2>&1; then
    DB_PORT=$(cat "$dir/port"); return
  fi
  rm -rf "$dir"; mkdir -p "$dir/tmp"
  mariadb-install-db --no-defaults --datadir="$dir/data" --user="$(id -un)" --auth-root-authentication-method=normal >"$dir/install.log" 2>&1
  DB_PORT=$(free_port)
  nohup mariadbd --no-defaults --datadir="$dir/data" --user="$(id -un)" --port="$DB_PORT" --bind-address=127.0.0.1 \
    --socket="$dir/sock" --tmpdir="$dir/tmp" --log-bin="$dir/data/binlog" --server-id=1 \
    --innodb-buffer-pool-size=512M >"$dir/server.log" 2>&1 &
  echo $! > "$dir/pid"; echo "$DB_PORT" > "$dir/port"
  wait_for MariaDB "$dir/server.log" mariadb --no-defaults -h127.0.0.1 -P"$DB_PORT" -uroot -e 'select 1'
}

# start_versitygw DIR: an S3 server (posix backend with versioning); sets
# S3_PORT, S3_ACCESS_KEY, S3_SECRET_KEY. Reuses one a previous run left in DIR.
start_versitygw() {
  local dir=$1 bin
  bin=$(command -v versitygw || echo "$(go env GOPATH)/bin/versitygw")
  export S3_ACCESS_KEY=atrest-demo S3_SECRET_KEY=atrest-demo-secret-key
  if [ -f "$dir/port" ] && curl -s -o /dev/null "http://127.0.0.1:$(cat "$dir/port")/"; then
    S3_PORT=$(cat "$dir/port"); return
  fi
  rm -rf "$dir"; mkdir -p "$dir/data" "$dir/versions" "$dir/iam"
  S3_PORT=$(free_port)
  ROOT_ACCESS_KEY=$S3_ACCESS_KEY ROOT_SECRET_KEY=$S3_SECRET_KEY nohup "$bin" --port "127.0.0.1:$S3_PORT" \
    --iam-dir "$dir/iam" posix --versioning-dir "$dir/versions" "$dir/data" >"$dir/server.log" 2>&1 &
  echo $! > "$dir/pid"; echo "$S3_PORT" > "$dir/port"
  wait_for versitygw "$dir/server.log" curl -s -o /dev/null "http://127.0.0.1:$S3_PORT/"
}

stop_server() { [ -f "$1/pid" ] && kill "$(cat "$1/pid")" 2>/dev/null; rm -f "$1/pid" "$1/port"; }

# start_postgres DIR: a PostgreSQL with its own datadir, trusting loopback
# connections; sets PG_PORT. As root the server runs as the postgres user
# (it refuses to run as root). Reuses one a previous run left in DIR.
start_postgres() {
  local dir=$1 bin run=()
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  [ "$(id -u)" -eq 0 ] && run=(runuser -u postgres --)
  if [ -f "$dir/port" ] && "$bin/pg_isready" -q -h 127.0.0.1 -p "$(cat "$dir/port")"; then
    PG_PORT=$(cat "$dir/port"); return
  fi
  rm -rf "$dir"; mkdir -p "$dir"; [ ${#run[@]} -eq 0 ] || chown postgres "$dir"
  "${run[@]}" "$bin/initdb" -D "$dir/data" -U postgres -E UTF8 --locale=C.UTF-8 --auth=trust >"$dir/install.log" 2>&1
  PG_PORT=$(free_port)
  "${run[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" \
    -o "-p $PG_PORT -k $dir -c listen_addresses=127.0.0.1 -c shared_buffers=512MB -c max_wal_size=4GB" start >/dev/null
  echo "$PG_PORT" > "$dir/port"
  wait_for PostgreSQL "$dir/server.log" "$bin/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"
}

stop_postgres() {
  local bin run=()
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  [ "$(id -u)" -eq 0 ] && run=(runuser -u postgres --)
  [ -d "$1/data" ] && "${run[@]}" "$bin/pg_ctl" -D "$1/data" -m fast stop >/dev/null 2>&1
  rm -f "$1/port"
}
