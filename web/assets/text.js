// Helpers shared by the two pages: text with clickable links (built from DOM
// nodes, so server text is never parsed as HTML) and Asia/Shanghai times.

const URL_RE = /https?:\/\/[^\s<>"'，。！？、；：（）【】《》“”‘’]+/g;

// `text` as a fragment of text nodes and <a> links. Trailing ASCII
// punctuation belongs to the sentence, not to the URL.
export function linkified(text) {
  const s = String(text ?? '');
  const frag = document.createDocumentFragment();
  let last = 0;
  for (const match of s.matchAll(URL_RE)) {
    const url = match[0].replace(/[.,;:!?)\]}'"]+$/, '');
    if (match.index > last) frag.append(s.slice(last, match.index));
    const a = document.createElement('a');
    a.href = url;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    a.textContent = url;
    frag.append(a);
    last = match.index + url.length;
  }
  if (last < s.length) frag.append(s.slice(last));
  return frag;
}

const TZ = 'Asia/Shanghai';
const clock = new Intl.DateTimeFormat('zh-CN', { timeZone: TZ, hour: '2-digit', minute: '2-digit', hour12: false });
const day = new Intl.DateTimeFormat('zh-CN', { timeZone: TZ, year: 'numeric', month: 'numeric', day: 'numeric' });
const monthDay = new Intl.DateTimeFormat('zh-CN', { timeZone: TZ, month: 'long', day: 'numeric' });

// Unix seconds → "14:05" today, "昨天 14:05", else "8月3日 14:05".
export function timeLabel(at) {
  if (!at) return '';
  const d = new Date(at * 1000);
  const now = new Date();
  if (day.format(d) === day.format(now)) return clock.format(d);
  if (day.format(d) === day.format(new Date(now.getTime() - 86400000))) return `昨天 ${clock.format(d)}`;
  return `${monthDay.format(d)} ${clock.format(d)}`;
}

export function hhmm(at) {
  return at ? clock.format(new Date(at * 1000)) : '';
}

// Seconds → "不到1分钟", "3分钟", "1小时5分钟".
export function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds || 0));
  if (s < 60) return '不到1分钟';
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes}分钟`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours < 24) return rest ? `${hours}小时${rest}分钟` : `${hours}小时`;
  return `${Math.floor(hours / 24)}天${hours % 24 ? `${hours % 24}小时` : ''}`;
}

// The element `tag` with a class and text (never HTML).
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = String(text);
  return node;
}
