#!/usr/bin/env bash
# The desk's browser test against a real `gridbot serve` (ctest: browser_test):
# a throw-away database with one agent, the server on a free port, then
# desk_test.mjs in Debian's headless chromium. Screenshots: $2 (the test
# output folder).
#   tests/browser/run.sh build/bot/gridbot build/browser-out
set -euo pipefail
gridbot=$(realpath "$1")
out=$(realpath -m "${2:-browser-out}")
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -d "$here/node_modules/playwright-core" ]; then
  echo "playwright-core is not installed: run 'make deps' (npm ci in tests/browser)" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$out"
echo 'browser-test-password' | "$gridbot" agent add xiaowang --role agent --db "$work/desk.db" >/dev/null
"$gridbot" serve --db "$work/desk.db" --listen 127.0.0.1:0 --now 2024-08-05T10:00 \
  > "$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q '^listening on' "$work/serve.log" && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*' "$work/serve.log" | head -1)
[ -n "$url" ] || { cat "$work/serve.log" >&2; exit 1; }
cd "$here"
GRIDBOT_URL="$url" AGENT_NAME=xiaowang AGENT_PASSWORD=browser-test-password OUT_DIR="$out" \
  node desk_test.mjs
