// The analysts' page (web/API.md, "The analysts' page (/analytics)").
// One page: the console's login, then the period's figures and charts,
// the flow funnels, the unrecognised messages to label, the search, and a
// drawer with a conversation's transcript or a funnel's flow runs.
// Charts are inline SVG drawn here, at the container's width, redrawn when
// it changes. Server text only ever enters the page as text nodes.

import { hhmm, el } from './text.js';

const $ = (sel) => document.querySelector(sel);

const ALLOWED = new Set(['analyst', 'supervisor', 'admin']);
const DESK_ROLES = new Set(['agent', 'supervisor', 'admin']);
const NO_PERMISSION = '您的账号没有查看分析数据的权限';
const PAGE_SIZE = 20;
const GROUPS_SHOWN = 12;

const ROLES = { agent: '客服', supervisor: '主管', analyst: '分析员', admin: '管理员' };
const CHANNELS = { wechat: '微信', web: '网页', cli: '终端' };
// Used until /api/analytics/intents answers (and for codes it does not list).
const INTENT_TITLES = {
  query_bill: '查电费账单', query_arrears: '查询欠费', pay_bill: '交电费', recharge_card: '充值卡充值',
  query_payments: '缴费记录', report_fault: '故障报修', query_outage: '停电查询', query_progress: '业务进度查询',
  bind_account: '绑定户号', unbind_account: '解绑户号', list_accounts: '查看已绑定户号', switch_account: '切换户号',
  query_profile: '查看用电档案', apply_service: '新装增容变更', subscribe_bill: '订阅电子账单',
  unsubscribe_bill: '退订电子账单', find_outlet: '查找营业网点', register: '注册', login: '登录',
  human_agent: '转人工', help: '功能帮助', greet: '问候', thanks: '感谢', goodbye: '告别', affirm: '肯定/确认',
  deny: '否定', cancel: '取消', unknown: '无法识别', bill_complaint: '电费异常咨询', handoff: '发给人工客服', menu_click: '点击菜单', location: '发送位置',
};
const FLOWS = {
  bind_account: '绑定户号', unbind_account: '解绑户号', switch_account: '切换默认户号', list_accounts: '查看已绑定户号',
  pay_bill: '在线缴费', recharge_card: '充值卡充值', report_fault: '故障报修', query_bill: '账单查询',
  query_arrears: '欠费查询', query_payments: '缴费记录', query_profile: '我的档案', query_progress: '进度查询',
  query_outage: '停电查询', find_outlet: '营业网点查询', apply_service: '新装变更', subscribe_bill: '订阅账单',
  unsubscribe_bill: '取消订阅', bill_complaint: '电费异常咨询', register: '注册', login: '登录',
};
const STEPS = {
  city: '所在城市', district: '区县', account: '户号', account_no: '户号', password: '密码', amount: '金额',
  method: '支付方式', confirm: '确认', address: '地址', address_offer: '确认地址', phone: '手机号',
  phone_offer: '确认手机号', description: '故障描述', card_no: '卡号', channel: '接收渠道', email: '邮箱',
  code: '验证码', name: '姓名', type: '业务类型', choose: '选择', place: '地点', place_offer: '确认地点',
  location: '位置', offer: '确认', gave_up: '放弃',
};
const SLOTS = {
  account_no: '户号', business_no: '业务编号', card_no: '卡号', phone: '手机', email: '邮箱', month: '月份',
  start_month: '起始月', end_month: '结束月', amount: '金额', pay_method: '支付方式', channel: '渠道',
  apply_type: '业务类型', city: '城市', district: '区县', address: '地址', description: '描述', name: '姓名',
};
// How a flow run ends (analytics.md), in the order of the stacked bar.
const OUTCOMES = [
  { key: 'completed', name: '完成', color: '#2fb36b' },
  { key: 'handed_off', name: '转人工', color: '#8b5cf6' },
  { key: 'gave_up', name: '放弃（机器人放弃）', short: '机器人放弃', color: '#e0463b' },
  { key: 'cancelled', name: '取消', color: '#94a3b8' },
  { key: 'abandoned', name: '中途离开', color: '#f59e0b' },
  { key: 'open', name: '进行中', color: '#38bdf8' },
];
const REASONS = { asked: '客户要求转人工', not_understood: '机器人未能理解', gave_up: '流程未完成' };
const HANDOFF_TAGS = { asked: '客户要求', not_understood: '未能理解', gave_up: '流程未完成' };
const C = {
  primary: '#1f7ae0', soft: '#e8f2fe', teal: '#14b8a6', orange: '#f59e0b', red: '#e0463b',
  purple: '#8b5cf6', green: '#2fb36b', grid: '#edf0f5', axis: '#9aa7b6',
};

const S = {
  me: null,
  from: '',
  to: '',
  summary: null,
  days: [],
  intents: [], // [{intent, title}]
  titles: new Map(),
  groups: [],
  groupsAll: false,
  search: { day: null, next: null, count: 0, seq: 0, q: '' },
  drawer: null, // {runs: {...}} when a runs list is behind the transcript
};

const intentTitle = (code) => S.titles.get(code) ?? INTENT_TITLES[code] ?? code;
const flowName = (code) => FLOWS[code] ?? S.titles.get(code) ?? INTENT_TITLES[code] ?? code;
const stepName = (code) => STEPS[code] ?? code;
const channelName = (code) => CHANNELS[code] ?? code;
const replyText = (r) => (typeof r === 'string' ? r : r?.text ?? '');

// --------------------------------------------------------------- format

const TZ = 'Asia/Shanghai';
const ymd = new Intl.DateTimeFormat('en-CA', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit' });
const monthDay = new Intl.DateTimeFormat('zh-CN', { timeZone: TZ, month: 'long', day: 'numeric' });
const nf = new Intl.NumberFormat('zh-CN');
const WEEKDAYS = ['周日', '周一', '周二', '周三', '周四', '周五', '周六'];

const today = () => ymd.format(new Date());
const addDays = (date, n) => new Date(Date.parse(`${date}T00:00:00Z`) + n * 86400000).toISOString().slice(0, 10);
const daysBetween = (a, b) => Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86400000);
const validDate = (s) => /^\d{4}-\d{2}-\d{2}$/.test(s || '') && !Number.isNaN(Date.parse(`${s}T00:00:00Z`))
  && new Date(`${s}T00:00:00Z`).toISOString().slice(0, 10) === s;
const dayLabel = (date) => `${Number(date.slice(5, 7))}月${Number(date.slice(8, 10))}日`;
const axisDay = (date) => `${Number(date.slice(5, 7))}/${Number(date.slice(8, 10))}`;
const weekday = (date) => WEEKDAYS[new Date(`${date}T00:00:00Z`).getUTCDay()];
const dateOf = (at) => (at ? monthDay.format(new Date(at * 1000)) : '');
const dateKeyOf = (at) => ymd.format(new Date(at * 1000));

const num = (n) => (n == null || Number.isNaN(Number(n)) ? '—' : nf.format(n));
const pct = (x, digits = 1) => (x == null || Number.isNaN(Number(x)) ? '—' : `${(Number(x) * 100).toFixed(digits)}%`);
const share = (part, whole) => (whole ? `${((100 * part) / whole).toFixed(part / whole >= 0.1 || part === 0 ? 0 : 1)}%` : '—');
function ms(x) {
  if (x == null || Number.isNaN(Number(x))) return '—';
  return x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${Math.round(x)} ms`;
}
function secs(s) {
  if (s == null || Number.isNaN(Number(s))) return '—';
  const t = Math.round(s);
  if (t < 60) return `${t}秒`;
  const m = Math.floor(t / 60);
  if (m < 60) return t % 60 ? `${m}分${t % 60}秒` : `${m}分钟`;
  return `${Math.floor(m / 60)}小时${m % 60 ? `${m % 60}分` : ''}`;
}
const confidence = (c) => (c == null ? '' : `${Math.round(Number(c) * 100)}%`);
const hasChinese = (s) => /[\u4e00-\u9fff]/.test(s || '');

// ------------------------------------------------------------------ API

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

function fallbackError(status) {
  if (status === 0) return '网络连接失败，请检查网络后再试';
  if (status === 401) return '登录已过期，请重新登录';
  if (status === 403) return NO_PERMISSION;
  if (status === 404) return '没有找到，或该功能暂未开放';
  if (status === 429) return '操作太频繁，请稍后再试';
  if (status >= 400 && status < 500) return '请求有误，请检查筛选条件';
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
    if (res.status === 403 && path.startsWith('/api/analytics/')) showDenied();
    throw err;
  }
  return data ?? {};
}

const analyticsPath = (name, params) => `/api/analytics/${name}${params ? `?${params}` : ''}`;

function periodParams(extra = {}, { from = S.from, to = S.to } = {}) {
  const p = new URLSearchParams({ from, to });
  for (const [k, v] of Object.entries(extra)) if (v != null && v !== '' && v !== false) p.set(k, v === true ? '1' : String(v));
  return p;
}

// A message for the page from a failed call.
const errorText = (err) => (hasChinese(err?.message) ? err.message : `${fallbackError(err?.status ?? 500)}${err?.message ? `（${err.message}）` : ''}`);

// ---------------------------------------------------------------- toast

let toastTimer = 0;
function toast(message) {
  const t = $('#toast');
  t.textContent = message;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, 4000);
}

// --------------------------------------------------------------- login

function showOnly(view) {
  for (const id of ['login-view', 'denied-view', 'app-view']) $(`#${id}`).hidden = id !== view;
  if (view !== 'app-view') closeDrawer();
}

function showLogin(message = '') {
  showOnly('login-view');
  $('#login-error').textContent = message;
  $('#login-password').value = '';
  $('#login-submit').disabled = false;
  $('#login-submit').textContent = '登录';
  ($('#login-name').value ? $('#login-password') : $('#login-name')).focus();
}

function loggedOut() {
  if (!S.me) return;
  S.me = null;
  showLogin('登录已过期，请重新登录');
}

function showDenied() {
  showOnly('denied-view');
  $('#denied-message').textContent = NO_PERMISSION;
  const me = S.me;
  $('#denied-who').textContent = me ? `当前登录：${me.name}（${ROLES[me.role] ?? me.role}）。请联系管理员开通分析员权限。` : '';
  $('#denied-desk').hidden = !(me && DESK_ROLES.has(me.role));
}

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

async function logout() {
  try { await api('/api/agent/logout', { method: 'POST' }); } catch { /* leaving anyway */ }
  S.me = null;
  showLogin('');
}
$('#logout').addEventListener('click', logout);
$('#denied-logout').addEventListener('click', logout);

// --------------------------------------------------------------- period

function readPeriodFromUrl() {
  const q = new URLSearchParams(location.search);
  let from = q.get('from');
  let to = q.get('to');
  if (!validDate(to)) to = validDate(from) && from > today() ? from : today();
  if (!validDate(from)) from = addDays(to, -6);
  if (from > to) [from, to] = [to, from];
  S.from = from;
  S.to = to;
}

function writePeriodToUrl() {
  const q = new URLSearchParams(location.search);
  q.set('from', S.from);
  q.set('to', S.to);
  history.replaceState(null, '', `${location.pathname}?${q}${location.hash}`);
}

function renderPeriod() {
  $('#period-from').value = S.from;
  $('#period-to').value = S.to;
  $('#period-from').max = today();
  $('#period-to').max = today();
  const n = daysBetween(S.from, S.to) + 1;
  const sameYear = S.from.slice(0, 4) === S.to.slice(0, 4);
  const from = `${S.from.slice(0, 4)}年${dayLabel(S.from)}`;
  const to = sameYear ? dayLabel(S.to) : `${S.to.slice(0, 4)}年${dayLabel(S.to)}`;
  $('#period-label').textContent = n === 1 ? `${from}（${weekday(S.from)}）` : `${from} – ${to} · 共${n}天`;
  for (const b of document.querySelectorAll('.quick button')) {
    const days = Number(b.dataset.days);
    b.classList.toggle('active', S.to === today() && n === days);
  }
}

function setPeriod(from, to) {
  if (!validDate(from) || !validDate(to)) { toast('请选择有效的日期'); return; }
  if (from > to) { toast('开始日期不能晚于结束日期'); return; }
  if (daysBetween(from, to) > 3660) { toast('时段太长，请选择十年以内'); return; }
  S.from = from;
  S.to = to;
  S.search.day = null;
  writePeriodToUrl();
  renderPeriod();
  loadPeriod();
}

$('#period-form').addEventListener('submit', (e) => {
  e.preventDefault();
  setPeriod($('#period-from').value, $('#period-to').value);
});
for (const b of document.querySelectorAll('.quick button')) {
  b.addEventListener('click', () => setPeriod(addDays(today(), -(Number(b.dataset.days) - 1)), today()));
}

// ------------------------------------------------------------------ SVG

const SVGNS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs = {}, parent = null) {
  const node = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v != null) node.setAttribute(k, String(v));
  if (parent) parent.append(node);
  return node;
}

function svgText(parent, x, y, text, attrs = {}) {
  const t = svg('text', { x, y, ...attrs }, parent);
  t.textContent = String(text);
  return t;
}

// Ticks 0..top for values up to `max`: 1, 2, 2.5 or 5 times a power of ten.
function niceTicks(max, count = 4, { integer = false } = {}) {
  const m = max > 0 ? max : 1;
  const raw = m / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw);
  if (integer) step = Math.max(1, Math.ceil(step));
  const top = Math.ceil(m / step - 1e-9) * step;
  const ticks = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push(Math.round(v * 1e6) / 1e6);
  return { top, ticks };
}

function mix(a, b, t) {
  const p = (h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));
  const [x, y] = [p(a), p(b)];
  return `#${x.map((v, i) => Math.round(v + (y[i] - v) * t).toString(16).padStart(2, '0')).join('')}`;
}

// ------------------------------------------------------------- tooltips

const tip = $('#tip');

function tipShow(content, x, y) {
  const rows = content.rows ?? [];
  tip.replaceChildren(el('strong', null, content.title));
  for (const r of rows) {
    const row = el('div', 'tip-row');
    if (r.color) {
      const sw = el('i', 'sw');
      sw.style.background = r.color;
      row.append(sw);
    }
    row.append(el('span', null, r.label), el('b', null, r.value));
    tip.append(row);
  }
  if (content.hint) tip.append(el('div', 'tip-hint', content.hint));
  tip.hidden = false;
  const w = tip.offsetWidth;
  const h = tip.offsetHeight;
  let left = x + 14;
  let top = y + 14;
  if (left + w > window.innerWidth - 8) left = Math.max(8, x - w - 14);
  if (top + h > window.innerHeight - 8) top = Math.max(8, y - h - 14);
  tip.style.left = `${left}px`;
  tip.style.top = `${top}px`;
}

function tipHide() { tip.hidden = true; }

const tipAsText = (c) => [c.title, ...(c.rows ?? []).map((r) => `${r.label} ${r.value}`)].join('，');

// Hover (and keyboard focus) shows `content()`; a click runs `onClick`.
function interactive(node, content, onClick) {
  node.addEventListener('pointerenter', (e) => tipShow(content(), e.clientX, e.clientY));
  node.addEventListener('pointermove', (e) => tipShow(content(), e.clientX, e.clientY));
  node.addEventListener('pointerleave', tipHide);
  node.setAttribute('aria-label', tipAsText(content()));
  if (!onClick) return node;
  node.classList.add('clickable');
  node.setAttribute('tabindex', '0');
  node.setAttribute('role', 'link');
  node.addEventListener('click', () => { tipHide(); onClick(); });
  node.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); tipHide(); onClick(); }
  });
  node.addEventListener('focus', () => {
    const r = node.getBoundingClientRect();
    tipShow(content(), r.left + r.width / 2, r.top + r.height / 2);
  });
  node.addEventListener('blur', tipHide);
  return node;
}

window.addEventListener('scroll', tipHide, { passive: true });

// ---------------------------------------------------------------- charts

// Every chart container draws itself at its own width; a change of width
// draws it again.
const drawers = new Map(); // container -> {draw, width}
const resizer = new ResizeObserver((entries) => {
  for (const entry of entries) {
    const d = drawers.get(entry.target);
    if (!d) continue;
    const w = Math.round(entry.contentRect.width);
    if (w && w !== d.width) requestAnimationFrame(() => drawNow(entry.target));
  }
});

function mount(container, draw) {
  drawers.set(container, { draw, width: 0 });
  resizer.observe(container);
  drawNow(container);
}

function drawNow(container) {
  const d = drawers.get(container);
  if (!d) return;
  d.width = Math.round(container.clientWidth);
  container.replaceChildren();
  container.dataset.state = 'ready';
  d.draw(container);
}

function chartMessage(container, text, state = 'empty') {
  drawers.delete(container);
  resizer.unobserve(container);
  container.dataset.state = state;
  container.replaceChildren(el('div', `chart-empty ${state}`, text));
}

function frame(container, height, { left = 44, right = 14, top = 14, bottom = 30 } = {}) {
  const width = Math.max(240, Math.floor(container.clientWidth));
  const root = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, class: 'chart-svg' });
  container.append(root);
  return { root, width, height, x0: left, x1: width - right, y0: top, y1: height - bottom };
}

// Horizontal gridlines and the y labels.
function yAxis(f, ticks, top, format) {
  const g = svg('g', { class: 'axis y' }, f.root);
  const y = (v) => f.y1 - ((f.y1 - f.y0) * v) / (top || 1);
  for (const t of ticks) {
    svg('line', { x1: f.x0, x2: f.x1, y1: y(t), y2: y(t), class: t === 0 ? 'baseline' : 'gridline' }, g);
    svgText(g, f.x0 - 8, y(t) + 4, format(t), { 'text-anchor': 'end' });
  }
  return y;
}

// Day labels under the bands, thinned out to fit.
function xAxis(f, days, bandX) {
  const g = svg('g', { class: 'axis x' }, f.root);
  const every = Math.max(1, Math.ceil(days.length / Math.max(1, Math.floor((f.x1 - f.x0) / 46))));
  days.forEach((d, i) => {
    if ((days.length - 1 - i) % every) return; // keep the last day's label
    svgText(g, bandX(i), f.y1 + 18, axisDay(d.date), { 'text-anchor': 'middle' });
  });
}

function legend(container, items) {
  const ul = el('ul', 'legend');
  for (const it of items) {
    const li = el('li', it.line ? 'line' : null);
    const sw = el('i', 'sw');
    sw.style.background = it.color;
    if (it.onClick) {
      const b = el('button', 'legend-item');
      b.type = 'button';
      b.append(sw, el('span', null, it.name));
      b.title = it.title ?? '';
      b.addEventListener('click', it.onClick);
      li.append(b);
    } else {
      li.append(sw, el('span', null, it.name));
    }
    ul.append(li);
  }
  container.append(ul);
}

function dayRows(d, series) {
  return series.map((s) => ({ color: s.color, label: s.name, value: s.format(s.value(d)) }));
}

// Bars per day (turns), a line over them (conversations).
function drawTurnsChart(container) {
  const days = S.days;
  const bars = { name: '轮次', color: C.primary, value: (d) => d.turns ?? 0, format: num };
  const line = { name: '会话数', color: C.teal, value: (d) => d.conversations ?? 0, format: num };
  const f = frame(container, 250);
  const { top, ticks } = niceTicks(Math.max(1, ...days.map(bars.value), ...days.map(line.value)), 4, { integer: true });
  const y = yAxis(f, ticks, top, num);
  const band = (f.x1 - f.x0) / days.length;
  const bx = (i) => f.x0 + band * (i + 0.5);
  const barW = Math.max(2, Math.min(38, band * 0.62));
  const content = (d) => ({
    title: `${dayLabel(d.date)} ${weekday(d.date)}`,
    rows: [...dayRows(d, [bars, line]), { label: '客户数', value: num(d.customers) }],
    hint: '点击查看当天的对话',
  });
  const g = svg('g', { class: 'bars' }, f.root);
  days.forEach((d, i) => {
    const col = svg('g', { class: 'col', 'data-date': d.date }, g);
    const h = f.y1 - y(bars.value(d));
    svg('rect', { class: 'bar-rect', x: bx(i) - barW / 2, y: f.y1 - h, width: barW, height: h, rx: Math.min(4, barW / 3), fill: bars.color }, col);
    const hit = svg('rect', { class: 'hit', x: f.x0 + band * i, y: f.y0, width: band, height: f.y1 - f.y0, fill: 'transparent' }, col);
    interactive(hit, () => content(d), () => drillSearch({ day: d.date }));
  });
  drawLine(f, days, line, bx, y, { points: days.length <= 45 });
  xAxis(f, days, bx);
  legend(container, [bars, { ...line, line: true }]);
}

// One series as a line with points; a point or the line may be links.
function drawLine(f, days, s, bx, y, { points = true, onLine = null, onPoint = null, content = null } = {}) {
  const g = svg('g', { class: 'series', 'data-series': s.key ?? s.name }, f.root);
  const pts = days.map((d, i) => [bx(i), y(s.value(d))]);
  const dAttr = pts.map(([x, yy], i) => `${i ? 'L' : 'M'}${x.toFixed(1)},${yy.toFixed(1)}`).join('');
  if (pts.length > 1) {
    svg('path', { class: 'line', d: dAttr, stroke: s.color, fill: 'none' }, g);
    if (onLine) {
      const hit = svg('path', { class: 'line-hit', d: dAttr, stroke: 'transparent', fill: 'none' }, g);
      interactive(hit, () => ({ title: s.name, rows: [{ color: s.color, label: '整个时段', value: s.total ?? '' }], hint: s.lineHint }), onLine);
    }
  }
  if (!points && pts.length > 1) return;
  days.forEach((d, i) => {
    const [x, yy] = pts[i];
    const dot = svg('circle', { class: 'pt', cx: x, cy: yy, r: 3.5, fill: '#fff', stroke: s.color }, g);
    if (onPoint) {
      dot.setAttribute('r', 4);
      interactive(dot, () => content(d), () => onPoint(d));
    }
  });
}

// Lines per day with hover bands that show every series of the day.
function drawLinesChart(container, series, { format, axisFormat, minTop, onLine, onPoint, hint }) {
  const days = S.days;
  const f = frame(container, 250, { left: 50 });
  const max = Math.max(minTop, ...days.flatMap((d) => series.map((s) => s.value(d) ?? 0)));
  const { top, ticks } = niceTicks(max, 4);
  const y = yAxis(f, ticks, top, axisFormat);
  const band = (f.x1 - f.x0) / days.length;
  const bx = (i) => f.x0 + band * (i + 0.5);
  const content = (d) => ({ title: `${dayLabel(d.date)} ${weekday(d.date)}`, rows: dayRows(d, series), hint });
  const bands = svg('g', { class: 'bands' }, f.root);
  days.forEach((d, i) => {
    const hit = svg('rect', { class: 'band', x: f.x0 + band * i, y: f.y0, width: band, height: f.y1 - f.y0, fill: 'transparent' }, bands);
    interactive(hit, () => content(d), null);
  });
  for (const s of series) {
    drawLine(f, days, { ...s, format }, bx, y, {
      points: days.length <= 45 || !!onPoint,
      onLine: onLine ? () => onLine(s) : null,
      onPoint: onPoint ? (d) => onPoint(s, d) : null,
      content,
    });
  }
  xAxis(f, days, bx);
  legend(container, series.map((s) => ({ ...s, line: true, onClick: onLine ? () => onLine(s) : null, title: s.lineHint })));
}

function drawRatesChart(container) {
  const t = S.summary.totals ?? {};
  const series = [
    { key: 'fallback', name: '未识别率', color: C.orange, value: (d) => d.fallback_rate ?? 0, format: pct, total: pct(t.fallback_rate), lineHint: '点击查看机器人未能识别的对话' },
    { key: 'handoff', name: '转人工率', color: C.purple, value: (d) => d.handoff_rate ?? 0, format: pct, total: pct(t.handoff_rate), lineHint: '点击查看转人工的对话' },
  ];
  drawLinesChart(container, series, {
    format: pct,
    axisFormat: (v) => `${Math.round(v * 1000) / 10}%`,
    minTop: 0.05,
    hint: '点击圆点查看当天对应的对话',
    onLine: (s) => drillSearch({ [s.key]: true }),
    onPoint: (s, d) => drillSearch({ day: d.date, [s.key]: true }),
  });
}

function drawLatencyChart(container) {
  const series = [
    { key: 'p50', name: 'p50', color: C.green, value: (d) => d.latency_ms?.p50 ?? 0, format: ms },
    { key: 'p95', name: 'p95', color: C.orange, value: (d) => d.latency_ms?.p95 ?? 0, format: ms },
    { key: 'p99', name: 'p99', color: C.red, value: (d) => d.latency_ms?.p99 ?? 0, format: ms },
  ];
  drawLinesChart(container, series, {
    format: ms,
    axisFormat: (v) => (v >= 1000 ? `${v / 1000}s` : `${v}`),
    minTop: 10,
    hint: '点击圆点查看当天的对话',
    onPoint: (s, d) => drillSearch({ day: d.date }),
  });
}

// Horizontal bars: [{label, value, color, tip?, onClick?}].
function drawHBars(container, rows, { total, format = num, labelWidth = 120, rowHeight = 28, valueWidth = 92 } = {}) {
  const width = Math.max(240, Math.floor(container.clientWidth));
  const lw = Math.min(labelWidth, Math.floor(width * 0.36));
  const vw = Math.min(valueWidth, Math.floor(width * 0.28));
  const height = rows.length * rowHeight + 4;
  const root = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, class: 'chart-svg hbars' });
  container.append(root);
  const area = width - lw - vw;
  const max = Math.max(1, ...rows.map((r) => r.value));
  rows.forEach((r, i) => {
    const y = i * rowHeight + 2;
    const g = svg('g', { class: 'row' }, root);
    const label = svgText(g, lw - 10, y + rowHeight / 2 + 4, r.label, { 'text-anchor': 'end', class: 'label' });
    if (r.label.length * 12 > lw - 12) {
      label.textContent = `${r.label.slice(0, Math.max(2, Math.floor((lw - 24) / 12)))}…`;
    }
    svg('rect', { class: 'track', x: lw, y: y + 6, width: area, height: rowHeight - 12, rx: 4 }, g);
    const w = (area * r.value) / max;
    svg('rect', { class: 'bar-rect', x: lw, y: y + 6, width: Math.max(r.value ? 2 : 0, w), height: rowHeight - 12, rx: 4, fill: r.color ?? C.primary }, g);
    const value = svgText(g, lw + area + 8, y + rowHeight / 2 + 4, format(r.value), { class: 'value' });
    if (total) {
      const tspan = svg('tspan', { class: 'share', dx: 6 }, value);
      tspan.textContent = share(r.value, total);
    }
    const hit = svg('rect', { class: 'hit', x: 0, y, width, height: rowHeight, fill: 'transparent' }, g);
    const content = () => r.tip ?? { title: r.label, rows: [{ color: r.color ?? C.primary, label: '数量', value: format(r.value) }] };
    interactive(hit, content, r.onClick ?? null);
  });
}

function drawIntentsChart(container) {
  const list = [...(S.summary.intents ?? [])].sort((a, b) => b.turns - a.turns);
  const total = list.reduce((s, r) => s + (r.turns ?? 0), 0);
  // As many rows as keep the panel as tall as the charts beside it.
  const shown = list.length > 10 ? list.slice(0, 9) : list;
  const rest = list.slice(shown.length);
  const rows = shown.map((r) => ({
    label: intentTitle(r.intent),
    value: r.turns ?? 0,
    color: r.intent === 'unknown' ? C.orange : C.primary,
    tip: {
      title: intentTitle(r.intent),
      rows: [{ color: r.intent === 'unknown' ? C.orange : C.primary, label: r.intent, value: `${num(r.turns)} 轮 · ${share(r.turns, total)}` }],
      hint: '点击查看该意图的对话',
    },
    onClick: () => drillSearch({ intent: r.intent }),
  }));
  if (rest.length) {
    const n = rest.reduce((s, r) => s + r.turns, 0);
    rows.push({ label: `其他${rest.length}个意图`, value: n, color: '#b8c3d1', tip: { title: '其他意图', rows: rest.slice(0, 8).map((r) => ({ label: intentTitle(r.intent), value: num(r.turns) })) } });
  }
  drawHBars(container, rows, { total, labelWidth: 130, rowHeight: 26 });
}

// A funnel: started, then each step's reached, centred bars joined by
// trapezoids; under it how the runs ended, as one stacked bar.
function drawFunnel(container, f) {
  const rows = [
    { label: '开始', value: f.started ?? 0, open: () => openRuns(f, {}) },
    ...(f.steps ?? []).map((s) => ({ label: stepName(s.step), code: s.step, value: s.reached ?? 0, open: () => openRuns(f, { step: s.step }) })),
  ];
  const width = Math.max(240, Math.floor(container.clientWidth));
  const narrow = width < 380;
  const lw = narrow ? 62 : 86;
  const vw = narrow ? 70 : 100;
  const barH = 26;
  const gap = 12;
  const height = rows.length * (barH + gap) - gap + 2;
  const root = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, class: 'chart-svg funnel-svg' });
  container.append(root);
  const area = width - lw - vw;
  const cx = lw + area / 2;
  const base = Math.max(1, ...rows.map((r) => r.value));
  const w = (v) => Math.max(4, (area * v) / base);
  rows.forEach((r, i) => {
    const y = i * (barH + gap) + 1;
    if (i > 0) {
      const p = rows[i - 1];
      const py = y - gap;
      svg('polygon', {
        class: 'joint',
        points: `${cx - w(p.value) / 2},${py} ${cx + w(p.value) / 2},${py} ${cx + w(r.value) / 2},${y} ${cx - w(r.value) / 2},${y}`,
      }, root);
    }
    const g = svg('g', { class: 'stage', 'data-step': r.code ?? '' }, root);
    svg('rect', { class: 'bar-rect', x: cx - w(r.value) / 2, y, width: w(r.value), height: barH, rx: 4, fill: mix(C.primary, '#7db5f2', i / Math.max(1, rows.length - 1)) }, g);
    svgText(g, lw - 10, y + barH / 2 + 4, r.label, { 'text-anchor': 'end', class: 'label' });
    const v = svgText(g, lw + area + 10, y + barH / 2 + 4, num(r.value), { class: 'value' });
    if (i > 0) {
      const t = svg('tspan', { class: 'share', dx: 6 }, v);
      t.textContent = share(r.value, f.started);
    }
    const hit = svg('rect', { class: 'hit', x: 0, y, width, height: barH, fill: 'transparent' }, g);
    const prev = rows[i - 1];
    interactive(hit, () => ({
      title: i ? `${r.label}（${r.code}）` : `开始${flowName(f.flow)}`,
      rows: [
        { color: C.primary, label: i ? '到达此步骤' : '开始次数', value: num(r.value) },
        ...(i ? [{ label: '占开始', value: share(r.value, f.started) }, { label: '较上一步流失', value: num(Math.max(0, prev.value - r.value)) }] : []),
      ],
      hint: '点击查看这些会话',
    }), r.open);
  });
}

function drawOutcomes(container, f) {
  const total = OUTCOMES.reduce((s, o) => s + (f[o.key] ?? 0), 0);
  const width = Math.max(240, Math.floor(container.clientWidth));
  const height = 22;
  const root = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, class: 'chart-svg outcomes-svg' });
  container.append(root);
  const id = `clip-${f.flow}-${Math.random().toString(36).slice(2, 8)}`;
  const clip = svg('clipPath', { id }, svg('defs', {}, root));
  svg('rect', { x: 0, y: 0, width, height, rx: 6 }, clip);
  const g = svg('g', { 'clip-path': `url(#${id})` }, root);
  svg('rect', { class: 'track', x: 0, y: 0, width, height }, g);
  let x = 0;
  for (const o of OUTCOMES) {
    const n = f[o.key] ?? 0;
    if (!n) continue;
    const w = (width * n) / (total || 1);
    const seg = svg('rect', { class: 'seg', 'data-ended': o.key, x, y: 0, width: Math.max(1, w - 1), height, fill: o.color }, g);
    interactive(seg, () => ({
      title: `${flowName(f.flow)} · ${o.name}`,
      rows: [{ color: o.color, label: '会话数', value: num(n) }, { label: '占开始', value: share(n, f.started) }],
      hint: '点击查看这些会话',
    }), () => openRuns(f, { ended: o.key }));
    x += w;
  }
}

function renderFunnels() {
  const box = $('#funnels');
  const list = S.summary?.funnels ?? [];
  box.replaceChildren();
  if (!list.length) {
    box.append(el('p', 'panel empty-panel', '该时段没有客户进入业务流程'));
    return;
  }
  for (const f of list) {
    const card = el('article', 'panel funnel');
    card.dataset.flow = f.flow;
    const head = el('header', 'panel-head');
    const title = el('h3', null, flowName(f.flow));
    if (flowName(f.flow) !== f.flow) title.append(el('code', 'code', f.flow));
    const stats = el('span', 'funnel-stats');
    stats.append(el('span', null, `开始 ${num(f.started)}`), el('span', 'ok', `完成率 ${share(f.completed ?? 0, f.started)}`));
    head.append(title, stats);
    const chart = el('div', 'chart funnel-chart');
    const outcomes = el('div', 'chart outcomes-chart');
    const ul = el('ul', 'legend outcomes');
    for (const o of OUTCOMES) {
      const n = f[o.key] ?? 0;
      const li = el('li');
      const b = el('button', 'legend-item');
      b.type = 'button';
      b.dataset.ended = o.key;
      const sw = el('i', 'sw');
      sw.style.background = o.color;
      b.append(sw, el('span', null, o.short ?? o.name), el('b', null, num(n)));
      b.title = `${o.name}：${num(n)}（${share(n, f.started)}），点击查看`;
      b.disabled = !n;
      b.addEventListener('click', () => openRuns(f, { ended: o.key }));
      li.append(b);
      ul.append(li);
    }
    card.append(head, chart, el('div', 'outcomes-title', '结果'), outcomes, ul);
    box.append(card);
    mount(chart, (c) => drawFunnel(c, f));
    mount(outcomes, (c) => drawOutcomes(c, f));
  }
}

function sparkline(values, color) {
  const n = values.length;
  const root = svg('svg', { class: 'spark', viewBox: '0 0 100 28', preserveAspectRatio: 'none', 'aria-hidden': 'true' });
  if (n < 2) return root;
  const max = Math.max(...values, 1e-9);
  const min = Math.min(...values, 0);
  const pts = values.map((v, i) => `${((100 * i) / (n - 1)).toFixed(2)},${(26 - (24 * (v - min)) / (max - min || 1)).toFixed(2)}`);
  svg('polygon', { points: `0,28 ${pts.join(' ')} 100,28`, fill: color, 'fill-opacity': 0.1 }, root);
  svg('polyline', { points: pts.join(' '), fill: 'none', stroke: color, 'stroke-width': 1.6, 'vector-effect': 'non-scaling-stroke' }, root);
  return root;
}

// ------------------------------------------------------------ the summary

function fillDays(days) {
  const byDate = new Map((days ?? []).map((d) => [d.date, d]));
  const n = daysBetween(S.from, S.to) + 1;
  if (n > 400) return days ?? [];
  const zero = { conversations: 0, turns: 0, customers: 0, desk_messages: 0, fallback_rate: 0, handoff_rate: 0, latency_ms: { p50: 0, p95: 0, p99: 0 } };
  return Array.from({ length: n }, (_, i) => {
    const date = addDays(S.from, i);
    return byDate.get(date) ?? { date, ...zero };
  });
}

const CHART_IDS = ['chart-turns', 'chart-rates', 'chart-latency', 'chart-intents'];

let summarySeq = 0;
async function loadSummary() {
  const seq = ++summarySeq;
  for (const id of CHART_IDS) chartMessage($(`#${id}`), '加载中…', 'loading');
  $('#kpis').replaceChildren(...Array.from({ length: 6 }, () => el('div', 'kpi skeleton')));
  $('#funnels').replaceChildren(el('p', 'panel empty-panel', '加载中…'));
  let data;
  try {
    data = await api(analyticsPath('summary', periodParams()));
  } catch (err) {
    if (seq !== summarySeq || err.status === 401 || err.status === 403) return;
    const text = `暂时无法加载：${errorText(err)}`;
    for (const id of CHART_IDS) chartMessage($(`#${id}`), text, 'error');
    $('#kpis').replaceChildren(el('p', 'panel empty-panel error', text));
    $('#funnels').replaceChildren(el('p', 'panel empty-panel error', text));
    $('#desk').hidden = true;
    return;
  }
  if (seq !== summarySeq) return;
  S.summary = data;
  S.days = fillDays(data.days);
  renderSummary();
}

function renderSummary() {
  renderKpis();
  const any = S.days.some((d) => d.turns || d.conversations);
  if (!any && !(S.summary.totals?.turns)) {
    for (const id of CHART_IDS) chartMessage($(`#${id}`), '该时段没有对话');
  } else {
    mount($('#chart-turns'), drawTurnsChart);
    mount($('#chart-rates'), drawRatesChart);
    mount($('#chart-latency'), drawLatencyChart);
    if ((S.summary.intents ?? []).length) mount($('#chart-intents'), drawIntentsChart);
    else chartMessage($('#chart-intents'), '该时段没有识别出意图');
  }
  renderFunnels();
  renderDesk();
  renderFlowOptions();
}

function kpi(key, label, value, { unit = '', sub = '', spark = null, color = C.primary, tone = '' } = {}) {
  const card = el('div', `kpi${tone ? ` ${tone}` : ''}`);
  card.dataset.kpi = key;
  card.append(el('span', 'kpi-label', label));
  const v = el('strong', 'value', value);
  if (unit) v.append(el('small', 'unit', unit));
  card.append(v);
  if (sub) card.append(el('span', 'kpi-sub', sub));
  if (spark && spark.length > 1) card.append(sparkline(spark, color));
  return card;
}

function renderKpis() {
  const t = S.summary.totals ?? {};
  const days = S.days;
  const n = days.length || 1;
  const fallbackTurns = Math.round((t.turns ?? 0) * (t.fallback_rate ?? 0));
  const cards = [
    kpi('conversations', '会话数', num(t.conversations), { sub: `日均 ${num(Math.round((t.conversations ?? 0) / n))}`, spark: days.map((d) => d.conversations ?? 0), color: C.teal }),
    kpi('turns', '轮次', num(t.turns), { sub: t.conversations ? `每会话 ${((t.turns ?? 0) / t.conversations).toFixed(1)} 轮` : '', spark: days.map((d) => d.turns ?? 0) }),
    kpi('customers', '客户数', num(t.customers), { sub: t.desk_messages ? `发给人工的消息 ${num(t.desk_messages)}` : '', spark: days.map((d) => d.customers ?? 0), color: '#6366f1' }),
    kpi('fallback_rate', '未识别率', pct(t.fallback_rate), { sub: `约 ${num(fallbackTurns)} 轮没听懂`, spark: days.map((d) => d.fallback_rate ?? 0), color: C.orange, tone: (t.fallback_rate ?? 0) > 0.15 ? 'warn' : '' }),
    kpi('handoff_rate', '转人工率', pct(t.handoff_rate), { sub: '有转人工的会话占比', spark: days.map((d) => d.handoff_rate ?? 0), color: C.purple }),
    kpi('latency', '响应延迟 p50', t.latency_ms ? String(Math.round(t.latency_ms.p50 ?? 0)) : '—', {
      unit: t.latency_ms ? 'ms' : '',
      sub: t.latency_ms ? `p95 ${ms(t.latency_ms.p95)} · p99 ${ms(t.latency_ms.p99)}` : '',
      spark: days.map((d) => d.latency_ms?.p95 ?? 0),
      color: C.green,
    }),
  ];
  const desk = S.summary.desk;
  if (desk) {
    // Nobody claimed, nobody rated: nothing to measure, not zero seconds.
    const claimed = desk.claimed == null || desk.claimed > 0;
    const rated = (desk.ratings?.count ?? 0) > 0;
    cards.push(
      kpi('desk_handoffs', '转人工次数', num(desk.handoffs), { sub: `已接入 ${num(desk.claimed)}（${share(desk.claimed ?? 0, desk.handoffs)}）` }),
      kpi('desk_wait', '排队等待 p50', claimed ? secs(desk.wait_seconds?.p50) : '—', { sub: claimed ? `p95 ${secs(desk.wait_seconds?.p95)}` : '暂无人工接入' }),
      kpi('desk_first_response', '首次响应 p50', claimed ? secs(desk.first_response_seconds?.p50) : '—', { sub: claimed ? `p95 ${secs(desk.first_response_seconds?.p95)}` : '暂无人工回复' }),
      kpi('desk_rating', '满意度', rated ? Number(desk.ratings.average ?? 0).toFixed(1) : '—', {
        unit: rated ? '/ 5' : '',
        sub: rated ? `${num(desk.ratings.count)} 条评价` : '暂无评价',
        tone: rated ? 'rating' : '',
      }),
    );
  }
  $('#kpis').replaceChildren(...cards);
}

function renderDesk() {
  const desk = S.summary.desk;
  $('#desk').hidden = !desk;
  if (!desk) return;
  const reasons = Object.entries(desk.by_reason ?? {}).sort((a, b) => b[1] - a[1]);
  const rtotal = reasons.reduce((s, [, n]) => s + n, 0);
  const reasonColors = { asked: C.purple, not_understood: C.orange, gave_up: C.red };
  if (reasons.length) {
    mount($('#chart-reasons'), (c) => drawHBars(c, reasons.map(([k, n]) => ({
      label: REASONS[k] ?? k,
      value: n,
      color: reasonColors[k] ?? C.primary,
      tip: { title: REASONS[k] ?? k, rows: [{ color: reasonColors[k] ?? C.primary, label: '转人工', value: `${num(n)} 次 · ${share(n, rtotal)}` }], hint: '点击查看转人工的对话' },
      onClick: () => drillSearch({ handoff: true }),
    })), { total: rtotal, labelWidth: 120 }));
  } else {
    chartMessage($('#chart-reasons'), '该时段没有转人工');
  }
  const r = desk.ratings ?? {};
  const dist = r.distribution ?? {};
  $('#rating-summary').textContent = r.count ? `平均 ${Number(r.average ?? 0).toFixed(2)} 分 · ${num(r.count)} 条` : '';
  if (r.count) {
    const colors = { 5: '#2fb36b', 4: '#7ccf8f', 3: '#f5c04a', 2: '#f59e0b', 1: '#e0463b' };
    mount($('#chart-ratings'), (c) => drawHBars(c, [5, 4, 3, 2, 1].map((k) => ({
      label: `${'★'.repeat(k)}`,
      value: dist[k] ?? dist[String(k)] ?? 0,
      color: colors[k],
      tip: { title: `${k} 星`, rows: [{ color: colors[k], label: '评价', value: `${num(dist[k] ?? 0)} 条 · ${share(dist[k] ?? 0, r.count)}` }] },
    })), { total: r.count, labelWidth: 90 }));
  } else {
    chartMessage($('#chart-ratings'), '该时段没有客户评价');
  }
}

// ------------------------------------------------------------- intents

async function loadIntents() {
  try {
    const data = await api(analyticsPath('intents'));
    S.intents = (data.intents ?? []).filter((i) => i && i.intent);
  } catch (err) {
    if (err.status === 401 || err.status === 403) throw err;
    // Not available (yet): the built-in titles of nlu.md's intents.
    S.intents = Object.entries(INTENT_TITLES)
      .filter(([k]) => !['handoff', 'menu_click', 'location'].includes(k))
      .map(([intent, title]) => ({ intent, title }));
  }
  S.titles = new Map(S.intents.map((i) => [i.intent, i.title || i.intent]));
  renderIntentOptions();
}

function intentOptions(select, placeholder) {
  const keep = select.value;
  select.replaceChildren();
  const first = el('option', null, placeholder);
  first.value = '';
  select.append(first);
  for (const i of S.intents) {
    const o = el('option', null, `${i.title || i.intent}（${i.intent}）`);
    o.value = i.intent;
    select.append(o);
  }
  select.value = [...select.options].some((o) => o.value === keep) ? keep : '';
}

function renderIntentOptions() {
  intentOptions($('#f-intent'), '全部');
}

function renderFlowOptions() {
  const select = $('#f-flow');
  const keep = select.value;
  const codes = new Set([...(S.summary?.funnels ?? []).map((f) => f.flow), ...Object.keys(FLOWS)]);
  select.replaceChildren();
  const all = el('option', null, '全部');
  all.value = '';
  select.append(all);
  for (const code of codes) {
    const o = el('option', null, flowName(code));
    o.value = code;
    select.append(o);
  }
  select.value = [...select.options].some((o) => o.value === keep) ? keep : '';
}

// ------------------------------------------------------ unrecognised groups

let groupsSeq = 0;
async function loadGroups() {
  const seq = ++groupsSeq;
  const ul = $('#groups');
  ul.dataset.state = 'loading';
  ul.replaceChildren(el('li', 'empty-row', '加载中…'));
  $('#groups-count').textContent = '';
  try {
    const data = await api(analyticsPath('unrecognised', periodParams()));
    if (seq !== groupsSeq) return;
    S.groups = [...(data.groups ?? [])].sort((a, b) => (b.size ?? 0) - (a.size ?? 0));
    S.groupsAll = false;
    renderGroups();
  } catch (err) {
    if (seq !== groupsSeq || err.status === 401 || err.status === 403) return;
    ul.dataset.state = 'error';
    ul.replaceChildren(el('li', 'empty-row error', `暂时无法加载：${errorText(err)}`));
  }
}

function renderGroups() {
  const ul = $('#groups');
  const total = S.groups.reduce((s, g) => s + (g.size ?? 0), 0);
  $('#groups-count').textContent = S.groups.length ? `${num(S.groups.length)} 组 · ${num(total)} 条` : '';
  ul.dataset.state = 'ready';
  if (!S.groups.length) {
    ul.replaceChildren(el('li', 'empty-row', '该时段没有未识别的消息'));
    return;
  }
  const shown = S.groupsAll ? S.groups : S.groups.slice(0, GROUPS_SHOWN);
  const max = Math.max(...S.groups.map((g) => g.size ?? 0), 1);
  ul.replaceChildren(...shown.map((g) => groupItem(g, max)));
  if (shown.length < S.groups.length) {
    const li = el('li', 'groups-more');
    const b = el('button', null, `显示全部 ${S.groups.length} 组`);
    b.type = 'button';
    b.addEventListener('click', () => { S.groupsAll = true; renderGroups(); });
    li.append(b);
    ul.append(li);
  }
}

function groupItem(g, max) {
  const li = el('li', 'group');
  li.dataset.id = g.id;
  li.dataset.labelled = g.label ? 'true' : 'false';
  const head = el('div', 'g-head');
  const size = el('span', 'size', `${num(g.size)} 条`);
  const meter = el('span', 'g-meter');
  const fill = el('i');
  fill.style.width = `${Math.max(4, (100 * (g.size ?? 0)) / max)}%`;
  meter.append(fill);
  head.append(size, meter);
  if (g.label) {
    const label = el('span', 'g-label', `已标注：${intentTitle(g.label)}`);
    label.title = g.label;
    head.append(label);
  }
  const ex = el('ul', 'examples');
  for (const text of (g.examples ?? []).slice(0, 5)) {
    const item = el('li');
    const a = el('button', 'example', text);
    a.type = 'button';
    a.title = '搜索这句话';
    a.addEventListener('click', () => drillSearch({ q: text, fallback: true }));
    item.append(a);
    ex.append(item);
  }
  const actions = el('div', 'g-actions');
  const select = el('select', 'g-intent');
  select.setAttribute('aria-label', '选择意图');
  intentOptions(select, g.label ? '改为其他意图…' : '选择意图…');
  if (g.label) select.value = g.label;
  const go = el('button', 'primary g-apply', g.label ? '改标' : '标注');
  go.type = 'button';
  go.addEventListener('click', () => labelGroup(g, select.value, go));
  actions.append(select, go);
  li.append(head, ex, actions);
  return li;
}

async function labelGroup(g, intent, button) {
  if (!intent) { toast('请先选择一个意图'); return; }
  button.disabled = true;
  button.textContent = '标注中…';
  try {
    const res = await api(`/api/analytics/unrecognised/${encodeURIComponent(g.id)}/label`, { method: 'POST', body: { intent } });
    g.label = res.label ?? intent;
    toast(`已标注为「${intentTitle(g.label)}」，${num(g.size)} 条消息将加入训练语料`);
    const max = Math.max(...S.groups.map((x) => x.size ?? 0), 1);
    const old = document.querySelector(`#groups .group[data-id="${CSS.escape(String(g.id))}"]`);
    old?.replaceWith(groupItem(g, max));
  } catch (err) {
    button.disabled = false;
    button.textContent = g.label ? '改标' : '标注';
    if (err.status !== 401 && err.status !== 403) toast(`标注失败：${errorText(err)}`);
  }
}

// ---------------------------------------------------------------- search

function searchPeriod() {
  return S.search.day ? { from: S.search.day, to: S.search.day } : { from: S.from, to: S.to };
}

function searchFilters() {
  return {
    q: $('#search-q').value.trim(),
    channel: $('#f-channel').value,
    intent: $('#f-intent').value,
    flow: $('#f-flow').value,
    max_confidence: $('#f-confidence').value,
    fallback: $('#f-fallback').checked,
    handoff: $('#f-handoff').checked,
  };
}

function renderExports() {
  const f = searchFilters();
  for (const format of ['csv', 'jsonl']) {
    const p = periodParams({ format, channel: f.channel, intent: f.intent }, searchPeriod());
    const a = $(`#export-${format}`);
    a.href = analyticsPath('export', p);
    a.setAttribute('download', `gridbot-turns-${p.get('from')}_${p.get('to')}.${format}`);
  }
  const chip = $('#f-day');
  chip.hidden = !S.search.day;
  if (S.search.day) $('#f-day-text').textContent = `日期：${dayLabel(S.search.day)}`;
}

async function runSearch({ more = false } = {}) {
  const seq = ++S.search.seq;
  const f = searchFilters();
  const list = $('#results');
  const moreBtn = $('#more');
  renderExports();
  const params = periodParams({ ...f, limit: PAGE_SIZE, cursor: more ? S.search.next : null }, searchPeriod());
  if (!more) {
    list.dataset.state = 'loading';
    $('#results-meta').textContent = '搜索中…';
    moreBtn.hidden = true;
  } else {
    moreBtn.disabled = true;
    moreBtn.textContent = '加载中…';
  }
  let data;
  try {
    data = await api(analyticsPath('turns', params));
  } catch (err) {
    if (seq !== S.search.seq) return;
    moreBtn.disabled = false;
    moreBtn.textContent = '加载更多';
    if (err.status === 401 || err.status === 403) return;
    list.dataset.state = 'error';
    $('#results-meta').textContent = `搜索失败：${errorText(err)}`;
    return;
  }
  if (seq !== S.search.seq) return;
  const turns = data.turns ?? [];
  S.search.q = f.q;
  S.search.next = data.next ?? null;
  if (!more) {
    list.replaceChildren();
    S.search.count = 0;
  }
  list.append(...turns.map((t) => resultItem(t, f.q)));
  S.search.count += turns.length;
  list.dataset.state = 'ready';
  moreBtn.hidden = !S.search.next;
  moreBtn.disabled = false;
  moreBtn.textContent = '加载更多';
  const where = S.search.day ? dayLabel(S.search.day) : '所选时段';
  if (!S.search.count) {
    $('#results-meta').textContent = f.q ? `${where}没有找到包含“${f.q}”的对话` : `${where}没有符合条件的对话`;
    list.append(el('li', 'empty-row', '换个关键词或放宽筛选条件试试'));
  } else {
    $('#results-meta').textContent = `${f.q ? `包含“${f.q}”的对话，` : ''}${where}已显示 ${num(S.search.count)} 条${S.search.next ? '，还有更多' : ''}，从新到旧`;
  }
}

$('#search-form').addEventListener('submit', (e) => {
  e.preventDefault();
  runSearch();
});
for (const id of ['f-channel', 'f-intent', 'f-flow', 'f-confidence', 'f-fallback', 'f-handoff']) {
  $(`#${id}`).addEventListener('change', () => runSearch());
}
$('#f-day-clear').addEventListener('click', () => { S.search.day = null; runSearch(); });
$('#more').addEventListener('click', () => runSearch({ more: true }));

// From a chart: a fresh search with these filters only.
function drillSearch({ day = null, q = '', intent = '', flow = '', fallback = false, handoff = false }) {
  S.search.day = day;
  $('#search-q').value = q;
  $('#f-channel').value = '';
  $('#f-intent').value = intent;
  if (intent && $('#f-intent').value !== intent) {
    const o = el('option', null, intentTitle(intent));
    o.value = intent;
    $('#f-intent').append(o);
    $('#f-intent').value = intent;
  }
  $('#f-flow').value = flow;
  $('#f-confidence').value = '';
  $('#f-fallback').checked = fallback;
  $('#f-handoff').checked = handoff;
  runSearch();
  $('#search').scrollIntoView({ behavior: 'smooth', block: 'start' });
}

// `text` with each occurrence of the query's words in <mark>.
function highlighted(text, q) {
  const frag = document.createDocumentFragment();
  const s = String(text ?? '');
  const words = [...new Set(String(q || '').split(/\s+/).filter(Boolean))].map((w) => w.toLowerCase());
  if (!words.length) { frag.append(s); return frag; }
  const lower = s.toLowerCase();
  let i = 0;
  while (i < s.length) {
    let at = -1;
    let len = 0;
    for (const w of words) {
      const j = lower.indexOf(w, i);
      if (j >= 0 && (at < 0 || j < at || (j === at && w.length > len))) { at = j; len = w.length; }
    }
    if (at < 0) break;
    if (at > i) frag.append(s.slice(i, at));
    frag.append(el('mark', null, s.slice(at, at + len)));
    i = at + len;
  }
  if (i < s.length) frag.append(s.slice(i));
  return frag;
}

function intentBadges(t) {
  const out = [];
  if (t.intent === 'handoff') {
    out.push(el('span', 'badge intent to-desk', '发给人工客服'));
    return out;
  }
  const b = el('span', `badge intent${t.intent === 'unknown' ? ' unknown' : ''}`, intentTitle(t.intent));
  b.title = t.intent;
  out.push(b);
  if (t.confidence != null) {
    const c = el('span', `badge conf${Number(t.confidence) < 0.6 ? ' low' : ''}`, confidence(t.confidence));
    c.title = '置信度';
    out.push(c);
  }
  if (t.fallback) out.push(el('span', 'badge fallback', '未识别'));
  if (t.handoff) out.push(el('span', 'badge handoff', `转人工${HANDOFF_TAGS[t.handoff] ? `·${HANDOFF_TAGS[t.handoff]}` : ''}`));
  return out;
}

function flowStep(t) {
  if (!t.flow) return '';
  return t.step ? `${flowName(t.flow)} · ${stepName(t.step)}` : flowName(t.flow);
}

function resultItem(t, q) {
  const li = el('li', 'result');
  li.dataset.conversation = t.conversation;
  li.dataset.turn = t.id;
  li.tabIndex = 0;
  const head = el('div', 'r-head');
  const when = el('span', 'r-when');
  when.append(el('b', 'r-time', hhmm(t.at)), el('span', 'r-date', dateOf(t.at)));
  head.append(when, el('span', `badge ${t.channel}`, channelName(t.channel)), el('span', 'r-customer', t.customer || '客户'));
  const badges = el('span', 'r-badges');
  badges.append(...intentBadges(t));
  head.append(badges);
  const text = el('p', 'r-text');
  text.append(highlighted(t.text, q));
  li.append(head, text);
  const reply = (t.replies ?? []).map(replyText).filter(Boolean)[0];
  if (reply) li.append(el('p', 'r-reply', reply));
  const foot = el('div', 'r-foot');
  const fs = flowStep(t);
  if (fs) foot.append(el('span', 'r-flow', fs));
  const slots = Object.entries(t.slots ?? {});
  for (const [k, v] of slots.slice(0, 3)) foot.append(el('span', 'slot', `${SLOTS[k] ?? k}=${typeof v === 'object' ? JSON.stringify(v) : v}`));
  if (t.latency_ms != null && t.intent !== 'handoff') foot.append(el('span', 'r-lat', ms(t.latency_ms)));
  foot.append(el('span', 'r-open', '查看会话 ›'));
  li.append(foot);
  const open = () => openTranscript(t.conversation, { turnId: t.id });
  li.addEventListener('click', open);
  li.addEventListener('keydown', (e) => { if (e.key === 'Enter') open(); });
  return li;
}

// ---------------------------------------------------------------- drawer

function openDrawer() {
  const d = $('#drawer');
  d.hidden = false;
  $('#drawer-backdrop').hidden = false;
  document.body.classList.add('drawer-open');
}

function closeDrawer() {
  $('#drawer').hidden = true;
  $('#drawer-backdrop').hidden = true;
  document.body.classList.remove('drawer-open');
  S.drawer = null;
  drawerSeq++;
}

$('#drawer-close').addEventListener('click', closeDrawer);
$('#drawer-backdrop').addEventListener('click', closeDrawer);
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && !$('#drawer').hidden) closeDrawer();
});
$('#drawer-back').addEventListener('click', () => {
  if (S.drawer?.runs) renderRuns(S.drawer.runs);
});

let drawerSeq = 0;

function drawerHead(title, sub, { back = false } = {}) {
  $('#drawer-title').textContent = title;
  $('#drawer-sub').textContent = sub;
  $('#drawer-back').hidden = !back;
}

async function openTranscript(id, { turnId = null, fromRuns = false } = {}) {
  const seq = ++drawerSeq;
  if (!fromRuns) S.drawer = null;
  openDrawer();
  const d = $('#drawer');
  d.dataset.view = 'transcript';
  d.dataset.conversation = id;
  d.dataset.state = 'loading';
  drawerHead('会话记录', '加载中…', { back: !!S.drawer?.runs });
  $('#drawer-body').replaceChildren(el('p', 'drawer-empty', '加载中…'));
  let conv;
  try {
    conv = await api(`/api/analytics/conversations/${encodeURIComponent(id)}`);
  } catch (err) {
    if (seq !== drawerSeq || err.status === 401 || err.status === 403) return;
    d.dataset.state = 'error';
    drawerHead('会话记录', '', { back: !!S.drawer?.runs });
    $('#drawer-body').replaceChildren(el('p', 'drawer-empty error', err.status === 404 ? '这段会话已不存在（可能已按保留期限删除）' : `暂时无法加载：${errorText(err)}`));
    return;
  }
  if (seq !== drawerSeq) return;
  renderTranscript(conv, turnId);
  d.dataset.state = 'ready';
  $('#drawer-close').focus({ preventScroll: true });
}

// A desk line ("from" in web/API.md's shape; "kind" other than "turn" as
// the server may also say) or a customer's turn with the bot's answer.
const deskKind = (item) => item.from ?? (item.kind && item.kind !== 'turn' ? item.kind : null);

function renderTranscript(conv, turnId) {
  const items = conv.turns ?? [];
  const turns = items.filter((x) => !deskKind(x));
  const first = items[0]?.at;
  const last = items.at(-1)?.at;
  let span = first ? `${dateOf(first)} ${hhmm(first)}` : '';
  if (first && last && hhmm(last) !== hhmm(first)) {
    span += `–${dateKeyOf(last) === dateKeyOf(first) ? '' : `${dateOf(last)} `}${hhmm(last)}`;
  }
  drawerHead(conv.customer || '客户', [channelName(conv.channel), span, `${turns.length} 轮`].filter(Boolean).join(' · '), { back: !!S.drawer?.runs });
  const box = el('div', 'messages transcript');
  box.setAttribute('role', 'log');
  for (const item of items) {
    const kind = deskKind(item);
    if (kind) box.append(deskLine(kind, item));
    else box.append(turnBlock(item, String(item.id) === String(turnId)));
  }
  if (!items.length) box.append(el('p', 'drawer-empty', '这段会话没有内容'));
  const idLine = el('p', 'transcript-id', `会话编号 ${conv.id}`);
  $('#drawer-body').replaceChildren(box, idLine);
  const target = box.querySelector('.turn.target');
  $('#drawer-body').scrollTop = 0;
  if (target) requestAnimationFrame(() => target.scrollIntoView({ block: 'center' }));
}

function meta(...parts) {
  const m = el('div', 'meta');
  for (const p of parts) if (p) m.append(typeof p === 'string' ? el('span', null, p) : p);
  return m;
}

function turnBlock(t, target) {
  const wrap = el('div', `turn${target ? ' target' : ''}`);
  wrap.dataset.turn = t.id ?? '';
  const msg = el('div', 'msg from-customer');
  msg.append(meta('客户', hhmm(t.at)), el('div', 'bubble', t.text ?? ''));
  const tags = el('div', 'tags');
  if (t.intent === 'handoff') {
    tags.append(el('span', 'intent to-desk', '发给人工客服'));
  } else {
    const i = el('span', `intent${t.intent === 'unknown' ? ' unknown' : ''}`, intentTitle(t.intent));
    i.title = t.intent;
    tags.append(i);
    if (t.confidence != null) tags.append(el('span', `conf${Number(t.confidence) < 0.6 ? ' low' : ''}`, confidence(t.confidence)));
  }
  for (const [k, v] of Object.entries(t.slots ?? {})) {
    const chip = el('span', 'slot', `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`);
    chip.title = SLOTS[k] ?? k;
    tags.append(chip);
  }
  const fs = flowStep(t);
  if (fs) {
    const f = el('span', 'flow', fs);
    f.title = `${t.flow}${t.step ? ` · ${t.step}` : ''}`;
    tags.append(f);
  }
  if (t.latency_ms != null && t.intent !== 'handoff') tags.append(el('span', 'lat', ms(t.latency_ms)));
  if (t.fallback) tags.append(el('span', 'fallback', '未识别'));
  if (t.handoff) tags.append(el('span', 'handoff', `转人工${HANDOFF_TAGS[t.handoff] ? `·${HANDOFF_TAGS[t.handoff]}` : ''}`));
  msg.append(tags);
  wrap.append(msg);
  for (const r of (t.replies ?? []).map(replyText).filter(Boolean)) {
    const bot = el('div', 'msg from-bot');
    bot.append(meta('机器人', hhmm(t.at)), el('div', 'bubble', r));
    wrap.append(bot);
  }
  return wrap;
}

function deskLine(kind, x) {
  if (kind === 'agent') {
    const m = el('div', 'msg from-agent');
    m.append(meta(x.agent ? `客服 ${x.agent}` : '客服', hhmm(x.at)), el('div', 'bubble', x.text ?? ''));
    return m;
  }
  if (kind === 'note') {
    const m = el('div', 'msg from-note');
    m.append(meta(el('b', null, '内部备注'), x.agent, hhmm(x.at)), el('div', 'bubble', x.text ?? ''));
    return m;
  }
  const m = el('div', `msg from-system${kind === 'system' ? '' : ` kind-${kind}`}`);
  m.append(el('div', 'bubble', `${x.text ?? ''}${x.at ? ` · ${hhmm(x.at)}` : ''}`));
  return m;
}

// A funnel's runs: GET /api/analytics/runs, a list that opens transcripts.
async function openRuns(f, { step = null, ended = null }) {
  const seq = ++drawerSeq;
  const outcome = OUTCOMES.find((o) => o.key === ended);
  const what = step ? `到达“${stepName(step)}”` : outcome ? outcome.name : '全部开始';
  const runs = { flow: f.flow, step, ended, title: `${flowName(f.flow)} · ${what}`, list: null };
  S.drawer = { runs };
  openDrawer();
  const d = $('#drawer');
  d.dataset.view = 'runs';
  d.dataset.state = 'loading';
  drawerHead(runs.title, '加载中…');
  $('#drawer-body').replaceChildren(el('p', 'drawer-empty', '加载中…'));
  try {
    const data = await api(analyticsPath('runs', periodParams({ flow: f.flow, step, ended })));
    if (seq !== drawerSeq) return;
    runs.list = data.runs ?? [];
    renderRuns(runs);
  } catch (err) {
    if (seq !== drawerSeq || err.status === 401 || err.status === 403) return;
    d.dataset.state = 'error';
    drawerHead(runs.title, '');
    $('#drawer-body').replaceChildren(el('p', 'drawer-empty error', `暂时无法加载：${errorText(err)}`));
  }
}

function renderRuns(runs) {
  drawerSeq++;
  const d = $('#drawer');
  d.dataset.view = 'runs';
  d.dataset.state = 'ready';
  drawerHead(runs.title, `${dayLabel(S.from)}${S.from !== S.to ? ` – ${dayLabel(S.to)}` : ''} · ${num(runs.list.length)} 个会话`);
  const ul = el('ul', 'runs');
  for (const r of runs.list) {
    const li = el('li');
    const b = el('button', 'run');
    b.type = 'button';
    b.dataset.conversation = r.conversation;
    const o = OUTCOMES.find((x) => x.key === r.ended);
    const top = el('span', 'run-top');
    top.append(el('b', 'run-customer', r.customer || '客户'), el('span', 'run-when', `${dateOf(r.started_at)} ${hhmm(r.started_at)}`));
    const bottom = el('span', 'run-bottom');
    const badge = el('span', 'badge outcome', o ? o.name : r.ended || '—');
    if (o) {
      badge.style.background = mix(o.color, '#ffffff', 0.82);
      badge.style.color = mix(o.color, '#000000', 0.3);
    }
    bottom.append(badge);
    if (r.last_step) bottom.append(el('span', 'run-step', `停在：${stepName(r.last_step)}`));
    bottom.append(el('span', 'r-open', '查看会话 ›'));
    b.append(top, bottom);
    b.addEventListener('click', () => openTranscript(r.conversation, { fromRuns: true }));
    li.append(b);
    ul.append(li);
  }
  if (!runs.list.length) ul.append(el('li', 'drawer-empty', '没有对应的会话'));
  $('#drawer-body').replaceChildren(ul);
  $('#drawer-body').scrollTop = 0;
  $('#drawer-back').hidden = true;
}

// ------------------------------------------------------------ navigation

const sections = ['overview', 'flows', 'unrecognised', 'search'];
function markTab() {
  let current = sections[0];
  for (const id of sections) {
    const s = document.getElementById(id);
    if (s && s.getBoundingClientRect().top < 120) current = id;
  }
  if (window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 4) current = sections.at(-1);
  for (const a of document.querySelectorAll('.tabs .tab')) a.classList.toggle('active', a.getAttribute('href') === `#${current}`);
}
window.addEventListener('scroll', () => requestAnimationFrame(markTab), { passive: true });

// ----------------------------------------------------------------- start

function loadPeriod() {
  loadSummary();
  loadGroups();
  runSearch();
}

async function enterApp() {
  if (!ALLOWED.has(S.me?.role)) {
    showDenied();
    return;
  }
  showOnly('app-view');
  $('#me-name').textContent = S.me.name;
  $('#me-role').textContent = ROLES[S.me.role] ?? S.me.role;
  renderPeriod();
  renderExports();
  renderFlowOptions();
  markTab();
  try {
    await loadIntents();
  } catch {
    return; // 401 or 403: the login form or the message took over
  }
  loadPeriod();
}

async function boot() {
  readPeriodFromUrl();
  try {
    S.me = await api('/api/agent/me');
  } catch (err) {
    showLogin(err.status === 401 || err.status === 403 ? '' : err.message);
    return;
  }
  enterApp();
}

boot();
