#include "dialogs/flow_util.h"

#include <algorithm>

#include "nlu/numbers.h"
#include "storage/services.h"

namespace gridbot::dialogs {

std::string StatedSlot(const nlu::Understanding& u, const std::string& name) {
  auto it = u.slots.find(name);
  return it == u.slots.end() ? "" : it->second;
}

std::string Slot(const nlu::Understanding& u, const std::string& name) {
  if (auto n = u.negated.find(name); n != u.negated.end()) {
    auto it = u.slots.find(name);
    if (it != u.slots.end() && it->second == n->second) return "";
  }
  auto it = u.slots.find(name);
  return it == u.slots.end() ? "" : it->second;
}

std::string FrameSlot(const Frame& f, const std::string& name) {
  auto it = f.slots.find(name);
  return it != f.slots.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string CityOf(const Context& ctx, const nlu::Understanding& u) {
  std::string city = Slot(u, "city");
  if (city.empty() && !Slot(u, "district").empty())
    city = ctx.nlu.gazetteer().CityOfDistrict(Slot(u, "district"));
  return city;
}

std::string DueText(const storage::Bill& b) {
  auto d = ParseCivilDay(b.due_date);
  if (!d) return b.due_date;
  return std::to_string(d->year) + "年" + std::to_string(d->month) + "月" + std::to_string(d->day) +
         "日";
}

int OverdueDays(const storage::Bill& b, const CivilDay& today) {
  auto due = ParseCivilDay(b.due_date);
  if (b.paid || !due) return 0;
  const auto days = [](const CivilDay& d) { return FromCivil(CivilTime{d, 12, 0, 0}) / 86400; };
  const std::int64_t late = days(today) - days(*due);
  return late > 0 ? static_cast<int>(late) : 0;
}

std::string NumberedAccounts(Context& ctx, const std::vector<storage::Binding>& bindings) {
  std::string lines;
  for (size_t i = 0; i < bindings.size(); ++i) {
    auto account = ctx.tx.FindAccount(bindings[i].account_no);
    lines += ctx.replies.Render(
        "accounts.item",
        {{"n", std::to_string(i + 1)},
         {"account", bindings[i].account_no},
         {"address", account ? account->address : ""},
         {"default", bindings[i].is_default ? ctx.replies.Render("accounts.default_mark") : ""}});
    if (i + 1 < bindings.size()) lines += "\n";
  }
  return lines;
}

std::optional<std::string> PickAccount(const nlu::Understanding& u,
                                       const std::vector<storage::Binding>& bindings) {
  const std::string no = Slot(u, "account_no");
  for (const auto& b : bindings)
    if (!no.empty() && b.account_no == no) return no;
  std::string digits;
  for (char c : u.normalized)
    if (c >= '0' && c <= '9') digits += c;
  if (!digits.empty() && digits.size() >= 4) {
    std::optional<std::string> found;
    for (const auto& b : bindings) {
      if (b.account_no.size() >= digits.size() &&
          b.account_no.compare(b.account_no.size() - digits.size(), digits.size(), digits) == 0) {
        if (found) return std::nullopt;  // ambiguous
        found = b.account_no;
      }
    }
    return found;
  }
  // "2" / "第2个" / "第二个" / "二"
  std::string s = u.normalized;
  for (const char* strip : {"第", "个", "号", "户", "那", "吧", "的"}) {
    for (size_t p; (p = s.find(strip)) != std::string::npos;) s.erase(p, std::string(strip).size());
  }
  auto n = nlu::ParseNumber(s);
  if (n && *n >= 1 && *n <= static_cast<std::int64_t>(bindings.size()))
    return bindings[*n - 1].account_no;
  return std::nullopt;
}

// ---------------------------------------------------------------------------

std::optional<std::string> ReferencedAccount(Context& ctx, const nlu::Understanding& u,
                                             const std::vector<storage::Binding>& bindings) {
  if (bindings.size() < 2) return std::nullopt;
  const std::string text = Compact(u.normalized);
  // "尾号4815" / "末尾是4815"
  for (const char* cue : {"尾号", "尾数", "后四位", "末尾", "结尾"}) {
    const size_t at = text.find(cue);
    if (at == std::string::npos) continue;
    std::string digits;  // the first run of digits after the cue
    for (size_t i = at; i < text.size(); ++i) {
      if (text[i] >= '0' && text[i] <= '9') {
        digits += text[i];
      } else if (!digits.empty()) {
        break;
      }
    }
    if (digits.size() < 3) continue;
    std::optional<std::string> found;
    for (const auto& b : bindings)
      if (b.account_no.size() >= digits.size() &&
          b.account_no.compare(b.account_no.size() - digits.size(), digits.size(), digits) == 0) {
        if (found) return std::nullopt;
        found = b.account_no;
      }
    if (found) return found;
  }
  // "第二个户号" / "第2个"
  static const std::vector<std::string> kOrdinals = {"一", "二", "三", "四", "五"};
  for (size_t i = 0; i < bindings.size() && i < kOrdinals.size(); ++i)
    if (text.find("第" + kOrdinals[i] + "个") != std::string::npos ||
        text.find("第" + std::to_string(i + 1) + "个") != std::string::npos)
      return bindings[i].account_no;
  // "柳州那个" / "青秀区的户号"
  const std::string city = Slot(u, "city"), district = Slot(u, "district");
  std::optional<std::string> found;
  if (!city.empty() || !district.empty()) {
    for (const auto& b : bindings) {
      auto account = ctx.tx.FindAccount(b.account_no);
      if (!account) continue;
      if ((!city.empty() && account->city != city) ||
          (!district.empty() && account->district != district))
        continue;
      if (found) return std::nullopt;  // two accounts there: the default stands
      found = b.account_no;
    }
    return found;
  }
  // "五一路那个": a word of one account's address (two characters or more).
  for (const std::string& t : u.tokens) {
    if (CodePoints(t) < 2 || !Digits(t).empty()) continue;
    std::optional<std::string> only;
    int matches = 0;
    for (const auto& b : bindings) {
      auto account = ctx.tx.FindAccount(b.account_no);
      if (account && account->address.find(t) != std::string::npos) {
        only = b.account_no;
        ++matches;
      }
    }
    if (matches == 1 && !(found && *found != *only)) found = only;
    if (matches == 1 && found == only) return found;
  }
  return std::nullopt;
}

std::optional<storage::Account> RequestedAccount(Context& ctx, const nlu::Understanding& u) {
  std::string no = Slot(u, "account_no");
  if (!no.empty() && !ctx.IsBound(no)) {
    ctx.Say("account_not_bound", {{"account", no}});
    return std::nullopt;
  }
  if (no.empty()) no = ReferencedAccount(ctx, u, ctx.tx.Bindings(ctx.user_id)).value_or("");
  if (no.empty() && !ctx.focus_account.empty() && ctx.IsBound(ctx.focus_account))
    no = ctx.focus_account;
  if (no.empty()) no = ctx.DefaultAccount().value_or("");
  ctx.focus_account = no;
  auto account = ctx.tx.FindAccount(no);
  if (!account) ctx.Say("account_missing", {{"account", no}});
  return account;
}

std::optional<std::string> Context::DefaultAccount() {
  auto bindings = tx.Bindings(user_id);
  for (const auto& b : bindings)
    if (b.is_default) return b.account_no;
  if (!bindings.empty()) return bindings.front().account_no;
  return std::nullopt;
}

bool Context::IsBound(const std::string& account_no) {
  for (const auto& b : tx.Bindings(user_id))
    if (b.account_no == account_no) return true;
  return false;
}

std::string ChineseMonth(const std::string& ym) {
  if (ym.size() != 7) return ym;
  return ym.substr(0, 4) + "年" + std::to_string(std::stoi(ym.substr(5, 2))) + "月";
}

namespace {
// A day without a wrong secret: a count starts again.
constexpr UnixSeconds kQuietDay = 24 * 3600;
}  // namespace

UnixSeconds LockedUntil(Context& ctx, const PasswordCounter& c) {
  return ctx.tx.Attempts(c.owner, c.key, c.kind).locked_until;
}

int CountWrongPassword(Context& ctx, const PasswordCounter& c) {
  storage::AttemptState a = ctx.tx.Attempts(c.owner, c.key, c.kind);
  // After a lock, or a day without a wrong one, the count starts again.
  if (a.locked_until != 0 || (a.last_at != 0 && ctx.now - a.last_at > kQuietDay)) a = {};
  a.last_at = ctx.now;
  if (++a.failures >= c.max_failures) a.locked_until = ctx.now + c.lock_seconds;
  ctx.tx.SaveAttempts(c.owner, c.key, c.kind, a);
  return a.locked_until != 0 ? 0 : c.max_failures - a.failures;
}

void ClearWrongPasswords(Context& ctx, const PasswordCounter& c) {
  ctx.tx.SaveAttempts(c.owner, c.key, c.kind, storage::AttemptState{});
}

namespace {
std::string TargetKind(const TargetCounter& c) { return c.kind + "@target"; }
}  // namespace

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

// The counter of wrong secrets of any kind from one client address.
static TargetCounter SourceCounter(const Context& ctx) {
  return {"addr:" + ctx.source, "secret", kFreeSourceFailures};
}

UnixSeconds TargetWaitUntil(Context& ctx, const TargetCounter& c) {
  UnixSeconds until = ctx.tx.Attempts(0, c.key, TargetKind(c)).locked_until;
  if (!ctx.source.empty()) {
    const TargetCounter s = SourceCounter(ctx);
    until = std::max(until, ctx.tx.Attempts(0, s.key, TargetKind(s)).locked_until);
  }
  return until;
}

bool SaySourceWait(Context& ctx, UnixSeconds until) {
  if (ctx.source.empty() || until <= ctx.now) return false;
  const TargetCounter s = SourceCounter(ctx);
  const UnixSeconds source = ctx.tx.Attempts(0, s.key, TargetKind(s)).locked_until;
  if (source < until) return false;
  ctx.Say("secret.source_wait", {{"minutes", MinutesLeft(source, ctx.now)}});
  return true;
}

namespace {
void CountWithBackoff(Context& ctx, const TargetCounter& c) {
  storage::AttemptState a = ctx.tx.Attempts(0, c.key, TargetKind(c));
  // A day without wrong tries starts afresh; before that, each quiet hour
  // forgives one, so an address (an office, a household) that mistypes now
  // and then never drifts into waiting.
  const UnixSeconds last = std::max(a.last_at, a.locked_until);
  if (last != 0 && ctx.now - last > kQuietDay) a = {};
  if (a.last_at != 0 && ctx.now > a.last_at)
    a.failures = std::max<int>(0, a.failures - static_cast<int>((ctx.now - a.last_at) / 3600));
  a.last_at = ctx.now;
  ++a.failures;
  if (a.failures > c.free_failures) {
    const int doublings = std::min(a.failures - c.free_failures - 1, 6);
    a.locked_until = ctx.now + std::min<UnixSeconds>(kMaxTargetWait, 60LL << doublings);
  }
  ctx.tx.SaveAttempts(0, c.key, TargetKind(c), a);
}
}  // namespace

void CountTargetFailure(Context& ctx, const TargetCounter& c) {
  CountWithBackoff(ctx, c);
  if (!ctx.source.empty()) CountWithBackoff(ctx, SourceCounter(ctx));
}

void ClearTargetFailures(Context& ctx, const TargetCounter& c) {
  ctx.tx.SaveAttempts(0, c.key, TargetKind(c), storage::AttemptState{});
}

std::string ChineseDateTime(UnixSeconds t) {
  const CivilTime c = ToCivil(t);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%d年%d月%d日 %02d:%02d", c.day.year, c.day.month, c.day.day,
                c.hour, c.minute);
  return buf;
}

// ---------------------------------------------------------------------------

namespace {

// Below this confidence a message is read as free text for a form.
constexpr double kMinConfidence = 0.5;
// Values of the business table (as the back end writes them), not replies.
constexpr const char* kStatusAccepted = "已受理";
constexpr const char* kStepAccepted = "受理";

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// "青秀区" without its last character, to see whether a message names it.
std::string Stem(const std::string& name) {
  if (name.size() <= 6) return name;  // two characters or fewer: the name itself
  return name.substr(0, name.size() - 3);
}

}  // namespace

std::string Compact(const std::string& s) {
  std::string out;
  for (char c : s)
    if (c != ' ') out += c;
  return out;
}

std::string Digits(const std::string& s) {
  std::string d;
  for (char c : s)
    if (c >= '0' && c <= '9') d += c;
  return d;
}

size_t CodePoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

std::string Trimmed(std::string s) {
  static const std::string kIdeoSpace = "\xE3\x80\x80";
  for (bool changed = true; changed;) {
    changed = false;
    while (!s.empty() && IsSpace(s.back())) s.pop_back(), changed = true;
    while (!s.empty() && IsSpace(s.front())) s.erase(0, 1), changed = true;
    if (s.size() >= 3 && s.compare(s.size() - 3, 3, kIdeoSpace) == 0)
      s.resize(s.size() - 3), changed = true;
    if (s.rfind(kIdeoSpace, 0) == 0) s.erase(0, 3), changed = true;
  }
  return s;
}

std::vector<std::string> ReplyWords(const Context& ctx, const std::string& key) {
  std::vector<std::string> out;
  const std::string list = ctx.replies.Render(key);
  for (size_t start = 0; start <= list.size();) {
    size_t end = list.find('|', start);
    if (end == std::string::npos) end = list.size();
    std::string w = list.substr(start, end - start);
    while (!w.empty() && (w.back() == '\n' || w.back() == ' ')) w.pop_back();
    if (!w.empty()) out.push_back(w);
    start = end + 1;
  }
  return out;
}

bool ContainsAny(const std::string& text, const std::vector<std::string>& words) {
  return std::any_of(words.begin(), words.end(),
                     [&](const std::string& w) { return text.find(w) != std::string::npos; });
}

bool IsOneOf(const std::string& normalized, const std::vector<std::string>& words) {
  return std::find(words.begin(), words.end(), Compact(normalized)) != words.end();
}

std::string WithoutNegated(const std::string& normalized) {
  const auto spans = nlu::NegatedSpans(normalized);
  if (spans.empty()) return normalized;
  std::string rest;
  size_t at = 0;
  for (const auto& n : spans) {
    rest += normalized.substr(at, n.cue - at);
    at = n.end;
  }
  rest = Trimmed(rest + normalized.substr(at));
  for (bool again = true; again;) {
    again = false;
    for (const char* lead : {"而是", "是", "在", "，", ","})
      if (rest.rfind(lead, 0) == 0) {
        rest = Trimmed(rest.substr(std::string(lead).size()));
        again = true;
      }
  }
  return rest;
}

std::string AddressFrom(const nlu::Understanding& u) {
  const std::string text = Compact(u.normalized);
  size_t at = std::string::npos;
  for (const char* slot : {"city", "district"}) {
    std::string name = Slot(u, slot);
    for (int pass = 0; pass < 2 && !name.empty(); ++pass) {
      const size_t p = text.find(name);
      if (p != std::string::npos) at = std::min(at, p);
      name = name.substr(0, name.size() - 3);  // without 市/区/县 ("南宁", "西乡塘")
      if (CodePoints(name) < 2) break;
    }
  }
  return at == std::string::npos ? "" : text.substr(at);
}

bool FreeText(const nlu::Understanding& u) {
  return u.intent == "unknown" || u.confidence < kMinConfidence;
}

std::string SecretDigitsSpelled(const std::string& normalized) {
  std::string s = normalized;
  static const std::vector<std::pair<std::string, char>> kSaid = {
      {"零", '0'}, {"〇", '0'}, {"幺", '1'}, {"一", '1'}, {"二", '2'}, {"两", '2'}, {"三", '3'},
      {"四", '4'}, {"五", '5'}, {"六", '6'}, {"七", '7'}, {"八", '8'}, {"九", '9'}};
  for (const auto& [w, d] : kSaid)
    for (size_t p; (p = s.find(w)) != std::string::npos;) s.replace(p, w.size(), 1, d);
  return s;
}

std::string SecretDigits(const std::string& normalized, size_t min, size_t max) {
  // Said digit by digit too: 二四六八一零.
  std::string s = SecretDigitsSpelled(Compact(normalized));
  for (const char* word : {"我的", "我", "服务密码", "卡密码", "登录密码", "密码", "口令", "是",
                           "为", "就是", "应该是", "的", ":", "：", "-", "_"})
    for (size_t p; (p = s.find(word)) != std::string::npos;) s.erase(p, std::string(word).size());
  if (s.size() < min || s.size() > max) return "";
  for (char c : s)
    if (c < '0' || c > '9') return "";
  return s;
}

bool ShapedLikeWordPassword(const std::string& normalized, size_t min) {
  std::string s = Trimmed(normalized);
  for (const char* word : {"我的密码是", "密码是", "密码:", "密码"})
    if (s.rfind(word, 0) == 0) s = Trimmed(s.substr(std::string(word).size()));
  if (s.size() < min || s.size() > 64) return false;
  for (unsigned char c : s)
    if (c <= 0x20 || c >= 0x7F) return false;
  return true;
}

bool IsMobile(const std::string& s) {
  if (s.size() != 11 || s[0] != '1' || s[1] < '3' || s[1] > '9') return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string PhoneOf(const nlu::Understanding& u) {
  const std::string slot = Slot(u, "phone");
  if (IsMobile(slot)) return slot;
  const std::string d = Digits(u.normalized);
  return IsMobile(d) ? d : "";
}

bool MayBePhone(const nlu::Understanding& u) {
  return u.slots.count("phone") || Digits(u.normalized).size() >= 5;
}

std::string MaskPhone(const std::string& p) {
  return p.size() == 11 ? p.substr(0, 3) + "****" + p.substr(7) : p;
}

bool FrameFlag(const Frame& f, const std::string& name) {
  auto it = f.slots.find(name);
  return it != f.slots.end() && *it == true;
}

FlowResult Ask(Context& ctx, Flow& flow, Frame& f, const std::string& step) {
  f.step = step;
  flow.Prompt(ctx, f, false);
  return FlowResult::kWaiting;
}

FlowResult GiveUp(Context& ctx, const Flow& flow) {
  // desk.md: when a flow gives up, the conversation goes to a person.
  ctx.Say("desk.gave_up", {{"flow", flow.title()}});
  ctx.handoff = "gave_up";
  return FlowResult::kDone;
}

FlowResult Retry(Context& ctx, Flow& flow, Frame& f, int max_tries) {
  if (++f.failures >= max_tries) return GiveUp(ctx, flow);
  flow.Prompt(ctx, f, true);
  return FlowResult::kWaiting;
}

std::string MinutesLeft(UnixSeconds until, UnixSeconds now) {
  return std::to_string(std::max<std::int64_t>(1, (until - now + 59) / 60));
}

bool FileBusiness(Context& ctx, const std::string& business_no, const std::string& account_no,
                  const std::string& type, const std::string& details_json) {
  storage::Business b;
  b.business_no = business_no;
  b.account_no = account_no;
  b.type = type;
  b.status = kStatusAccepted;
  b.steps = {storage::BusinessStep{kStepAccepted, ctx.now}};
  storage::CreateBusiness(ctx.tx, b, details_json, ctx.now);
  return ctx.tx.ok();
}

std::string OfferedPhone(Context& ctx, const std::optional<storage::Account>& account) {
  if (account && IsMobile(account->phone)) return account->phone;
  auto user = storage::FindUser(ctx.tx, ctx.user_id);
  return user && IsMobile(user->phone) ? user->phone : "";
}

FlowResult AskPhone(Context& ctx, Flow& flow, Frame& f,
                    const std::optional<storage::Account>& account) {
  const std::string offered = OfferedPhone(ctx, account);
  if (!offered.empty() && !FrameFlag(f, "phone_declined")) {
    f.slots["offered_phone"] = offered;
    return Ask(ctx, flow, f, "phone_offer");
  }
  return Ask(ctx, flow, f, "phone");
}

bool TakePhone(Frame& f, const nlu::Understanding& u) {
  if (f.step == "phone_offer" && u.intent == "affirm") {
    f.slots["phone"] = FrameSlot(f, "offered_phone");
    f.slots["phone_on_file"] = true;
  } else if (f.step == "phone_offer" && u.intent == "deny") {
    f.slots["phone_declined"] = true;
  } else {
    const std::string phone = PhoneOf(u);
    if (phone.empty()) return false;
    f.slots["phone"] = phone;
  }
  return true;
}

std::string ShownPhone(const Frame& f) {
  const std::string phone = FrameSlot(f, "phone");
  return FrameFlag(f, "phone_on_file") ? MaskPhone(phone) : phone;
}

Place PlaceOf(const Context& ctx, const nlu::Understanding& u) {
  Place p{Slot(u, "city"), Slot(u, "district")};
  if (p.district.empty()) return p;
  const std::string city_of = ctx.nlu.gazetteer().CityOfDistrict(p.district);
  if (p.city.empty() || city_of.empty() || city_of == p.city) {
    if (p.city.empty()) p.city = city_of;
    return p;
  }
  if (u.normalized.find(Stem(p.district)) != std::string::npos) {
    p.city = city_of;
  } else {
    p.district.clear();
  }
  return p;
}

}  // namespace gridbot::dialogs
