// The customer's web chat (web/API.md, "The customer's web chat").
// The server knows the customer by its gb_sid cookie, so no request names a
// user. Every piece of text from the server goes into the page as text nodes
// (never innerHTML), with URLs turned into links.

import { linkified, timeLabel } from './text.js';

const $ = (sel) => document.querySelector(sel);
const log = $('#log');
const input = $('#input');
const sendButton = $('#send');
const bar = $('#bar');
const typing = $('#typing');

const AVATARS = { customer: '/assets/user.svg', bot: '/assets/bot.svg', agent: '/assets/agent.svg' };
const TIME_GAP = 5 * 60; // WeChat shows the time again after five quiet minutes
const POLL_WAIT = 25;
const RETRY_DELAY = 2000;

const MSG = {
  network: '网络开小差了，请稍后再试。',
  tooFast: '您发送得太快了，请稍等片刻再试。',
  tooLong: '消息太长了，请精简后再发送。',
  noLocation: '抱歉，暂时无法获取您的位置。您可以直接输入地址，例如“南宁市青秀区民族大道”。',
  locationDenied: '未获得定位权限，暂时无法获取您的位置。您可以在浏览器设置中允许定位，或直接输入地址。',
  locating: '正在获取您的位置…',
};

// Replies that carried a seq are updates too; the long poll must not show
// them a second time (and the other way round).
const seen = new Set();
let after = 0;
let lastShownAt = 0;
let pending = 0;
let sendChain = Promise.resolve();

// ---------------------------------------------------------------- rendering

function maybeTimeDivider(at) {
  if (!at) return;
  if (at - lastShownAt >= TIME_GAP) {
    const div = document.createElement('div');
    div.className = 'time';
    div.textContent = timeLabel(at);
    log.append(div);
  }
  lastShownAt = Math.max(lastShownAt, at);
}

function scrollToBottom() {
  requestAnimationFrame(() => { log.scrollTop = log.scrollHeight; });
}

// One message: {from, text, at, buttons?, notice?}. Returns its element.
function addMessage({ from, text, at, buttons, notice }) {
  const who = AVATARS[from] ? from : 'system';
  maybeTimeDivider(at || Math.floor(Date.now() / 1000));
  const el = document.createElement('div');
  el.className = `msg from-${who}`;

  if (who === 'system') {
    const span = document.createElement('span');
    span.append(linkified(String(text ?? '')));
    el.append(span);
  } else {
    if (notice) el.classList.add('notice');
    const avatar = document.createElement('img');
    avatar.className = 'avatar';
    avatar.src = AVATARS[who];
    avatar.alt = '';
    const body = document.createElement('div');
    body.className = 'body';
    if (who === 'agent') {
      const tag = document.createElement('div');
      tag.className = 'tag';
      tag.innerHTML = '<b>人工客服</b>'; // fixed markup, no server text
      body.append(tag);
    }
    const bubble = document.createElement('div');
    bubble.className = 'bubble';
    bubble.append(linkified(String(text ?? '')));
    body.append(bubble);
    if (who !== 'customer' && Array.isArray(buttons) && buttons.length) body.append(quickReplies(buttons));
    el.append(avatar, body);
  }
  log.append(el);
  scrollToBottom();
  return el;
}

function addSystem(text, isError = false) {
  const el = addMessage({ from: 'system', text });
  if (isError) el.classList.add('error');
  return el;
}

function quickReplies(buttons) {
  const box = document.createElement('div');
  box.className = 'quick';
  for (const b of buttons) {
    const label = String(b.label ?? b.text ?? '');
    const text = String(b.text ?? b.label ?? '');
    if (!text) continue;
    const btn = document.createElement('button');
    btn.type = 'button';
    btn.textContent = label;
    btn.addEventListener('click', () => sendText(text));
    box.append(btn);
  }
  return box;
}

// --------------------------------------------------------------- talking

class HttpError extends Error {
  constructor(status) { super(`HTTP ${status}`); this.status = status; }
}

function politeError(err) {
  if (err instanceof HttpError) {
    if (err.status === 429) return MSG.tooFast;
    if (err.status === 413) return MSG.tooLong;
  }
  return MSG.network;
}

function setTyping(on) {
  typing.hidden = !on;
}

async function postChat(payload) {
  const res = await fetch('/api/chat', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(payload),
  });
  if (!res.ok) throw new HttpError(res.status);
  return res.json();
}

function showReplies(data) {
  for (const r of data?.replies ?? []) {
    if (r.seq != null) {
      const seq = Number(r.seq);
      if (seen.has(seq)) continue;
      seen.add(seq);
    }
    addMessage({
      from: r.from || 'bot', // a notice may say who it is from
      text: r.text,
      buttons: r.buttons,
      notice: r.type === 'notice',
    });
  }
}

// Sends one payload; `bubble` is the customer's own message element (if any),
// marked as failed with a retry dot when the request fails. Sends run one
// after another so that replies appear in the order they were asked.
function send(payload, bubble) {
  sendChain = sendChain.then(async () => {
    pending++;
    setTyping(true);
    try {
      showReplies(await postChat(payload));
    } catch (err) {
      if (bubble) markFailed(bubble, payload);
      addSystem(politeError(err), true);
    } finally {
      pending--;
      setTyping(pending > 0);
    }
  });
  return sendChain;
}

function markFailed(bubble, payload) {
  if (bubble.querySelector('.retry')) return;
  const dot = document.createElement('button');
  dot.type = 'button';
  dot.className = 'retry';
  dot.textContent = '!';
  dot.title = '重新发送';
  dot.setAttribute('aria-label', '发送失败，点击重新发送');
  dot.addEventListener('click', () => {
    dot.remove();
    send(payload, bubble);
  });
  bubble.append(dot);
}

function sendText(text) {
  const clean = text.trim();
  if (!clean) return;
  const bubble = addMessage({ from: 'customer', text: clean });
  send({ text: clean }, bubble);
}

// ---------------------------------------------------------------- the input

let composing = false;

function autoGrow() {
  input.style.height = 'auto';
  input.style.height = `${Math.min(input.scrollHeight, 120)}px`;
  sendButton.classList.toggle('empty', !input.value.trim());
}

function submitInput() {
  const text = input.value;
  if (!text.trim()) return;
  input.value = '';
  autoGrow();
  sendText(text);
  input.focus();
}

input.addEventListener('compositionstart', () => { composing = true; });
// Safari fires the Enter that ends a composition after compositionend.
input.addEventListener('compositionend', () => { setTimeout(() => { composing = false; }, 0); });
input.addEventListener('input', autoGrow);
input.addEventListener('keydown', (e) => {
  if (e.key !== 'Enter' || e.shiftKey) return;
  if (e.isComposing || composing || e.keyCode === 229) return; // the IME is choosing characters
  e.preventDefault();
  submitInput();
});
sendButton.addEventListener('click', submitInput);

// ------------------------------------------------------------- location

function shareLocation() {
  const button = $('#locate');
  if (!('geolocation' in navigator)) {
    addSystem(MSG.noLocation);
    return;
  }
  button.disabled = true;
  const note = addSystem(MSG.locating);
  navigator.geolocation.getCurrentPosition(
    (pos) => {
      button.disabled = false;
      note.remove();
      const lat = Number(pos.coords.latitude.toFixed(6));
      const lng = Number(pos.coords.longitude.toFixed(6));
      const bubble = addMessage({ from: 'customer', text: '' });
      const card = bubble.querySelector('.bubble');
      card.classList.add('location-card');
      card.textContent = '📍 我的位置';
      const small = document.createElement('small');
      small.textContent = `北纬 ${lat.toFixed(4)}°，东经 ${lng.toFixed(4)}°`;
      card.append(small);
      send({ event: { type: 'location', lat, lng, label: '' } }, bubble);
    },
    (err) => {
      button.disabled = false;
      note.remove();
      addSystem(err && err.code === 1 ? MSG.locationDenied : MSG.noLocation);
    },
    { enableHighAccuracy: false, timeout: 10000, maximumAge: 60000 },
  );
}
$('#locate').addEventListener('click', shareLocation);

// ---------------------------------------------------------------- the menu

function setMode(mode) {
  bar.dataset.mode = mode;
  closeSubMenus();
  if (mode === 'input') input.focus();
}
$('#to-menu').addEventListener('click', () => setMode('menu'));
$('#to-input').addEventListener('click', () => setMode('input'));

function closeSubMenus(except) {
  for (const item of document.querySelectorAll('.menu-item.open')) {
    if (item === except) continue;
    item.classList.remove('open');
    item.querySelector('.sub')?.setAttribute('hidden', '');
  }
}

function menuAction(button) {
  closeSubMenus();
  if (button.type === 'view' && button.url) {
    window.open(button.url, '_blank', 'noopener');
  } else if (button.key) {
    send({ event: { type: 'click', key: button.key } }); // WeChat shows no bubble for a menu tap
  }
}

function renderMenu(menu) {
  const nav = $('#menu');
  nav.replaceChildren();
  for (const top of (menu?.button ?? []).slice(0, 3)) {
    const item = document.createElement('div');
    item.className = 'menu-item';
    const topButton = document.createElement('button');
    topButton.type = 'button';
    topButton.className = 'menu-top';
    topButton.textContent = top.name;
    item.append(topButton);

    const subs = top.sub_button ?? [];
    if (subs.length) {
      topButton.classList.add('has-sub');
      topButton.setAttribute('aria-haspopup', 'true');
      const list = document.createElement('ul');
      list.className = 'sub';
      list.hidden = true;
      for (const sub of subs.slice(0, 5)) {
        const li = document.createElement('li');
        const b = document.createElement('button');
        b.type = 'button';
        b.textContent = sub.name;
        b.dataset.key = sub.key ?? '';
        b.addEventListener('click', () => menuAction(sub));
        li.append(b);
        list.append(li);
      }
      item.append(list);
      topButton.addEventListener('click', () => {
        const open = !item.classList.contains('open');
        closeSubMenus(item);
        item.classList.toggle('open', open);
        list.hidden = !open;
      });
    } else {
      topButton.addEventListener('click', () => menuAction(top));
    }
    nav.append(item);
  }
}

document.addEventListener('click', (e) => {
  if (!e.target.closest('.menu-item')) closeSubMenus();
});

async function loadMenu() {
  try {
    const res = await fetch('/api/menu');
    if (!res.ok) throw new HttpError(res.status);
    renderMenu(await res.json());
  } catch {
    // Without a menu the keyboard still works; the toggle would lead nowhere.
    $('#to-menu').hidden = true;
  }
}

// ------------------------------------------------- history and updates

async function loadHistory() {
  try {
    const res = await fetch('/api/chat/history', { cache: 'no-store' });
    if (!res.ok) throw new HttpError(res.status);
    const data = await res.json();
    for (const m of data.messages ?? []) {
      if (m.seq != null) seen.add(Number(m.seq)); // not API.md yet, but harmless
      addMessage(m);
    }
    after = Number(data.last_seq) || 0;
  } catch {
    addSystem(MSG.network, true);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function pollUpdates() {
  for (;;) {
    const started = Date.now();
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), (POLL_WAIT + 10) * 1000);
    try {
      const res = await fetch(`/api/chat/updates?after=${after}&wait=${POLL_WAIT}`, {
        cache: 'no-store', signal: ctrl.signal,
      });
      if (!res.ok) throw new HttpError(res.status);
      const data = await res.json();
      const messages = data.messages ?? [];
      for (const m of messages) {
        const seq = Number(m.seq);
        if (seq > after) after = seq;
        if (seen.has(seq)) continue;
        seen.add(seq);
        addMessage(m);
      }
      // A server that answers at once with nothing must not make this spin.
      if (!messages.length && Date.now() - started < 1000) await sleep(1000);
    } catch {
      await sleep(RETRY_DELAY);
    } finally {
      clearTimeout(timer);
    }
  }
}

async function start() {
  autoGrow();
  await Promise.all([loadMenu(), loadHistory()]);
  pollUpdates();
}

start();
