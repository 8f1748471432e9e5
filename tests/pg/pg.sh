#!/usr/bin/env bash
# A throw-away PostgreSQL for the tests (Debian's postgresql package):
#   tests/pg/pg.sh start DIR PORT   initdb + start, listening on a socket in DIR only
#   tests/pg/pg.sh stop DIR         stop and delete DIR
#   tests/pg/pg.sh restart DIR PORT SECONDS
#                                   stop it (fast: open sessions are cut),
#                                   stay down SECONDS, start it again
# Prints nothing on success; the connection string for it is
#   "host=DIR port=PORT user=postgres dbname=postgres"
# As root it runs the server as the postgres user (initdb refuses root).
# fsync is off: the data is thrown away, and the suite is faster.
set -euo pipefail
cmd=$1 dir=$2
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/initdb" ] || { echo "pg.sh: no PostgreSQL server (apt-get install postgresql)" >&2; exit 1; }
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
serve() {  # DIR PORT
  as_pg "$bin/pg_ctl" -D "$1/data" -l "$1/server.log" -w -t 60 \
    -o "-c listen_addresses='' -c unix_socket_directories='$1' -p $2 -c fsync=off \
        -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 \
        -c shared_buffers=64MB" start >/dev/null \
    || { cat "$1/server.log" >&2; exit 1; }
}
case $cmd in
  restart)
    as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    sleep "$4"
    serve "$dir" "$3"
    ;;
  start)
    port=$3
    [ -d "$dir" ] && "$0" stop "$dir" || true
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    chmod 700 "$dir"
    as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    serve "$dir" "$port"
    # The socket directory is the server's; clients of any user reach it.
    chmod 755 "$dir"
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  *) echo "usage: pg.sh start DIR PORT | stop DIR | restart DIR PORT SECONDS" >&2; exit 2 ;;
esac
