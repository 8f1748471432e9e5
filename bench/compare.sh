#!/usr/bin/env bash
# Side-by-side benchmark: gridbot's NLU against NLP.js (npm node-nlp, Chinese)
# on the same files, scored by the same scorer, on the same machine, in the
# same run. See bench/README.md.
#
#   bench/compare.sh                    # report: environment, table, notes
#   bench/compare.sh --markdown-only    # the Markdown table alone
#   bench/compare.sh --predictions-out FILE   # also keep NLP.js's predictions
#   bench/compare.sh --test FILE        # another held-out file (default corpus/nlu/test.jsonl)
#
# Run from the repository root (it finds the root itself all the same). It
# never builds gridbot: build/bot/gridbot must exist (it waits a while for it
# if someone is rebuilding it). Progress goes to stderr, the report to stdout.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

NOW=2024-08-04                 # "today" the corpus's relative dates are labelled with
TRAIN=corpus/nlu/train.jsonl
TEST=corpus/nlu/test.jsonl
GRIDBOT="${GRIDBOT:-build/bot/gridbot}"
NLPJS_DIR=bench/nlpjs
THRESHOLD=0.5                  # NLP.js: top classification below this -> unknown
MIN_SECONDS=2                  # NLP.js: time classification for at least this long
BINARY_WAIT="${BINARY_WAIT:-600}"              # seconds to wait for a missing gridbot binary
NLPJS_SLOTS="email, phone, amount, month, start_month, end_month"

markdown_only=0
keep_pred=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --markdown-only) markdown_only=1 ;;
    --predictions-out) keep_pred="${2:?--predictions-out needs a FILE}"; shift ;;
    --test) TEST="${2:?--test needs a FILE}"; shift ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

log() { echo "compare.sh: $*" >&2; }
die() { log "$*"; exit 1; }

command -v node >/dev/null || die "node is not installed (Node 20 is expected)"
command -v npm >/dev/null || die "npm is not installed"
command -v timeout >/dev/null || die "timeout (coreutils) is not installed"
[[ -f $TRAIN && -f $TEST ]] || die "missing $TRAIN or $TEST"

# Speeds are only comparable on a quiet machine (2 cores here: a build next
# door halves them). Say so, but run all the same.
load1="$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)"
if node -e 'process.exit(Number(process.argv[1]) > 0.5 ? 0 : 1)' "$load1"; then
  log "warning: load average $load1 before starting: messages/s will be low and noisy"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/gridbot-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# Reads KEY from the JSON object in FILE (one line or many), with node.
json_get() {
  node -e '
    const fs = require("fs");
    const v = JSON.parse(fs.readFileSync(process.argv[1], "utf8"))[process.argv[2]];
    if (v === undefined) { console.error("no key " + process.argv[2] + " in " + process.argv[1]); process.exit(1); }
    process.stdout.write(String(v));
  ' "$1" "$2"
}

# Runs gridbot with ARGS, output to FILE, which must end up holding a JSON
# object. Another session may be rebuilding the binary: wait for it to be
# there, and retry a run that fails, a few times, before giving up.
run_gridbot() {
  local out="$1"; shift
  local waited=0 try
  for try in 1 2 3 4 5; do
    while [[ ! -x $GRIDBOT ]]; do
      (( waited < BINARY_WAIT )) || die "$GRIDBOT missing for ${BINARY_WAIT}s (build it with make; this script never builds it)"
      (( waited % 30 == 0 )) && log "$GRIDBOT is missing (being rebuilt?): waiting"
      sleep 5; waited=$(( waited + 5 ))
    done
    if timeout 300 "$GRIDBOT" "$@" >"$out" 2>"$work/gridbot.err" \
        && node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$out" 2>/dev/null; then
      return 0
    fi
    log "gridbot $* failed (try $try): $(tail -n 3 "$work/gridbot.err" | tr '\n' ' ')"
    sleep 10
  done
  die "gridbot $* kept failing"
}

# (a) NLP.js's dependencies, pinned by package-lock.json.
if [[ ! -d $NLPJS_DIR/node_modules/node-nlp ]]; then
  log "installing NLP.js (npm ci in $NLPJS_DIR)"
  (cd "$NLPJS_DIR" && timeout 600 npm ci --no-audit --no-fund --loglevel=error) >&2
fi
NODE_NLP_VERSION="$(node -p 'require("./'"$NLPJS_DIR"'/node_modules/node-nlp/package.json").version')"

# (b) gridbot: its own eval, which times Parse single-threaded after loading
# and a warm-up pass.
log "gridbot: nlu eval $TEST --now $NOW"
run_gridbot "$work/gridbot.json" nlu eval "$TEST" --now "$NOW" --json

# (c) NLP.js: train on TRAIN, predict TEST, time classification; then score
# its predictions with gridbot's scorer.
log "NLP.js $NODE_NLP_VERSION: train on $TRAIN, classify $TEST, time >= ${MIN_SECONDS}s"
timeout 900 node "$NLPJS_DIR/nlpjs_eval.js" --train "$TRAIN" --test "$TEST" \
  --out "$work/nlpjs_pred.jsonl" --now "$NOW" --threshold "$THRESHOLD" \
  --min-seconds "$MIN_SECONDS" >"$work/nlpjs_speed.json" 2>"$work/nlpjs.err" \
  || { cat "$work/nlpjs.err" >&2; die "nlpjs_eval.js failed"; }
log "scoring NLP.js's predictions with gridbot nlu eval --predictions"
run_gridbot "$work/nlpjs.json" nlu eval "$TEST" --predictions "$work/nlpjs_pred.jsonl" --json
if [[ -n $keep_pred ]]; then cp "$work/nlpjs_pred.jsonl" "$keep_pred"; fi

# (d) The report.
g_acc=$(json_get "$work/gridbot.json" intent_accuracy)
g_in=$(json_get "$work/gridbot.json" in_domain_accuracy)
n_in=$(json_get "$work/nlpjs.json" in_domain_accuracy)
g_ood=$(json_get "$work/gridbot.json" ood_rejection)
g_f1=$(json_get "$work/gridbot.json" slot_f1)
g_mps=$(json_get "$work/gridbot.json" messages_per_second)
g_imps=$(json_get "$work/gridbot.json" intent_messages_per_second)
g_n=$(json_get "$work/gridbot.json" examples)
n_acc=$(json_get "$work/nlpjs.json" intent_accuracy)
n_ood=$(json_get "$work/nlpjs.json" ood_rejection)
n_f1=$(json_get "$work/nlpjs.json" slot_f1)
n_n=$(json_get "$work/nlpjs.json" examples)
n_mps=$(json_get "$work/nlpjs_speed.json" messages_per_second)
n_proc=$(json_get "$work/nlpjs_speed.json" process_messages_per_second)
n_ner=$(json_get "$work/nlpjs_speed.json" ner_messages_per_second)
n_train=$(json_get "$work/nlpjs_speed.json" train_seconds)
[[ $g_n == "$n_n" ]] || die "scored $g_n examples for gridbot but $n_n for NLP.js"

pct() { node -e 'process.stdout.write((100 * Number(process.argv[1])).toFixed(1) + "%")' "$1"; }
dec() { node -e 'process.stdout.write(Number(process.argv[1]).toFixed(3))' "$1"; }
int() { node -e 'process.stdout.write(Math.round(Number(process.argv[1])).toLocaleString("en-US"))' "$1"; }
ratio() { node -e 'process.stdout.write((Number(process.argv[1]) / Number(process.argv[2])).toFixed(1) + "×")' "$1" "$2"; }

table() {
  echo "| system ($(basename "$TEST")) | intent accuracy | in-domain intents | OOD rejection | slot F1 | intents/s (classification) | speed ratio | messages/s, whole pipeline |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  echo "| gridbot (C++, rules) | $(pct "$g_acc") | $(pct "$g_in") | $(pct "$g_ood") | $(dec "$g_f1") | $(int "$g_imps") | $(ratio "$g_imps" "$n_mps") | $(int "$g_mps") (normalise, segment, classify, slots) |"
  echo "| NLP.js $NODE_NLP_VERSION (zh; slots: only $NLPJS_SLOTS) | $(pct "$n_acc") | $(pct "$n_in") | $(pct "$n_ood") | $(dec "$n_f1") | $(int "$n_mps") | 1.0× | $(int "$n_ner") (its built-in entity extraction alone) |"
}

if (( markdown_only )); then
  table
  exit 0
fi

echo "## gridbot NLU vs NLP.js"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- machine: nproc $(nproc), load average at the start $load1, at the end $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
echo "- node $(node --version), node-nlp $NODE_NLP_VERSION"
echo "- gridbot: $GRIDBOT (modified $(date -u -r "$GRIDBOT" '+%Y-%m-%d %H:%M UTC'))"
echo "- data: train $(wc -l <"$TRAIN") lines ($TRAIN), test $g_n examples ($TEST), today = $NOW"
echo
table
echo
echo "Notes:"
echo "- Both rows scored by \`gridbot nlu eval --json\` (NLP.js's through \`--predictions\`)."
echo "- Speeds: one thread, after loading/training and a warm-up pass."
echo "  Classification: gridbot Parse(intent_only) = normalise + rules (what decides"
echo "  the intent), NLP.js NlpManager.classify (its tokeniser + classifier)."
echo "  Whole pipeline: gridbot Parse = normalise + ICU segmentation + rules + every"
echo "  slot; NLP.js has no such pipeline: its classify + built-in entity extraction."
echo "- NLP.js, for the record: training $(node -e 'process.stdout.write(Number(process.argv[1]).toFixed(1))' "$n_train") s;"
echo "  full manager.process pipeline $(int "$n_proc") messages/s;"
echo "  built-in entity extraction (the slots above) $(int "$n_ner") messages/s."
echo "- NLP.js: top classification below $THRESHOLD, or 'None', counts as unknown."
