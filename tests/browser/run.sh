#!/usr/bin/env bash
# The desk's browser test against a real `gridbot serve` (ctest: browser_test):
# a throw-away database with one agent, the server on a free port, then
# desk_test.mjs in Debian's headless chromium. Screenshots: $2 (the test
# output folder).
#   tests/browser/run.sh build/bot/gridbot build/browser-out
#
# With GRIDBOT_TEST_PG (the throw-away PostgreSQL of tests/pg/pg.sh; ctest:
# browser_test_pg) two instances serve one schema on it: the customer's page
# talks to one, the agent's to the other, so everything either sees of the
# other crossed instances.
set -euo pipefail
gridbot=$(realpath "$1")
out=$(realpath -m "${2:-browser-out}")
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -d "$here/node_modules/playwright-core" ]; then
  echo "playwright-core is not installed: run 'make deps' (npm ci in tests/browser)" >&2
  exit 1
fi
work=$(mktemp -d)
source "$here/serve.sh"
trap browser_cleanup EXIT
mkdir -p "$out"
browser_db "$work" desk
echo 'browser-test-password' | "$gridbot" agent add xiaowang --role agent "${db[@]}" >/dev/null
start_instances 2 --now 2024-08-05T10:00
cd "$here"
GRIDBOT_URL="${urls[0]}" AGENT_URL="${urls[-1]}" AGENT_NAME=xiaowang \
  AGENT_PASSWORD=browser-test-password OUT_DIR="$out" node desk_test.mjs
