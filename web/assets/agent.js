// The staff console (web/API.md, "The agent console").
// One page: the login form, then queue | conversation | customer. The server
// is the only source of truth: after any action or any `change` event the
// page refetches what it shows instead of patching its own copy.

import { linkified, timeLabel, hhmm, duration, el } from './text.js';

const $ = (sel) => document.querySelector(sel);

const ROLES = { agent: '客服', supervisor: '主管', analyst: '分析员', admin: '管理员' };
const CHANNELS = { wechat: '微信', web: '网页', cli: '终端' };
const REASONS = { asked: '客户要求转人工', not_understood: '机器人未能理解', gave_up: '流程未完成' };
const INTENTS = {
  query_bill: '查询账单', query_arrears: '查询欠费', query_outage: '停电查询', report_fault: '故障报修',
  pay_bill: '缴费', query_payments: '缴费记录', recharge_card: '充值卡', bind_account: '绑定户号',
  unbind_account: '解绑户号', switch_account: '切换户号', list_accounts: '户号列表', apply_service: '业务办理',
  find_outlet: '营业网点', query_progress: '进度查询', query_profile: '我的档案', subscribe_bill: '订阅账单',
  unsubscribe_bill: '退订账单', register: '注册', login: '登录', help: '帮助', greet: '问候', thanks: '感谢',
  goodbye: '告别', affirm: '肯定', deny: '否定', cancel: '取消', human_agent: '转人工', unknown: '未识别',
};
const TYPING_EVERY = 3000;
const REFRESH_DEBOUNCE = 150;

const S = {
  me: null, // {name, role, auto_assign, capacity, held}
  queue: [],
  queueAt: 0, // Date.now() when the queue was fetched: waiting times tick from it
  queueError: '',
  openId: null,
  conv: null,
  renderedId: null,
  renderedKeys: [],
  customerKey: '',
  assistFor: undefined, // the customer message the suggestion answers
  assist: null,
  canned: [],
  agents: [],
  mode: 'reply',
  expectGone: false, // released, closed or transferred: may vanish from view
  drafts: new Map(),
  lastTypingPost: 0,
  events: null,
  tab: 'desk',
};

const isLead = () => S.me && (S.me.role === 'supervisor' || S.me.role === 'admin');
const intentLabel = (code) => INTENTS[code] ?? code;

// ----------------------------------------------------------------- API

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

function fallbackError(status) {
  if (status === 0) return '网络连接失败，请检查网络后再试';
  if (status === 401) return '登录已过期，请重新登录';
  if (status === 403) return '您没有权限进行此操作';
  if (status === 404) return '会话不存在或已结束';
  if (status === 409) return '会话状态已变化，请刷新后再试';
  if (status === 422) return '当前无法发送这条消息';
  if (status === 429) return '操作太频繁，请稍后再试';
  return '服务器开小差了，请稍后再试';
}

async function api(path, { method = 'GET', body } = {}) {
  const init = { method, cache: 'no-store', headers: {} };
  if (method !== 'GET') {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body ?? {});
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, fallbackError(0));
  }
  let data = null;
  try { data = await res.json(); } catch { /* an empty 200 is fine */ }
  if (!res.ok) {
    const err = new ApiError(res.status, (data && data.error) || fallbackError(res.status));
    if (res.status === 401 && path !== '/api/agent/login') loggedOut();
    throw err;
  }
  return data ?? {};
}

const convPath = (id, action = '') =>
  `/api/agent/conversations/${encodeURIComponent(id)}${action ? `/${action}` : ''}`;

// Runs fn at most once at a time; a call meanwhile runs it once more after.
function coalesced(fn) {
  let running = null;
  let again = false;
  const run = async () => {
    if (running) { again = true; return running; }
    running = (async () => {
      do { again = false; await fn(); } while (again);
    })().finally(() => { running = null; });
    return running;
  };
  return run;
}

// ---------------------------------------------------------------- toast

let toastTimer = 0;
function toast(message) {
  const t = $('#toast');
  t.textContent = message;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, 4000);
}

function toastError(err) {
  if (err?.status === 401) return; // the login form says it
  toast(err?.message || fallbackError(500));
}

// ---------------------------------------------------------------- login

function showLogin(message = '') {
  $('#app-view').hidden = true;
  $('#login-view').hidden = false;
  $('#login-error').textContent = message;
  $('#login-password').value = '';
  $('#login-submit').disabled = false;
  $('#login-submit').textContent = '登录';
  ($('#login-name').value ? $('#login-password') : $('#login-name')).focus();
}

function loggedOut() {
  if (!S.me) return;
  stopLive();
  S.me = null;
  showLogin('登录已过期，请重新登录');
}

const hasChinese = (s) => /[\u4e00-\u9fff]/.test(s || '');

$('#login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const name = $('#login-name').value.trim();
  const password = $('#login-password').value;
  const error = $('#login-error');
  if (!name || !password) {
    error.textContent = '请输入账号和密码';
    return;
  }
  const button = $('#login-submit');
  button.disabled = true;
  button.textContent = '登录中…';
  error.textContent = '';
  try {
    await api('/api/agent/login', { method: 'POST', body: { name, password } });
    S.me = await api('/api/agent/me');
    enterApp();
  } catch (err) {
    button.disabled = false;
    button.textContent = '登录';
    if (err.status === 401) error.textContent = '账号或密码不正确，请重新输入';
    else if (err.status === 429) error.textContent = hasChinese(err.message) ? err.message : '登录失败次数过多，账号已暂时锁定，请稍后再试';
    else error.textContent = hasChinese(err.message) ? err.message : fallbackError(err.status);
    $('#login-password').select();
  }
});

$('#logout').addEventListener('click', async () => {
  try { await api('/api/agent/logout', { method: 'POST' }); } catch { /* leaving anyway */ }
  stopLive();
  S.me = null;
  S.openId = null;
  showLogin('');
});

// --------------------------------------------------------------- header

function renderHeader() {
  $('#me-name').textContent = S.me.name;
  $('#me-role').textContent = ROLES[S.me.role] ?? S.me.role;
  $('#auto-assign').checked = !!S.me.auto_assign;
  const held = S.queue.filter((c) => c.state === 'held' && c.agent === S.me.name).length;
  $('#me-load').textContent = S.me.capacity ? `接待 ${held}/${S.me.capacity}` : `接待 ${held}`;
  $('#tab-super').hidden = !isLead();
}

$('#auto-assign').addEventListener('change', async (e) => {
  const want = e.target.checked;
  try {
    S.me = await api('/api/agent/me', { method: 'POST', body: { auto_assign: want } });
    toast(want ? '已开启自动分配，新会话会分配给您' : '已关闭自动分配');
  } catch (err) {
    e.target.checked = !want;
    toastError(err);
  }
  renderHeader();
});

function setLive(up) {
  const live = $('#live');
  live.classList.toggle('down', !up);
  live.textContent = up ? '实时' : '重连中';
  live.title = up ? '实时更新已连接' : '实时更新已断开，正在重连…';
}

// ------------------------------------------------------------------ tabs

for (const tab of document.querySelectorAll('.tab')) {
  tab.addEventListener('click', () => showTab(tab.dataset.tab));
}

function showTab(name) {
  S.tab = name === 'super' && isLead() ? 'super' : 'desk';
  for (const t of document.querySelectorAll('.tab')) t.classList.toggle('active', t.dataset.tab === S.tab);
  $('#desk').hidden = S.tab !== 'desk';
  $('#super').hidden = S.tab !== 'super';
  if (S.tab === 'super') refreshSuper();
}

// Phone width: list, conversation and customer are one view at a time.
function setView(view) {
  $('#desk').dataset.view = view;
}
$('#back-list').addEventListener('click', () => setView('list'));
$('#show-info').addEventListener('click', () => setView('info'));
$('#back-conv').addEventListener('click', () => setView('conv'));

// ----------------------------------------------------------------- queue

const waitingNow = (c) => (c.waiting_seconds || 0) + (Date.now() - S.queueAt) / 1000;

const refreshQueue = coalesced(async () => {
  try {
    const data = await api('/api/agent/queue');
    S.queue = data.conversations ?? [];
    S.queueAt = Date.now();
    S.queueError = '';
  } catch (err) {
    if (err.status === 401) return;
    S.queueError = err.message; // e.g. an analyst's role: the server says why
  }
  renderQueue();
  renderHeader();
  if (S.tab === 'super') renderAllConversations();
});

function renderQueue() {
  const mine = (c) => c.state === 'held' && c.agent === S.me.name;
  const queued = S.queue.filter((c) => c.state === 'queued');
  const held = S.queue.filter(mine);
  const others = S.queue.filter((c) => c.state === 'held' && !mine(c));
  fillList($('#queue'), queued, S.queueError || '暂无排队的客户');
  fillList($('#mine'), held, '暂无接待中的会话');
  fillList($('#others'), others, '');
  $('#others-wrap').hidden = !others.length;
  $('#count-queued').textContent = queued.length;
  $('#count-mine').textContent = held.length;
  $('#count-others').textContent = others.length;
  document.title = `${queued.length ? `(${queued.length}) ` : ''}客服工作台 · 广西电网95598`;
}

function fillList(ul, rows, emptyText) {
  ul.replaceChildren(...rows.map(queueItem));
  if (!rows.length && emptyText) ul.append(el('li', 'empty-row', emptyText));
}

function queueItem(c) {
  const li = el('li', 'queue-item');
  li.dataset.id = c.id;
  li.dataset.state = c.state;
  li.tabIndex = 0;
  if (c.overdue && c.state === 'queued') li.classList.add('overdue');
  if (c.id === S.openId) li.classList.add('selected');

  li.append(el('span', 'name', c.customer || '客户'), el('span', 'when', timeLabel(c.last_at || c.queued_at)));
  const badges = el('span', 'badges');
  badges.append(el('span', `badge ${c.channel}`, CHANNELS[c.channel] ?? c.channel));
  if (c.state === 'queued') {
    badges.append(el('span', 'badge wait', `等待${duration(waitingNow(c))}`));
    if (c.reason) badges.append(el('span', 'badge', REASONS[c.reason] ?? c.reason));
  } else if (c.agent && c.agent !== S.me.name) {
    badges.append(el('span', 'badge', `${c.agent}接待中`));
  }
  li.append(badges, el('span', 'last', c.last_text || ''));
  li.title = c.overdue ? '等待已超时，请尽快接入' : '';
  const open = () => openConversation(c.id);
  li.addEventListener('click', open);
  li.addEventListener('keydown', (e) => { if (e.key === 'Enter') open(); });
  return li;
}

// ---------------------------------------------------------- conversation

function openConversation(id) {
  if (S.openId !== id) {
    saveDraft();
    S.openId = id;
    S.conv = null;
    S.renderedId = null;
    S.renderedKeys = [];
    S.customerKey = '';
    S.assistFor = undefined;
    S.assist = null;
    S.expectGone = false;
    $('#reply-text').value = S.drafts.get(id) ?? '';
    setMode('reply');
    closePopovers();
    history.replaceState(null, '', `#${encodeURIComponent(id)}`);
  }
  showTab('desk');
  setView('conv');
  for (const li of document.querySelectorAll('.queue-item')) li.classList.toggle('selected', li.dataset.id === id);
  $('#conv-empty').hidden = true;
  $('#conv-body').hidden = false;
  return refreshConversation();
}

const refreshConversation = coalesced(async () => {
  const id = S.openId;
  if (!id) return;
  let conv;
  try {
    conv = await api(convPath(id));
  } catch (err) {
    if (S.openId !== id) return;
    if (err.status === 404 || err.status === 403) {
      closeConversationView();
      // After a release, close or transfer the conversation may simply be
      // out of sight now: that is no error.
      if (!S.expectGone) toast(err.message);
    } else {
      toastError(err);
    }
    return;
  }
  if (S.openId !== id) return;
  S.conv = conv;
  renderConversation();
  refreshAssistIfNeeded();
});

function closeConversationView() {
  S.openId = null;
  S.conv = null;
  $('#conv-body').hidden = true;
  $('#conv-empty').hidden = false;
  $('#customer').replaceChildren(el('p', 'muted info-empty', '打开会话后，这里显示客户资料和机器人建议回复'));
  S.customerKey = '';
  renderAssist();
  setView('list');
  history.replaceState(null, '', location.pathname);
}

function holdsIt() {
  return S.conv && S.conv.state === 'held' && S.conv.agent === S.me.name;
}

function stateText(c) {
  if (c.state === 'queued') {
    const waited = c.queued_at ? `，已等待${duration(Date.now() / 1000 - c.queued_at)}` : '';
    return `排队中${waited}`;
  }
  if (c.state === 'held') return c.agent === S.me.name ? '由您接待' : `由${c.agent || '其他客服'}接待`;
  if (c.state === 'closed') return '已结束';
  return '机器人服务中';
}

function renderConversation() {
  const c = S.conv;
  const conv = $('#conv');
  conv.dataset.id = c.id;
  conv.dataset.state = c.state;
  conv.dataset.agent = c.agent ?? '';

  $('#conv-title').textContent = c.customer?.name || '客户';
  const parts = [CHANNELS[c.channel] ?? c.channel, stateText(c)];
  if (c.reason) parts.push(REASONS[c.reason] ?? c.reason);
  $('#conv-sub').textContent = parts.filter(Boolean).join(' · ');

  renderActions(c);
  renderWindow(c);
  renderTyping(c);
  renderMessages(c);
  renderComposerState();
  renderCustomer(c.customer ?? {});
}

function renderActions(c) {
  const mine = holdsIt();
  const manage = mine || (isLead() && (c.state === 'held' || c.state === 'queued'));
  const claim = $('#claim');
  claim.hidden = mine;
  claim.disabled = c.state !== 'queued';
  claim.title = c.state === 'held' ? `该会话由${c.agent}接待` : '';
  $('#release').disabled = !(c.state === 'held' && manage);
  // desk.md: transfers are for supervisors and admins.
  $('#transfer-btn').hidden = !isLead();
  $('#transfer-btn').disabled = !manage;
  $('#close').disabled = !manage;
}

function renderWindow(c) {
  const bar = $('#window-bar');
  const w = c.window;
  bar.classList.remove('closed');
  if (!w) { bar.hidden = true; return; }
  if (w.open === false) {
    bar.textContent = `无法回复：${w.reason || '已超出微信客服消息的回复时限'}`;
    bar.classList.add('closed');
    bar.hidden = false;
    return;
  }
  const notes = [];
  if (w.remaining != null) notes.push(`还可发送${w.remaining}条`);
  if (w.closes_at) notes.push(`${timeLabel(w.closes_at)}前可回复`);
  bar.textContent = notes.length ? `微信回复时限：${notes.join('，')}` : '';
  bar.hidden = !notes.length;
}

function renderTyping(c) {
  const line = $('#typing-line');
  const who = c.typing && c.typing !== S.me.name ? c.typing : null;
  line.textContent = who ? `${who}正在输入…` : '';
  line.hidden = !who;
}

// Appends only what is new, so media already on screen is not reloaded
// and a voice message being played keeps playing.
function renderMessages(c) {
  const box = $('#messages');
  const msgs = c.messages ?? [];
  const keys = msgs.map((m, i) => String(m.seq ?? `i${i}:${m.at}:${m.from}`));
  const prefix = S.renderedId === c.id && S.renderedKeys.length <= keys.length
    && S.renderedKeys.every((k, i) => k === keys[i]);
  if (!prefix) {
    box.replaceChildren(...msgs.map(messageEl));
    stickToBottom = true;
  } else if (keys.length > S.renderedKeys.length) {
    box.append(...msgs.slice(S.renderedKeys.length).map(messageEl));
  }
  if (stickToBottom) box.scrollTop = box.scrollHeight;
  S.renderedId = c.id;
  S.renderedKeys = keys;
}

// Follow new messages only while the agent is at the bottom, not while
// they read further up.
let stickToBottom = true;
$('#messages').addEventListener('scroll', () => {
  const box = $('#messages');
  stickToBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
});
// A new window size or a view switch on a phone moves the bottom too.
new ResizeObserver(() => {
  if (stickToBottom) $('#messages').scrollTop = $('#messages').scrollHeight;
}).observe($('#messages'));
// A picture that loads late makes the list taller after the scroll.
$('#messages').addEventListener('load', () => {
  if (stickToBottom) $('#messages').scrollTop = $('#messages').scrollHeight;
}, true);

function whoLabel(m) {
  if (m.from === 'customer') return '客户';
  if (m.from === 'bot') return '机器人';
  if (m.from === 'agent') return m.agent || '客服';
  return '';
}

// Only http(s) URLs become src/href: a javascript: URL must not.
function safeUrl(url) {
  try {
    const u = new URL(url, location.href);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

function messageEl(m) {
  const from = ['customer', 'bot', 'agent', 'note', 'system'].includes(m.from) ? m.from : 'system';
  const box = el('div', `msg from-${from}`);
  if (m.seq != null) box.dataset.seq = m.seq;

  if (from !== 'system') {
    const meta = el('div', 'meta');
    if (from === 'note') {
      meta.append(el('b', null, '内部备注'), el('span', null, m.agent || ''));
    } else {
      meta.append(el('span', null, whoLabel(m)));
    }
    meta.append(el('time', null, timeLabel(m.at)));
    box.append(meta);
  }

  const bubble = el('div', 'bubble');
  const media = m.media && safeUrl(m.media.url);
  if (media && m.media.type === 'image') {
    const link = el('a');
    link.href = media;
    link.target = '_blank';
    link.rel = 'noopener noreferrer';
    const img = el('img', 'media');
    img.src = media;
    img.alt = '客户发送的图片';
    img.addEventListener('error', () => link.replaceChildren('图片无法显示，点击打开'), { once: true });
    link.append(img);
    bubble.append(link);
  } else if (media && m.media.type === 'voice') {
    const audio = el('audio');
    audio.controls = true;
    audio.preload = 'none';
    audio.src = media;
    const download = el('a', 'download', '下载语音');
    audio.addEventListener('error', () => { download.textContent = '语音暂时无法播放，点击下载'; }, { once: true });
    download.href = media;
    download.download = '';
    download.target = '_blank';
    download.rel = 'noopener noreferrer';
    bubble.append(audio, download);
  }
  // "[图片]" and the like only stand in for the media itself.
  const text = String(m.text ?? '');
  if (!media || (text && !/^\[[^\]]{1,6}\]$/.test(text))) {
    if (media) bubble.append(document.createElement('br'));
    bubble.append(linkified(text));
  }
  box.append(bubble);

  if (from === 'customer') {
    const tags = customerTags(m);
    if (tags.childElementCount) box.append(tags);
  }
  return box;
}

function customerTags(m) {
  const tags = el('div', 'tags');
  if (m.intent) {
    const t = el('span', null, intentLabel(m.intent));
    t.title = `意图 ${m.intent}`;
    tags.append(t);
  }
  if (typeof m.confidence === 'number') {
    const t = el('span', m.confidence < 0.6 ? 'low' : null, `${Math.round(m.confidence * 100)}%`);
    t.title = '识别置信度';
    tags.append(t);
  }
  if (m.flow) {
    const t = el('span', null, m.step ? `${m.flow}·${m.step}` : m.flow);
    t.title = '流程·步骤';
    tags.append(t);
  }
  return tags;
}

// ------------------------------------------------------------- customer

function renderCustomer(cust) {
  const key = JSON.stringify(cust);
  if (key === S.customerKey) return;
  S.customerKey = key;
  const box = $('#customer');
  box.replaceChildren();

  box.append(el('h3', null, '客户'));
  const kv = el('dl', 'kv');
  const row = (k, v) => kv.append(el('dt', null, k), el('dd', v ? null : 'muted', v || '未提供'));
  row('渠道', CHANNELS[cust.channel] ?? cust.channel);
  row('称呼', cust.name);
  row('手机', cust.phone);
  box.append(kv);

  box.append(el('h3', null, '绑定户号'));
  const accounts = cust.accounts ?? [];
  if (!accounts.length) box.append(el('p', 'muted', '尚未绑定户号'));
  else box.append(cardList(accounts.map(accountCard)));

  box.append(el('h3', null, '办理中的业务'));
  const business = cust.business ?? [];
  if (!business.length) box.append(el('p', 'muted', '暂无办理中的业务'));
  else box.append(cardList(business.map(businessCard)));
}

function cardList(items) {
  const ul = el('ul', 'card-list');
  ul.append(...items);
  return ul;
}

function accountCard(a) {
  const li = el('li');
  const r1 = el('div', 'row1');
  r1.append(el('span', 'no', a.account_no + (a.default ? '（默认）' : '')));
  const owed = Number(a.arrears || 0);
  r1.append(el('span', owed > 0 ? 'arrears' : 'arrears zero', owed > 0 ? `欠费 ${a.arrears}元` : '无欠费'));
  li.append(r1, el('div', 'small', [a.holder && `户主 ${a.holder}`, a.city].filter(Boolean).join(' · ')));
  if (a.address) li.append(el('div', 'small', a.address));
  return li;
}

function businessCard(b) {
  const li = el('li');
  const r1 = el('div', 'row1');
  r1.append(el('span', null, b.type || '业务'), el('span', 'small', b.status || ''));
  li.append(r1, el('div', 'small', [b.business_no, b.created_at && `${timeLabel(b.created_at)}提交`].filter(Boolean).join(' · ')));
  return li;
}

// --------------------------------------------------------------- assist

function lastCustomerKey(c) {
  const last = [...(c.messages ?? [])].reverse().find((m) => m.from === 'customer');
  return last ? String(last.seq ?? last.at) : null;
}

// The suggestion only changes when the customer says something new.
async function refreshAssistIfNeeded() {
  const c = S.conv;
  if (!c) return;
  const key = lastCustomerKey(c);
  if (key === S.assistFor) { renderAssist(); return; }
  S.assistFor = key;
  S.assist = null;
  if (key == null) { renderAssist(); return; }
  renderAssist('loading');
  const id = c.id;
  try {
    const data = await api(convPath(id, 'assist'));
    if (S.openId !== id || S.assistFor !== key) return;
    S.assist = data;
  } catch (err) {
    if (S.openId !== id) return;
    S.assist = { text: '', error: err.status === 401 ? '' : '暂时无法生成建议' };
  }
  renderAssist();
}

function renderAssist(loading) {
  const box = $('#assist');
  box.hidden = !S.openId;
  const text = $('#assist-text');
  const meta = $('#assist-meta');
  const forText = $('#assist-for');
  const a = S.assist;
  meta.textContent = '';
  forText.textContent = a?.for ? `客户：“${a.for}”` : '';
  forText.hidden = !(a?.for && a?.text);
  if (loading) {
    box.dataset.state = 'loading';
    text.textContent = '正在生成建议…';
  } else if (a && a.text) {
    box.dataset.state = 'ready';
    text.textContent = a.text;
    const conf = typeof a.confidence === 'number' ? ` · ${Math.round(a.confidence * 100)}%` : '';
    const doubtful = a.handoff === true || (typeof a.confidence === 'number' && a.confidence < 0.5);
    const warn = a.handoff === true ? ' · 机器人会转人工，仅供参考' : doubtful ? ' · 把握不大，请先核实' : '';
    meta.textContent = a.intent ? `${intentLabel(a.intent)}${conf}${warn}` : warn.slice(3);
    meta.classList.toggle('low', doubtful);
  } else {
    box.dataset.state = 'empty';
    text.textContent = a?.error || (S.conv ? '暂无建议，客户还没有可回答的问题' : '打开会话后显示机器人的建议回复');
  }
  const ready = box.dataset.state === 'ready';
  $('#assist-send').disabled = !(ready && canReply());
  $('#assist-edit').disabled = !ready;
}

$('#assist-send').addEventListener('click', () => {
  if (S.assist?.text) sendReply(S.assist.text, { fromAssist: true });
});
$('#assist-edit').addEventListener('click', () => {
  if (!S.assist?.text) return;
  setMode('reply');
  const box = $('#reply-text');
  box.value = S.assist.text;
  setView('conv');
  box.focus();
  box.setSelectionRange(box.value.length, box.value.length);
  saveDraft();
});

// ------------------------------------------------------------- composer

function canReply() {
  return holdsIt() && S.conv.window?.open !== false;
}

function setMode(mode) {
  S.mode = mode;
  $('#mode-reply').classList.toggle('active', mode === 'reply');
  $('#mode-note').classList.toggle('active', mode === 'note');
  $('#composer').classList.toggle('note', mode === 'note');
  $('#reply-text').placeholder = mode === 'note'
    ? '内部备注，仅客服可见，客户看不到'
    : '输入回复，Enter 发送，Shift+Enter 换行；输入 /代码 后按 Tab 插入常用语';
  $('#reply-send').textContent = mode === 'note' ? '添加备注' : '发送';
  renderComposerState();
}
$('#mode-reply').addEventListener('click', () => { setMode('reply'); $('#reply-text').focus(); });
$('#mode-note').addEventListener('click', () => { setMode(S.mode === 'note' ? 'reply' : 'note'); $('#reply-text').focus(); });

function renderComposerState() {
  const hint = $('#composer-hint');
  const send = $('#reply-send');
  hint.classList.remove('warn');
  if (!S.conv) return;
  if (S.mode === 'note') {
    send.disabled = false;
    hint.textContent = '备注只有客服能看到';
  } else if (canReply()) {
    send.disabled = false;
    hint.textContent = '可用 {{户号}} {{欠费}} {{客户称呼}}，发送时自动填写';
  } else {
    send.disabled = true;
    hint.classList.add('warn');
    const c = S.conv;
    if (holdsIt()) hint.textContent = c.window?.reason || '当前无法回复该客户';
    else if (c.state === 'held') hint.textContent = `该会话由${c.agent || '其他客服'}接待，您可以添加备注`;
    else if (c.state === 'queued') hint.textContent = '请先点“接入”再回复';
    else hint.textContent = '会话已回到机器人，无法回复';
  }
  renderAssist();
}

function saveDraft() {
  if (!S.openId) return;
  const v = $('#reply-text').value;
  if (v) S.drafts.set(S.openId, v); else S.drafts.delete(S.openId);
}

async function submitComposer() {
  const box = $('#reply-text');
  const text = box.value.trim();
  if (!text || !S.openId) return;
  if (S.mode === 'note') {
    await run(() => api(convPath(S.openId, 'note'), { method: 'POST', body: { text } }), () => {
      box.value = '';
      saveDraft();
    });
  } else {
    if ($('#reply-send').disabled) return;
    await sendReply(text);
  }
}

async function sendReply(text, { fromAssist = false } = {}) {
  const box = $('#reply-text');
  const send = $('#reply-send');
  send.disabled = true;
  await run(() => api(convPath(S.openId, 'reply'), { method: 'POST', body: { text } }), () => {
    if (!fromAssist || box.value.trim() === text) box.value = '';
    saveDraft();
  });
  renderComposerState();
}

// Runs an action, then refetches: success or failure, the server knows best.
async function run(action, onSuccess, successToast) {
  try {
    await action();
    onSuccess?.();
    if (successToast) toast(successToast);
  } catch (err) {
    toastError(err);
  }
  await Promise.all([refreshConversation(), refreshQueue()]);
}

$('#reply-send').addEventListener('click', submitComposer);

let composing = false;
const replyBox = $('#reply-text');
replyBox.addEventListener('compositionstart', () => { composing = true; });
replyBox.addEventListener('compositionend', () => { setTimeout(() => { composing = false; }, 0); });

replyBox.addEventListener('keydown', (e) => {
  const imeBusy = e.isComposing || composing || e.keyCode === 229;
  if (e.key === 'Tab' && !e.shiftKey && !imeBusy) {
    if (expandCannedAtCaret()) e.preventDefault();
    return;
  }
  if (e.key === 'Escape') { closePopovers(); return; }
  if (e.key === 'Enter' && !e.shiftKey && !imeBusy) {
    e.preventDefault();
    if (!$('#canned-pop').hidden && cannedPopFromSlash && pickActiveCanned()) return;
    submitComposer();
  }
  if ((e.key === 'ArrowDown' || e.key === 'ArrowUp') && !$('#canned-pop').hidden && cannedPopFromSlash) {
    e.preventDefault();
    moveCannedSelection(e.key === 'ArrowDown' ? 1 : -1);
  }
});

replyBox.addEventListener('input', () => {
  saveDraft();
  maybeSendTyping();
  const token = slashToken();
  if (token != null) showCanned(token, true);
  else if (cannedPopFromSlash) closePopovers();
});

// Others see "小王正在输入…" for a few seconds; one ping every 3 s is enough.
function maybeSendTyping() {
  if (S.mode !== 'reply' || !holdsIt()) return;
  const t = Date.now();
  if (t - S.lastTypingPost < TYPING_EVERY) return;
  S.lastTypingPost = t;
  api(convPath(S.openId, 'typing'), { method: 'POST' }).catch(() => {});
}

// ---------------------------------------------------------- canned replies

let cannedPopFromSlash = false;

async function loadCanned() {
  try {
    S.canned = (await api('/api/agent/canned')).canned ?? [];
  } catch {
    S.canned = [];
  }
}

// The "/code" being typed just before the caret, without its slash.
function slashToken() {
  const box = replyBox;
  const before = box.value.slice(0, box.selectionStart);
  const m = before.match(/(?:^|\s)\/([^\s/]*)$/);
  return m ? m[1] : null;
}

function cannedMatches(token) {
  const t = (token || '').toLowerCase();
  if (!t) return S.canned;
  const exact = S.canned.filter((c) => c.code.toLowerCase() === t);
  const prefix = S.canned.filter((c) => c.code.toLowerCase().startsWith(t) && !exact.includes(c));
  const loose = S.canned.filter((c) => !exact.includes(c) && !prefix.includes(c)
    && (c.title.includes(token) || c.text.includes(token)));
  return [...exact, ...prefix, ...loose];
}

function insertCanned(item) {
  const box = replyBox;
  const caret = box.selectionStart;
  const before = box.value.slice(0, caret);
  const after = box.value.slice(box.selectionEnd);
  const m = before.match(/(?:^|\s)\/([^\s/]*)$/);
  const start = m ? caret - m[1].length - 1 : caret;
  box.value = box.value.slice(0, start) + item.text + after;
  const pos = start + item.text.length;
  box.focus();
  box.setSelectionRange(pos, pos);
  closePopovers();
  saveDraft();
}

function expandCannedAtCaret() {
  const token = slashToken();
  if (token == null) return false;
  if (!$('#canned-pop').hidden && cannedPopFromSlash && pickActiveCanned()) return true;
  const [first] = cannedMatches(token);
  if (!first) return false;
  insertCanned(first);
  return true;
}

function pickActiveCanned() {
  const active = $('#canned-pop button.active');
  if (!active) return false;
  active.click();
  return true;
}

function moveCannedSelection(step) {
  const buttons = [...document.querySelectorAll('#canned-pop button')];
  if (!buttons.length) return;
  const i = buttons.findIndex((b) => b.classList.contains('active'));
  const next = buttons[(i + step + buttons.length) % buttons.length];
  buttons.forEach((b) => b.classList.toggle('active', b === next));
  next.scrollIntoView({ block: 'nearest' });
}

function showCanned(token, fromSlash) {
  const pop = $('#canned-pop');
  const items = cannedMatches(token);
  cannedPopFromSlash = fromSlash;
  pop.replaceChildren();
  if (!items.length) {
    if (fromSlash) { pop.hidden = true; return; }
    pop.append(el('div', 'none', S.canned.length ? '没有匹配的常用语' : '暂无常用语'));
  }
  items.forEach((item, i) => {
    const b = el('button');
    b.type = 'button';
    if (i === 0 && fromSlash) b.classList.add('active');
    b.append(el('span', 'code', `/${item.code}`), el('span', 'title', item.title), el('span', 'text', item.text));
    b.title = item.text;
    b.addEventListener('mousedown', (e) => e.preventDefault()); // keep the caret in the box
    b.addEventListener('click', () => insertCanned(item));
    pop.append(b);
  });
  pop.hidden = false;
}

$('#canned-btn').addEventListener('click', () => {
  const pop = $('#canned-pop');
  if (!pop.hidden && !cannedPopFromSlash) { closePopovers(); return; }
  showCanned('', false);
});

// ---------------------------------------------------------------- actions

$('#claim').addEventListener('click', () => run(() => api(convPath(S.openId, 'claim'), { method: 'POST' }), null, '已接入'));
const letGo = () => { S.expectGone = true; };
$('#release').addEventListener('click', () => run(() => api(convPath(S.openId, 'release'), { method: 'POST' }), letGo, '已释放给机器人'));

// Closing asks once more on the button itself (no blocking dialog).
let closeArmed = 0;
$('#close').addEventListener('click', () => {
  const button = $('#close');
  if (!closeArmed) {
    button.textContent = '确认结束？';
    button.classList.add('confirm');
    closeArmed = setTimeout(disarmClose, 3000);
    return;
  }
  disarmClose();
  run(() => api(convPath(S.openId, 'close'), { method: 'POST' }), letGo, '会话已结束');
});
function disarmClose() {
  clearTimeout(closeArmed);
  closeArmed = 0;
  $('#close').textContent = '结束会话';
  $('#close').classList.remove('confirm');
}

async function loadAgents() {
  if (!isLead()) { S.agents = []; return; }
  try {
    S.agents = (await api('/api/agent/agents')).agents ?? [];
  } catch {
    S.agents = [];
  }
}

function agentOptions(select, exclude) {
  select.replaceChildren();
  for (const a of S.agents) {
    if (a.name === exclude) continue;
    const o = el('option', null, `${a.name}（${a.held ?? 0}/${a.capacity || '∞'}${a.online ? '' : '，离线'}）`);
    o.value = a.name;
    select.append(o);
  }
}

$('#transfer-btn').addEventListener('click', async () => {
  const pop = $('#transfer-pop');
  if (!pop.hidden) { closePopovers(); return; }
  await loadAgents();
  const select = $('#transfer-to');
  agentOptions(select, S.conv?.agent);
  const back = el('option', null, '退回队列');
  back.value = '';
  select.prepend(back);
  select.value = '';
  pop.hidden = false;
  select.focus();
});

$('#transfer-go').addEventListener('click', () => {
  const to = $('#transfer-to').value;
  closePopovers();
  run(() => api(convPath(S.openId, 'transfer'), { method: 'POST', body: to ? { agent: to } : {} }), letGo,
    to ? `已转接给${to}` : '已退回队列');
});

function closePopovers() {
  $('#transfer-pop').hidden = true;
  $('#canned-pop').hidden = true;
  cannedPopFromSlash = false;
}

document.addEventListener('click', (e) => {
  if (!e.target.closest('.transfer')) $('#transfer-pop').hidden = true;
  if (!e.target.closest('.canned-wrap') && e.target !== replyBox) {
    $('#canned-pop').hidden = true;
    cannedPopFromSlash = false;
  }
});

// ------------------------------------------------------------ supervisor

async function refreshSuper() {
  await Promise.all([loadAgents(), refreshQueue()]);
  renderAgentsTable();
  renderAllConversations();
}

function renderAgentsTable() {
  const body = $('#agents-table tbody');
  body.replaceChildren();
  for (const a of S.agents) {
    const tr = el('tr');
    const status = el('td');
    status.append(el('span', a.online ? 'dot on' : 'dot'), document.createTextNode(a.online ? '在线' : '离线'));
    const load = el('td');
    const bar = el('span', a.capacity && a.held >= a.capacity ? 'bar full' : 'bar');
    const fill = el('i');
    fill.style.width = `${a.capacity ? Math.min(100, (100 * (a.held || 0)) / a.capacity) : 0}%`;
    bar.append(fill);
    load.append(bar, document.createTextNode(`${a.held ?? 0} / ${a.capacity || '不限'}`));
    tr.append(el('td', null, a.name), el('td', null, ROLES[a.role] ?? a.role), status, load,
      el('td', null, a.auto_assign ? '开' : '关'));
    body.append(tr);
  }
  if (!S.agents.length) body.append(emptyRow(5, '暂无客服数据'));
}

function emptyRow(span, text) {
  const tr = el('tr');
  const td = el('td', 'muted', text);
  td.colSpan = span;
  tr.append(td);
  return tr;
}

function renderAllConversations() {
  const body = $('#all-table tbody');
  body.replaceChildren();
  for (const c of S.queue) {
    const tr = el('tr', 'clickable');
    if (c.overdue && c.state === 'queued') tr.classList.add('overdue');
    const st = c.state === 'queued' ? '排队中' : '接待中';
    const wait = c.state === 'queued' ? duration(waitingNow(c)) : '—';
    const reassign = el('td');
    const select = el('select');
    agentOptions(select, c.agent);
    const go = el('button', null, '改派');
    go.type = 'button';
    go.disabled = !select.options.length;
    go.addEventListener('click', (e) => {
      e.stopPropagation();
      const to = select.value;
      if (!to) return;
      run(() => api(convPath(c.id, 'transfer'), { method: 'POST', body: { agent: to } }), () => refreshSuper(), `已改派给${to}`);
    });
    select.addEventListener('click', (e) => e.stopPropagation());
    reassign.append(select, go);
    tr.append(el('td', null, c.customer || '客户'), el('td', null, CHANNELS[c.channel] ?? c.channel), el('td', null, st),
      el('td', null, c.agent || '—'), el('td', null, wait), el('td', 'last', c.last_text || ''), reassign);
    tr.addEventListener('click', () => openConversation(c.id));
    body.append(tr);
  }
  if (!S.queue.length) body.append(emptyRow(7, '当前没有排队或接待中的会话'));
}

// ------------------------------------------------------------ live updates

let pendingRefresh = { queue: false, conv: false, timer: 0 };

// Events come in bursts (a reply is a message and a queue change):
// one refetch per burst.
function scheduleRefresh(data) {
  pendingRefresh.queue = true;
  if (!data || data.conversation == null || data.conversation === S.openId) pendingRefresh.conv = true;
  if (pendingRefresh.timer) return;
  pendingRefresh.timer = setTimeout(() => {
    const { queue, conv } = pendingRefresh;
    pendingRefresh = { queue: false, conv: false, timer: 0 };
    if (queue) refreshQueue();
    if (conv) refreshConversation();
    if (S.tab === 'super') loadAgents().then(renderAgentsTable);
  }, REFRESH_DEBOUNCE);
}

function connectEvents() {
  S.events?.close();
  const es = new EventSource('/api/agent/events');
  S.events = es;
  es.addEventListener('open', () => setLive(true));
  // The server ends the stream with this when the token ends.
  es.addEventListener('logout', () => {
    es.close();
    loggedOut();
  });
  es.addEventListener('change', (e) => {
    let data = null;
    try { data = JSON.parse(e.data); } catch { /* refetch everything */ }
    scheduleRefresh(data);
  });
  es.addEventListener('error', () => {
    setLive(false);
    // The browser retries by itself unless the answer was not a stream
    // (a 401, say): then check the login and start again.
    if (es.readyState === EventSource.CLOSED && S.events === es) {
      setTimeout(async () => {
        if (S.events !== es || !S.me) return;
        try {
          await api('/api/agent/me');
          connectEvents();
        } catch { /* loggedOut() took over, or the next tick tries again */ }
      }, 3000);
    }
  });
}

let ticker = 0;
let ticks = 0;
function startLive() {
  connectEvents();
  clearInterval(ticker);
  // Waiting times tick locally; once a minute a full refetch covers a
  // stream that died without saying so.
  ticker = setInterval(() => {
    ticks++;
    if (ticks % 4 === 0) { refreshQueue(); if (S.openId) refreshConversation(); } else { renderQueue(); }
    if (S.events?.readyState === EventSource.CLOSED) connectEvents();
  }, 15000);
}

function stopLive() {
  S.events?.close();
  S.events = null;
  clearInterval(ticker);
}

// ------------------------------------------------------------------ start

async function enterApp() {
  $('#login-view').hidden = true;
  $('#app-view').hidden = false;
  renderHeader();
  renderAssist();
  showTab('desk');
  startLive();
  await Promise.all([refreshQueue(), loadCanned(), loadAgents()]);
  const wanted = decodeURIComponent(location.hash.slice(1));
  if (wanted && S.me) openConversation(wanted);
}

async function boot() {
  try {
    S.me = await api('/api/agent/me');
  } catch (err) {
    showLogin(err.status === 401 || err.status === 403 ? '' : err.message);
    return;
  }
  enterApp();
}

boot();
