#!/usr/bin/env bash
# The analysts' page's browser test against a real `gridbot serve`: a
# throw-away database with an analyst and an agent, the server on a free
# port, a day of customer conversations seeded through POST /api/chat, then
# analytics_test.mjs in Debian's headless chromium. Screenshots: $2 (the
# test output folder).
#   tests/browser/run_analytics.sh build/bot/gridbot build/browser-out
#
# With GRIDBOT_TEST_PG (tests/pg/pg.sh's server; ctest:
# analytics_browser_test_pg) two instances serve one schema on it: the
# conversations are seeded through one, the analyst reads them on the other.
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
browser_db "$work" analytics
echo 'analytics-test-password' | "$gridbot" agent add fenxi --role analyst "${db[@]}" >/dev/null
echo 'browser-test-password' | "$gridbot" agent add xiaowang --role agent "${db[@]}" >/dev/null
start_instances 2 --now 2024-08-05T10:00
url="${urls[0]}"

# A morning of customers (user<TAB>text, in order; the server takes `user`
# from a loopback caller): bills with 电费, 跳闸 repairs, a binding and a
# payment left half way, and questions the bot cannot answer, similar
# enough to be grouped (weather, jokes, "your boss").
cat > "$work/seed.tsv" <<'EOF'
u01	你好
u01	上个月电费多少
u01	谢谢
u02	家里跳闸了
u02	南宁市青秀区民族大道88号
u02	整栋楼都没电了
u03	今天天气怎么样
u03	讲个笑话
u04	明天天气怎么样
u05	绑定户号
u05	南宁
u06	我欠费了吗
u06	这个月电费怎么这么高
u07	你们领导是谁
u07	你们领导叫什么名字
u08	查一下7月份的电费账单
u08	交电费
u08	算了
u09	讲个笑话吧
u09	南宁今天天气怎么样
u10	老是跳闸怎么办
u10	转人工
u11	附近的营业厅
u11	电费账单
u12	今天天气好不好
u12	电费交了没有
EOF
GRIDBOT_URL="$url" node --input-type=module -e '
  import fs from "node:fs";
  const rows = fs.readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map((l) => l.split("\t"));
  for (const [user, text] of rows) {
    const res = await fetch(`${process.env.GRIDBOT_URL}/api/chat`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ user, text }),
    });
    if (!res.ok) { console.error(`seeding: POST /api/chat ${user} "${text}" answered ${res.status}: ${await res.text()}`); process.exit(1); }
  }
  console.log(`# seeded ${rows.length} messages of ${new Set(rows.map((r) => r[0])).size} customers`);
' "$work/seed.tsv" || { cat "$work/serve1.log" >&2; exit 1; }

cd "$here"
GRIDBOT_URL="${urls[-1]}" ANALYST_NAME=fenxi ANALYST_PASSWORD=analytics-test-password \
  AGENT_NAME=xiaowang AGENT_PASSWORD=browser-test-password \
  FROM=2024-08-05 TO=2024-08-05 SEARCH=电费 OUT_DIR="$out" \
  node analytics_test.mjs
