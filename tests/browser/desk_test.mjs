// End-to-end test of the desk through both pages, in a real browser:
// a customer chats with the bot, asks for a person, an agent logs in,
// claims the conversation, sees the history and the bot's suggestion,
// replies, releases, and the bot answers the customer again.
//
//   GRIDBOT_URL=http://127.0.0.1:8080 AGENT_NAME=… AGENT_PASSWORD=… node desk_test.mjs
//
// AGENT_URL, if given, is the instance the agent's page talks to (another
// gridbot on the same PostgreSQL than the customer's GRIDBOT_URL).
//
// Without GRIDBOT_URL it starts mock_server.js in-process and uses its demo
// agent (for developing the pages). Screenshots go to OUT_DIR
// (default ./browser-out): customer.png, customer-phone.png, agent.png,
// agent-phone.png, and *-failed.png when a step fails.
// Chromium: CHROMIUM or /usr/bin/chromium (Debian's package).

import { chromium } from 'playwright-core';
import fs from 'node:fs/promises';
import path from 'node:path';

const WAIT = 15000; // every single wait
const DEADLINE = 110000; // the whole run
const OUT = path.resolve(process.env.OUT_DIR || './browser-out');
const BILL_QUESTION = '上个月电费多少';
const HANDOFF = '转人工';
const AGENT_REPLY = '您好，我是客服小王，请问还有什么可以帮您？';
const BOT_QUESTION = '我的户号欠费多少';
const CUSTOMER_FOLLOWUP = '好的谢谢，那我这个月几号前要交？';

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

// The last few messages of a page, to say what was there instead.
async function lastMessages(page, n = 6) {
  try {
    const rows = await page.$$eval('.msg', (els, k) => els.slice(-k).map((e) => {
      const kind = [...e.classList].find((c) => c.startsWith('from-')) || e.className;
      return `${kind}: ${e.textContent.replace(/\s+/g, ' ').trim().slice(0, 80)}`;
    }), n);
    return rows.length ? rows.map((r) => `       ${r}`).join('\n') : '       (no messages)';
  } catch {
    return '       (page not readable)';
  }
}

async function waitUntil(page, fn, arg, what) {
  try {
    await page.waitForFunction(fn, arg, { timeout: WAIT, polling: 100 });
  } catch (err) {
    if (!/Timeout/i.test(err.message)) throw err;
    throw new Error(`${what} (waited ${WAIT / 1000} s); last messages on the page:\n${await lastMessages(page)}`);
  }
}

// True once an element matching `selector` comes after the customer's
// last bubble containing `sent` (and matches `pattern`, if given).
// 'error' when the page showed its "network" line instead.
function replyAfter({ sent, selector, pattern }) {
  const msgs = [...document.querySelectorAll('.msg')];
  let at = -1;
  msgs.forEach((m, i) => {
    if (m.classList.contains('from-customer') && m.textContent.includes(sent)) at = i;
  });
  if (at < 0) return false;
  const later = msgs.slice(at + 1);
  const re = pattern ? new RegExp(pattern) : null;
  return later.some((m) => m.matches(selector) && m.textContent.trim() && (!re || re.test(m.textContent)));
}

async function customerSays(page, text) {
  if (!(await page.isVisible('#input'))) await page.click('#to-input'); // menu mode
  await page.fill('#input', text);
  await page.press('#input', 'Enter');
  await waitUntil(page, (t) => [...document.querySelectorAll('.msg.from-customer')].some((m) => m.textContent.includes(t)),
    text, `the customer's own message "${text}" did not appear after pressing Enter`);
}

async function noErrorLine(page, sent) {
  const bad = await page.evaluate((t) => {
    const msgs = [...document.querySelectorAll('.msg')];
    const at = msgs.findLastIndex((m) => m.classList.contains('from-customer') && m.textContent.includes(t));
    return msgs.slice(at + 1).filter((m) => m.matches('.from-system.error')).map((m) => m.textContent.trim());
  }, sent);
  check(!bad.length, `the chat showed an error line after "${sent}": ${bad.join(' / ')} (the server answered 4xx/5xx or was unreachable)`);
}

async function shot(page, name) {
  await fs.mkdir(OUT, { recursive: true });
  await page.screenshot({ path: path.join(OUT, name) });
}

// ------------------------------------------------------------------ run

async function main() {
  let base = process.env.GRIDBOT_URL;
  let agentName = process.env.AGENT_NAME;
  let agentPassword = process.env.AGENT_PASSWORD;
  if (!base) {
    const { startMockServer, DEMO_AGENT } = await import('./mock_server.js');
    mock = await startMockServer({ port: 0, quiet: true });
    base = mock.url;
    agentName ??= DEMO_AGENT.name;
    agentPassword ??= DEMO_AGENT.password;
    console.log(`# GRIDBOT_URL is not set: testing the pages against the mock at ${base}`);
  }
  base = base.replace(/\/+$/, '');
  const agentBase = (process.env.AGENT_URL || base).replace(/\/+$/, '');
  if (!agentName || !agentPassword) {
    throw new Error('AGENT_NAME and AGENT_PASSWORD must name an agent of the server under test (gridbot agent add …)');
  }
  console.log(agentBase === base
    ? `# ${base}, agent ${agentName}, screenshots in ${OUT}`
    : `# customer on ${base}, agent ${agentName} on ${agentBase}, screenshots in ${OUT}`);

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox'],
  });
  const common = { locale: 'zh-CN', timezoneId: 'Asia/Shanghai' };
  const customerContext = await browser.newContext({ ...common, viewport: PHONE, deviceScaleFactor: 2, hasTouch: true });
  const agentContext = await browser.newContext({ ...common, viewport: LAPTOP });
  const customer = await customerContext.newPage();
  const agent = await agentContext.newPage();
  pages.customer = customer;
  pages.agent = agent;
  for (const [who, page] of Object.entries(pages)) {
    page.setDefaultTimeout(WAIT);
    page.on('pageerror', (err) => scriptErrors.push(`${who}: ${err.message}`));
    // The pages must live with the server's Content-Security-Policy.
    page.on('console', (msg) => {
      if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text())) scriptErrors.push(`${who}: ${msg.text()}`);
    });
  }

  await step('customer page opens with the menu', async () => {
    const res = await customer.goto(`${base}/`);
    check(res && res.ok(), `GET / answered ${res && res.status()}`);
    check((await customer.title()).includes('95598'), `the page title is "${await customer.title()}", not the 95598 chat`);
    await customer.waitForSelector('.menu-top', { state: 'attached' });
    const tops = await customer.$$eval('.menu-top', (els) => els.map((e) => e.textContent.trim()));
    check(tops.length === 3, `expected WeChat's three menu buttons from /api/menu, got ${JSON.stringify(tops)}`);
  });

  await step(`customer asks "${BILL_QUESTION}" and the bot answers`, async () => {
    await customerSays(customer, BILL_QUESTION);
    await waitUntil(customer, replyAfter, { sent: BILL_QUESTION, selector: '.from-bot, .from-system.error' },
      `no bot reply (.msg.from-bot) to "${BILL_QUESTION}"`);
    await noErrorLine(customer, BILL_QUESTION);
  });

  await step(`customer says "${HANDOFF}" and is told about the queue`, async () => {
    await customerSays(customer, HANDOFF);
    await waitUntil(customer, replyAfter, { sent: HANDOFF, selector: '.from-bot, .from-system', pattern: '排队|人工' },
      `no reply mentioning 排队 or 人工 after "${HANDOFF}"`);
    await noErrorLine(customer, HANDOFF);
  });

  await step('agent logs in', async () => {
    const res = await agent.goto(`${agentBase}/agent`);
    check(res && res.ok(), `GET /agent answered ${res && res.status()}`);
    await agent.waitForSelector('#login-name', { state: 'visible' });
    await agent.fill('#login-name', agentName);
    await agent.fill('#login-password', agentPassword);
    await agent.click('#login-submit');
    try {
      await agent.waitForSelector('#app-view:not([hidden])', { timeout: WAIT });
    } catch {
      const error = await agent.textContent('#login-error').catch(() => '');
      throw new Error(`the console did not open after logging in as ${agentName}${error ? `; the form says: ${error}` : ''}`);
    }
  });

  await step('agent finds the conversation in the queue and opens it', async () => {
    try {
      await agent.waitForSelector('.queue-item', { timeout: WAIT });
    } catch {
      throw new Error('no .queue-item in the console: the handoff did not reach the queue (GET /api/agent/queue)');
    }
    // Newest first: a run that failed earlier may have left a queued twin.
    const ids = await agent.$$eval('#queue .queue-item, #mine .queue-item', (els) => {
      const rows = els.map((e) => ({ id: e.dataset.id, handoff: e.textContent.includes('转人工') }));
      const newestFirst = (list) => list.reverse().map((r) => r.id);
      return [...newestFirst(rows.filter((r) => r.handoff)), ...newestFirst(rows.filter((r) => !r.handoff))];
    });
    for (const id of [...ids.filter(Boolean)]) {
      await agent.click(`.queue-item[data-id="${id.replace(/"/g, '\\"')}"]`);
      try {
        await agent.waitForFunction((q) => {
          const conv = document.querySelector('#conv');
          return conv.dataset.id && conv.dataset.id === q.id
            && [...document.querySelectorAll('#messages .msg.from-customer')].some((m) => m.textContent.includes(q.text));
        }, { id, text: BILL_QUESTION }, { timeout: 5000 });
        return;
      } catch { /* not this one */ }
    }
    throw new Error(`none of the ${ids.length} queued conversations shows the customer's "${BILL_QUESTION}" in its history`);
  });

  await step('agent claims it (#claim)', async () => {
    const state = await agent.getAttribute('#conv', 'data-state');
    const holder = await agent.getAttribute('#conv', 'data-agent');
    if (!(state === 'held' && holder === agentName)) { // auto-assign may have given it already
      check(await agent.isEnabled('#claim'), `#claim is disabled; the conversation is ${state}${holder ? ` (held by ${holder})` : ''}`);
      await agent.click('#claim');
    }
    try {
      await agent.waitForSelector(`#conv[data-state="held"][data-agent="${agentName}"]`, { timeout: WAIT });
    } catch {
      const toast = await agent.textContent('#toast').catch(() => '');
      throw new Error(`the conversation is not held by ${agentName} after claiming${toast ? `; the console says: ${toast}` : ''}`);
    }
  });

  await step(`the history shows the customer's "${BILL_QUESTION}" and the bot's answer`, async () => {
    const texts = await agent.$$eval('#messages .msg', (els) => els.map((e) => ({ cls: e.className, text: e.textContent })));
    const at = texts.findIndex((m) => m.cls.includes('from-customer') && m.text.includes(BILL_QUESTION));
    check(at >= 0, `no .msg.from-customer with "${BILL_QUESTION}" in the agent's view`);
    check(texts.slice(at + 1).some((m) => m.cls.includes('from-bot')), `the bot's answer to "${BILL_QUESTION}" is missing from the agent's view`);
  });

  await step('agent assist (#assist) suggests a reply', async () => {
    try {
      await agent.waitForSelector('#assist[data-state="ready"]', { timeout: WAIT });
    } catch {
      const text = await agent.textContent('#assist').catch(() => '');
      throw new Error(`#assist has no suggestion (GET …/assist); it shows: ${text.replace(/\s+/g, ' ').trim()}`);
    }
    const text = (await agent.textContent('#assist-text')).trim();
    check(text.length > 0, '#assist-text is empty');
    // 编辑后发送: the suggestion goes into the reply box to be edited.
    await agent.click('#assist-edit');
    const box = (await agent.inputValue('#reply-text')).trim();
    check(box.replace(/\s+/g, '') === text.replace(/\s+/g, ''),
      `#assist-edit did not put the suggestion into #reply-text (it holds: ${box.slice(0, 80)})`);
  });

  await step('agent replies and the customer sees it without reloading', async () => {
    await agent.fill('#reply-text', AGENT_REPLY);
    check(await agent.isEnabled('#reply-send'), `#reply-send is disabled: ${await agent.textContent('#composer-hint')}`);
    await agent.click('#reply-send');
    await waitUntil(agent, (t) => [...document.querySelectorAll('#messages .msg.from-agent')].some((m) => m.textContent.includes(t)),
      AGENT_REPLY, 'the reply did not appear in the agent\'s conversation (POST …/reply failed?)');
    await waitUntil(customer, (t) => [...document.querySelectorAll('.msg.from-agent')].some((m) => m.textContent.includes(t)),
      AGENT_REPLY, 'the customer page did not show the agent\'s reply as .msg.from-agent (GET /api/chat/updates)');
    await shot(agent, 'agent.png');
    await agent.setViewportSize({ width: PHONE.width, height: 760 });
    await agent.waitForTimeout(200);
    await shot(agent, 'agent-phone.png');
    await agent.setViewportSize(LAPTOP);
  });

  await step('customer writes back and the agent sees it without reloading', async () => {
    await customerSays(customer, CUSTOMER_FOLLOWUP);
    await waitUntil(agent, (t) => [...document.querySelectorAll('#messages .msg.from-customer')].some((m) => m.textContent.includes(t)),
      CUSTOMER_FOLLOWUP, 'the agent\'s conversation did not show the customer\'s new message as .msg.from-customer (the event stream)');
    const botAfter = await customer.evaluate(replyAfter, { sent: CUSTOMER_FOLLOWUP, selector: '.from-bot' });
    check(!botAfter, `the bot answered "${CUSTOMER_FOLLOWUP}" though an agent holds the conversation`);
  });

  await step('agent releases it to the bot (#release)', async () => {
    await agent.click('#release');
    await waitUntil(agent, () => {
      const body = document.querySelector('#conv-body');
      return body.hidden || document.querySelector('#conv').dataset.state !== 'held';
    }, null, 'the conversation is still held after #release');
    // Let what the release tells the customer (if anything) arrive first,
    // so it cannot pass for the bot's answer below.
    await customer.waitForFunction((t) => {
      const msgs = [...document.querySelectorAll('.msg')];
      const at = msgs.findLastIndex((m) => m.classList.contains('from-agent') && m.textContent.includes(t));
      return at >= 0 && at < msgs.length - 1;
    }, AGENT_REPLY, { timeout: 5000, polling: 100 }).catch(() => {});
  });

  await step(`customer asks "${BOT_QUESTION}" and the bot (not the agent) answers`, async () => {
    await customerSays(customer, BOT_QUESTION);
    await waitUntil(customer, replyAfter, { sent: BOT_QUESTION, selector: '.from-bot, .from-system.error' },
      `no .msg.from-bot after "${BOT_QUESTION}": the bot did not take the conversation back`);
    await noErrorLine(customer, BOT_QUESTION);
    const agentAfter = await customer.evaluate(replyAfter, { sent: BOT_QUESTION, selector: '.from-agent' });
    check(!agentAfter, `an agent message came after "${BOT_QUESTION}", though the conversation was released`);
    await shot(customer, 'customer-phone.png');
    await customer.setViewportSize({ width: 1280, height: 800 });
    await customer.waitForTimeout(200);
    await shot(customer, 'customer.png');
  });

  await step('no script errors or CSP violations in either page', async () => {
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
  console.log(`browser: ${passed} passed, ${failed} failed`);
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
