// A mock of the HTTP API in web/API.md, for developing and screenshotting
// the two pages without the C++ server. Development only: everything lives
// in memory, the "bot" is a handful of keyword rules, passwords are plain.
//
//   node tests/browser/mock_server.js            # http://127.0.0.1:8090
//   PORT=9000 node tests/browser/mock_server.js
//
// Agents: 小王 / xiaowang123 (agent), 小李 / xiaoli123 (agent),
//         张主管 / zhang123 (supervisor), 王分析 / fenxi123 (analyst: no desk),
//         analyst / analyst123 (analyst: the analysts' page /analytics).
// desk_test.mjs and analytics_test.mjs import startMockServer() when
// GRIDBOT_URL is not set; the analytics demo data is in "analytics" below.

import http from 'node:http';
import fs from 'node:fs/promises';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const WEB = path.resolve(HERE, '../../web');
const MENU_FILE = path.resolve(HERE, '../../corpus/menu.json');
const OVERDUE_SECONDS = 5 * 60;

export const DEMO_AGENT = { name: '小王', password: 'xiaowang123' };

const now = () => Math.floor(Date.now() / 1000);

// ------------------------------------------------------------------ state

function createState() {
  const state = {
    seq: 0,
    agents: new Map(),
    tokens: new Map(), // token -> agent name
    failures: new Map(), // name -> {count, lockedUntil}
    customers: new Map(), // id -> customer (one open conversation each)
    bySid: new Map(), // gb_sid cookie -> customer id
    listeners: new Set(), // SSE responses
  };
  for (const [name, role, password, auto] of [
    ['小王', 'agent', 'xiaowang123', false],
    ['小李', 'agent', 'xiaoli123', false],
    ['张主管', 'supervisor', 'zhang123', false],
    ['王分析', 'analyst', 'fenxi123', false],
    ['analyst', 'analyst', 'analyst123', false],
  ]) {
    state.agents.set(name, { name, role, password, auto_assign: auto, capacity: 5, lastSeen: 0 });
  }
  seed(state);
  return state;
}

function newCustomer(state, { channel = 'web', sid = null, profile } = {}) {
  const id = `c${state.customers.size + 1}${crypto.randomBytes(3).toString('hex')}`;
  const customer = {
    id,
    sid,
    channel,
    state: 'bot',
    reason: null,
    queued_at: null,
    agent: null,
    typing: null,
    unknownStreak: 0,
    delivered: 0, // the last outside message a long poll answered with
    window: { open: true, reason: null, remaining: null, closes_at: null },
    log: [], // every message, desk-shaped, oldest first
    waiters: new Set(), // pending long polls
    profile: profile ?? {
      name: '网页访客',
      channel,
      phone: null,
      accounts: [
        { account_no: '0301****1234', holder: '黄*明', city: '南宁市', address: '南宁市青秀区民族大道**号', arrears: '129.80', default: true },
      ],
      business: [
        { business_no: 'GZ2024080400123', type: '故障报修', status: '处理中', created_at: now() - 3 * 3600 },
      ],
    },
  };
  state.customers.set(id, customer);
  if (sid) state.bySid.set(sid, id);
  return customer;
}

// One message in a customer's log. audience "all" reaches the customer's
// chat; "desk" only the console. `outside` marks what the long poll delivers.
function append(state, customer, msg, { outside = false, audience = 'all' } = {}) {
  const m = { seq: ++state.seq, at: msg.at ?? now(), audience, outside, ...msg };
  customer.log.push(m);
  if (outside) wakeWaiters(customer);
  return m;
}

function wakeWaiters(customer) {
  for (const wake of [...customer.waiters]) wake();
}

function broadcast(state, conversation, kind) {
  const data = JSON.stringify({ conversation, kind });
  for (const res of state.listeners) res.write(`event: change\ndata: ${data}\n\n`);
}

function seed(state) {
  // An overdue WeChat customer whose 48-hour window has closed.
  const wx = newCustomer(state, {
    channel: 'wechat',
    profile: {
      name: '微信用户 李**',
      channel: 'wechat',
      phone: '138****5620',
      accounts: [
        { account_no: '0301****7026', holder: '李*华', city: '南宁市', address: '南宁市武鸣区城厢镇**路', arrears: '356.20', default: true },
        { account_no: '0302****4815', holder: '李*华', city: '柳州市', address: '柳州市城中区**大道', arrears: '0.00', default: false },
      ],
      business: [
        { business_no: 'XZ2024072900018', type: '新装用电', status: '待现场勘查', created_at: now() - 5 * 86400 },
      ],
    },
  });
  const t0 = now() - 50 * 3600;
  append(state, wx, { from: 'customer', text: '家里跳闸了怎么办', at: t0, intent: 'report_fault', confidence: 0.91, flow: 'report_fault', step: 'address' });
  append(state, wx, { from: 'bot', text: '请问故障地址在哪里？（如：南宁市青秀区民族大道88号）', at: t0 + 2 });
  append(state, wx, { from: 'customer', text: '[图片]', at: t0 + 60, media: { type: 'image', url: '/mock-media/meter.svg' }, flow: 'report_fault', step: 'address' });
  append(state, wx, { from: 'bot', text: '照片已收到，会附在您的报修单上，方便抢修人员判断情况。', at: t0 + 62 });
  append(state, wx, { from: 'customer', text: '[语音]', at: t0 + 120, media: { type: 'voice', url: '/mock-media/voice.wav' }, intent: 'unknown', confidence: 0.2 });
  append(state, wx, { from: 'bot', text: '抱歉，我还是没能理解您的意思，这就为您转接人工客服。', at: t0 + 122 });
  wx.state = 'queued';
  wx.reason = 'not_understood';
  wx.queued_at = now() - 12 * 60;
  wx.window = { open: false, reason: '客户最后一条消息已超过48小时，微信不允许再回复，请等客户再次发消息。', remaining: 0, closes_at: t0 + 120 + 48 * 3600 };

  // A web customer held by 小李, for the supervisor's view.
  const web = newCustomer(state);
  web.profile = { ...web.profile, name: '网页访客 8812' };
  append(state, web, { from: 'customer', text: '我要交电费', at: now() - 900, intent: 'pay_bill', confidence: 0.97, flow: 'pay', step: 'amount' });
  append(state, web, { from: 'bot', text: '请问要缴纳多少元？', at: now() - 898 });
  append(state, web, { from: 'customer', text: '就是上次那个数', at: now() - 880, intent: 'unknown', confidence: 0.3, flow: 'pay', step: 'amount' });
  append(state, web, { from: 'bot', text: '抱歉，多次未能识别您的输入，已退出缴费，这就为您转接人工客服。', at: now() - 878 });
  append(state, web, { from: 'system', text: '您好，客服小李为您服务。', at: now() - 600 }, { outside: true });
  append(state, web, { from: 'agent', agent: '小李', text: '您好，请问您要缴纳哪个户号的电费？', at: now() - 590 }, { outside: true });
  web.state = 'held';
  web.reason = 'gave_up';
  web.queued_at = now() - 870;
  web.agent = '小李';
}

// ------------------------------------------------------------ the "bot"

const BILL = '2024年7月电费账单（户号0301****1234）：\n用电量：236度\n电费金额：129.80元\n状态：未缴费，请在2024年8月20日前缴纳\n回复“交电费”即可缴费，想查其他月份直接说月份即可。';

const RULES = [
  { re: /取消|不用了|不转了/, intent: 'cancel' },
  { re: /转人工|人工|客服/, intent: 'human_agent' },
  { re: /欠费|欠了/, intent: 'query_arrears', text: '户号0301****1234目前欠费129.80元，共1期未缴：\n· 2024年7月：129.80元（缴费期限2024年8月20日）\n回复“交电费”即可缴费，请按时缴纳以免影响用电。', buttons: [{ label: '交电费', text: '交电费' }] },
  { re: /电费|账单|用电量/, intent: 'query_bill', flow: 'bill', step: 'shown', text: BILL, buttons: [{ label: '交电费', text: '交电费' }, { label: '查3月份', text: '那3月份的呢' }] },
  { re: /交|缴|充值/, intent: 'pay_bill', flow: 'pay', step: 'link', text: '好的，户号0301****1234应缴129.80元。请点击链接完成缴费：http://www.gx.csg.cn/pay?order=MOCK20240804。缴费成功后我会通知您。' },
  { re: /停电|没电|断电/, intent: 'query_outage', text: '您所在的南宁市青秀区民族大道片区目前没有计划停电。如家中突然停电，可回复“故障报修”。' },
  { re: /跳闸|报修|故障/, intent: 'report_fault', flow: 'report_fault', step: 'address', text: '很抱歉给您带来不便。请问故障地址在哪里？（如：南宁市青秀区民族大道88号）' },
  { re: /网点|营业厅/, intent: 'find_outlet', text: '离您较近的营业网点：\n1. 南宁青秀供电营业厅（民族大道**号），8:30-17:30\n2. 南宁东葛营业厅（东葛路**号），8:30-17:30\n也可以点下方的📍发送位置，我帮您找最近的。' },
  { re: /你好|您好|在吗|hi|hello/i, intent: 'greet', text: '您好，我是广西电网95598智能客服，请问有什么可以帮您？\n您可以直接说“查电费”“我欠费了吗”“绑定户号”等。', buttons: [{ label: '查电费', text: '上个月电费多少' }, { label: '我欠费了吗', text: '我欠费了吗' }] },
  { re: /帮助|功能/, intent: 'help', text: '我可以帮您办理这些业务，直接用一句话告诉我就行：\n1. 户号：绑定户号、切换户号\n2. 查询：上个月电费多少、我欠费了吗、缴费记录\n3. 缴费：用支付宝交电费、充值卡充值\n4. 停电与报修：停电查询、家里跳闸了\n5. 其他：附近的营业厅、转人工' },
  { re: /谢谢|感谢/, intent: 'thanks', text: '不客气，很高兴能帮到您！还有其他问题随时告诉我。' },
];

const CLICKS = {
  BIND_ACCOUNT: '好的，我们来绑定户号。请问您的用电地址在哪个市？（如：南宁、柳州、桂林）',
  MY_PROFILE: '户号0301****1234\n户主：黄*明\n用电地址：南宁市青秀区民族大道**号\n用电类别：居民生活用电',
  BILL_LATEST: BILL,
  PROGRESS: '您有1项业务正在办理：\n· 故障报修 GZ2024080400123：处理中，抢修人员已出发。',
  OUTAGE: '您所在的南宁市青秀区民族大道片区目前没有计划停电。',
  PAYMENTS: '最近的缴费记录（户号0301****1234）：\n· 2024-07-05 微信支付 98.60元\n· 2024-06-04 支付宝 112.30元',
  PAY: '好的，户号0301****1234应缴129.80元。请点击链接完成缴费：http://www.gx.csg.cn/pay?order=MOCK20240804',
  REPORT_FAULT: '很抱歉给您带来不便。请问故障地址在哪里？（如：南宁市青秀区民族大道88号）',
  APPLY: '请问您要办理哪项业务？回复“新装”“增容”或“过户”。',
  SUBSCRIBE: '订阅后每月出账时会把电子账单推送给您。回复“确认”即可订阅。',
  OUTLETS: '离您较近的营业网点：\n1. 南宁青秀供电营业厅，8:30-17:30\n2. 南宁东葛营业厅，8:30-17:30',
  HELP: '我可以帮您查电费、交电费、报故障、查停电、找网点。直接用一句话告诉我就行，需要人工请回复“转人工”。',
};

// What the bot would say to `text`, with no side effects (also the assist).
function understand(text) {
  for (const rule of RULES) if (rule.re.test(text)) return { confidence: 0.93, ...rule };
  return { intent: 'unknown', confidence: 0.12, text: '抱歉，我没太明白您的意思。您可以这样问我：“上个月电费多少”“我欠费了吗”“绑定户号”。回复“帮助”查看全部功能。' };
}

function queuePosition(state, customer) {
  let ahead = 0;
  for (const c of state.customers.values()) {
    if (c !== customer && c.state === 'queued' && c.queued_at <= customer.queued_at) ahead++;
  }
  return ahead;
}

function handoff(state, customer, reason) {
  customer.state = 'queued';
  customer.reason = reason;
  customer.queued_at = now();
  customer.agent = null;
  append(state, customer, { from: 'system', text: `转人工（${REASONS[reason]}）` }, { audience: 'desk' });
  broadcast(state, customer.id, 'queued');
  const ahead = queuePosition(state, customer);
  return ahead
    ? `好的，正在为您转接人工客服，您前面还有${ahead}位，请稍候。\n排队期间可以直接把问题发过来，客服接入后会第一时间看到；回复“取消”可退出排队。`
    : '好的，正在为您转接人工客服，马上就到您，请稍候。\n可以先把问题发过来，客服接入后会第一时间看到；回复“取消”可退出排队。';
}

const REASONS = { asked: '客户主动要求', not_understood: '机器人未能理解', gave_up: '流程中断' };

// A customer's message: returns the replies of POST /api/chat.
function chat(state, customer, text, intentHint) {
  const u = intentHint ?? understand(text);
  append(state, customer, { from: 'customer', text, intent: u.intent, confidence: u.confidence, flow: u.flow, step: u.step });

  if (customer.state === 'queued' || customer.state === 'held') {
    if (u.intent === 'cancel' && customer.state === 'queued') {
      customer.state = 'bot';
      broadcast(state, customer.id, 'left_queue');
      return botSays(state, customer, '好的，已为您取消转人工。还有问题可以直接问我，需要时再回复“转人工”。');
    }
    broadcast(state, customer.id, 'message');
    if (customer.state === 'held') return []; // the agent answers
    return botSays(state, customer, '收到，客服接入后会第一时间查看您的消息。');
  }

  if (u.intent === 'human_agent') {
    customer.unknownStreak = 0;
    return botSays(state, customer, handoff(state, customer, 'asked'));
  }
  if (u.intent === 'unknown') {
    customer.unknownStreak++;
    if (customer.unknownStreak >= 2) {
      customer.unknownStreak = 0;
      handoff(state, customer, 'not_understood');
      return botSays(state, customer, '抱歉，我还是没能理解您的意思，这就为您转接人工客服。');
    }
  } else {
    customer.unknownStreak = 0;
  }
  if (u.intent === 'cancel') return botSays(state, customer, '好的，已取消。还有其他需要帮忙的吗？');
  return botSays(state, customer, u.text, u.buttons);
}

function botSays(state, customer, text, buttons) {
  append(state, customer, { from: 'bot', text });
  const reply = { type: 'text', text };
  if (buttons) reply.buttons = buttons;
  return [reply];
}

// ----------------------------------------------------------- HTTP helpers

function send(res, status, body, headers = {}) {
  const data = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': typeof body === 'object' && !Buffer.isBuffer(body) ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8',
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(data);
}
const fail = (res, status, error) => send(res, status, { error });

function cookies(req) {
  const out = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

async function readJson(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw Object.assign(new Error('too large'), { status: 413 });
    chunks.push(chunk);
  }
  if (!size) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw Object.assign(new Error('请求格式不正确'), { status: 400 });
  }
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json; charset=utf-8',
};

// The headers the real server sends with a page (bot/static_files.cc), so
// a page that breaks its CSP breaks here too.
const PAGE_HEADERS = {
  'Content-Security-Policy': "default-src 'self'; img-src 'self' data: https: http:; media-src 'self' https: http:; frame-ancestors 'none'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
};

async function serveFile(res, file, headers = {}) {
  try {
    const body = await fs.readFile(file);
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-cache', ...headers });
    res.end(body);
  } catch {
    send(res, 404, 'not found\n');
  }
}

// A tiny silent WAV, so the console's <audio> has something to load.
function silentWav(seconds = 0.6, rate = 8000) {
  const samples = Math.floor(seconds * rate);
  const buf = Buffer.alloc(44 + samples);
  buf.write('RIFF', 0); buf.writeUInt32LE(36 + samples, 4); buf.write('WAVE', 8);
  buf.write('fmt ', 12); buf.writeUInt32LE(16, 16); buf.writeUInt16LE(1, 20); buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(rate, 24); buf.writeUInt32LE(rate, 28); buf.writeUInt16LE(1, 32); buf.writeUInt16LE(8, 34);
  buf.write('data', 36); buf.writeUInt32LE(samples, 40); buf.fill(128, 44);
  return buf;
}

const METER_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="220" viewBox="0 0 320 220">
<rect width="320" height="220" fill="#d9dee4"/><rect x="90" y="20" width="140" height="180" rx="10" fill="#f4f4f4" stroke="#888"/>
<rect x="110" y="45" width="100" height="34" fill="#2f3b2f"/><text x="160" y="70" font-family="monospace" font-size="22" fill="#9f9" text-anchor="middle">02368.5</text>
<circle cx="160" cy="130" r="22" fill="#ccc" stroke="#777"/><text x="160" y="185" font-size="12" text-anchor="middle" fill="#555">kWh</text></svg>`;

// ------------------------------------------------------------- customers

function customerFor(state, req, res) {
  const sid = cookies(req).gb_sid;
  const id = sid && state.bySid.get(sid);
  if (id) return state.customers.get(id);
  const fresh = crypto.randomBytes(12).toString('hex');
  res.setHeader('Set-Cookie', `gb_sid=${fresh}; Path=/; HttpOnly; SameSite=Lax`);
  return newCustomer(state, { sid: fresh });
}

function customerView(m) {
  return { seq: m.seq, at: m.at, from: m.from, text: m.text };
}

function handleUpdates(state, req, res, customer, url) {
  const after = Number(url.searchParams.get('after')) || 0;
  const wait = Math.min(Math.max(Number(url.searchParams.get('wait')) || 0, 0), 30);
  const ready = () => customer.log.filter((m) => m.outside && m.seq > after);
  const answer = () => {
    const messages = ready();
    if (messages.length) customer.delivered = Math.max(customer.delivered, messages.at(-1).seq);
    send(res, 200, { messages: messages.map(customerView) });
  };
  if (ready().length || !wait) return answer();
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    customer.waiters.delete(finish);
    answer();
  };
  const timer = setTimeout(finish, wait * 1000);
  customer.waiters.add(finish);
  req.on('close', () => {
    if (!done) { done = true; clearTimeout(timer); customer.waiters.delete(finish); }
  });
}

async function handleChat(state, req, res, customer) {
  const body = await readJson(req);
  const firstNew = state.seq + 1;
  let replies;
  if (typeof body.text === 'string') {
    if (!body.text.trim()) return fail(res, 400, '消息为空');
    replies = chat(state, customer, body.text.trim());
  } else if (body.event?.type === 'click') {
    const text = CLICKS[body.event.key];
    if (!text) return fail(res, 400, 'unknown menu key');
    replies = chat(state, customer, `[菜单] ${body.event.key}`, { intent: 'menu_click', confidence: 1, text });
  } else if (body.event?.type === 'location') {
    const { lat, lng } = body.event;
    const text = `已收到您的位置（北纬${Number(lat).toFixed(3)}°，东经${Number(lng).toFixed(3)}°）。离您最近的营业网点：南宁青秀供电营业厅，约1.2公里，营业时间8:30-17:30。`;
    replies = chat(state, customer, '[位置]', { intent: 'location', confidence: 1, text });
  } else {
    return fail(res, 400, '请求格式不正确');
  }
  // What arrived meanwhile and the long poll has not delivered yet comes
  // first, as the real engine does: a notice with its seq (the page
  // dedupes it against the long poll).
  const notices = customer.log
    .filter((m) => m.outside && m.seq > customer.delivered && m.seq < firstNew)
    .map((m) => ({ type: 'notice', text: m.text, seq: m.seq, from: m.from }));
  if (notices.length) customer.delivered = Math.max(...notices.map((n) => n.seq));
  replies = [...notices, ...replies];
  send(res, 200, { replies, intent: customer.log.findLast((m) => m.from === 'customer')?.intent ?? 'unknown' });
}

// ---------------------------------------------------------------- agents

function agentFor(state, req) {
  const auth = req.headers.authorization ?? '';
  const token = auth.startsWith('Bearer ') ? auth.slice(7) : cookies(req).gb_agent;
  const name = token && state.tokens.get(token);
  const agent = name && state.agents.get(name);
  if (agent) agent.lastSeen = now();
  return agent || null;
}

const isLead = (agent) => agent.role === 'supervisor' || agent.role === 'admin';
const heldBy = (state, name) => [...state.customers.values()].filter((c) => c.state === 'held' && c.agent === name).length;
const online = (agent) => now() - agent.lastSeen < 60;

function meView(state, agent) {
  return { name: agent.name, role: agent.role, auto_assign: agent.auto_assign, capacity: agent.capacity, held: heldBy(state, agent.name) };
}

function visible(agent, c) {
  if (c.state === 'queued') return true;
  if (c.state === 'held') return isLead(agent) || c.agent === agent.name;
  return isLead(agent) || c.agent === agent.name;
}

function queueRow(c) {
  const lastCustomer = [...c.log].reverse().find((m) => m.from === 'customer');
  const last = c.log.at(-1);
  const waiting = c.state === 'queued' ? now() - c.queued_at : 0;
  return {
    id: c.id,
    channel: c.channel,
    customer: c.profile.name,
    state: c.state,
    reason: c.reason,
    queued_at: c.queued_at,
    agent: c.agent,
    waiting_seconds: waiting,
    overdue: c.state === 'queued' && waiting > OVERDUE_SECONDS,
    last_text: lastCustomer?.text ?? '',
    last_at: last?.at ?? c.queued_at,
  };
}

function conversationView(c) {
  const typing = c.typing && c.typing.until > now() ? c.typing.name : null;
  return {
    id: c.id,
    state: c.state,
    agent: c.agent,
    channel: c.channel,
    reason: c.reason,
    queued_at: c.queued_at,
    typing,
    window: c.window,
    customer: c.profile,
    messages: c.log.slice(-200).map(({ audience, outside, ...m }) => m),
  };
}

function fill(text, c) {
  const account = c.profile.accounts.find((a) => a.default) ?? c.profile.accounts[0];
  return text
    .replaceAll('{{户号}}', account?.account_no ?? '')
    .replaceAll('{{欠费}}', account?.arrears ?? '0.00')
    .replaceAll('{{客户称呼}}', account ? `${account.holder.slice(0, 1)}先生/女士` : '您');
}

const CANNED = [
  { code: 'hi', title: '问候', text: '您好，{{客户称呼}}，我是95598客服，很高兴为您服务。' },
  { code: 'qf', title: '欠费提醒', text: '您的户号{{户号}}目前欠费{{欠费}}元，可以在公众号菜单“信息查询 → 充值缴费”中缴纳。' },
  { code: 'wait', title: '请稍候', text: '好的，正在为您查询，请稍候。' },
  { code: 'tz', title: '停电说明', text: '您所在片区因线路检修计划停电，预计今天18:00前恢复供电，给您带来不便敬请谅解。' },
  { code: 'bye', title: '结束语', text: '感谢您的耐心，祝您生活愉快！如有其他问题，随时联系我们。' },
];

async function handleAgent(state, req, res, url) {
  const p = url.pathname;
  if (p === '/api/agent/login' && req.method === 'POST') {
    const { name = '', password = '' } = await readJson(req);
    const f = state.failures.get(name) ?? { count: 0, lockedUntil: 0 };
    if (f.lockedUntil > now()) {
      const until = new Date(f.lockedUntil * 1000).toLocaleTimeString('zh-CN', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', hour12: false });
      return fail(res, 429, `登录失败次数过多，请于${until}后再试`);
    }
    const agent = state.agents.get(name);
    if (!agent || agent.password !== password) {
      f.count++;
      if (f.count >= 5) { f.lockedUntil = now() + 300; f.count = 0; }
      state.failures.set(name, f);
      return fail(res, 401, '账号或密码错误');
    }
    state.failures.delete(name);
    const token = crypto.randomBytes(18).toString('hex');
    state.tokens.set(token, name);
    agent.lastSeen = now();
    const expires = now() + 12 * 3600;
    return send(res, 200, { token, name, role: agent.role, expires_at: expires }, {
      'Set-Cookie': `gb_agent=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${12 * 3600}`,
    });
  }

  const me = agentFor(state, req);
  if (!me) return fail(res, 401, '请先登录');

  if (p === '/api/agent/logout' && req.method === 'POST') {
    for (const [t, n] of state.tokens) if (n === me.name) state.tokens.delete(t);
    return send(res, 200, {}, { 'Set-Cookie': 'gb_agent=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0' });
  }
  if (p === '/api/agent/me') {
    if (req.method === 'POST') {
      const body = await readJson(req);
      if (typeof body.auto_assign === 'boolean') me.auto_assign = body.auto_assign;
    }
    return send(res, 200, meView(state, me));
  }
  if (me.role === 'analyst') return fail(res, 403, '您的角色不能使用客服工作台');
  if (p === '/api/agent/queue') {
    const rows = [...state.customers.values()].filter((c) => (c.state === 'queued' || c.state === 'held') && visible(me, c));
    rows.sort((a, b) => (a.state === b.state ? a.queued_at - b.queued_at : a.state === 'queued' ? -1 : 1));
    return send(res, 200, { conversations: rows.map(queueRow) });
  }
  if (p === '/api/agent/canned') return send(res, 200, { canned: CANNED });
  if (p === '/api/agent/agents') {
    if (!isLead(me)) return fail(res, 403, '只有主管可以查看坐席列表');
    return send(res, 200, {
      agents: [...state.agents.values()].map((a) => ({ name: a.name, role: a.role, online: online(a), held: heldBy(state, a.name), capacity: a.capacity, auto_assign: a.auto_assign })),
    });
  }
  if (p === '/api/agent/events') {
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    res.write(': connected\n\n');
    state.listeners.add(res);
    const beat = setInterval(() => res.write(': keep-alive\n\n'), 15000);
    req.on('close', () => { clearInterval(beat); state.listeners.delete(res); });
    return undefined;
  }

  const m = p.match(/^\/api\/agent\/conversations\/([^/]+)(?:\/([a-z]+))?$/);
  if (!m) return fail(res, 404, '没有这个接口');
  const c = state.customers.get(decodeURIComponent(m[1]));
  if (!c || !visible(me, c)) return fail(res, 404, '会话不存在或已结束');
  const action = m[2] ?? '';

  if (!action && req.method === 'GET') return send(res, 200, conversationView(c));
  if (action === 'assist' && req.method === 'GET') {
    // What the customer asked last, not the request for a person itself.
    const last = [...c.log].reverse().find((x) => x.from === 'customer' && x.intent !== 'human_agent' && !x.text.startsWith('['));
    if (!last) return send(res, 200, { intent: 'unknown', confidence: 0, text: '' });
    const u = understand(last.text);
    return send(res, 200, { intent: u.intent, confidence: u.confidence, text: u.text ?? '', for: last.text, handoff: u.intent === 'human_agent' });
  }
  if (req.method !== 'POST') return fail(res, 405, '不支持的请求方法');

  const holds = c.state === 'held' && c.agent === me.name;
  const mayManage = holds || (isLead(me) && (c.state === 'held' || c.state === 'queued'));
  switch (action) {
    case 'claim': {
      if (c.state === 'held' && c.agent !== me.name) return fail(res, 409, `该会话已由${c.agent}接入`);
      if (c.state !== 'queued' && c.state !== 'held') return fail(res, 409, '会话已不在排队中');
      if (!holds) {
        c.state = 'held';
        c.agent = me.name;
        append(state, c, { from: 'system', text: `您好，客服${me.name}为您服务。` }, { outside: true });
        broadcast(state, c.id, 'claimed');
      }
      return send(res, 200, {});
    }
    case 'reply': {
      const { text = '' } = await readJson(req);
      if (!holds) return fail(res, 409, '请先接入该会话再回复');
      if (!c.window.open) return fail(res, 422, c.window.reason ?? '当前无法回复该客户');
      if (!text.trim()) return fail(res, 400, '回复内容为空');
      const msg = append(state, c, { from: 'agent', agent: me.name, text: fill(text.trim(), c) }, { outside: true });
      c.typing = null;
      broadcast(state, c.id, 'reply');
      return send(res, 200, { seq: msg.seq });
    }
    case 'note': {
      const { text = '' } = await readJson(req);
      if (!text.trim()) return fail(res, 400, '备注内容为空');
      append(state, c, { from: 'note', agent: me.name, text: text.trim() }, { audience: 'desk' });
      broadcast(state, c.id, 'note');
      return send(res, 200, {});
    }
    case 'typing':
      if (holds) c.typing = { name: me.name, until: now() + 6 };
      broadcast(state, c.id, 'typing');
      return send(res, 200, {});
    case 'release':
    case 'close': {
      if (!mayManage) return fail(res, 409, '只有接待该会话的客服可以这样做');
      c.state = 'bot';
      c.agent = null;
      c.typing = null;
      append(state, c, {
        from: 'system',
        text: action === 'release'
          ? '人工服务已结束，接下来由智能客服小南继续为您服务，有问题直接问我就行。'
          : '本次人工服务已结束，感谢您的耐心。',
      }, { outside: true });
      broadcast(state, c.id, action === 'release' ? 'released' : 'closed');
      return send(res, 200, {});
    }
    case 'transfer': {
      if (!mayManage) return fail(res, 409, '只有接待该会话的客服或主管可以转接');
      const body = await readJson(req);
      if (body.agent) {
        if (!isLead(me) && body.agent !== me.name) return fail(res, 403, '只有主管可以转接给指定客服');
        if (!state.agents.has(body.agent)) return fail(res, 400, '没有这位客服');
        c.state = 'held';
        c.agent = body.agent;
        append(state, c, { from: 'system', text: `已为您转接给客服${body.agent}，请稍候。` }, { outside: true });
      } else {
        c.state = 'queued';
        c.agent = null;
        c.queued_at = now();
        append(state, c, { from: 'system', text: '客服暂时离开，已为您重新排队，请稍候，我们会尽快接入。' }, { outside: true });
      }
      broadcast(state, c.id, 'transferred');
      return send(res, 200, {});
    }
    default:
      return fail(res, 404, '没有这个接口');
  }
}

// ------------------------------------------------------------- analytics
// The analysts' endpoints (web/API.md, "The analysts' page"). Demo data:
// 30 days of conversations ending now (Asia/Shanghai), generated from a
// fixed seed, so the figures, the search, the funnels, the runs and the
// transcripts all tell the same story. Logins: analyst / analyst123
// (analyst), 王分析 / fenxi123 (analyst), 张主管 / zhang123 (supervisor:
// also sees agents' notes). The desk's agents get 403.

export const DEMO_ANALYST = { name: 'analyst', password: 'analyst123' };
const ANALYTICS_ROLES = new Set(['analyst', 'supervisor', 'admin']);
const DAY = 86400;
const SHANGHAI = 8 * 3600;

const shDate = (at) => new Date((at + SHANGHAI) * 1000).toISOString().slice(0, 10);
const dayStart = (date) => Date.parse(`${date}T00:00:00Z`) / 1000 - SHANGHAI;

// The last `days` days ending today, as the page's default period.
export function demoPeriod(days = 7) {
  const to = shDate(now());
  return { from: shDate(dayStart(to) - (days - 1) * DAY), to };
}

const ANALYTICS_INTENTS = [
  ['query_bill', '查电费账单'], ['query_arrears', '查询欠费'], ['pay_bill', '交电费'],
  ['recharge_card', '充值卡充值'], ['query_payments', '缴费记录'], ['report_fault', '故障报修'],
  ['query_outage', '停电查询'], ['query_progress', '业务进度查询'], ['bind_account', '绑定户号'],
  ['unbind_account', '解绑户号'], ['list_accounts', '查看已绑定户号'], ['switch_account', '切换户号'],
  ['query_profile', '查看用电档案'], ['apply_service', '新装增容变更'], ['subscribe_bill', '订阅电子账单'],
  ['unsubscribe_bill', '退订电子账单'], ['find_outlet', '查找营业网点'], ['register', '注册'],
  ['login', '登录'], ['human_agent', '转人工'], ['help', '功能帮助'], ['greet', '问候'],
  ['thanks', '感谢'], ['goodbye', '告别'], ['affirm', '肯定/确认'], ['deny', '否定'],
  ['cancel', '取消'], ['unknown', '无法识别（业务范围外）'],
].map(([intent, title]) => ({ intent, title }));

// Each flow's steps in the order it asks them.
const FLOW_STEPS = {
  bind_account: ['city', 'account', 'password'],
  pay_bill: ['amount', 'method', 'confirm'],
  report_fault: ['address', 'phone', 'description', 'confirm'],
  recharge_card: ['card_no', 'confirm'],
  query_outage: ['district'],
  subscribe_bill: ['channel', 'confirm'],
};

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NOT_UNDERSTOOD = '抱歉，我没太明白您的意思。您可以这样问我：“上个月电费多少”“我欠费了吗”“绑定户号”。回复“帮助”查看全部功能。';
const TO_PERSON = '抱歉，我还是没能理解您的意思，这就为您转接人工客服。';

// Similar messages the bot does not understand, one family per group.
const UNKNOWN_FAMILIES = [
  { weight: 9, texts: ['今天天气怎么样', '明天会下雨吗', '南宁今天天气怎么样', '天气预报', '明天天气好不好', '这几天会不会有台风'] },
  { weight: 7, texts: ['电动车充电桩怎么申请', '小区能装充电桩吗', '充电桩安装要什么材料', '新能源汽车充电桩报装', '私人充电桩怎么报装'] },
  { weight: 5, texts: ['讲个笑话', '给我讲个笑话吧', '说个笑话听听', '来个笑话'] },
  { weight: 4, texts: ['你们领导是谁', '你们经理叫什么名字', '我要找你们领导', '你们老板是谁'] },
  { weight: 4, texts: ['电费发票怎么开', '怎么开电子发票', '能开增值税专用发票吗', '发票抬头写错了能重开吗'] },
  { weight: 3, texts: ['屋顶光伏怎么并网', '光伏发电并网怎么办理', '家里装光伏板要申请吗'] },
  { weight: 2, texts: ['电表走得特别快', '电表是不是坏了走字快', '怀疑电表不准'] },
];

function generateAnalytics(seed = 95598) {
  const r = mulberry32(seed);
  const pick = (list) => list[Math.floor(r() * list.length)];
  const chance = (p) => r() < p;
  const between = (a, b) => a + r() * (b - a);
  const weighted = (items) => {
    const total = items.reduce((s, i) => s + i.weight, 0);
    let x = r() * total;
    for (const i of items) { x -= i.weight; if (x < 0) return i; }
    return items.at(-1);
  };
  const hex = (n) => Array.from({ length: n }, () => '0123456789abcdef'[Math.floor(r() * 16)]).join('');
  const alnum = (n) => Array.from({ length: n }, () => 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789'[Math.floor(r() * 56)]).join('');

  const customers = Array.from({ length: 220 }, () => {
    const wechat = chance(0.68);
    const id = wechat ? `oX${alnum(26)}` : `s${hex(24)}`;
    const channel = wechat ? 'wechat' : 'web';
    return { channel, masked: `${channel}:${id.slice(0, 3)}***${id.slice(-3)}` };
  });
  const AGENTS = ['小王', '小李', '张主管'];
  const latency = () => (chance(0.04) ? between(250, 900) : chance(0.12) ? between(90, 250) : between(14, 70));

  // One conversation: turns (customer message + bot answer), desk lines,
  // flow runs and the desk record, at offsets from its start.
  function conversation() {
    const turns = [];
    const desk = [];
    const runs = [];
    let record = null;
    let at = 0;
    const say = (text, intent, confidence, replies, extra = {}) => {
      at += turns.length ? Math.round(between(8, 70)) : 0;
      const turn = { at, text, intent, confidence: Math.round(confidence * 100) / 100, slots: {}, flow: '', step: '',
        replies: Array.isArray(replies) ? replies : [replies], fallback: false, handoff: null, ...extra };
      turns.push(turn);
      return turn;
    };
    const line = (from, text, agent = null, gap = 20) => {
      at += Math.round(between(gap / 2, gap * 2));
      desk.push({ at, from, text, agent });
    };
    const toDesk = (reason, claimChance = 0.85) => {
      const queued = at + 1;
      line('system', `转人工（${{ asked: '客户要求', not_understood: '机器人未能理解', gave_up: '流程未完成' }[reason]}）`, null, 2);
      record = { reason, queued_at: queued, claimed: false, wait: null, first_response: null, rating: null };
      if (!chance(claimChance)) return;
      const agent = pick(AGENTS);
      at += Math.round(chance(0.8) ? between(20, 240) : between(300, 1200));
      desk.push({ at, from: 'system', text: `客服${agent}接入了会话`, agent });
      record.claimed = true;
      record.wait = at - queued;
      line('agent', `您好，我是客服${agent}，请问有什么可以帮您？`, agent, 15);
      record.first_response = at - queued;
      const issue = pick(['我家电表走得特别快，上个月比平时多了一倍', '我想问问充电桩报装要多久', '电费是不是算错了，怎么这么多', '师傅什么时候能到']);
      at += Math.round(between(20, 60));
      turns.push({ at, text: issue, intent: 'handoff', confidence: 0, slots: {}, flow: '', step: '', replies: [], fallback: false, handoff: null });
      if (chance(0.35)) line('note', pick(['客户反映计量异常，已建议申请电能表校验', '已登记，转营销部跟进', '客户情绪较急，优先处理']), agent, 20);
      line('agent', pick(['好的，已为您登记，工作人员会在1个工作日内联系您。', '您可以在营业厅申请电能表校验，校验免费。', '我帮您看了一下，上月是抄表例日调整，用电天数多了几天。']), agent, 40);
      line('system', '会话已结束', agent, 30);
      if (chance(0.6)) record.rating = weighted([{ weight: 1, v: 1 }, { weight: 1, v: 2 }, { weight: 3, v: 3 }, { weight: 8, v: 4 }, { weight: 12, v: 5 }]).v;
    };
    const run = (flow, reached, ended, startTurn) => runs.push({ flow, reached, ended, last_step: reached.at(-1) ?? '', startTurn });
    const unknown = (family) => {
      const said = turns.map((x) => x.text);
      const fresh = family.texts.filter((x) => !said.includes(x));
      const t = say(pick(fresh.length ? fresh : family.texts), 'unknown', between(0.05, 0.42), NOT_UNDERSTOOD, { fallback: true });
      t.group = UNKNOWN_FAMILIES.indexOf(family) + 1;
      return t;
    };
    // A flow: its steps until `stop` (how it ends), the answers typed.
    const flow = (name, opening, answers, finals, outcomes) => {
      const steps = FLOW_STEPS[name];
      const start = turns.length;
      const ended = weighted(outcomes).ended;
      const stopAt = ended === 'completed' ? steps.length : Math.floor(r() * steps.length);
      const first = opening();
      first.flow = name;
      first.step = steps[0];
      const reached = [steps[0]];
      for (let i = 0; i < stopAt; i++) {
        const a = answers[steps[i]]();
        const next = steps[i + 1];
        a.flow = name;
        a.step = next ?? '';
        if (next) reached.push(next);
      }
      if (ended === 'completed') finals();
      else if (ended === 'cancelled') say(pick(['算了', '不办了', '取消', '算了不弄了']), 'cancel', between(0.85, 0.99), '好的，已取消。还有其他需要帮忙的吗？');
      else if (ended === 'gave_up') {
        const step = reached.at(-1);
        say(pick(['嗯嗯', '就那个', '不知道', '?']), 'unknown', between(0.1, 0.3), '抱歉，没能识别您的输入，请再说一次。', { flow: name, step, fallback: true });
        say(pick(['你说啥', '啊', '就是那个嘛']), 'unknown', between(0.1, 0.3), '抱歉，多次未能识别您的输入，这就为您转接人工客服。', { fallback: true, handoff: 'gave_up' });
        toDesk('gave_up');
      } else if (ended === 'handed_off') {
        say(pick(['转人工', '人工客服', '我要找人工']), 'human_agent', between(0.9, 0.99), '好的，正在为您转接人工客服，请稍候。', { handoff: 'asked' });
        toDesk('asked');
      }
      run(name, reached, ended, start);
    };

    if (chance(0.25)) say(pick(['你好', '您好', '在吗', '你好，请问一下']), 'greet', between(0.9, 0.99), '您好，我是广西电网95598智能客服，请问有什么可以帮您？');
    const scenario = weighted([
      { weight: 18, name: 'bill' }, { weight: 8, name: 'arrears' }, { weight: 10, name: 'pay' },
      { weight: 10, name: 'fault' }, { weight: 9, name: 'bind' }, { weight: 4, name: 'card' },
      { weight: 6, name: 'outage' }, { weight: 3, name: 'outlet' }, { weight: 5, name: 'person' },
      { weight: 15, name: 'unknown' }, { weight: 3, name: 'help' }, { weight: 2, name: 'subscribe' },
    ]).name;
    const month = pick(['2024-05', '2024-06', '2024-07']);
    const billText = (m) => `${m.slice(0, 4)}年${Number(m.slice(5))}月电费账单（户号0301*****2345）：\n用电量：${Math.round(between(120, 420))}度\n电费金额：${between(60, 260).toFixed(2)}元`;
    const payOutcomes = [{ weight: 55, ended: 'completed' }, { weight: 18, ended: 'abandoned' }, { weight: 14, ended: 'cancelled' }, { weight: 6, ended: 'gave_up' }, { weight: 7, ended: 'handed_off' }];
    switch (scenario) {
      case 'bill': {
        const text = pick(['上个月电费多少', '这个月电费多少', '查一下7月份的电费账单', '电费账单', '我家电费怎么这么高', '查电费', '6月份电费是多少', '帮我查下电费', '上个月的电费账单发我看看']);
        say(text, 'query_bill', between(0.78, 0.99), billText(month), { slots: /\d月/.test(text) ? { month } : {} });
        if (chance(0.3)) say(pick(['那3月份的呢', '5月份呢']), 'query_bill', between(0.7, 0.95), billText('2024-03'), { slots: { month: '2024-03' } });
        if (chance(0.35)) say(pick(['谢谢', '好的谢谢', '感谢']), 'thanks', 0.97, '不客气，很高兴能帮到您！');
        break;
      }
      case 'arrears':
        say(pick(['我欠费了吗', '还欠多少电费', '有没有欠电费', '欠费多少', '我家欠了多少电费']), 'query_arrears', between(0.8, 0.99),
          `户号0301*****2345目前欠费${between(20, 300).toFixed(2)}元，回复“交电费”即可缴费。`);
        break;
      case 'pay':
        flow('pay_bill', () => say(pick(['交电费', '我要缴电费', '用支付宝交电费', '缴费', '帮我交一下电费']), 'pay_bill', between(0.85, 0.99), '好的，户号0301*****2345应缴129.80元，请问缴纳多少元？'),
          {
            amount: () => say(pick(['129.8', '交130元', '全部交了', '一百五十块']), 'pay_bill', between(0.6, 0.95), '请问用支付宝还是银联支付？', { slots: { amount: '130.00' } }),
            method: () => say(pick(['支付宝', '银联', '用支付宝']), 'pay_bill', between(0.8, 0.98), '请确认：缴纳130.00元，使用支付宝。回复“确认”继续。', { slots: { pay_method: 'alipay' } }),
            confirm: () => say('确认', 'affirm', 0.98, '请点击链接完成缴费：http://www.gx.csg.cn/pay?order=DEMO。缴费成功后我会通知您。'),
          }, () => {}, payOutcomes);
        break;
      case 'fault':
        flow('report_fault', () => say(pick(['家里跳闸了', '家里没电了，跳闸了', '电表冒烟了', '电线断了', '老是跳闸怎么办', '报修', '楼道的灯一直闪，是不是线路有问题']), 'report_fault', between(0.82, 0.99), '很抱歉给您带来不便。请问故障地址在哪里？'),
          {
            address: () => say(pick(['南宁市青秀区民族大道88号', '柳州市城中区文昌路12号', '桂林市七星区漓江路5号']), 'report_fault', between(0.6, 0.9), '请留一个联系电话，方便抢修人员联系您。', { slots: { city: '南宁市', address: '南宁市青秀区民族大道88号' } }),
            phone: () => say('138****8000', 'report_fault', 0.95, '请简单描述一下故障情况。', { slots: { phone: '138****8000' } }),
            description: () => say(pick(['整栋楼都没电了', '只有我家没电', '空开一合上就跳']), 'report_fault', between(0.5, 0.9), '请确认报修信息，回复“确认”提交。', { slots: { description: '整栋楼都没电了' } }),
            confirm: () => say('确认', 'affirm', 0.98, '已为您提交报修，工单号GZ20240805001，抢修人员会尽快与您联系。'),
          }, () => {}, [{ weight: 58, ended: 'completed' }, { weight: 14, ended: 'abandoned' }, { weight: 5, ended: 'cancelled' }, { weight: 6, ended: 'gave_up' }, { weight: 17, ended: 'handed_off' }]);
        break;
      case 'bind':
        flow('bind_account', () => say(pick(['绑定户号', '我要绑定户号', '怎么绑定户号', '绑个户号']), 'bind_account', between(0.85, 0.99), '好的，我们来绑定户号。请问您的用电地址在哪个市？'),
          {
            city: () => say(pick(['南宁', '柳州', '桂林市', '玉林']), 'bind_account', between(0.7, 0.97), '请输入您的户号（10-13位数字，在电费账单上）。', { slots: { city: '南宁市' } }),
            account: () => say('0301*****2345', 'bind_account', 0.96, '请输入该户号的服务密码（6位数字）。', { slots: { account_no: '0301*****2345' } }),
            password: () => say('******', 'bind_account', 0.99, '绑定成功！户号0301*****2345已设为默认户号。'),
          }, () => {}, [{ weight: 40, ended: 'completed' }, { weight: 40, ended: 'abandoned' }, { weight: 8, ended: 'gave_up' }, { weight: 6, ended: 'cancelled' }, { weight: 6, ended: 'handed_off' }]);
        break;
      case 'card':
        flow('recharge_card', () => say(pick(['充值卡充值', '我买了张电费卡要充值', '电费卡怎么充']), 'recharge_card', between(0.85, 0.99), '请输入充值卡卡号（16位）。'),
          {
            card_no: () => say('************9012', 'recharge_card', 0.97, '卡号************9012，面值100元，充值到户号0301*****2345，回复“确认”。', { slots: { card_no: '************9012' } }),
            confirm: () => say('确认', 'affirm', 0.98, '充值成功，100.00元已到账。'),
          }, () => {}, [{ weight: 70, ended: 'completed' }, { weight: 18, ended: 'abandoned' }, { weight: 12, ended: 'cancelled' }]);
        break;
      case 'outage':
        if (chance(0.5)) {
          say(pick(['今天有没有计划停电', '青秀区什么时候停电', '停电查询']), 'query_outage', between(0.8, 0.99), '南宁市青秀区民族大道片区8月7日9:00-17:00计划停电检修。');
        } else {
          flow('query_outage', () => say(pick(['我家停电了什么时候来电', '停电了', '怎么突然停电了']), 'query_outage', between(0.75, 0.97), '请问您在哪个区县？'),
            { district: () => say(pick(['青秀区', '西乡塘', '武鸣']), 'query_outage', between(0.8, 0.97), '该片区正在抢修，预计18:00前恢复供电。', { slots: { district: '青秀区' } }) },
            () => {}, [{ weight: 75, ended: 'completed' }, { weight: 25, ended: 'abandoned' }]);
        }
        break;
      case 'outlet':
        say(pick(['附近的营业厅', '青秀区营业网点在哪', '最近的营业厅在哪里']), 'find_outlet', between(0.85, 0.99), '离您较近的营业网点：南宁青秀供电营业厅（民族大道**号），8:30-17:30。');
        break;
      case 'person':
        say(pick(['转人工', '人工客服', '我要投诉找真人', '找人工']), 'human_agent', between(0.9, 0.99), '好的，正在为您转接人工客服，请稍候。', { handoff: 'asked' });
        toDesk('asked');
        break;
      case 'unknown': {
        const family = weighted(UNKNOWN_FAMILIES);
        unknown(family);
        if (chance(0.45)) {
          const t = unknown(family);
          t.replies = [TO_PERSON];
          t.handoff = 'not_understood';
          toDesk('not_understood', 0.7);
        } else if (chance(0.2)) {
          say('转人工', 'human_agent', 0.97, '好的，正在为您转接人工客服，请稍候。', { handoff: 'asked' });
          toDesk('asked');
        }
        break;
      }
      case 'help':
        say(pick(['你能做什么', '有哪些功能', '菜单']), 'help', between(0.85, 0.99), '我可以帮您查电费、交电费、报故障、查停电、找网点。');
        break;
      case 'subscribe':
        flow('subscribe_bill', () => say(pick(['订阅电费账单', '每个月把账单发我']), 'subscribe_bill', between(0.85, 0.99), '请问用短信、邮件还是微信接收？'),
          {
            channel: () => say(pick(['短信', '微信', '邮件']), 'subscribe_bill', 0.93, '回复“确认”完成订阅。', { slots: { channel: 'sms' } }),
            confirm: () => say('确认', 'affirm', 0.98, '订阅成功，每月出账时会推送给您。'),
          }, () => {}, [{ weight: 70, ended: 'completed' }, { weight: 30, ended: 'abandoned' }]);
        break;
      default:
    }
    return { turns, desk, runs, record };
  }

  const all = [];
  const t = now();
  const today = shDate(t);
  for (let d = 29; d >= 0; d--) {
    const date = shDate(dayStart(today) - d * DAY);
    const weekday = new Date(`${date}T00:00:00Z`).getUTCDay();
    const n = Math.round((weekday === 0 || weekday === 6 ? 34 : 52) + between(-8, 10) + (d < 10 ? 6 : 0));
    for (let i = 0; i < n; i++) {
      // Busier in the morning and the evening.
      const hour = weighted([7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23]
        .map((h) => ({ weight: [1, 4, 7, 8, 7, 4, 4, 6, 6, 6, 5, 5, 7, 8, 7, 4, 2][h - 7], h }))).h;
      const start = dayStart(date) + hour * 3600 + Math.floor(r() * 3600);
      const c = conversation();
      c.customer = pick(customers);
      c.start = start;
      if (start + (c.turns.at(-1)?.at ?? 0) + 60 > t) continue; // not yet happened
      all.push(c);
    }
  }

  // Ids in time order; a conversation's id is its first turn's (as the server).
  const turns = [];
  for (const c of all) {
    for (const x of c.turns) {
      x.conv = c;
      x.at += c.start;
      x.latency_ms = x.intent === 'handoff' ? 0 : Math.round(latency() * 10) / 10;
      turns.push(x);
    }
  }
  turns.sort((a, b) => a.at - b.at);
  turns.forEach((x, i) => { x.id = i + 1; });
  const conversations = new Map();
  for (const c of all) {
    c.id = String(c.turns[0].id);
    for (const x of c.desk) x.at += c.start;
    for (const x of c.runs) {
      x.started_at = c.turns[x.startTurn].at;
      // Waiting for an answer and not yet 30 minutes old: still open.
      if (x.ended === 'abandoned' && t - c.turns.at(-1).at < 1800) x.ended = 'open';
    }
    if (c.record) c.record.queued_at += c.start;
    conversations.set(c.id, c);
  }
  return { turns, conversations, labels: new Map() };
}

function nearestRank(values, p) {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

function periodOf(url) {
  const def = demoPeriod(7);
  const from = url.searchParams.get('from') || def.from;
  const to = url.searchParams.get('to') || def.to;
  const ok = /^\d{4}-\d{2}-\d{2}$/;
  if (!ok.test(from) || !ok.test(to) || from > to) {
    throw Object.assign(new Error('"from" and "to" must be YYYY-MM-DD, from not after to'), { status: 400 });
  }
  return { from, to, begin: dayStart(from), end: dayStart(to) + DAY };
}

const round4 = (x) => Math.round(x * 10000) / 10000;

function figures(turns, convs) {
  const bot = turns.filter((x) => x.intent !== 'handoff');
  const lat = bot.map((x) => x.latency_ms);
  return {
    conversations: convs.length,
    turns: bot.length,
    customers: new Set(turns.map((x) => x.conv.customer.masked)).size,
    desk_messages: turns.length - bot.length,
    fallback_rate: bot.length ? round4(bot.filter((x) => x.fallback).length / bot.length) : 0,
    handoff_rate: convs.length ? round4(convs.filter((c) => c.record).length / convs.length) : 0,
    latency_ms: { p50: nearestRank(lat, 50), p95: nearestRank(lat, 95), p99: nearestRank(lat, 99) },
  };
}

function summarize(data, period) {
  const inPeriod = (at) => at >= period.begin && at < period.end;
  const turns = data.turns.filter((x) => inPeriod(x.at));
  const convs = [...data.conversations.values()].filter((c) => inPeriod(c.turns[0].at));
  const days = [];
  for (let d = period.begin; d < period.end; d += DAY) {
    const date = shDate(d);
    days.push({ date, ...figures(turns.filter((x) => shDate(x.at) === date), convs.filter((c) => shDate(c.turns[0].at) === date)) });
  }
  const intents = new Map();
  for (const x of turns) if (x.intent !== 'handoff') intents.set(x.intent, (intents.get(x.intent) ?? 0) + 1);
  const funnels = new Map();
  for (const c of convs) {
    for (const run of c.runs) {
      const f = funnels.get(run.flow) ?? { flow: run.flow, started: 0, steps: FLOW_STEPS[run.flow].map((step) => ({ step, reached: 0 })),
        completed: 0, cancelled: 0, gave_up: 0, handed_off: 0, abandoned: 0, open: 0 };
      f.started++;
      for (const s of f.steps) if (run.reached.includes(s.step)) s.reached++;
      f[run.ended]++;
      funnels.set(run.flow, f);
    }
  }
  const records = convs.map((c) => c.record).filter(Boolean);
  const byReason = {};
  for (const rec of records) byReason[rec.reason] = (byReason[rec.reason] ?? 0) + 1;
  const rated = records.filter((rec) => rec.rating);
  const distribution = { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 };
  for (const rec of rated) distribution[rec.rating]++;
  const claimed = records.filter((rec) => rec.claimed);
  return {
    days,
    totals: figures(turns, convs),
    intents: [...intents].map(([intent, n]) => ({ intent, turns: n })).sort((a, b) => b.turns - a.turns),
    funnels: [...funnels.values()].sort((a, b) => b.started - a.started),
    desk: {
      handoffs: records.length,
      by_reason: byReason,
      claimed: claimed.length,
      wait_seconds: { p50: nearestRank(claimed.map((x) => x.wait), 50), p95: nearestRank(claimed.map((x) => x.wait), 95) },
      first_response_seconds: { p50: nearestRank(claimed.map((x) => x.first_response), 50), p95: nearestRank(claimed.map((x) => x.first_response), 95) },
      ratings: {
        count: rated.length,
        average: rated.length ? Math.round((rated.reduce((s, x) => s + x.rating, 0) / rated.length) * 100) / 100 : null,
        distribution,
      },
    },
  };
}

function turnView(x) {
  const c = x.conv;
  return {
    id: x.id, at: x.at, conversation: c.id, channel: c.customer.channel, customer: c.customer.masked,
    text: x.text, intent: x.intent, confidence: x.confidence, slots: x.slots, flow: x.flow, step: x.step,
    replies: x.replies, latency_ms: x.latency_ms, fallback: x.fallback, handoff: x.handoff,
  };
}

function filteredTurns(data, url, period) {
  const q = url.searchParams;
  const channel = q.get('channel');
  const intent = q.get('intent');
  const flow = q.get('flow');
  const text = (q.get('q') ?? '').trim();
  const maxConf = q.get('max_confidence');
  if (maxConf && !(Number(maxConf) >= 0 && Number(maxConf) <= 1)) {
    throw Object.assign(new Error('"max_confidence" must be a number from 0 to 1'), { status: 400 });
  }
  return data.turns.filter((x) => x.at >= period.begin && x.at < period.end
    && (!channel || x.conv.customer.channel === channel)
    && (!intent || x.intent === intent)
    && (!flow || x.flow === flow)
    && (!text || x.text.toLowerCase().includes(text.toLowerCase()))
    && (!maxConf || x.confidence <= Number(maxConf))
    && (q.get('fallback') !== '1' || x.fallback)
    && (q.get('handoff') !== '1' || x.handoff));
}

function groupsOf(data, period) {
  const groups = new Map();
  for (const x of data.turns) {
    if (!x.group || x.at < period.begin || x.at >= period.end) continue;
    const g = groups.get(x.group) ?? { id: String(x.group), size: 0, examples: [], label: data.labels.get(String(x.group)) ?? null };
    g.size++;
    if (g.examples.length < 5 && !g.examples.includes(x.text)) g.examples.push(x.text);
    groups.set(x.group, g);
  }
  return [...groups.values()].sort((a, b) => b.size - a.size);
}

const csvCell = (v) => {
  const s = v == null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

async function handleAnalytics(state, req, res, url) {
  const me = agentFor(state, req);
  if (!me) return fail(res, 401, '请先登录');
  if (!ANALYTICS_ROLES.has(me.role)) return fail(res, 403, '您的角色不能查看分析数据');
  const data = (state.analytics ??= generateAnalytics());
  const p = url.pathname;

  const label = p.match(/^\/api\/analytics\/unrecognised\/([^/]+)\/label$/);
  if (label) {
    if (req.method !== 'POST') return fail(res, 405, 'use POST');
    const { intent } = await readJson(req);
    if (!ANALYTICS_INTENTS.some((i) => i.intent === intent)) return fail(res, 400, `没有这个意图：${intent}`);
    const id = decodeURIComponent(label[1]);
    if (!data.turns.some((x) => String(x.group) === id)) return fail(res, 404, '没有这一组消息');
    data.labels.set(id, intent);
    return send(res, 200, { id, label: intent });
  }
  if (req.method !== 'GET') return fail(res, 405, 'use GET');

  if (p === '/api/analytics/summary') return send(res, 200, summarize(data, periodOf(url)));
  if (p === '/api/analytics/intents') return send(res, 200, { intents: ANALYTICS_INTENTS });
  if (p === '/api/analytics/turns') {
    const limit = Math.min(Math.max(Number(url.searchParams.get('limit')) || 50, 1), 500);
    const cursor = Number(url.searchParams.get('cursor')) || Infinity;
    const found = filteredTurns(data, url, periodOf(url)).filter((x) => x.id < cursor).reverse();
    const page = found.slice(0, limit);
    return send(res, 200, { turns: page.map(turnView), next: found.length > limit ? String(page.at(-1).id) : null });
  }
  const conv = p.match(/^\/api\/analytics\/conversations\/([^/]+)$/);
  if (conv) {
    const c = data.conversations.get(decodeURIComponent(conv[1]));
    if (!c) return fail(res, 404, 'no such conversation');
    const notes = me.role === 'supervisor' || me.role === 'admin';
    const items = [
      ...c.turns.map(turnView),
      ...c.desk.filter((x) => notes || x.from !== 'note').map((x) => ({ from: x.from, text: x.text, at: x.at, agent: x.agent })),
    ].sort((a, b) => a.at - b.at);
    return send(res, 200, { id: c.id, channel: c.customer.channel, customer: c.customer.masked, turns: items });
  }
  if (p === '/api/analytics/runs') {
    const period = periodOf(url);
    const q = url.searchParams;
    const flow = q.get('flow');
    if (!flow) return fail(res, 400, '"flow" is required');
    const runs = [];
    for (const c of data.conversations.values()) {
      for (const run of c.runs) {
        if (run.flow !== flow || run.started_at < period.begin || run.started_at >= period.end) continue;
        if (q.get('ended') && run.ended !== q.get('ended')) continue;
        if (q.get('step') && !run.reached.includes(q.get('step'))) continue;
        runs.push({ conversation: c.id, customer: c.customer.masked, channel: c.customer.channel, flow, ended: run.ended, last_step: run.last_step, started_at: run.started_at });
      }
    }
    runs.sort((a, b) => b.started_at - a.started_at);
    return send(res, 200, { runs });
  }
  if (p === '/api/analytics/unrecognised') return send(res, 200, { groups: groupsOf(data, periodOf(url)) });
  if (p === '/api/analytics/labelled') {
    const lines = [];
    for (const [id, intent] of data.labels) {
      const texts = new Set(data.turns.filter((x) => String(x.group) === id).map((x) => x.text));
      for (const text of texts) lines.push(JSON.stringify({ text, intent, slots: {} }));
    }
    return send(res, 200, lines.length ? `${lines.join('\n')}\n` : '', {
      'Content-Type': 'application/x-ndjson; charset=utf-8',
      'Content-Disposition': 'attachment; filename="labelled.jsonl"',
    });
  }
  if (p === '/api/analytics/export') {
    const period = periodOf(url);
    const format = url.searchParams.get('format');
    if (format !== 'csv' && format !== 'jsonl') return fail(res, 400, '"format" must be csv or jsonl');
    const rows = filteredTurns(data, new URL(`http://x/?${new URLSearchParams({
      ...(url.searchParams.get('channel') ? { channel: url.searchParams.get('channel') } : {}),
      ...(url.searchParams.get('intent') ? { intent: url.searchParams.get('intent') } : {}),
    })}`), period).map(turnView);
    const name = `gridbot-turns-${period.from}_${period.to}.${format}`;
    const headers = { 'Content-Disposition': `attachment; filename="${name}"` };
    if (format === 'jsonl') {
      return send(res, 200, rows.map((x) => JSON.stringify(x)).join('\n') + (rows.length ? '\n' : ''), { ...headers, 'Content-Type': 'application/x-ndjson; charset=utf-8' });
    }
    const cols = ['id', 'at', 'conversation', 'channel', 'customer', 'text', 'intent', 'confidence', 'slots', 'flow', 'step', 'replies', 'latency_ms', 'fallback', 'handoff'];
    const csv = [cols.join(','), ...rows.map((x) => cols.map((k) => csvCell(x[k])).join(','))].join('\r\n');
    return send(res, 200, `\uFEFF${csv}\r\n`, { ...headers, 'Content-Type': 'text/csv; charset=utf-8' });
  }
  return fail(res, 404, '没有这个接口');
}

// ----------------------------------------------------------------- server

export function startMockServer({ port = 8090, host = '127.0.0.1', quiet = false } = {}) {
  const state = createState();
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://localhost');
    const p = url.pathname;
    try {
      if (p === '/' || p === '/index.html') {
        customerFor(state, req, res); // sets gb_sid if absent
        return await serveFile(res, path.join(WEB, 'chat/index.html'), PAGE_HEADERS);
      }
      if (p === '/agent' || p === '/agent/') return await serveFile(res, path.join(WEB, 'agent/index.html'), PAGE_HEADERS);
      if (p === '/analytics' || p === '/analytics/') return await serveFile(res, path.join(WEB, 'analytics/index.html'), PAGE_HEADERS);
      if (p.startsWith('/assets/')) {
        const name = p.slice('/assets/'.length);
        if (!/^[\w.-]+$/.test(name)) return send(res, 404, 'not found\n');
        return await serveFile(res, path.join(WEB, 'assets', name));
      }
      if (p === '/mock-media/meter.svg') return send(res, 200, METER_SVG, { 'Content-Type': 'image/svg+xml' });
      if (p === '/mock-media/voice.wav') return send(res, 200, silentWav(), { 'Content-Type': 'audio/wav' });
      if (p === '/healthz') return send(res, 200, 'ok\n');
      if (p === '/api/menu') {
        const menu = JSON.parse(await fs.readFile(MENU_FILE, 'utf8'));
        for (const b of menu.button) for (const s of b.sub_button ?? []) delete s.intent;
        return send(res, 200, { button: menu.button });
      }
      if (p === '/api/chat' && req.method === 'POST') return await handleChat(state, req, res, customerFor(state, req, res));
      if (p === '/api/chat/history') {
        const customer = customerFor(state, req, res);
        // seq only on what the long poll would deliver, so the page can
        // dedupe; everything shown here counts as delivered.
        const messages = customer.log.filter((m) => m.audience === 'all').slice(-50)
          .map(({ from, text, at, seq, outside }) => (outside ? { seq, from, text, at } : { from, text, at }));
        customer.delivered = state.seq;
        return send(res, 200, { messages, last_seq: state.seq });
      }
      if (p === '/api/chat/updates') return handleUpdates(state, req, res, customerFor(state, req, res), url);
      if (p.startsWith('/api/agent/')) return await handleAgent(state, req, res, url);
      if (p.startsWith('/api/analytics/')) return await handleAnalytics(state, req, res, url);
      return send(res, 404, 'not found\n');
    } catch (err) {
      if (!res.headersSent) fail(res, err.status ?? 500, err.status ? err.message : '服务器内部错误');
      if (!err.status) console.error(err);
      return undefined;
    }
  });
  return new Promise((resolve) => {
    server.listen(port, host, () => {
      const { port: actual } = server.address();
      if (!quiet) console.log(`mock gridbot on http://${host}:${actual}/  (console: /agent, ${DEMO_AGENT.name} / ${DEMO_AGENT.password}; analytics: /analytics, ${DEMO_ANALYST.name} / ${DEMO_ANALYST.password})`);
      resolve({
        url: `http://${host}:${actual}`,
        close: () => new Promise((done) => {
          for (const r of state.listeners) r.end();
          for (const c of state.customers.values()) wakeWaiters(c);
          server.closeAllConnections?.();
          server.close(() => done());
        }),
      });
    });
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  startMockServer({ port: Number(process.env.PORT) || 8090 });
}
