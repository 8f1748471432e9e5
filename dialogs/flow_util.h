// Building blocks shared by the flows: reading slots, naming months and
// dates, listing and picking bound accounts, reading the customer's text,
// phones and places, the steps of a form, and small reusable flows.
//
// Thread safety: stateless functions and flows; see flow.h.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dialogs/flow.h"
#include "storage/fixtures.h"

namespace gridbot::dialogs {

inline constexpr int kMaxBindings = 5;

// A slot of the message as stated, negated or not ("不要再发短信了" names
// the subscription to stop), "" if absent.
std::string StatedSlot(const nlu::Understanding& u, const std::string& name);
// A slot of the message, "" if absent or negated ("不要支付宝").
std::string Slot(const nlu::Understanding& u, const std::string& name);
// A string slot the flow collected, "" if absent.
std::string FrameSlot(const Frame& f, const std::string& name);
// The city a message names, directly or through one of its districts.
std::string CityOf(const Context& ctx, const nlu::Understanding& u);
// "2024年8月20日" from a bill's due date.
std::string DueText(const storage::Bill& b);
// How many days a bill is past its due date on `today` (0 if paid or not yet due).
int OverdueDays(const storage::Bill& b, const CivilDay& today);
// "2024年8月5日 08:00" from a time.
std::string ChineseDateTime(UnixSeconds t);
// The bound accounts as numbered lines, for choosing.
std::string NumberedAccounts(Context& ctx, const std::vector<storage::Binding>& bindings);
// Which bound account a message picks: its account number, the number of a
// line of the list ("2", "第二个"), or the last 4+ digits of one account.
std::optional<std::string> PickAccount(const nlu::Understanding& u,
                                       const std::vector<storage::Binding>& bindings);
// Which bound account a request refers to without its number: "柳州那个"
// (the one in that city or district), "尾号4815", "第二个户号". nullopt if the
// message names none, or several fit.
std::optional<std::string> ReferencedAccount(Context& ctx, const nlu::Understanding& u,
                                             const std::vector<storage::Binding>& bindings);
// The account a data request is about: the one named (if bound) or referred
// to ("柳州那个"), else the default. nullopt, with a reply said, if the named
// one is not bound.
std::optional<storage::Account> RequestedAccount(Context& ctx, const nlu::Understanding& u);

// Text of a message and word lists of the replies ---------------------------

// `s` without its spaces ("我 要 报修" → "我要报修").
std::string Compact(const std::string& s);
// The ASCII digits of `s`, in order ("8800 1234-5678" → "880012345678").
std::string Digits(const std::string& s);
// The number of characters (UTF-8 code points) of `s`.
size_t CodePoints(const std::string& s);
// The customer's words without surrounding white space (space, tab, CR, LF or U+3000).
std::string Trimmed(std::string s);
// The words of a word-list reply ("a|b|c"), without trailing spaces or line breaks; no empty one.
std::vector<std::string> ReplyWords(const Context& ctx, const std::string& key);
// Whether `text` holds one of `words`.
bool ContainsAny(const std::string& text, const std::vector<std::string>& words);
// Whether the normalised text, without its spaces, is exactly one of `words`.
bool IsOneOf(const std::string& normalized, const std::vector<std::string>& words);
// The normalised text without what it negates and the contrast word after
// ("不是这个地址，是南宁市青秀区民族大道100号" → "南宁市青秀区民族大道100号");
// the text itself if it negates nothing.
std::string WithoutNegated(const std::string& normalized);
// The address in a message that names its place: from the first place name
// on ("不是 是新房子 在南宁市西乡塘区大学东路100号" → "南宁市西乡塘区大学东路100号");
// "" if it names none.
std::string AddressFrom(const nlu::Understanding& u);
// Whether a message is free text for a form (no intent, or a weak one) rather than a request.
bool FreeText(const nlu::Understanding& u);

// Secrets ---------------------------------------------------------------------

// The digits of a message shaped like a numeric secret: digits only (spaces
// and dashes between them allowed), between `min` and `max` of them, with
// or without words such as "我的密码是"; "" if the message is not so shaped.
std::string SecretDigits(const std::string& normalized, size_t min, size_t max);
// The text with digits said in words (二四六八…) as ASCII digits.
std::string SecretDigitsSpelled(const std::string& normalized);
// Whether a message is shaped like a typed password: one word of ASCII
// letters, digits and symbols, `min` characters or more, no Chinese.
bool ShapedLikeWordPassword(const std::string& normalized, size_t min);

// Phones ----------------------------------------------------------------------

// Whether `s` is an 11-digit mobile number ("1", then 3 to 9, then 9 digits).
bool IsMobile(const std::string& s);
// The mobile number a message gives (its phone slot, else all its digits); "" if none is valid.
std::string PhoneOf(const nlu::Understanding& u);
// Whether a message may be giving a phone number: a phone slot or 5 digits or more.
bool MayBePhone(const nlu::Understanding& u);
// "138****8000" for an 11-character phone; anything else unchanged.
std::string MaskPhone(const std::string& p);

// Wrong passwords ---------------------------------------------------------------

// One counter of wrong passwords: `owner` (a user id, or 0 for "whoever
// tries"), `key` (the account, card or phone) and `kind` ("service_password"
// …). `max_failures` wrong in a row lock it for `lock_seconds`.
struct PasswordCounter {
  std::int64_t owner;
  std::string key, kind;
  int max_failures = 5;
  UnixSeconds lock_seconds = 30 * 60;
};
// Until when the counter is locked; 0 or a past time if it is not.
UnixSeconds LockedUntil(Context& ctx, const PasswordCounter& c);
// Counts one wrong password (an expired lock starts afresh); returns the
// tries left, 0 if this one locked it.
int CountWrongPassword(Context& ctx, const PasswordCounter& c);
// A right password: the count starts again.
void ClearWrongPasswords(Context& ctx, const PasswordCounter& c);

// The wrong secrets of one target (an account's service password, a card's
// password) across all users, so new identities get no new guesses:
// `free_failures` in a row cost nothing, then each further one makes
// everyone wait before the next try, doubling from one minute to at most an
// hour. A guesser is slowed to a few tries an hour; the owner is never
// locked out for longer than that wait, and the right secret after it
// clears the count. Each hour without a wrong one forgives one, a quiet day
// starts afresh. Kept in the database (survives a restart).
// Compares a typed secret with the stored one in time that does not depend
// on where they differ.
bool ConstantTimeEqual(std::string_view a, std::string_view b);

struct TargetCounter {
  std::string key, kind;
  int free_failures = 10;
};
constexpr UnixSeconds kMaxTargetWait = 60 * 60;
// Wrong secrets of any kind from one client address (Context::source) before
// everyone there waits the same way: enough for a household or an office
// behind one address, too few to spread a guess over new identities.
constexpr int kFreeSourceFailures = 30;
// Until when everyone waits; 0 or a past time if nobody does. With a
// source address, also until when that address waits.
UnixSeconds TargetWaitUntil(Context& ctx, const TargetCounter& c);
// When the wait `until` (from TargetWaitUntil) is the client address's, not
// the target's: says so in words that name no account, card or phone
// ([secret.source_wait]) and returns true; else says nothing.
bool SaySourceWait(Context& ctx, UnixSeconds until);
void CountTargetFailure(Context& ctx, const TargetCounter& c);
void ClearTargetFailures(Context& ctx, const TargetCounter& c);

// Steps of a form -------------------------------------------------------------

// Whether a flag slot the flow set is true; false if absent.
bool FrameFlag(const Frame& f, const std::string& name);
// Sets the step and asks its question (flow.Prompt without hint). Always kWaiting.
FlowResult Ask(Context& ctx, Flow& flow, Frame& f, const std::string& step);
// Says the flow gave up ([gave_up] with its title). Always kDone.
FlowResult GiveUp(Context& ctx, const Flow& flow);
// An answer that did not do: gives up at the max_tries-th failure, else asks again with the hint.
FlowResult Retry(Context& ctx, Flow& flow, Frame& f, int max_tries);
// "30": the minutes from `now` until `until`, rounded up, at least 1.
std::string MinutesLeft(UnixSeconds until, UnixSeconds now);
// Files a business record accepted now (status 已受理, step 受理); false if it was not stored.
bool FileBusiness(Context& ctx, const std::string& business_no, const std::string& account_no,
                  const std::string& type, const std::string& details_json);

// The contact phone of a form: steps "phone_offer" (the phone on file offered,
// flags phone_on_file / phone_declined) and "phone"; slot "phone".
//
// The phone a form offers: the account's if a mobile, else the registered user's; "" if none.
std::string OfferedPhone(Context& ctx, const std::optional<storage::Account>& account);
// Asks "phone_offer" for OfferedPhone() (slot offered_phone) if any and not declined, else "phone".
FlowResult AskPhone(Context& ctx, Flow& flow, Frame& f,
                    const std::optional<storage::Account>& account);
// Takes an answer to a phone step: yes / no to the offer, or a mobile; false if it is none of them.
bool TakePhone(Frame& f, const nlu::Understanding& u);
// The collected phone for replies: masked if it is the one on file, as typed otherwise.
std::string ShownPhone(const Frame& f);

// Places ----------------------------------------------------------------------

struct Place {
  std::string city, district;
  std::string Name() const { return city + district; }
};
// The place a message names; a district brings its city. When a follow-up
// merges an old district with a new city (or the reverse) and they disagree,
// the one the message itself names wins.
Place PlaceOf(const Context& ctx, const nlu::Understanding& u);

// Answers with one reply and is done: greetings, thanks, help, …
class SayFlow : public Flow {
 public:
  SayFlow(std::string intent, std::string title, std::string key)
      : intent_(std::move(intent)), title_(std::move(title)), key_(std::move(key)) {}
  std::string name() const override { return intent_; }
  std::string title() const override { return title_; }
  bool one_shot() const override { return true; }
  std::vector<std::string> replies() const override { return {key_}; }
  FlowResult Start(Context& ctx, Frame&, const nlu::Understanding&) override {
    ctx.Say(key_);
    return FlowResult::kDone;
  }

 private:
  std::string intent_, title_, key_;
};

// Flows that pick one of the bound accounts (asking "which one?" when there
// are several), then act on it; with an optional confirmation step.
class PickAccountFlow : public Flow {
 public:
  FlowResult Start(Context& ctx, Frame& f, const nlu::Understanding& u) override {
    auto bindings = ctx.tx.Bindings(ctx.user_id);
    if (bindings.empty()) {
      ctx.Say("accounts.none");
      return FlowResult::kDone;
    }
    const std::string no = Slot(u, "account_no");
    if (!no.empty()) {
      auto picked = PickAccount(u, bindings);
      if (!picked) {
        ctx.Say("account_not_bound", {{"account", no}});
        return FlowResult::kDone;
      }
      return Picked(ctx, f, *picked);
    }
    if (auto referenced = ReferencedAccount(ctx, u, bindings)) return Picked(ctx, f, *referenced);
    if (bindings.size() == 1 && pick_single()) return Picked(ctx, f, bindings[0].account_no);
    if (bindings.size() == 1) {
      ctx.Say("switch.only_one", {{"account", bindings[0].account_no}});
      return FlowResult::kDone;
    }
    f.step = "choose";
    Prompt(ctx, f, false);
    return FlowResult::kWaiting;
  }

  bool Answers(const Frame& f, const nlu::Understanding& u) const override {
    if (f.step == "confirm") return u.intent == "affirm" || u.intent == "deny";
    // Talk ("你好") or another request is no pick.
    if (u.intent != "unknown" && u.intent != name() && u.confidence >= 0.84 &&
        !u.slots.count("account_no"))
      return false;
    // A number, an account number or a reference ("柳州那个") answers "which one?"
    return u.slots.count("account_no") || u.slots.count("city") || u.slots.count("district") ||
           u.normalized.find("尾号") != std::string::npos ||
           std::any_of(u.normalized.begin(), u.normalized.end(),
                       [](char c) { return c >= '0' && c <= '9'; }) ||
           u.normalized.find("第") != std::string::npos || u.normalized.size() <= 6;
  }

  FlowResult Continue(Context& ctx, Frame& f, const nlu::Understanding& u) override {
    if (f.step == "confirm") return Confirmed(ctx, f, u.intent == "affirm");
    auto bindings = ctx.tx.Bindings(ctx.user_id);
    auto picked = PickAccount(u, bindings);
    if (!picked) picked = ReferencedAccount(ctx, u, bindings);
    if (!picked) {
      ++f.failures;
      Prompt(ctx, f, true);
      return FlowResult::kWaiting;
    }
    return Picked(ctx, f, *picked);
  }

  void Prompt(Context& ctx, const Frame& f, bool hint) override {
    if (f.step == "confirm") {
      ctx.Say(confirm_key(), {{"account", FrameSlot(f, "account_no")}});
      return;
    }
    auto bindings = ctx.tx.Bindings(ctx.user_id);
    ctx.Say(hint ? "choose.bad" : choose_key(), {{"list", NumberedAccounts(ctx, bindings)}});
  }

 protected:
  virtual bool pick_single() const = 0;
  virtual std::string choose_key() const = 0;
  virtual std::string confirm_key() const { return ""; }
  virtual FlowResult Picked(Context& ctx, Frame& f, const std::string& account_no) = 0;
  virtual FlowResult Confirmed(Context& ctx, Frame& f, bool yes) { return FlowResult::kDone; }
};

}  // namespace gridbot::dialogs
