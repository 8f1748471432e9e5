// 注册 and 登录: platform users, so the bindings of a customer follow them
// from one WeChat user / device to another.
//
// Register: city → mobile → password twice (secret steps; only a PBKDF2 hash
// is kept in the frame) → a 6-digit SMS code through the outbox (stored as a
// hash, 5 minutes, 5 tries) → the conversation's anonymous user becomes the
// registered user (same row: its identity and bindings stay with it).
//
// Login: mobile → password (secret; 5 wrong → locked 30 minutes, per phone)
// → this conversation's identity is linked to the registered user, and the
// anonymous user's bindings move to it (at most 5 in all, its default kept).
#include <cctype>
#include <cstring>

#include "dialogs/flow_util.h"
#include "dialogs/flows/flows.h"
#include "storage/services.h"

namespace gridbot::dialogs {
namespace {

constexpr int kMaxTries = 3;
constexpr int kCodeDigits = 6;
constexpr UnixSeconds kCodeValidSeconds = 5 * 60;
constexpr int kMaxCodeFailures = 5;
constexpr int kMaxCodesSent = 3;
// SMS codes to one phone, across all users and flows.
constexpr int kMaxSmsPerHour = 5, kMaxSmsPerDay = 10;
// What a code's MAC is keyed for (privacy::Sealer::Mac): the stored digest
// binds phone, purpose and code, and without the key file the table can't
// be searched through the 10^6 codes.
constexpr const char* kCodeMacPurpose = "sms-code";
std::string CodeMacInput(const std::string& phone, const std::string& purpose,
                         const std::string& code) {
  return phone + "|" + purpose + "|" + code;
}
constexpr int kMaxPasswordFailures = 5;
constexpr UnixSeconds kLockSeconds = 30 * 60;
constexpr const char* kLoginPassword = "login_password";
constexpr const char* kRegisterPurpose = "register";
// Login attempts are counted per phone, whoever tries: user id 0.
// What an unknown phone's password is checked against, so that it costs
// the same time as a known one's.
const std::string& DummyHash() {
  static const std::string hash = storage::HashPassword("gridbot: no such user");
  return hash;
}

// A password as typed, with full-width letters and digits (a Chinese input
// method) made ASCII and surrounding spaces removed. Case is kept.
std::string CleanPassword(const std::string& raw) {
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i) {
    const auto c0 = static_cast<unsigned char>(raw[i]);
    if (c0 == 0xEF && i + 2 < raw.size()) {
      const auto c1 = static_cast<unsigned char>(raw[i + 1]);
      const auto c2 = static_cast<unsigned char>(raw[i + 2]);
      // U+FF01..U+FF5E: EF BC 81..BF, EF BD 80..9E
      int cp = -1;
      if (c1 == 0xBC && c2 >= 0x81 && c2 <= 0xBF) cp = 0xFF00 + (c2 - 0x80);
      if (c1 == 0xBD && c2 >= 0x80 && c2 <= 0x9E) cp = 0xFF40 + (c2 - 0x80);
      if (cp >= 0) {
        out += static_cast<char>(cp - 0xFF01 + 0x21);
        i += 2;
        continue;
      }
    }
    if (c0 == 0xE3 && i + 2 < raw.size() && static_cast<unsigned char>(raw[i + 1]) == 0x80 &&
        static_cast<unsigned char>(raw[i + 2]) == 0x80) {  // U+3000
      out += ' ';
      i += 2;
      continue;
    }
    out += raw[i];
  }
  const size_t b = out.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const size_t e = out.find_last_not_of(" \t\r\n");
  return out.substr(b, e - b + 1);
}

// At least 8 printable ASCII characters, with letters and digits.
bool StrongEnough(const std::string& p) {
  if (p.size() < 8 || p.size() > 64) return false;
  bool letter = false, digit = false;
  for (char c : p) {
    if (c < 0x21 || c > 0x7E) return false;
    letter |= std::isalpha(static_cast<unsigned char>(c)) != 0;
    digit |= std::isdigit(static_cast<unsigned char>(c)) != 0;
  }
  return letter && digit;
}

// --------------------------------------------------------------------------

class RegisterFlow : public Flow {
 public:
  std::string name() const override { return "register"; }
  std::string title() const override { return "注册"; }
  std::vector<std::string> replies() const override {
    return {"register.already_user",  "register.ask_city",
            "register.bad_city",      "register.ask_phone",
            "register.bad_phone",     "register.phone_taken",
            "register.ask_password",  "register.weak_password",
            "register.ask_password2", "register.password_mismatch",
            "register.code_sent",     "register.sms",
            "register.resend_words",  "register.bad_code_format",
            "register.bad_code",      "register.code_expired",
            "register.code_locked",   "register.too_many_codes",
            "register.failed",        "register.done",
            "register.bindings"};
  }

  FlowResult Start(Context& ctx, Frame& f, const nlu::Understanding& u) override {
    auto user = storage::FindUser(ctx.tx, ctx.user_id);
    if (user && user->registered()) {
      ctx.Say("register.already_user", {{"phone", MaskPhone(user->phone)}});
      return FlowResult::kDone;
    }
    TakeCity(ctx, f, u);
    const std::string phone = PhoneOf(u);
    if (!phone.empty()) f.slots["phone"] = phone;
    return Advance(ctx, f);
  }

  bool ShapedLikeSecret(const Frame& f, const std::string& normalized) const override {
    if (f.step == "code") {
      // The SMS code ("360255", "验证码是360255", "短信验证码：360255"):
      // tested, never logged.
      std::string text = normalized;
      for (const char* word : {"短信验证码", "验证码", "校验码", "短信码", "短信", "code"})
        for (size_t p; (p = text.find(word)) != std::string::npos;)
          text.erase(p, std::strlen(word));
      return !SecretDigits(text, 4, 8).empty();
    }
    return ShapedLikeWordPassword(normalized, 1);
  }
  std::vector<Corrigible> CorrigibleSlots() const override {
    return {{"city", "city", "city"}, {"phone", "phone", "phone"}};
  }
  std::string ExpectedSlot(const Frame& f) const override {
    return f.step == "phone" ? "phone" : "";
  }
  bool SecretStep(const Frame& f) const override {
    return f.step == "password" || f.step == "password2" || f.step == "code";
  }
  bool TakesAtSecretStep(const Context& ctx, const Frame& f,
                         const nlu::Understanding& u) const override {
    return f.step == "code" && Digits(u.normalized).empty() &&
           ContainsAny(u.normalized, ReplyWords(ctx, "register.resend_words"));
  }

  bool Answers(const Frame& f, const nlu::Understanding& u) const override {
    if (f.step == "city") return u.slots.count("city") || u.slots.count("district");
    if (f.step == "phone") return MayBePhone(u);
    if (f.step == "code") return !Digits(u.normalized).empty() || FreeText(u);
    return false;
  }

  FlowResult Continue(Context& ctx, Frame& f, const nlu::Understanding& u) override {
    if (f.step == "city") {
      if (!TakeCity(ctx, f, u)) return Retry(ctx, *this, f, kMaxTries);
    } else if (f.step == "phone") {
      if (!TakePhone(f, u)) return Retry(ctx, *this, f, kMaxTries);
    } else if (f.step == "password") {
      const std::string password = CleanPassword(u.text);
      if (!StrongEnough(password)) {
        if (++f.failures >= kMaxTries) return GiveUp(ctx, *this);
        ctx.Say("register.weak_password");
        return FlowResult::kWaiting;
      }
      const std::string hash = storage::HashPassword(password);
      if (hash.empty()) return Failed(ctx);
      f.slots["password_hash"] = hash;
      f.failures = 0;
      f.step = "password2";
      ctx.Say("register.ask_password2");
      return FlowResult::kWaiting;
    } else if (f.step == "password2") {
      if (!storage::VerifyPassword(CleanPassword(u.text), FrameSlot(f, "password_hash"))) {
        f.slots.erase("password_hash");
        f.step = "password";
        const int mismatches = f.slots.value("mismatches", 0) + 1;
        f.slots["mismatches"] = mismatches;
        if (mismatches >= kMaxTries) return GiveUp(ctx, *this);
        ctx.Say("register.password_mismatch");
        return FlowResult::kWaiting;
      }
      f.failures = 0;
      return SendCode(ctx, f);
    } else if (f.step == "code") {
      return CheckCode(ctx, f, u);
    }
    f.failures = 0;
    return Advance(ctx, f);
  }

  void Prompt(Context& ctx, const Frame& f, bool hint) override {
    const std::string city = FrameSlot(f, "city");
    if (f.step == "city") ctx.Say(hint ? "register.bad_city" : "register.ask_city");
    if (f.step == "phone")
      ctx.Say(hint ? "register.bad_phone" : "register.ask_phone", {{"city", city}});
    if (f.step == "password") ctx.Say("register.ask_password");
    if (f.step == "password2") ctx.Say("register.ask_password2");
    if (f.step == "code")
      ctx.Say(hint ? "register.bad_code_format" : "register.code_sent",
              {{"phone", MaskPhone(FrameSlot(f, "phone"))}});
  }

 private:
  static bool TakeCity(const Context& ctx, Frame& f, const nlu::Understanding& u) {
    const std::string city = CityOf(ctx, u);
    if (city.empty()) return false;
    f.slots["city"] = city;
    return true;
  }

  FlowResult Advance(Context& ctx, Frame& f) {
    if (FrameSlot(f, "city").empty()) return Ask(ctx, *this, f, "city");
    const std::string phone = FrameSlot(f, "phone");
    if (phone.empty()) return Ask(ctx, *this, f, "phone");
    // A registered phone is not told apart here: the code goes to the phone
    // either way, and only who receives it learns (after the code) that the
    // phone has an account.
    return Ask(ctx, *this, f, "password");
  }

  FlowResult Failed(Context& ctx) {
    ctx.Say("register.failed");
    return FlowResult::kDone;
  }

  // A new code replaces any earlier one; a few per registration at most.
  FlowResult SendCode(Context& ctx, Frame& f, const std::string& before = "") {
    const int sent = f.slots.value("codes_sent", 0);
    if (sent >= kMaxCodesSent) {
      ctx.Say("register.too_many_codes");
      return FlowResult::kDone;
    }
    const std::string phone = FrameSlot(f, "phone");
    // Per phone, whoever asks (new users, new flows): a few an hour, a
    // handful a day — SMS to one number can't be sent without end.
    if (storage::SmsSentTo(ctx.tx, phone, ctx.now - 3600) >= kMaxSmsPerHour ||
        storage::SmsSentTo(ctx.tx, phone, ctx.now - 24 * 3600) >= kMaxSmsPerDay) {
      ctx.Say("register.too_many_codes");
      return FlowResult::kDone;
    }
    const std::string code = storage::RandomDigits(kCodeDigits);
    const std::string hash =
        code.empty() ? ""
                     : ctx.settings.sealer->Mac(kCodeMacPurpose,
                                                CodeMacInput(phone, kRegisterPurpose, code));
    if (hash.empty()) return Failed(ctx);
    storage::SaveSmsCode(ctx.tx, phone, kRegisterPurpose, hash, ctx.now + kCodeValidSeconds);
    // The text waits in the outbox sealed: no code in any table in clear.
    const std::string sealed =
        ctx.settings.sealer->Seal(ctx.replies.Render("register.sms", {{"code", code}}));
    if (sealed.empty()) return Failed(ctx);
    ctx.tx.QueueOutbox("sms", phone, sealed, "", ctx.now);
    f.slots["codes_sent"] = sent + 1;
    f.step = "code";
    if (!before.empty()) ctx.Say(before);
    Prompt(ctx, f, false);
    return FlowResult::kWaiting;
  }

  FlowResult CheckCode(Context& ctx, Frame& f, const nlu::Understanding& u) {
    const std::string phone = FrameSlot(f, "phone");
    const std::string typed = Digits(u.normalized);
    if (typed.empty() && ContainsAny(u.normalized, ReplyWords(ctx, "register.resend_words")))
      return SendCode(ctx, f);
    if (typed.size() != kCodeDigits) return Retry(ctx, *this, f, kMaxTries);
    auto code = storage::FindSmsCode(ctx.tx, phone, kRegisterPurpose);
    if (!code) {  // spent by too many wrong tries: only a new one helps
      if (++f.failures >= kMaxTries) return GiveUp(ctx, *this);
      ctx.Say("register.code_locked");
      return FlowResult::kWaiting;
    }
    if (ctx.now >= code->expires_at) {
      storage::DeleteSmsCode(ctx.tx, phone, kRegisterPurpose);
      return SendCode(ctx, f, "register.code_expired");
    }
    // (A code sent before codes were MACs is still a PBKDF2 hash.)
    const bool right =
        privacy::Sealer::IsMac(code->code_hash)
            ? ctx.settings.sealer->VerifyMac(kCodeMacPurpose,
                                             CodeMacInput(phone, kRegisterPurpose, typed),
                                             code->code_hash)
            : storage::VerifyPassword(typed, code->code_hash);
    if (!right) {
      const int failures = storage::CountSmsCodeFailure(ctx.tx, phone, kRegisterPurpose);
      if (failures >= kMaxCodeFailures) {
        storage::DeleteSmsCode(ctx.tx, phone, kRegisterPurpose);
        ctx.Say("register.code_locked");
        return FlowResult::kWaiting;
      }
      ctx.Say("register.bad_code", {{"left", std::to_string(kMaxCodeFailures - failures)}});
      return FlowResult::kWaiting;
    }
    storage::DeleteSmsCode(ctx.tx, phone, kRegisterPurpose);
    if (!storage::RegisterUser(ctx.tx, ctx.user_id, phone, FrameSlot(f, "password_hash"),
                               FrameSlot(f, "city"))) {
      // Registered before (told only now, to who received the code) or
      // meanwhile, from another conversation.
      ctx.Say("register.phone_taken", {{"phone", phone}});
      return FlowResult::kDone;
    }
    const auto bindings = ctx.tx.Bindings(ctx.user_id);
    ctx.Say("register.done",
            {{"phone", MaskPhone(phone)},
             {"city", FrameSlot(f, "city")},
             {"bindings",
              bindings.empty()
                  ? ""
                  : "\n" + ctx.replies.Render("register.bindings",
                                              {{"count", std::to_string(bindings.size())}})}});
    return FlowResult::kDone;
  }
};

// --------------------------------------------------------------------------

class LoginFlow : public Flow {
 public:
  std::string name() const override { return "login"; }
  std::string title() const override { return "登录"; }
  std::vector<std::string> replies() const override {
    return {"login.ask_phone",    "login.bad_phone", "login.already",      "login.ask_password",
            "login.bad_password", "login.locked",    "secret.source_wait", "login.locked_now",
            "login.done",         "login.bindings",  "login.no_bindings",  "login.skipped"};
  }

  FlowResult Start(Context& ctx, Frame& f, const nlu::Understanding& u) override {
    const std::string phone = PhoneOf(u);
    if (!phone.empty()) return Phone(ctx, f, phone);
    return Ask(ctx, *this, f, "phone");
  }

  bool SecretStep(const Frame& f) const override { return f.step == "password"; }
  bool ShapedLikeSecret(const Frame& f, const std::string& normalized) const override {
    return ShapedLikeWordPassword(normalized, 4);
  }
  std::vector<Corrigible> CorrigibleSlots() const override { return {{"phone", "phone", "phone"}}; }
  std::string ExpectedSlot(const Frame& f) const override {
    return f.step == "phone" ? "phone" : "";
  }

  bool Answers(const Frame& f, const nlu::Understanding& u) const override {
    return f.step == "phone" && MayBePhone(u);
  }

  FlowResult Continue(Context& ctx, Frame& f, const nlu::Understanding& u) override {
    if (f.step == "password") return CheckPassword(ctx, f, CleanPassword(u.text));
    const std::string phone = PhoneOf(u);
    if (phone.empty()) return Retry(ctx, *this, f, kMaxTries);
    return Phone(ctx, f, phone);
  }

  void Prompt(Context& ctx, const Frame& f, bool hint) override {
    if (f.step == "phone") ctx.Say(hint ? "login.bad_phone" : "login.ask_phone");
    if (f.step == "password")
      ctx.Say("login.ask_password", {{"phone", MaskPhone(FrameSlot(f, "phone"))}});
  }

 private:
  // Whether a phone is registered is never said before its password: an
  // unknown phone is asked for one like any other, and both mistakes get
  // the same answer.
  FlowResult Phone(Context& ctx, Frame& f, const std::string& phone) {
    auto user = storage::FindUserByPhone(ctx.tx, phone);
    if (user && user->id == ctx.user_id) {
      ctx.Say("login.already", {{"phone", MaskPhone(phone)}});
      return FlowResult::kDone;
    }
    if (Refused(ctx, phone)) return FlowResult::kDone;
    f.slots["phone"] = phone;
    f.failures = 0;
    return Ask(ctx, *this, f, "password");
  }

  // Locked for this conversation (5 wrong), or everyone waits after many
  // wrong passwords for this phone (TargetCounter): the owner is slowed for
  // at most an hour, never shut out by someone else's guesses.
  bool Refused(Context& ctx, const std::string& phone) {
    const UnixSeconds locked = LockedUntil(ctx, {ctx.user_id, phone, kLoginPassword});
    const UnixSeconds wait = TargetWaitUntil(ctx, {phone, kLoginPassword});
    const UnixSeconds until = std::max(locked, wait);
    if (until <= ctx.now) return false;
    if (locked > wait || !SaySourceWait(ctx, wait))
      ctx.Say("login.locked", {{"minutes", MinutesLeft(until, ctx.now)}});
    return true;
  }

  FlowResult CheckPassword(Context& ctx, Frame& f, const std::string& password) {
    const std::string phone = FrameSlot(f, "phone");
    auto user = storage::FindUserByPhone(ctx.tx, phone);
    if (Refused(ctx, phone)) return FlowResult::kDone;
    const PasswordCounter counter{ctx.user_id, phone, kLoginPassword, kMaxPasswordFailures,
                                  kLockSeconds};
    // An unknown phone costs the same hashing as a known one.
    const bool right = storage::VerifyPassword(password, user ? user->password_hash : DummyHash());
    if (!user || !right) {
      CountTargetFailure(ctx, {phone, kLoginPassword});
      const int left = CountWrongPassword(ctx, counter);
      if (left == 0) {
        ctx.Say("login.locked_now", {{"max", std::to_string(kMaxPasswordFailures)},
                                     {"minutes", std::to_string(kLockSeconds / 60)}});
        return FlowResult::kDone;
      }
      if (Refused(ctx, phone)) return FlowResult::kDone;  // no tries left to offer
      ctx.Say("login.bad_password", {{"left", std::to_string(left)}});
      return FlowResult::kWaiting;
    }
    ClearWrongPasswords(ctx, counter);
    ClearTargetFailures(ctx, {phone, kLoginPassword});

    // This conversation now speaks as the registered user. What an anonymous
    // user had bound comes along; a registered one keeps its own.
    storage::LinkIdentity(ctx.tx, {ctx.channel, ctx.external_id}, user->id, ctx.now);
    storage::MergeResult merged;
    auto current = storage::FindUser(ctx.tx, ctx.user_id);
    if (current && !current->registered())
      merged = storage::MoveBindings(ctx.tx, ctx.user_id, user->id, kMaxBindings);

    const auto bindings = ctx.tx.Bindings(user->id);
    std::string default_no;
    for (const auto& b : bindings)
      if (b.is_default) default_no = b.account_no;
    ctx.Say(
        "login.done",
        {{"phone", MaskPhone(phone)},
         {"bindings",
          "\n" + (bindings.empty() ? ctx.replies.Render("login.no_bindings")
                                   : ctx.replies.Render("login.bindings",
                                                        {{"count", std::to_string(bindings.size())},
                                                         {"default", default_no}}))}});
    if (!merged.skipped.empty()) {
      std::string list;
      for (const auto& no : merged.skipped) list += (list.empty() ? "" : "、") + no;
      ctx.Say("login.skipped", {{"accounts", list}});
    }
    return FlowResult::kDone;
  }
};

}  // namespace

std::unique_ptr<Flow> MakeRegisterFlow() { return std::make_unique<RegisterFlow>(); }
std::unique_ptr<Flow> MakeLoginFlow() { return std::make_unique<LoginFlow>(); }

}  // namespace gridbot::dialogs
