# Sourced by the browser tests' scripts: a throw-away database and the
# gridbot instances serving it.
#   source serve.sh; browser_db "$work" NAME; gridbot_cli agent add …; start_instances N
# Without GRIDBOT_TEST_PG: an SQLite file in $work and one instance,
# whatever N. With it (a libpq key=value string of tests/pg/pg.sh's server):
# a fresh schema on it, served by N instances sharing one secrets key.
# After start_instances, urls[] holds their addresses.

pids=()
urls=()
schema=
browser_cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  if [ -n "$schema" ]; then
    psql -q "$GRIDBOT_TEST_PG" -c "SET client_min_messages TO warning; DROP SCHEMA IF EXISTS $schema CASCADE" \
      >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}

# browser_db WORK NAME: sets db=(--db … [--secrets-key …]).
browser_db() {
  if [ -n "${GRIDBOT_TEST_PG:-}" ]; then
    schema="browser_$2_$$"
    psql -q -v ON_ERROR_STOP=1 "$GRIDBOT_TEST_PG" \
      -c "SET client_min_messages TO warning; DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema" >/dev/null
    db=(--db "$GRIDBOT_TEST_PG options=-csearch_path=$schema" --secrets-key "$1/secrets.key")
  else
    db=(--db "$1/$2.db")
  fi
}

# start_instances N [serve flags…]
start_instances() {
  local n=$1
  shift
  [ -n "$schema" ] || n=1
  for i in $(seq "$n"); do
    "$gridbot" serve "${db[@]}" --listen 127.0.0.1:0 "$@" > "$work/serve$i.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do grep -q '^listening on' "$work/serve$i.log" && break; sleep 0.1; done
    local url
    url=$(grep -o 'http://[0-9.:]*' "$work/serve$i.log" | head -1 || true)
    [ -n "$url" ] || { cat "$work/serve$i.log" >&2; exit 1; }
    urls+=("$url")
  done
}
