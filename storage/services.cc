#include "storage/services.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>

namespace gridbot::storage {

// --- business records ----------------------------------------------------------

std::string NextBusinessNo(Tx& tx, const std::string& prefix, const CivilDay& day) {
  // (Instances numbering the same day's records take turns.)
  tx.LockKey("business_no " + prefix);
  char date[16];
  std::snprintf(date, sizeof date, "%04d%02d%02d", day.year, day.month, day.day);
  const std::string stem = prefix + date;
  // The stem compared as it is (case-sensitive), then at least three digits
  // and nothing else.
  Statement st = tx.Prep(
      tx.dialect() == Dialect::kPostgres
          ? "SELECT COALESCE(MAX(CAST(substr(business_no, ?2) AS BIGINT)), 0) FROM business "
            "WHERE substr(business_no, 1, ?2 - 1) = ?1 AND substr(business_no, ?2) ~ '^[0-9]{3,18}$'"
          : "SELECT COALESCE(MAX(CAST(substr(business_no, ?2) AS INTEGER)), 0) FROM business "
            "WHERE substr(business_no, 1, ?2 - 1) = ?1 AND length(business_no) >= ?2 + 2 "
            "AND substr(business_no, ?2) NOT GLOB '*[^0-9]*'");
  st.Bind(1, stem).Bind(2, static_cast<std::int64_t>(stem.size() + 1));
  std::int64_t last = 0;
  if (st.Step()) last = st.Int(0);
  tx.Check(st);
  char seq[24];
  std::snprintf(seq, sizeof seq, "%03lld", static_cast<long long>(last + 1));
  return stem + seq;
}

void CreateBusiness(Tx& tx, const Business& b, const std::string& details_json,
                    UnixSeconds created_at) {
  Statement st = tx.Prep(
      "INSERT INTO business(business_no, account_no, type, status, created_at, details) "
      "VALUES (?,?,?,?,?,?)");
  st.Bind(1, b.business_no);
  if (b.account_no.empty())
    st.BindNull(2);
  else
    st.Bind(2, b.account_no);
  st.Bind(3, b.type).Bind(4, b.status).Bind(5, created_at).Bind(6, details_json);
  tx.Check(st.Run());
  Statement step = tx.Prep("INSERT INTO business_steps VALUES (?,?,?,?)");
  for (size_t i = 0; i < b.steps.size(); ++i) {
    step.Reset();
    step.Bind(1, b.business_no)
        .Bind(2, static_cast<std::int64_t>(i))
        .Bind(3, b.steps[i].name)
        .Bind(4, b.steps[i].at);
    tx.Check(step.Run());
  }
}

std::string BusinessDetails(Tx& tx, const std::string& business_no) {
  Statement st = tx.Prep("SELECT details FROM business WHERE business_no = ?");
  st.Bind(1, business_no);
  if (!st.Step()) return tx.Check(st), "{}";
  return st.Text(0);
}

// --- users and identities --------------------------------------------------------

namespace {

constexpr const char* kUserCols =
    "id, COALESCE(phone, ''), COALESCE(password_hash, ''), "
    "COALESCE(city, ''), created_at";

User ReadUser(const Statement& st) {
  return User{st.Int(0), st.Text(1), st.Text(2), st.Text(3), st.Int(4)};
}

}  // namespace

std::optional<User> FindUser(Tx& tx, std::int64_t user_id) {
  Statement st = tx.Prep(std::string("SELECT ") + kUserCols + " FROM users WHERE id = ?");
  st.Bind(1, user_id);
  if (!st.Step()) return tx.Check(st), std::nullopt;
  return ReadUser(st);
}

std::optional<User> FindUserByPhone(Tx& tx, const std::string& phone) {
  Statement st = tx.Prep(std::string("SELECT ") + kUserCols + " FROM users WHERE phone = ?");
  st.Bind(1, phone);
  if (!st.Step()) return tx.Check(st), std::nullopt;
  return ReadUser(st);
}

bool RegisterUser(Tx& tx, std::int64_t user_id, const std::string& phone,
                  const std::string& password_hash, const std::string& city) {
  if (FindUserByPhone(tx, phone)) return false;
  Statement st = tx.Prep(
      "UPDATE users SET phone = ?, password_hash = ?, city = ? WHERE id = ? AND phone IS NULL");
  st.Bind(1, phone).Bind(2, password_hash).Bind(3, city).Bind(4, user_id);
  tx.Check(st.Run());
  return tx.connection().Changes() > 0;
}

void LinkIdentity(Tx& tx, const Identity& identity, std::int64_t user_id, UnixSeconds now) {
  Statement st = tx.Prep(
      "INSERT INTO identities(channel, external_id, user_id, created_at) VALUES (?,?,?,?) "
      "ON CONFLICT(channel, external_id) DO UPDATE SET user_id = excluded.user_id");
  st.Bind(1, identity.channel).Bind(2, identity.external_id).Bind(3, user_id).Bind(4, now);
  tx.Check(st.Run());
}

MergeResult MoveBindings(Tx& tx, std::int64_t from, std::int64_t to, int max_bindings) {
  MergeResult result;
  if (from == to) return result;
  const std::vector<Binding> source = tx.Bindings(from);
  std::vector<Binding> target = tx.Bindings(to);
  const bool target_has_default =
      std::any_of(target.begin(), target.end(), [](const Binding& b) { return b.is_default; });
  std::string new_default;
  for (const Binding& b : source) {
    const bool already = std::any_of(target.begin(), target.end(), [&](const Binding& t) {
      return t.account_no == b.account_no;
    });
    if (!already && static_cast<int>(target.size()) >= max_bindings) {
      result.skipped.push_back(b.account_no);
      continue;
    }
    if (!already) {
      Statement st = tx.Prep(
          "INSERT INTO bindings(user_id, account_no, is_default, created_at) VALUES (?,?,0,?)");
      st.Bind(1, to).Bind(2, b.account_no).Bind(3, b.created_at);
      tx.Check(st.Run());
      target.push_back(Binding{b.account_no, false, b.created_at});
      ++result.moved;
      if (b.is_default) new_default = b.account_no;
    }
    Statement del = tx.Prep("DELETE FROM bindings WHERE user_id = ? AND account_no = ?");
    del.Bind(1, from).Bind(2, b.account_no);
    tx.Check(del.Run());
    Statement subs =
        tx.Prep("UPDATE subscriptions SET user_id = ? WHERE user_id = ? AND account_no = ?");
    subs.Bind(1, to).Bind(2, from).Bind(3, b.account_no);
    tx.Check(subs.Run());
  }
  if (!target_has_default && !target.empty())
    tx.SetDefault(to, new_default.empty() ? tx.Bindings(to).front().account_no : new_default);
  if (!result.skipped.empty()) {
    // What stayed behind keeps a default of its own.
    auto rest = tx.Bindings(from);
    if (std::none_of(rest.begin(), rest.end(), [](const Binding& b) { return b.is_default; }))
      tx.SetDefault(from, rest.front().account_no);
  }
  return result;
}

// --- SMS verification codes ------------------------------------------------------

void SaveSmsCode(Tx& tx, const std::string& phone, const std::string& purpose,
                 const std::string& code_hash, UnixSeconds expires_at) {
  Statement st = tx.Prep(
      "INSERT INTO sms_codes(phone, purpose, code_hash, expires_at, attempts) VALUES (?,?,?,?,0) "
      "ON CONFLICT(phone, purpose) DO UPDATE SET code_hash = excluded.code_hash, "
      "expires_at = excluded.expires_at, attempts = 0");
  st.Bind(1, phone).Bind(2, purpose).Bind(3, code_hash).Bind(4, expires_at);
  tx.Check(st.Run());
}

std::optional<SmsCode> FindSmsCode(Tx& tx, const std::string& phone, const std::string& purpose) {
  Statement st = tx.Prep(
      "SELECT code_hash, expires_at, attempts FROM sms_codes WHERE phone = ? AND purpose = ?");
  st.Bind(1, phone).Bind(2, purpose);
  if (!st.Step()) return tx.Check(st), std::nullopt;
  return SmsCode{st.Text(0), st.Int(1), static_cast<int>(st.Int(2))};
}

int CountSmsCodeFailure(Tx& tx, const std::string& phone, const std::string& purpose) {
  Statement st =
      tx.Prep("UPDATE sms_codes SET attempts = attempts + 1 WHERE phone = ? AND purpose = ?");
  st.Bind(1, phone).Bind(2, purpose);
  tx.Check(st.Run());
  auto code = FindSmsCode(tx, phone, purpose);
  return code ? code->attempts : 0;
}

void DeleteSmsCode(Tx& tx, const std::string& phone, const std::string& purpose) {
  Statement st = tx.Prep("DELETE FROM sms_codes WHERE phone = ? AND purpose = ?");
  st.Bind(1, phone).Bind(2, purpose);
  tx.Check(st.Run());
}

// --- passwords and secrets -------------------------------------------------------

namespace {

constexpr size_t kSaltBytes = 16;
constexpr size_t kKeyBytes = 32;
constexpr int kMaxIterations = 10'000'000;  // refuse absurd stored values

std::string Base64(const unsigned char* data, size_t n) {
  std::string out(4 * ((n + 2) / 3), '\0');
  const int written =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(std::max(written, 0));
  return out;
}

std::optional<std::string> Unbase64(std::string_view s) {
  if (s.empty() || s.size() % 4 != 0) return std::nullopt;
  std::string out(3 * s.size() / 4, '\0');
  const int n =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  if (n < 0) return std::nullopt;
  size_t len = static_cast<size_t>(n);
  // EVP_DecodeBlock counts the padding as zero bytes.
  if (s.back() == '=') --len;
  if (s.size() >= 2 && s[s.size() - 2] == '=') --len;
  out.resize(len);
  return out;
}

bool Derive(std::string_view password, const std::string& salt, int iterations, unsigned char* key,
            size_t key_len) {
  return PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                           reinterpret_cast<const unsigned char*>(salt.data()),
                           static_cast<int>(salt.size()), iterations, EVP_sha256(),
                           static_cast<int>(key_len), key) == 1;
}

}  // namespace

std::string HashPassword(std::string_view password, int iterations) {
  unsigned char salt[kSaltBytes];
  if (RAND_bytes(salt, sizeof salt) != 1) return "";
  unsigned char key[kKeyBytes];
  if (!Derive(password, std::string(reinterpret_cast<char*>(salt), sizeof salt), iterations, key,
              sizeof key))
    return "";
  std::string out = "pbkdf2_sha256$" + std::to_string(iterations) + "$" +
                    Base64(salt, sizeof salt) + "$" + Base64(key, sizeof key);
  OPENSSL_cleanse(key, sizeof key);
  return out;
}

bool VerifyPassword(std::string_view password, std::string_view stored) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    const size_t end = stored.find('$', start);
    parts.push_back(stored.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  if (parts.size() != 4 || parts[0] != "pbkdf2_sha256") return false;
  int iterations = 0;
  for (char c : parts[1]) {
    if (c < '0' || c > '9' || iterations > kMaxIterations) return false;
    iterations = iterations * 10 + (c - '0');
  }
  if (iterations <= 0 || iterations > kMaxIterations) return false;
  auto salt = Unbase64(parts[2]);
  auto expected = Unbase64(parts[3]);
  if (!salt || !expected || expected->empty() || expected->size() > 64) return false;
  unsigned char key[64];
  if (!Derive(password, *salt, iterations, key, expected->size())) return false;
  const bool same = CRYPTO_memcmp(key, expected->data(), expected->size()) == 0;
  OPENSSL_cleanse(key, sizeof key);
  return same;
}

std::string RandomDigits(int n) {
  std::string out;
  while (static_cast<int>(out.size()) < n) {
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1) return "";
    for (unsigned char c : b) {
      if (c >= 250) continue;  // 250 = 25 * 10: keeps the digits uniform
      out += static_cast<char>('0' + c % 10);
      if (static_cast<int>(out.size()) == n) break;
    }
  }
  return out;
}

int SmsSentTo(Tx& tx, const std::string& phone, UnixSeconds since) {
  Statement st = tx.Prep(
      "SELECT COUNT(*) FROM outbox WHERE channel = 'sms' AND recipient = ? AND created_at >= ?");
  st.Bind(1, phone).Bind(2, since);
  if (!st.Step()) return tx.Check(st), 0;
  return static_cast<int>(st.Int(0));
}

}  // namespace gridbot::storage
