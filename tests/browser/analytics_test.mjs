// End-to-end test of the analysts' page (/analytics) in a real browser:
// an agent and a customer are refused, an analyst logs in, sees the
// period's figures and charts, searches, opens a transcript, labels a group
// of unrecognised messages and finds it in the labelled corpus; then the
// page at a phone's width.
//
//   GRIDBOT_URL=http://127.0.0.1:8080 ANALYST_NAME=… ANALYST_PASSWORD=… \
//   AGENT_NAME=… AGENT_PASSWORD=… FROM=2024-08-05 TO=2024-08-05 node analytics_test.mjs
//
// FROM / TO: the period of the seeded data (default: the last 7 days);
// SEARCH: a phrase customers wrote in it (default 电费); LABEL_INTENT: the
// intent to label a group with (default unknown, else the first offered).
// Without GRIDBOT_URL it starts mock_server.js in-process with its demo
// accounts and data. Screenshots go to OUT_DIR (default ./browser-out):
// analytics.png, analytics-transcript.png, analytics-phone.png, and
// analytics-*failed.png when a step fails.
// Chromium: CHROMIUM or /usr/bin/chromium (Debian's package).

import { chromium } from 'playwright-core';
import fs from 'node:fs/promises';
import path from 'node:path';

const WAIT = 15000; // every single wait
const DEADLINE = 120000; // the whole run
const OUT = path.resolve(process.env.OUT_DIR || './browser-out');
const SEARCH = process.env.SEARCH || '电费';
const NO_PERMISSION = '您的账号没有查看分析数据的权限';

const PHONE = { width: 375, height: 700 };
const LAPTOP = { width: 1366, height: 850 };

let passed = 0;
let failed = 0;
let browser = null;
let mock = null;
const pages = {};
const scriptErrors = [];

// ------------------------------------------------------------- helpers

class StepError extends Error {}

async function step(name, fn) {
  const started = Date.now();
  try {
    await fn();
    passed++;
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (err) {
    failed++;
    console.log(`FAIL ${name}\n     ${String(err.message).split('\n').join('\n     ')}`);
    throw new StepError(name);
  }
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function waitFor(page, fn, arg, what) {
  try {
    await page.waitForFunction(fn, arg, { timeout: WAIT, polling: 100 });
  } catch (err) {
    if (!/Timeout/i.test(err.message)) throw err;
    throw new Error(`${typeof what === 'function' ? await what() : what} (waited ${WAIT / 1000} s)`);
  }
}

// What a section shows instead, to say why a wait failed.
async function shown(page, selector) {
  return (await page.textContent(selector).catch(() => '') || '').replace(/\s+/g, ' ').trim().slice(0, 200) || '(nothing)';
}

// GET/POST from inside the page: its cookies, its origin.
function fetchIn(page, url, init = {}) {
  return page.evaluate(async ({ url: u, init: i }) => {
    const res = await fetch(u, { cache: 'no-store', ...i });
    return { status: res.status, type: res.headers.get('content-type') || '', body: await res.text() };
  }, { url, init });
}

async function shot(page, name, fullPage = false) {
  await fs.mkdir(OUT, { recursive: true });
  await page.screenshot({ path: path.join(OUT, name), fullPage });
}

async function login(page, name, password) {
  await page.waitForSelector('#login-name', { state: 'visible' });
  await page.fill('#login-name', name);
  await page.fill('#login-password', password);
  await page.click('#login-submit');
}

// The chart containers' drawn shapes with a non-zero size.
function drawnShapes(selector) {
  return [...document.querySelectorAll(selector)].filter((n) => {
    const b = n.getBBox();
    return b.width > 0 && b.height > 0;
  }).length;
}

// ------------------------------------------------------------------ run

async function main() {
  let base = process.env.GRIDBOT_URL;
  let analyst = { name: process.env.ANALYST_NAME, password: process.env.ANALYST_PASSWORD };
  let agent = { name: process.env.AGENT_NAME, password: process.env.AGENT_PASSWORD };
  let from = process.env.FROM;
  let to = process.env.TO;
  if (!base) {
    const m = await import('./mock_server.js');
    mock = await m.startMockServer({ port: 0, quiet: true });
    base = mock.url;
    if (!analyst.name) analyst = m.DEMO_ANALYST;
    if (!agent.name) agent = m.DEMO_AGENT;
    const period = m.demoPeriod(7);
    from ??= period.from;
    to ??= period.to;
    console.log(`# GRIDBOT_URL is not set: testing the page against the mock at ${base}`);
  }
  base = base.replace(/\/+$/, '');
  if (!analyst.name || !analyst.password || !agent.name || !agent.password) {
    throw new Error('ANALYST_NAME/ANALYST_PASSWORD (role analyst) and AGENT_NAME/AGENT_PASSWORD (role agent) must name accounts of the server under test (gridbot agent add …)');
  }
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
  to ??= today;
  from ??= new Date(Date.parse(`${to}T00:00:00Z`) - 6 * 86400000).toISOString().slice(0, 10);
  console.log(`# ${base}, analyst ${analyst.name}, agent ${agent.name}, ${from} – ${to}, search "${SEARCH}", screenshots in ${OUT}`);

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox'],
  });
  const common = { locale: 'zh-CN', timezoneId: 'Asia/Shanghai', viewport: LAPTOP };
  const agentPage = await (await browser.newContext(common)).newPage();
  const customerContext = await browser.newContext(common);
  const customerPage = await customerContext.newPage();
  const analystPage = await (await browser.newContext(common)).newPage();
  pages['analytics-agent'] = agentPage;
  pages['analytics-customer'] = customerPage;
  pages.analytics = analystPage;
  for (const [who, page] of Object.entries(pages)) {
    page.setDefaultTimeout(WAIT);
    page.on('pageerror', (err) => scriptErrors.push(`${who}: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text())) scriptErrors.push(`${who}: ${msg.text()}`);
    });
  }

  // (a) who may not
  await step(`an agent (${agent.name}) logging in at /analytics is told "${NO_PERMISSION}"`, async () => {
    const res = await agentPage.goto(`${base}/analytics`);
    check(res && res.ok(), `GET /analytics answered ${res && res.status()} (the server must serve web/analytics/index.html there)`);
    check((await agentPage.title()).includes('95598'), `the page title is "${await agentPage.title()}"`);
    await login(agentPage, agent.name, agent.password);
    try {
      await agentPage.waitForSelector('#denied-view:not([hidden])', { timeout: WAIT });
    } catch {
      const error = await agentPage.textContent('#login-error').catch(() => '');
      const app = await agentPage.isVisible('#app-view');
      throw new Error(app ? 'the agent got the analysts\' page instead of the no-permission message'
        : `no #denied-view after logging in as ${agent.name}${error ? `; the form says: ${error}` : ''}`);
    }
    const text = await shown(agentPage, '#denied-view');
    check(text.includes(NO_PERMISSION), `#denied-view says "${text}"`);
    check(await agentPage.isVisible('#denied-logout'), 'no logout button (#denied-logout) beside the message');
  });

  await step('GET /api/analytics/summary with the agent\'s cookie answers 403', async () => {
    const r = await fetchIn(agentPage, `/api/analytics/summary?from=${from}&to=${to}`);
    check(r.status === 403, `it answered ${r.status}: ${r.body.slice(0, 160)}`);
    check(!r.body.includes('"days"'), 'the 403 carried the summary');
  });

  await step('a customer (the chat page\'s gb_sid cookie, no staff login) is refused /api/analytics/summary', async () => {
    const res = await customerPage.goto(`${base}/`);
    check(res && res.ok(), `GET / answered ${res && res.status()}`);
    const cookies = await customerContext.cookies(base);
    check(cookies.some((c) => c.name === 'gb_sid'), `GET / set no gb_sid cookie (cookies: ${cookies.map((c) => c.name).join(', ') || 'none'})`);
    const r = await fetchIn(customerPage, `/api/analytics/summary?from=${from}&to=${to}`);
    // desk.md: no staff credentials → 401; a role that may not → 403.
    check(r.status === 403 || r.status === 401, `it answered ${r.status}: ${r.body.slice(0, 160)}`);
    check(!r.body.includes('"days"'), 'the refusal carried the summary');
    if (r.status !== 403) console.log(`     (answered ${r.status}: no staff credentials, as desk.md says)`);
  });

  // (b) the analyst's figures
  await step(`the analyst (${analyst.name}) logs in at /analytics?from=${from}&to=${to}`, async () => {
    const res = await analystPage.goto(`${base}/analytics?from=${from}&to=${to}`);
    check(res && res.ok(), `GET /analytics answered ${res && res.status()}`);
    await login(analystPage, analyst.name, analyst.password);
    try {
      await analystPage.waitForSelector('#app-view:not([hidden])', { timeout: WAIT });
    } catch {
      const error = await analystPage.textContent('#login-error').catch(() => '');
      const denied = await analystPage.isVisible('#denied-view');
      throw new Error(denied ? `the analyst got "${await shown(analystPage, '#denied-message')}" (is ${analyst.name} an analyst?)`
        : `the page did not open after logging in as ${analyst.name}${error ? `; the form says: ${error}` : ''}`);
    }
    const period = [await analystPage.inputValue('#period-from'), await analystPage.inputValue('#period-to')];
    check(period[0] === from && period[1] === to, `the period picker shows ${period.join(' – ')}, not the URL's ${from} – ${to}`);
  });

  await step('the KPIs and the charts are drawn with data (turns per day, intents, funnels)', async () => {
    await waitFor(analystPage, () => ['#chart-turns', '#chart-intents'].every((s) => {
      const st = document.querySelector(s)?.dataset.state;
      return st && st !== 'loading';
    }), null, 'the charts are still loading');
    for (const id of ['chart-turns', 'chart-rates', 'chart-latency', 'chart-intents']) {
      const state = await analystPage.getAttribute(`#${id}`, 'data-state');
      check(state === 'ready', `#${id} is not drawn (${state}): ${await shown(analystPage, `#${id}`)}`);
    }
    const turnsKpi = (await shown(analystPage, '[data-kpi="turns"] .value')).replace(/[^\d]/g, '');
    check(Number(turnsKpi) > 0, `the 轮次 KPI shows "${await shown(analystPage, '[data-kpi="turns"]')}"`);
    const bars = await analystPage.evaluate(drawnShapes, '#chart-turns svg rect.bar-rect');
    check(bars > 0, 'no bar with a size in #chart-turns (turns per day)');
    const points = await analystPage.evaluate(drawnShapes, '#chart-rates svg circle, #chart-rates svg path.line');
    check(points > 0, 'no line or point in #chart-rates');
    const intents = await analystPage.evaluate(drawnShapes, '#chart-intents svg rect.bar-rect');
    check(intents > 0, 'no bar with a size in #chart-intents');
    await waitFor(analystPage, () => document.querySelector('#funnels .funnel, #funnels .empty-panel'), null, 'the funnels did not appear');
    const funnels = await analystPage.$$eval('#funnels .funnel', (els) => els.map((e) => e.dataset.flow));
    check(funnels.length > 0, `no funnel in #funnels: ${await shown(analystPage, '#funnels')}`);
    const stages = await analystPage.evaluate(drawnShapes, '#funnels svg rect.bar-rect');
    check(stages >= funnels.length, `${stages} funnel bars with a size for ${funnels.length} funnels (${funnels.join(', ')})`);
    console.log(`     turns ${turnsKpi}; ${bars} day bars, ${intents} intent bars, funnels: ${funnels.join(', ')}`);
    await analystPage.waitForTimeout(300); // animations settle
    await shot(analystPage, 'analytics.png', true);
  });

  // (c) search and a transcript
  await step(`searching "${SEARCH}" finds a turn whose text contains it`, async () => {
    await analystPage.fill('#search-q', SEARCH);
    await analystPage.click('#search-go');
    await waitFor(analystPage, (q) => {
      const list = document.querySelector('#results');
      return list.dataset.state !== 'loading'
        && ([...list.querySelectorAll('.result .r-text')].some((t) => t.textContent.includes(q)) || list.dataset.state === 'error'
          || (list.dataset.state === 'ready' && !list.querySelector('.result')));
    }, SEARCH, async () => `no search result appeared: ${await shown(analystPage, '#results-meta')}`);
    const texts = await analystPage.$$eval('#results .result .r-text', (els) => els.map((e) => e.textContent));
    check(texts.some((t) => t.includes(SEARCH)), `no result contains "${SEARCH}": ${await shown(analystPage, '#results-meta')} ${texts.slice(0, 3).join(' / ')}`);
    const marked = await analystPage.$$eval('#results .result .r-text mark', (els) => els.map((e) => e.textContent));
    check(marked.includes(SEARCH), `"${SEARCH}" is not highlighted (<mark>) in the results`);
    const other = texts.filter((t) => !t.includes(SEARCH));
    if (other.length) console.log(`     ${other.length} of ${texts.length} results do not contain "${SEARCH}" as typed: ${other.slice(0, 3).join(' / ')}`);
  });

  await step('opening a result shows its transcript with intent badges', async () => {
    const index = await analystPage.$$eval('#results .result', (els, q) => els.findIndex((e) => e.querySelector('.r-text').textContent.includes(q)), SEARCH);
    const result = analystPage.locator('#results .result').nth(index);
    const conversation = await result.getAttribute('data-conversation');
    await result.click();
    await waitFor(analystPage, () => {
      const d = document.querySelector('#drawer');
      return !d.hidden && d.dataset.view === 'transcript' && d.dataset.state !== 'loading';
    }, null, 'the transcript panel (#drawer) did not open');
    const state = await analystPage.getAttribute('#drawer', 'data-state');
    check(state === 'ready', `the transcript of conversation ${conversation} did not load: ${await shown(analystPage, '#drawer-body')}`);
    const turns = await analystPage.$$eval('#drawer .turn', (els) => els.map((e) => ({
      text: e.querySelector('.from-customer .bubble')?.textContent ?? '',
      intent: e.querySelector('.tags .intent')?.textContent ?? '',
    })));
    check(turns.length > 0, 'the transcript shows no customer turns (.turn)');
    check(turns.some((t) => t.intent), 'no intent badge (.tags .intent) beside the customer\'s messages');
    check(turns.some((t) => t.text.includes(SEARCH)), `the transcript has no customer message containing "${SEARCH}"`);
    const bot = await analystPage.$$eval('#drawer .msg.from-bot', (els) => els.length);
    console.log(`     conversation ${conversation}: ${turns.length} turns, ${bot} bot replies`);
    await analystPage.waitForTimeout(300);
    await shot(analystPage, 'analytics-transcript.png');
    await analystPage.click('#drawer-close');
    check(await analystPage.isHidden('#drawer'), 'the transcript panel did not close');
  });

  // (d) label a group of unrecognised messages
  let chosen = null;
  await step('labelling a group of unrecognised messages shows the label on it', async () => {
    await analystPage.locator('#unrecognised').scrollIntoViewIfNeeded();
    await waitFor(analystPage, () => ['ready', 'error'].includes(document.querySelector('#groups').dataset.state), null,
      async () => `the unrecognised messages (#groups) did not load: ${await shown(analystPage, '#groups')}`);
    const groups = await analystPage.$$eval('#groups .group', (els) => els.map((e) => ({ id: e.dataset.id, labelled: e.dataset.labelled === 'true' })));
    check(groups.length > 0, `no group in 未识别消息: ${await shown(analystPage, '#groups')}`);
    const group = groups.find((g) => !g.labelled) ?? groups[0];
    const card = analystPage.locator(`#groups .group[data-id="${group.id.replace(/"/g, '\\"')}"]`);
    const options = await card.locator('select.g-intent option').evaluateAll((els) => els.map((o) => o.value).filter(Boolean));
    check(options.length > 0, 'the group\'s intent select offers no intents');
    const wanted = process.env.LABEL_INTENT || 'unknown';
    chosen = options.includes(wanted) ? wanted : options[0];
    await card.locator('select.g-intent').selectOption(chosen);
    await card.locator('button.g-apply').click();
    await waitFor(analystPage, (id) => document.querySelector(`#groups .group[data-id="${CSS.escape(id)}"] .g-label`), group.id,
      async () => `group ${group.id} shows no label after 标注 (POST /api/analytics/unrecognised/${group.id}/label); the page says: ${await shown(analystPage, '#toast')}`);
    const label = await shown(analystPage, `#groups .group[data-id="${group.id.replace(/"/g, '\\"')}"] .g-label`);
    console.log(`     group ${group.id} (of ${groups.length}) labelled ${chosen}: "${label}"`);
  });

  await step('GET /api/analytics/labelled has a line with that intent', async () => {
    const r = await fetchIn(analystPage, '/api/analytics/labelled');
    check(r.status === 200, `it answered ${r.status}: ${r.body.slice(0, 160)}`);
    const lines = r.body.split('\n').filter((l) => l.trim());
    const parsed = [];
    for (const l of lines) {
      try { parsed.push(JSON.parse(l)); } catch { throw new Error(`a line is not JSON: ${l.slice(0, 120)}`); }
    }
    const mine = parsed.filter((x) => x.intent === chosen);
    check(mine.length > 0, `no line with "intent":"${chosen}" among ${parsed.length} lines`);
    check(mine.every((x) => typeof x.text === 'string' && x.text), 'a labelled line has no "text"');
    if (!/ndjson/.test(r.type)) console.log(`     (Content-Type is "${r.type}", not application/x-ndjson)`);
  });

  // (e) a phone's width
  await step('at a phone\'s width the page is one column and nothing overflows', async () => {
    await analystPage.setViewportSize(PHONE);
    await analystPage.waitForTimeout(500); // the charts redraw at the new width
    const widths = await analystPage.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      charts: [...document.querySelectorAll('.chart svg')].map((s) => s.getBoundingClientRect().right),
    }));
    check(widths.page <= PHONE.width + 1, `the page is ${widths.page} px wide at ${PHONE.width} px`);
    check(widths.charts.every((r) => r <= PHONE.width + 1), `a chart reaches ${Math.max(...widths.charts)} px at ${PHONE.width} px`);
    await analystPage.evaluate(() => window.scrollTo(0, 0));
    await shot(analystPage, 'analytics-phone.png', true);
    await analystPage.setViewportSize(LAPTOP);
  });

  await step('the analyst logs out (退出) and gets the login form', async () => {
    await analystPage.click('#logout');
    await analystPage.waitForSelector('#login-view:not([hidden])');
    const r = await fetchIn(analystPage, `/api/analytics/summary?from=${from}&to=${to}`);
    check(r.status === 401, `after logging out /api/analytics/summary answered ${r.status}`);
  });

  await step('no script errors or CSP violations', async () => {
    check(!scriptErrors.length, `uncaught errors:\n${scriptErrors.join('\n')}`);
  });
}

async function finish(code) {
  if (code) {
    for (const [who, page] of Object.entries(pages)) {
      await shot(page, `${who}-failed.png`).catch(() => {});
    }
  }
  await browser?.close().catch(() => {});
  await mock?.close().catch(() => {});
  console.log(`analytics: ${passed} passed, ${failed} failed`);
  process.exit(code);
}

const timer = setTimeout(() => {
  console.log(`FAIL the whole run took longer than ${DEADLINE / 1000} s`);
  failed++;
  finish(1);
}, DEADLINE);

main().then(() => { clearTimeout(timer); finish(0); }, (err) => {
  clearTimeout(timer);
  if (!(err instanceof StepError)) {
    failed++;
    console.log(`FAIL ${err.message}`);
  }
  finish(1);
});
