#include "nlu/slots.h"

#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "nlu/numbers.h"

namespace gridbot::nlu {
namespace {

// ---------------------------------------------------------------------------
// Small helpers on the normalised text.

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsAlnum(char c) { return IsDigit(c) || IsLower(c); }

// Byte offset of the character after the one starting at `i`.
size_t NextChar(std::string_view s, size_t i) {
  if (i >= s.size()) return s.size();
  ++i;
  while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) ++i;
  return i;
}

bool StartsWithAny(std::string_view s, std::initializer_list<std::string_view> words) {
  for (std::string_view w : words) {
    if (s.substr(0, w.size()) == w) return true;
  }
  return false;
}

// True if the character just before `i` is a Chinese numeral: a match that
// starts at `i` would cut a numeral in two (二 out of 十二块).
bool CnNumeralBefore(std::string_view s, size_t i) {
  if (i < 3) return false;
  static constexpr std::string_view kNumerals[] = {"零", "〇", "一", "二", "两", "三",
                                                   "四", "五", "六", "七", "八", "九",
                                                   "十", "百", "千", "万", "亿", "点"};
  const std::string_view prev = s.substr(i - 3, 3);
  for (std::string_view n : kNumerals) {
    if (prev == n) return true;
  }
  return false;
}

// Byte ranges already taken by a slot, so that later extractors do not read
// the same characters again (a phone's digits are not an amount, a month is
// not a number after a pay verb). Messages are short: a fixed array.
class Taken {
 public:
  void Add(size_t b, size_t e) {
    if (n_ < kMax) {
      spans_[n_++] = {b, e};
    } else {  // full (a very long message): widen the last span, never forget one
      spans_[kMax - 1].first = std::min(spans_[kMax - 1].first, b);
      spans_[kMax - 1].second = std::max(spans_[kMax - 1].second, e);
    }
  }
  bool Overlaps(size_t b, size_t e) const {
    for (int k = 0; k < n_; ++k) {
      if (b < spans_[k].second && spans_[k].first < e) return true;
    }
    return false;
  }

 private:
  static constexpr int kMax = 32;
  std::array<std::pair<size_t, size_t>, kMax> spans_;
  int n_ = 0;
};

int MonthIndex(int year, int month) { return year * 12 + (month - 1); }
std::string FormatMonthIndex(int index) { return FormatYearMonth(index / 12, index % 12 + 1); }

// ---------------------------------------------------------------------------
// Keyword slots (pay_method, channel, apply_type). Longest first in the
// alternation, so 新开户 wins over 开户 and 电子邮件 over 邮件. An empty value
// marks a phrase that contains a keyword but means something else (开户行 is
// the bank branch of a card, not a new connection).

struct Keyword {
  const char* word;
  const char* slot;
  const char* value;
};

constexpr Keyword kKeywords[] = {
    {"支付宝", "pay_method", "alipay"},
    {"alipay", "pay_method", "alipay"},
    {"zfb", "pay_method", "alipay"},
    {"银联", "pay_method", "unionpay"},
    {"网银", "pay_method", "unionpay"},
    {"银行卡", "pay_method", "unionpay"},
    {"云闪付", "pay_method", "unionpay"},
    {"unionpay", "pay_method", "unionpay"},
    {"短信", "channel", "sms"},
    {"sms", "channel", "sms"},
    {"电子邮件", "channel", "email"},
    {"电子邮箱", "channel", "email"},
    {"邮件", "channel", "email"},
    {"邮箱", "channel", "email"},
    {"电邮", "channel", "email"},
    {"email", "channel", "email"},
    {"e-mail", "channel", "email"},
    {"微信", "channel", "wechat"},
    {"新装", "apply_type", "new_install"},
    {"装表", "apply_type", "new_install"},
    {"装电表", "apply_type", "new_install"},
    {"装个电表", "apply_type", "new_install"},
    {"装一个电表", "apply_type", "new_install"},
    {"装个表", "apply_type", "new_install"},
    {"装一个表", "apply_type", "new_install"},
    {"报装", "apply_type", "new_install"},
    {"开户", "apply_type", "new_install"},
    {"新开户", "apply_type", "new_install"},
    {"开户行", "apply_type", ""},
    {"开户名", "apply_type", ""},
    {"开户银行", "apply_type", ""},
    {"增容", "apply_type", "capacity_increase"},
    {"加容量", "apply_type", "capacity_increase"},
    {"变更", "apply_type", "change"},
    {"过户", "apply_type", "change"},
    {"改类", "apply_type", "change"},
    {"减容", "apply_type", "change"},
    {"更名", "apply_type", "change"},
    {"改名", "apply_type", "change"},
};

// Words before a number that say what the number is.
// 账号 is the electricity account, except when the message is about logging
// in or registering: the platform's login account is the mobile number.
enum class Context { kNone, kAccount, kLoginAccount, kPhone };
struct ContextWord {
  std::string_view word;
  Context context;
};
constexpr ContextWord kContextWords[] = {
    {"户号", Context::kAccount},      {"户口号", Context::kAccount},
    {"用户号", Context::kAccount},    {"用户编号", Context::kAccount},
    {"账号", Context::kLoginAccount}, {"帐号", Context::kLoginAccount},
    {"账户", Context::kAccount},      {"帐户", Context::kAccount},
    {"户口", Context::kAccount},      {"手机", Context::kPhone},
    {"电话", Context::kPhone},        {"联系方式", Context::kPhone},
};

// The context word nearest before the end of `segment`.
Context LastContext(std::string_view segment) {
  Context best = Context::kNone;
  size_t best_end = 0;
  for (const ContextWord& w : kContextWords) {
    const size_t p = segment.rfind(w.word);
    if (p == std::string_view::npos) continue;
    const size_t end = p + w.word.size();
    if (best == Context::kNone || end > best_end) {
      best = w.context;
      best_end = end;
    }
  }
  return best;
}

// ---------------------------------------------------------------------------
// Patterns. Pieces shared by the date and money patterns.

// A month number: 1-2 digits or Chinese (一 .. 十二). 两 is left out: 两月
// means "two months", never February.
#define MON "(?:[0-9]{1,2}|[一二三四五六七八九十]{1,3})"
// A year: 2024, 24, 二〇二四, 二四.
#define YEAR \
  "(?:(?:19|20)[0-9]{2}|[0-9]{2}|[一二][零〇一二三四五六七八九]{3}|[零〇一二三四五六七八九]{2})"
#define REL_YEAR "(?:今年|去年|前年|明年)"
#define DAY "(?:[0-9]{1,2}|[一二三四五六七八九十]{1,3}) ?(?:号|日)"

// One month mention, or a range written as one phrase, as alternatives of
// one leftmost-first pattern: at one position the earlier alternative wins.
// The whole pattern finds the span cheaply (DFA only); the alternative that
// matches the span exactly then gives the groups, since submatches of the
// small pattern cost a fraction of those of the whole.
enum DateGroup {
  kRel,
  kRecentN,
  kRecentUnit,
  kRangeYear,
  kRangeRelYear,
  kRangeMonth1,
  kRangeMonth2,
  kYear,
  kRelYear,
  kMonth,
  kNumYear,
  kNumMonth,
  kWholeYear,
  kNumDateGroups
};
constexpr const char* kDateGroupNames[kNumDateGroups] = {
    "rel", "rn", "ru", "by", "bry", "bm1", "bm2", "y", "ry", "m", "ny", "nm", "wy"};

constexpr const char* kDateAlternatives[] = {
    // 上上个月 / 上个月 / 这个月 / 本月 / 当月
    "(?P<rel>上上个?月|上个?月|这个?月|本月|当月)份?",
    // 最近三个月 / 近3个月 / 近半年 / 过去一年
    "(?:最近|近|过去)的? ?(?P<rn>[0-9]{1,3}|[一二两三四五六七八九十]{1,3}|半) ?个? ?(?P<ru>月|年)",
    // 3至6月 / 3-6月 / 2024年3到6月: the first month without 月
    "(?:(?P<by>" YEAR ") ?年|(?P<bry>" REL_YEAR "))?的? ?(?P<bm1>" MON
    ") ?(?:到|至|-|~) ?(?P<bm2>" MON ") ?月份?(?:" DAY ")?",
    // 2024年3月 / 24年3月 / 去年3月 / 三月份 / 3月5号
    "(?:(?P<y>" YEAR ") ?年 ?|(?P<ry>" REL_YEAR "))?的? ?(?P<m>" MON ") ?月份?(?: ?" DAY ")?",
    // 2024-03 / 2024.3 / 2024/3
    "(?P<ny>(?:19|20)[0-9]{2}) ?[-./] ?(?P<nm>[0-9]{1,2})",
    // a whole year: 今年 / 去年 / 前年 / 2023年
    "(?P<wy>今年|去年|前年|(?:19|20)[0-9]{2} ?年|[一二][零〇一二三四五六七八九]{3}年)",
};
// No two alternatives match the same span (each has a word or sign of its
// own), so the one that matches a span can be found in any order: the
// commonest first.
constexpr int kDateTestOrder[] = {3, 0, 4, 2, 1, 5};

#define NUM                                                 \
  "(?:[0-9]+(?:\\.[0-9]+)?[十百千万]?"                  \
  "|[零〇一二两三四五六七八九十百千万亿]+" \
  "(?:点[零〇一二三四五六七八九]+)?)"
#define DIG "(?:[0-9]|[零一二两三四五六七八九])"

constexpr char kMoneyPattern[] =
    // 100元 / 一百五十块 / 100块钱 / 3块5 / 两块五毛 / 3元5角2分 / ¥100元
    "(?:¥|rmb|人民币)? ?" NUM " ?(?:元|块|圆)(?:钱|" DIG "(?:角|毛)?(?:" DIG
    "分?)?钱?)?"
    // ¥88.5
    "|(?:¥|rmb|人民币) ?[0-9]+(?:\\.[0-9]+)?"
    // 五毛 / 5角 / 五毛钱
    "|" DIG "(?:角|毛)(?:" DIG "分?)?钱?";

// A bare number after a pay verb: 交100 / 缴费200 / 充了50 / 交一百.
constexpr char kPayNumberPattern[] =
    "(?:交|缴|充|付|存|支付|缴纳|预存)了?(?:电费|费|值|款)?了? ?"
    "(?P<n>[0-9]+(?:\\.[0-9]{1,2})?[千万]?|[零一二两三四五六七八九十百千万]+)";

// Upper case is accepted too, so the extractor also works on text that was
// not case-folded; the value is lower-cased.
constexpr char kEmailPattern[] =
    "[a-zA-Z0-9][a-zA-Z0-9._%+-]*@[a-zA-Z0-9-]+(?:\\.[a-zA-Z0-9-]+)*\\.[a-zA-Z]{2,}";

// A business number after its name. Names that end like one but are not
// (用户编号 is an account, 电表编号 a meter) are matched as `skip` so that
// the leftmost match covers them.
constexpr char kBusinessPattern[] =
    "(?P<skip>用户编号|客户编号|户编号|电表编号|表编号|卡编号)"
    "|(?:业务编号|业务号|工单编号|工单号|受理编号|受理号|申请编号|申请号|流水号|订单号|单号|编号)"
    " ?(?:是|为|:)? ?(?P<v>[a-z0-9]*[0-9][a-z0-9]*)";
// YK20240801001: two letters, then eight digits or more.
constexpr char kBusinessTokenPattern[] = "[a-z]{2}[0-9]{8,20}";

#undef MON
#undef YEAR
#undef REL_YEAR
#undef DAY
#undef NUM
#undef DIG

RE2::Options PatternOptions() {
  RE2::Options o;
  o.set_log_errors(false);
  return o;
}

// A month, possibly without its year yet (三月: the year depends on today or
// on the other end of a range).
struct MonthRef {
  bool valid = false;
  bool year_known = false;
  int year = 0;
  int month = 0;
};

// One date phrase: a month, or a range of months (start..end, inclusive).
struct DateExpr {
  size_t begin = 0, end = 0;
  bool is_range = false;
  MonthRef a, b;  // single: a only
};

constexpr int kMaxDates = 8;

}  // namespace

struct SlotExtractor::Impl {
  explicit Impl(const Gazetteer& g)
      : gazetteer(g),
        date(DatePattern(), PatternOptions()),
        money(kMoneyPattern, PatternOptions()),
        pay_number(kPayNumberPattern, PatternOptions()),
        email(kEmailPattern, PatternOptions()),
        business(kBusinessPattern, PatternOptions()),
        business_token(kBusinessTokenPattern, PatternOptions()),
        keywords(KeywordPattern(), PatternOptions()) {
    for (const char* pattern : kDateAlternatives) {
      DateAlternative& alt = date_alternatives.emplace_back();
      alt.re = std::make_unique<RE2>(pattern, PatternOptions());
      alt.ngroups = alt.re->NumberOfCapturingGroups() + 1;
      const auto& names = alt.re->NamedCapturingGroups();
      for (int k = 0; k < kNumDateGroups; ++k) {
        auto it = names.find(kDateGroupNames[k]);
        alt.group[k] = it == names.end() ? -1 : it->second;
      }
    }
  }

  static std::string DatePattern() {
    std::string p;
    for (const char* alternative : kDateAlternatives) {
      if (!p.empty()) p += '|';
      // The names stay on the alternatives; the whole needs no groups.
      p += "(?:" + std::string(alternative) + ")";
    }
    return p;
  }

  static std::string KeywordPattern() {
    std::vector<std::string> words;
    for (const Keyword& k : kKeywords) words.push_back(k.word);
    std::sort(words.begin(), words.end(),
              [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
    std::string p = "(";
    for (size_t i = 0; i < words.size(); ++i) {
      if (i) p += '|';
      p += RE2::QuoteMeta(words[i]);
    }
    return p + ")";
  }

  void ExtractEmail(std::string_view text, Taken* taken, Slots* out) const;
  void ExtractBusiness(std::string_view text, Taken* taken, Slots* out) const;
  void ExtractIds(std::string_view text, Taken* taken, Slots* out) const;
  void ExtractDates(std::string_view text, const CivilDay& today, Taken* taken, Slots* out) const;
  void ExtractAmount(std::string_view text, const Taken& taken, Slots* out) const;
  void ExtractKeywords(std::string_view text, const Taken& taken, Slots* out) const;
  void ExtractPlaces(std::string_view text, Slots* out) const;

  // Date helpers.
  MonthRef ReadMonth(const re2::StringPiece& year, const re2::StringPiece& rel_year,
                     const re2::StringPiece& month, const CivilDay& today) const;
  bool ReadDate(const re2::StringPiece* g, const CivilDay& today, DateExpr* d) const;

  struct DateAlternative {
    std::unique_ptr<RE2> re;
    int ngroups = 0;
    int group[kNumDateGroups];  // index of each named group, -1 if absent
  };

  const Gazetteer& gazetteer;
  RE2 date, money, pay_number, email, business, business_token, keywords;
  std::vector<DateAlternative> date_alternatives;
};

// ---------------------------------------------------------------------------

void SlotExtractor::Impl::ExtractEmail(std::string_view text, Taken* taken, Slots* out) const {
  re2::StringPiece m;
  if (!email.Match(text, 0, text.size(), RE2::UNANCHORED, &m, 1)) return;
  const size_t b = m.data() - text.data();
  std::string value(m.data(), m.size());
  for (char& c : value) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  out->emplace("email", std::move(value));
  taken->Add(b, b + m.size());
}

void SlotExtractor::Impl::ExtractBusiness(std::string_view text, Taken* taken, Slots* out) const {
  auto emit = [&](re2::StringPiece v) {
    const size_t b = v.data() - text.data();
    std::string value(v.data(), v.size());
    for (char& c : value) {
      if (IsLower(c)) c = static_cast<char>(c - 'a' + 'A');
    }
    out->emplace("business_no", std::move(value));
    taken->Add(b, b + v.size());
  };
  re2::StringPiece g[3];
  size_t pos = 0;
  while (pos < text.size() && business.Match(text, pos, text.size(), RE2::UNANCHORED, g, 3)) {
    pos = g[0].data() - text.data() + g[0].size();
    if (g[1].data() != nullptr) continue;  // 用户编号 and the like
    const size_t vb = g[2].data() - text.data();
    const size_t ve = vb + g[2].size();
    // Cut off in the middle of a longer token, or too short to be a number.
    if ((ve < text.size() && IsAlnum(text[ve])) || g[2].size() < 4 || taken->Overlaps(vb, ve))
      continue;
    emit(g[2]);
    return;
  }
  pos = 0;
  re2::StringPiece t;
  while (pos < text.size() &&
         business_token.Match(text, pos, text.size(), RE2::UNANCHORED, &t, 1)) {
    const size_t b = t.data() - text.data();
    const size_t e = b + t.size();
    pos = b + 1;
    if ((b > 0 && IsAlnum(text[b - 1])) || (e < text.size() && IsAlnum(text[e]))) continue;
    if (taken->Overlaps(b, e)) continue;
    // qq12345678 is a QQ number, wx... a WeChat id.
    const std::string_view prefix = text.substr(b, 2);
    if (prefix == "qq" || prefix == "wx" || prefix == "vx" || prefix == "id") continue;
    emit(t);
    return;
  }
}

// Account, phone and card numbers: runs of ASCII digits, read with what
// precedes them. Runs of ten digits or more are taken even when they are no
// slot (an ID card number), so they never turn into amounts.
void SlotExtractor::Impl::ExtractIds(std::string_view text, Taken* taken, Slots* out) const {
  struct Run {
    size_t b, e;
  };
  constexpr int kMaxRuns = 24;
  Run runs[kMaxRuns];
  int n = 0;
  for (size_t i = 0; i < text.size() && n < kMaxRuns;) {
    if (!IsDigit(text[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && IsDigit(text[j])) ++j;
    runs[n++] = Run{i, j};
    i = j;
  }
  const bool card_context = text.find("卡") != std::string_view::npos;
  const bool login = text.find("登录") != std::string_view::npos ||
                     text.find("登陆") != std::string_view::npos ||
                     text.find("注册") != std::string_view::npos;
  auto set = [out](const char* slot, std::string_view value) {
    out->emplace(slot, std::string(value));  // first one wins
  };
  auto separated = [&](int r) {  // run r+1 follows run r after one ' ' or '-'
    return r + 1 < n && runs[r + 1].b == runs[r].e + 1 &&
           (text[runs[r].e] == ' ' || text[runs[r].e] == '-');
  };

  size_t prev_end = 0;  // end of the previous run: context is read after it
  for (int r = 0; r < n; ++r) {
    const Run run = runs[r];
    const std::string_view digits = text.substr(run.b, run.e - run.b);
    Context context = LastContext(text.substr(prev_end, run.b - prev_end));
    if (context == Context::kLoginAccount) context = login ? Context::kPhone : Context::kAccount;
    prev_end = run.e;
    if (taken->Overlaps(run.b, run.e)) continue;
    // Letters glued to the digits: a code of some other kind.
    if ((run.b > 0 && IsLower(text[run.b - 1])) || (run.e < text.size() && IsLower(text[run.e])))
      continue;
    // A decimal fraction is an amount, not an ID.
    if ((run.b > 0 && text[run.b - 1] == '.') ||
        (run.e + 1 < text.size() && text[run.e] == '.' && IsDigit(text[run.e + 1])))
      continue;
    const bool plus = run.b > 0 && text[run.b - 1] == '+';

    // Groups: "138 0013 8000", "+86 138-0013-8000", "8800 1111 2222 3333",
    // "0301 0000 12345": runs of three digits or more, one ' ' or '-' apart.
    // A phone stops at 11 digits, a card at its last four-digit group, so
    // that a number after it ("8800 1111 2222 3333 100元") stays free.
    int first = r;
    if (digits == "86" && separated(r)) first = r + 1;
    if (separated(first) && runs[first].e - runs[first].b >= 3) {
      char joined[24];
      size_t len = 0;
      int phone_last = -1, card_last = -1, account_last = -1;
      size_t card_len = 0, account_len = 0;
      bool fours = true;  // every group so far has four digits, as cards are printed
      const size_t first_len = runs[first].e - runs[first].b;
      for (int k = first; k < n && k - first < 5; ++k) {
        const std::string_view part = text.substr(runs[k].b, runs[k].e - runs[k].b);
        if (part.size() < 3 || len + part.size() > 20) break;
        std::memcpy(joined + len, part.data(), part.size());
        len += part.size();
        fours = fours && part.size() == 4;
        if (k > first) {
          if (len == 11 && joined[0] == '1' && joined[1] >= '3' && joined[1] <= '9') {
            phone_last = k;
            break;
          }
          if (fours && (len == 16 || len == 20) &&
              (card_context || (len == 16 && joined[0] == '8' && joined[1] == '8'))) {
            card_last = k;
            card_len = len;
          }
          // Only when the first run is no account by itself.
          if (len >= 10 && len <= 13 && (first_len < 10 || first_len > 13)) {
            account_last = k;
            account_len = len;
          }
        }
        if (!separated(k)) break;
      }
      const char* slot = nullptr;
      int last = -1;
      if (phone_last >= 0) {
        slot = "phone";
        last = phone_last;
        len = 11;
      } else if (card_last >= 0) {
        slot = "card_no";
        last = card_last;
        len = card_len;
      } else if (first == r && account_last >= 0 && context == Context::kAccount) {
        slot = "account_no";
        last = account_last;
        len = account_len;
      }
      if (slot != nullptr) {
        set(slot, std::string_view(joined, len));
        taken->Add(runs[r].b - (plus ? 1 : 0), runs[last].e);
        prev_end = runs[last].e;
        r = last;
        continue;
      }
      // None of them: read the runs one by one ("86" too).
    }

    const size_t len = digits.size();
    if (len >= 10) taken->Add(run.b, run.e);
    const bool mobile = len == 11 && digits[0] == '1' && digits[1] >= '3' && digits[1] <= '9';
    const bool prefixed_mobile = len == 13 && digits.substr(0, 2) == "86" && digits[2] == '1' &&
                                 digits[3] >= '3' && digits[3] <= '9';
    if (mobile && context != Context::kAccount) {
      set("phone", digits);
    } else if (prefixed_mobile && (plus || context != Context::kAccount)) {
      set("phone", digits.substr(2));
    } else if (len >= 10 && len <= 13) {
      set("account_no", digits);
    } else if (len >= 16 && len <= 20 &&
               (card_context || (len == 16 && digits[0] == '8' && digits[1] == '8'))) {
      set("card_no", digits);
    }
  }
}

// ---------------------------------------------------------------------------
// Dates.

MonthRef SlotExtractor::Impl::ReadMonth(const re2::StringPiece& year,
                                        const re2::StringPiece& rel_year,
                                        const re2::StringPiece& month,
                                        const CivilDay& today) const {
  MonthRef ref;
  const std::string_view month_text(month.data(), month.size());
  // Chinese months are said with 十 (十二月); digit by digit (一二月) they
  // are two months, not December.
  if (month_text.size() > 3 && !IsDigit(month_text[0]) &&
      month_text.find("十") == std::string_view::npos)
    return ref;
  auto m = ParseNumber(month_text);
  if (!m || *m < 1 || *m > 12) return ref;
  ref.month = static_cast<int>(*m);
  if (year.data() != nullptr) {
    auto y = ParseNumber(std::string_view(year.data(), year.size()));
    if (!y) return ref;
    ref.year = static_cast<int>(*y < 100 ? 2000 + *y : *y);  // 24年 is 2024
    if (ref.year < 1990 || ref.year > 2099) return ref;
    ref.year_known = true;
  } else if (rel_year.data() != nullptr) {
    const std::string_view r(rel_year.data(), rel_year.size());
    ref.year = today.year + (r == "今年" ? 0 : r == "去年" ? -1 : r == "前年" ? -2 : 1);
    ref.year_known = true;
  }
  ref.valid = true;
  return ref;
}

// Fills `d` from the groups of one date phrase, indexed by DateGroup (an
// absent group has a null data()); false if the phrase names no valid month
// (13月: it is still a date, and blocks other readings).
bool SlotExtractor::Impl::ReadDate(const re2::StringPiece* g, const CivilDay& today,
                                   DateExpr* d) const {
  const int now = MonthIndex(today.year, today.month);
  auto known = [](int index) {
    MonthRef r;
    r.valid = r.year_known = true;
    r.year = index / 12;
    r.month = index % 12 + 1;
    return r;
  };
  if (g[kRel].data() != nullptr) {
    const std::string_view rel(g[kRel].data(), g[kRel].size());
    const int offset = rel.substr(0, 6) == "上上" ? -2 : rel.substr(0, 3) == "上" ? -1 : 0;
    d->a = known(now + offset);
    return true;
  }
  if (g[kRecentUnit].data() != nullptr) {
    const std::string_view n(g[kRecentN].data(), g[kRecentN].size());
    const bool years = std::string_view(g[kRecentUnit].data(), g[kRecentUnit].size()) == "年";
    std::int64_t months;
    if (n == "半") {
      if (!years) return false;  // 半个月: no whole month
      months = 6;
    } else {
      auto v = ParseNumber(n);
      if (!v) return false;
      months = years ? *v * 12 : *v;
    }
    if (months < 1 || months > 120) return false;
    d->is_range = true;
    d->a = known(now - static_cast<int>(months) + 1);
    d->b = known(now);
    return true;
  }
  if (g[kRangeMonth1].data() != nullptr) {
    d->is_range = true;
    d->a = ReadMonth(g[kRangeYear], g[kRangeRelYear], g[kRangeMonth1], today);
    d->b = ReadMonth(re2::StringPiece(), re2::StringPiece(), g[kRangeMonth2], today);
    return d->a.valid && d->b.valid;
  }
  if (g[kMonth].data() != nullptr) {
    d->a = ReadMonth(g[kYear], g[kRelYear], g[kMonth], today);
    return d->a.valid;
  }
  if (g[kNumYear].data() != nullptr) {
    d->a = ReadMonth(g[kNumYear], re2::StringPiece(), g[kNumMonth], today);
    return d->a.valid;
  }
  if (g[kWholeYear].data() != nullptr) {
    std::string_view w(g[kWholeYear].data(), g[kWholeYear].size());
    int year;
    if (w == "今年") {
      year = today.year;
    } else if (w == "去年") {
      year = today.year - 1;
    } else if (w == "前年") {
      year = today.year - 2;
    } else {
      w = w.substr(0, w.size() - std::string_view("年").size());
      while (!w.empty() && w.back() == ' ') w.remove_suffix(1);
      auto y = ParseNumber(w);
      if (!y || *y < 1990 || *y > today.year) return false;
      year = static_cast<int>(*y);
    }
    d->is_range = true;
    d->a = known(MonthIndex(year, 1));
    d->b = known(year == today.year ? now : MonthIndex(year, 12));
    return true;
  }
  return false;
}

namespace {

// The year of a month without one, from today: not after the current month
// is this year's, after it is last year's.
int DefaultIndex(const MonthRef& m, const CivilDay& today) {
  const int year = m.month <= today.month ? today.year : today.year - 1;
  return MonthIndex(year, m.month);
}

// Start and end of a range, the missing years taken from the other end or
// from today. Returns false if either end is invalid.
bool ResolveRange(const MonthRef& a, const MonthRef& b, const CivilDay& today, int* start,
                  int* end) {
  if (!a.valid || !b.valid) return false;
  if (a.year_known && b.year_known) {
    *start = MonthIndex(a.year, a.month);
    *end = MonthIndex(b.year, b.month);
  } else if (a.year_known) {  // 2023年11月到2月: the end follows the start
    *start = MonthIndex(a.year, a.month);
    *end = MonthIndex(b.month >= a.month ? a.year : a.year + 1, b.month);
  } else {  // the start precedes the end, whose year is known or today's rule
    *end = b.year_known ? MonthIndex(b.year, b.month) : DefaultIndex(b, today);
    const int end_year = *end / 12;
    *start = MonthIndex(a.month <= b.month ? end_year : end_year - 1, a.month);
  }
  if (*start > *end) std::swap(*start, *end);  // 6月到3月 written backwards
  return true;
}

// Text between two date phrases that makes them a range.
bool IsRangeConnector(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s == "到" || s == "至" || s == "-" || s == "~" || s == "到了" || s == "一直到" ||
         s == "直到" || s == "至到";
}

// After a date phrase: "up to now" (3月至今, 3月以来).
bool IsUntilNow(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return StartsWithAny(s, {"至今", "到现在", "到今天", "到目前", "到如今", "以来", "迄今"});
}

}  // namespace

void SlotExtractor::Impl::ExtractDates(std::string_view text, const CivilDay& today, Taken* taken,
                                       Slots* out) const {
  DateExpr exprs[kMaxDates];
  bool valid[kMaxDates];
  int n = 0;
  re2::StringPiece m;
  size_t pos = 0;
  while (n < kMaxDates && pos < text.size() &&
         date.Match(text, pos, text.size(), RE2::UNANCHORED, &m, 1)) {
    const size_t b = m.data() - text.data();
    size_t e = b + m.size();
    // Digits cut out of a longer number (2024 in 12024年; 13月 is matched
    // whole), or taken by an ID: look further on.
    if (m.empty() || (IsDigit(text[b]) && b > 0 && (IsDigit(text[b - 1]) || text[b - 1] == '.')) ||
        CnNumeralBefore(text, b) || taken->Overlaps(b, e) ||
        (e < text.size() && IsDigit(text[e - 1]) && IsDigit(text[e]))) {
      pos = NextChar(text, b);
      continue;
    }
    re2::StringPiece g[kNumDateGroups];
    for (int k : kDateTestOrder) {
      // Which alternative: a DFA-only test; then groups from that one only.
      const DateAlternative& alt = date_alternatives[k];
      if (!alt.re->Match(text, b, e, RE2::ANCHOR_BOTH, nullptr, 0)) continue;
      re2::StringPiece sub[8];
      if (!alt.re->Match(text, b, e, RE2::ANCHOR_BOTH, sub, std::min(alt.ngroups, 8))) break;
      for (int k = 0; k < kNumDateGroups; ++k) {
        if (alt.group[k] > 0) g[k] = sub[alt.group[k]];
      }
      break;
    }
    if (g[kNumYear].data() != nullptr && e + 1 < text.size() &&
        (text[e] == '-' || text[e] == '.' || text[e] == '/') && IsDigit(text[e + 1])) {
      // 2024-03-05: the day goes with the month; 2024.3-2024.6 is a range.
      size_t f = e + 1;
      while (f < text.size() && IsDigit(text[f])) ++f;
      if (f - e - 1 <= 2) e = f;
    }
    DateExpr& d = exprs[n];
    d = DateExpr{};
    d.begin = b;
    d.end = e;
    valid[n] = ReadDate(g, today, &d);
    taken->Add(b, e);
    ++n;
    pos = e;
  }
  if (n == 0) return;

  // A range: one phrase, two singles joined by 到/至/-, or one single up to now.
  int start = 0, end = 0;
  bool have_range = false;
  int month = -1;
  for (int k = 0; k < n && !have_range; ++k) {
    if (!valid[k]) continue;
    const DateExpr& d = exprs[k];
    if (d.is_range) {
      have_range = ResolveRange(d.a, d.b, today, &start, &end);
      continue;
    }
    if (k + 1 < n && !exprs[k + 1].is_range &&
        IsRangeConnector(text.substr(d.end, exprs[k + 1].begin - d.end))) {
      if (valid[k + 1]) have_range = ResolveRange(d.a, exprs[k + 1].a, today, &start, &end);
      ++k;  // the pair is one phrase, valid or not
      continue;
    }
    if (IsUntilNow(text.substr(d.end))) {
      MonthRef now_ref;
      now_ref.valid = now_ref.year_known = true;
      now_ref.year = today.year;
      now_ref.month = today.month;
      have_range = ResolveRange(d.a, now_ref, today, &start, &end);
      continue;
    }
    if (month < 0) {
      month = d.a.year_known ? MonthIndex(d.a.year, d.a.month) : DefaultIndex(d.a, today);
    }
  }
  if (have_range) {
    out->emplace("start_month", FormatMonthIndex(start));
    out->emplace("end_month", FormatMonthIndex(end));
  } else if (month >= 0) {
    out->emplace("month", FormatMonthIndex(month));
  }
}

// ---------------------------------------------------------------------------
// Money.

void SlotExtractor::Impl::ExtractAmount(std::string_view text, const Taken& taken,
                                        Slots* out) const {
  re2::StringPiece m;
  size_t pos = 0;
  while (pos < text.size() && money.Match(text, pos, text.size(), RE2::UNANCHORED, &m, 1)) {
    const size_t b = m.data() - text.data();
    const size_t e = b + m.size();
    pos = NextChar(text, b);
    if (taken.Overlaps(b, e)) continue;
    if (IsDigit(text[b]) && b > 0 && (IsDigit(text[b - 1]) || text[b - 1] == '.')) continue;
    if (CnNumeralBefore(text, b)) continue;
    const std::string_view phrase = text.substr(b, e - b);
    // 块 is also the measure word of meters and plots (两块电表), and 一块
    // means "together" (一块儿, 一块去); but 200块去哪了 is money.
    if (phrase.size() >= 3 && phrase.substr(phrase.size() - 3) == "块") {
      const std::string_view after = text.substr(e);
      if (StartsWithAny(after, {"表", "电表", "电能表", "地", "板", "屏", "田", "砖"}) ||
          (phrase == "一块" && StartsWithAny(after, {"儿", "去", "来", "走"})))
        continue;
    }
    auto fen = ParseMoneyFen(phrase);
    if (!fen) continue;
    out->emplace("amount", FormatYuan(*fen));
    return;
  }

  re2::StringPiece g[2];
  pos = 0;
  while (pos < text.size() && pay_number.Match(text, pos, text.size(), RE2::UNANCHORED, g, 2)) {
    const size_t b = g[1].data() - text.data();
    const size_t e = b + g[1].size();
    pos = g[0].data() - text.data() + g[0].size();
    if (taken.Overlaps(b, e)) continue;
    const std::string_view number = text.substr(b, e - b);
    const std::string_view after = text.substr(e);
    // 交3个月 / 交了2次 / 缴费100度: a count, not money.
    if (!after.empty() &&
        (IsAlnum(after[0]) || after[0] == '.' || after[0] == '%' ||
         StartsWithAny(
             after, {"月", "个", "年", "号",   "次",   "天",   "度", "期", "户", "笔", "栋", "楼",
                     "单", "点", "岁", "小时", "分钟", "千瓦", "台", "张", "多", "下", "遍"})))
      continue;
    // A Chinese numeral alone after a verb must carry a unit: 交一百, but
    // not 交一 (交一下).
    if (!IsDigit(number[0]) && number.find("十") == std::string_view::npos &&
        number.find("百") == std::string_view::npos &&
        number.find("千") == std::string_view::npos && number.find("万") == std::string_view::npos)
      continue;
    auto fen = ParseMoneyFen(std::string("¥") + std::string(number));
    if (!fen) continue;
    out->emplace("amount", FormatYuan(*fen));
    return;
  }
}

// ---------------------------------------------------------------------------

void SlotExtractor::Impl::ExtractKeywords(std::string_view text, const Taken& taken,
                                          Slots* out) const {
  re2::StringPiece m;
  size_t pos = 0;
  while (pos < text.size() && keywords.Match(text, pos, text.size(), RE2::UNANCHORED, &m, 1)) {
    const size_t b = m.data() - text.data();
    const size_t e = b + m.size();
    pos = e;
    if (IsLower(text[b]) && ((b > 0 && IsAlnum(text[b - 1])) ||
                             (e < text.size() && IsAlnum(text[e])) || taken.Overlaps(b, e)))
      continue;  // "email" inside a word or an address
    const std::string_view word(m.data(), m.size());
    for (const Keyword& k : kKeywords) {
      if (word == k.word) {
        if (*k.value != '\0') out->emplace(k.slot, k.value);
        break;
      }
    }
  }
}

void SlotExtractor::Impl::ExtractPlaces(std::string_view text, Slots* out) const {
  for (const PlaceMention& p : gazetteer.Find(text)) {
    if (p.place.district.empty()) {
      out->emplace("city", p.place.city);
    } else {
      out->emplace("district", p.place.district);
    }
  }
}

// ---------------------------------------------------------------------------

SlotExtractor::SlotExtractor(const Gazetteer& gazetteer) : impl_(new Impl(gazetteer)) {}
SlotExtractor::~SlotExtractor() { delete impl_; }

Slots SlotExtractor::Extract(std::string_view normalized, const CivilDay& today) const {
  Slots out;
  // One pass to see which extractors can find anything at all: most
  // messages have no digit, and the patterns cost more than these tests.
  bool has_digit = false, has_at = false, has_alpha = false, has_non_ascii = false, has_sep = false;
  for (char c : normalized) {
    has_digit |= IsDigit(c);
    has_at |= c == '@';
    has_alpha |= IsLower(c);
    has_sep |= c == '-' || c == '.' || c == '/';
    has_non_ascii |= static_cast<unsigned char>(c) >= 0x80;
  }
  auto contains = [normalized](std::string_view w) {
    return normalized.find(w) != std::string_view::npos;
  };
  Taken taken;
  if (has_at) impl_->ExtractEmail(normalized, &taken, &out);
  if (has_digit) {
    impl_->ExtractBusiness(normalized, &taken, &out);
    impl_->ExtractIds(normalized, &taken, &out);
  }
  if (has_non_ascii || has_digit) {
    if (contains("月") || contains("年") || (has_digit && has_sep))
      impl_->ExtractDates(normalized, today, &taken, &out);
    // Every money phrase has a currency word or a pay verb.
    if (contains("元") || contains("块") || contains("毛") || contains("角") || contains("圆") ||
        contains("¥") || contains("rmb") || contains("人民币") || contains("交") ||
        contains("缴") || contains("充") || contains("付") || contains("存"))
      impl_->ExtractAmount(normalized, taken, &out);
  }
  if (has_alpha || has_non_ascii) impl_->ExtractKeywords(normalized, taken, &out);
  if (has_non_ascii) impl_->ExtractPlaces(normalized, &out);
  return out;
}

}  // namespace gridbot::nlu
