#!/usr/bin/env node
// NLP.js (npm node-nlp) as the peer of gridbot's NLU in bench/compare.sh.
//
//   node nlpjs_eval.js --train TRAIN.jsonl --test TEST.jsonl --out PRED.jsonl
//                      [--now 2024-08-04] [--threshold 0.5] [--min-seconds 2]
//
// 1. Trains an NlpManager (languages ['zh'], forceNER false, autoSave false)
//    on every line of TRAIN (addDocument('zh', text, intent)).
// 2. Classifies every line of TEST and writes PRED: one {"text","intent","slots"}
//    per line, same order. The intent is NLP.js's top classification; 'None',
//    or a top score below --threshold, becomes "unknown". Slots come only from
//    NLP.js's built-in entity extraction (Microsoft Recognizers, culture zh-cn),
//    mapped where a built-in entity type is the slot's type (see mapSlots).
// 3. Times classification alone (NlpManager.classify): after training and one
//    untimed warm-up pass, classifies the whole TEST set again and again, one
//    awaited call after the other (single thread), for at least --min-seconds,
//    and prints
//    {"messages_per_second": N, ...} on stdout (with, for the record, the
//    speed of manager.process and of the built-in entity extraction, and the
//    training time). Everything else goes to stderr.
'use strict';

const fs = require('fs');
const path = require('path');

// NLP.js prints progress with console.log ("Compiling dictionary" for zh):
// keep stdout for the one JSON line this script owes its caller.
const stdoutWrite = (s) => process.stdout.write(s);
console.log = (...args) => console.error(...args);

function parseArgs(argv) {
  const here = __dirname;
  const root = path.resolve(here, '..', '..');
  const opts = {
    train: path.join(root, 'corpus', 'nlu', 'train.jsonl'),
    test: path.join(root, 'corpus', 'nlu', 'test.jsonl'),
    out: null,
    now: '2024-08-04',
    threshold: 0.5,
    minSeconds: 2,
  };
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      i += 1;
      return argv[i];
    };
    if (a === '--train') opts.train = next();
    else if (a === '--test') opts.test = next();
    else if (a === '--out') opts.out = next();
    else if (a === '--now') opts.now = next();
    else if (a === '--threshold') opts.threshold = Number(next());
    else if (a === '--min-seconds') opts.minSeconds = Number(next());
    else if (a === '-h' || a === '--help') {
      stdoutWrite(
        'usage: node nlpjs_eval.js --out PRED.jsonl [--train F] [--test F] ' +
          '[--now YYYY-MM-DD] [--threshold 0.5] [--min-seconds 2]\n'
      );
      process.exit(0);
    } else if (!a.startsWith('--') && !opts.out) opts.out = a;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!opts.out) throw new Error('--out PRED.jsonl is required');
  if (!/^\d{4}-\d{2}-\d{2}$/.test(opts.now)) throw new Error('--now expects YYYY-MM-DD');
  return opts;
}

function readJsonl(file) {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l, i) => {
      try {
        return JSON.parse(l);
      } catch (e) {
        throw new Error(`${file}:${i + 1}: ${e.message}`);
      }
    });
}

// NLP.js resolves relative dates (上个月, 3月) against the clock: Microsoft
// Recognizers' recognizeDateTime takes a reference date that NLP.js never
// passes. Give it the same "today" gridbot gets with --now, so that the peer is
// not marked wrong for the date the benchmark runs on. The builtin extractor
// looks the function up on this module object at every call.
function pinReferenceDate(now) {
  const builtinPath = require.resolve('@nlpjs/builtin-microsoft');
  const suitePath = require.resolve('@microsoft/recognizers-text-suite', {
    paths: [path.dirname(builtinPath)],
  });
  // eslint-disable-next-line global-require, import/no-dynamic-require
  const Recognizers = require(suitePath);
  const [y, m, d] = now.split('-').map(Number);
  const ref = new Date(y, m - 1, d, 12, 0, 0); // local noon: no day slip
  const original = Recognizers.recognizeDateTime;
  Recognizers.recognizeDateTime = (query, culture, options, _ref, fallback) =>
    original(query, culture, options, ref, fallback);
}

const YM = /^(\d{4})-(\d{2})/;

function monthOf(str) {
  const m = YM.exec(str || '');
  return m ? `${m[1]}-${m[2]}` : null;
}

// Month just before an exclusive end date ("2024-04-01" -> "2024-03").
function monthBeforeEnd(str) {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(str || '');
  if (!m) return monthOf(str);
  let y = Number(m[1]);
  let mo = Number(m[2]);
  if (Number(m[3]) === 1) {
    mo -= 1;
    if (mo === 0) {
      mo = 12;
      y -= 1;
    }
  }
  return `${y}-${String(mo).padStart(2, '0')}`;
}

// A built-in `daterange` entity as {start, end} months, or null when it is not
// made of whole months or years (这周, 周末: weeks are no month slot). The
// timex strings are used, not Date objects, so the time zone plays no part.
//   2024-07 (上个月, 2024年7月)           -> that month
//   XXXX-03 (3月, no year)                -> NLP.js gives a past and a future
//       reading; take the latest one that starts on or before today (the
//       spec's "a month not after the current one is this year's")
//   2023 (去年, 今年)                     -> NLP.js's start .. end of that range
//   (2024-05-04,2024-08-04,P3M) (近三个月) -> the months of start .. end
function dateEntityMonths(e, today) {
  const r = e.resolution || {};
  const timex = r.timex || '';
  if (e.entity !== 'daterange') return null;
  if (/^XXXX-\d{2}$/.test(timex) && r.type === 'interval') {
    const past = r.strPastStartValue;
    const future = r.strFutureStartValue;
    const pick = future && future <= today ? future : past;
    return pick ? { start: monthOf(pick), end: monthOf(pick) } : null;
  }
  if (/^\d{4}-\d{2}$/.test(timex)) return { start: timex, end: timex };
  const range = /^\((\d{4}-\d{2}-\d{2}),(\d{4}-\d{2}-\d{2}),P\d+[MY]\)$/.exec(timex);
  if (range) return { start: monthOf(range[1]), end: monthBeforeEnd(range[2]) };
  if (/^\d{4}$/.test(timex) && r.start && r.end) {
    const iso = (d) => (d.toISOString ? d.toISOString() : String(d));
    return { start: monthOf(iso(r.start)), end: monthBeforeEnd(iso(r.end)) };
  }
  return null;
}

// Built-in entity -> gridbot slot, only where the entity type is the slot's
// type. NLP.js has no built-in for account_no, business_no, card_no,
// pay_method, channel, apply_type, city or district (a bare `number` entity
// does not say which of these it is), so those stay empty.
function mapSlots(entities, today) {
  const slots = {};
  const months = [];
  for (const e of entities) {
    const r = e.resolution || {};
    if (e.entity === 'email' && !slots.email) {
      slots.email = String(r.value || e.sourceText).toLowerCase();
    } else if (e.entity === 'phonenumber' && !slots.phone) {
      const digits = String(r.value || e.sourceText)
        .normalize('NFKC')
        .replace(/\D/g, '');
      if (/^1\d{10}$/.test(digits)) slots.phone = digits; // 11-digit mobile
    } else if (e.entity === 'currency' && !slots.amount) {
      // Every amount in this domain is in yuan (NLP.js reads ¥ as yen).
      if (Number.isFinite(r.value)) slots.amount = r.value.toFixed(2);
    } else if (e.entity === 'daterange') {
      const mm = dateEntityMonths(e, today);
      if (mm && mm.start && mm.end) months.push(mm);
    }
  }
  if (months.length === 1 && months[0].start === months[0].end) {
    slots.month = months[0].start;
  } else if (months.length === 1) {
    slots.start_month = months[0].start;
    slots.end_month = months[0].end;
  } else if (months.length > 1) {
    // 3月到6月: NLP.js's zh-cn recognizer returns two separate months.
    slots.start_month = months[0].start;
    slots.end_month = months[months.length - 1].end;
  }
  return slots;
}

function toIntent(result, threshold) {
  const top = result.classifications && result.classifications[0];
  if (!top || result.intent === 'None' || top.intent === 'None') return 'unknown';
  if (!(top.score >= threshold)) return 'unknown';
  return top.intent;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  pinReferenceDate(opts.now);
  // eslint-disable-next-line global-require
  const { NlpManager } = require('node-nlp');

  const train = readJsonl(opts.train);
  const test = readJsonl(opts.test);

  const manager = new NlpManager({
    languages: ['zh'],
    forceNER: false,
    autoSave: false,
    nlu: { log: false },
  });
  for (const ex of train) manager.addDocument('zh', ex.text, ex.intent);
  const t0 = process.hrtime.bigint();
  await manager.train();
  const trainSeconds = Number(process.hrtime.bigint() - t0) / 1e9;

  // Classification alone: NlpManager.classify runs the NLU (normalise,
  // tokenise, stem, neural classifier) and nothing else; manager.process would
  // add the context manager, NLG, actions and sentiment (on by default), and
  // gives the same classifications.
  const classify = (text) => manager.classify('zh', text);

  // Predictions: classification + built-in entities.
  const lines = [];
  for (const ex of test) {
    let intent = 'unknown';
    let slots = {};
    if (ex.text.trim() !== '') {
      // eslint-disable-next-line no-await-in-loop
      const result = await classify(ex.text);
      intent = toIntent(result, opts.threshold);
      // eslint-disable-next-line no-await-in-loop
      const ner = await manager.extractEntities('zh', ex.text);
      slots = mapSlots(ner.entities || [], opts.now);
    }
    lines.push(JSON.stringify({ text: ex.text, intent, slots }));
  }
  fs.writeFileSync(opts.out, `${lines.join('\n')}\n`);

  // Speed: classification alone, after training and a warm-up pass, awaited
  // one by one.
  const texts = test.map((ex) => ex.text).filter((t) => t.trim() !== '');
  let sink = 0;
  for (const t of texts) {
    // eslint-disable-next-line no-await-in-loop
    sink += (await classify(t)).classifications.length;
  }
  const timeLoop = async (fn, minSeconds) => {
    const start = process.hrtime.bigint();
    let n = 0;
    let seconds = 0;
    do {
      for (const t of texts) {
        // eslint-disable-next-line no-await-in-loop
        sink += await fn(t);
        n += 1;
      }
      seconds = Number(process.hrtime.bigint() - start) / 1e9;
    } while (seconds < minSeconds);
    return { n, seconds };
  };
  const cls = await timeLoop(
    async (t) => (await classify(t)).classifications.length,
    opts.minSeconds
  );
  // For the record, not part of messages_per_second: the full manager.process
  // pipeline (forceNER false, so still no NER), and NLP.js's built-in entity
  // extraction on its own (one warm pass: it is slow).
  const proc = await timeLoop(
    async (t) => (await manager.process('zh', t)).classifications.length,
    opts.minSeconds
  );
  const ner = await timeLoop(
    async (t) => (await manager.extractEntities('zh', t)).entities.length,
    0
  );
  if (sink === -1) console.error(sink);

  stdoutWrite(
    `${JSON.stringify({
      messages_per_second: cls.n / cls.seconds,
      timed_messages: cls.n,
      timed_seconds: cls.seconds,
      process_messages_per_second: proc.n / proc.seconds,
      ner_messages_per_second: ner.n / ner.seconds,
      train_seconds: trainSeconds,
      train_examples: train.length,
      test_examples: test.length,
      threshold: opts.threshold,
      node_nlp_version: require('node-nlp/package.json').version, // eslint-disable-line global-require
    })}\n`
  );
}

main().catch((err) => {
  console.error(`nlpjs_eval: ${err && err.stack ? err.stack : err}`);
  process.exit(1);
});
