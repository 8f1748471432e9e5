// Repository functions for the services of the account that create records
// or users (issue 3): business records made through the bot (repair, new
// install / change), registered users and their identities, SMS codes, and
// password hashing.
//
//   storage::Tx tx = store.Begin();
//   std::string no = storage::NextBusinessNo(tx, "BX", today);   // "BX20240804001"
//   storage::CreateBusiness(tx, {no, account, "repair", "已受理", {{"受理", now}}},
//                           details_json, now);
//   tx.Commit();
//
// Every function runs inside the caller's Tx and records a failed statement
// in it (Tx::Check), so the whole turn rolls back; none throws.
//
// Thread safety: as Tx (one thread per Tx). The password functions are pure
// and may be called from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"
#include "storage/records.h"
#include "storage/store.h"

namespace gridbot::storage {

// --- business records ----------------------------------------------------------

// The next free number of the day for `prefix`: prefix + YYYYMMDD + a 3-digit
// sequence, one more than the highest number of that prefix and day already
// in the business table (back end and bot alike), "001" if none. Unique within
// the caller's transaction (a Tx is the only writer while it lives).
std::string NextBusinessNo(Tx& tx, const std::string& prefix, const CivilDay& day);

// Inserts a business record with its steps (in order) and its extra fields
// (`details_json`, a JSON object). An empty account_no is stored as NULL.
void CreateBusiness(Tx& tx, const Business& business, const std::string& details_json,
                    UnixSeconds created_at);

// The extra fields of a business record ("{}" if none or not found).
std::string BusinessDetails(Tx& tx, const std::string& business_no);

// --- users and identities --------------------------------------------------------

struct User {
  std::int64_t id = 0;
  std::string phone;          // empty: an anonymous user (never registered)
  std::string password_hash;  // FormatPasswordHash() form; empty if anonymous
  std::string city;
  UnixSeconds created_at = 0;
  bool registered() const { return !phone.empty(); }
};

struct Identity {
  std::string channel, external_id;
};

std::optional<User> FindUser(Tx& tx, std::int64_t user_id);
// The registered user with this mobile number; nullopt if none.
std::optional<User> FindUserByPhone(Tx& tx, const std::string& phone);

// Makes the anonymous user `user_id` a registered one (phone, password hash,
// city): its identities and bindings stay as they are. False (nothing
// changed) if the phone is already registered or the user is not anonymous.
bool RegisterUser(Tx& tx, std::int64_t user_id, const std::string& phone,
                  const std::string& password_hash, const std::string& city);

// Points the identity at `user_id`, creating the row if needed.
void LinkIdentity(Tx& tx, const Identity& identity, std::int64_t user_id, UnixSeconds now);

struct MergeResult {
  int moved = 0;                     // bindings moved to the target user
  std::vector<std::string> skipped;  // not moved: the target was full
};

// Moves the bindings of `from` to `to` (and the subscriptions of the moved
// accounts), oldest first, up to `max_bindings` in total on `to`. An account
// already bound to `to` is dropped from `from`. `to` keeps its default; if it
// had none, `from`'s default (if moved) or its oldest binding becomes it.
// Bindings that do not fit stay with `from`.
MergeResult MoveBindings(Tx& tx, std::int64_t from, std::int64_t to, int max_bindings);

// --- SMS verification codes ------------------------------------------------------

struct SmsCode {
  std::string code_hash;  // privacy::Sealer::Mac() of phone, purpose and code
  UnixSeconds expires_at = 0;
  int attempts = 0;  // wrong codes entered so far
};

// Stores (replacing any earlier one) the code of `phone` for `purpose`
// ("register"), as a hash; attempts start at 0.
void SaveSmsCode(Tx& tx, const std::string& phone, const std::string& purpose,
                 const std::string& code_hash, UnixSeconds expires_at);
std::optional<SmsCode> FindSmsCode(Tx& tx, const std::string& phone, const std::string& purpose);
// SMS queued to `phone` since `since`, by anyone (the per-phone limit).
int SmsSentTo(Tx& tx, const std::string& phone, UnixSeconds since);
// Counts one wrong code; returns the attempts so far.
int CountSmsCodeFailure(Tx& tx, const std::string& phone, const std::string& purpose);
void DeleteSmsCode(Tx& tx, const std::string& phone, const std::string& purpose);

// --- passwords and secrets -------------------------------------------------------

// PBKDF2-HMAC-SHA256 iterations for login passwords.
inline constexpr int kPasswordIterations = 100000;

// "pbkdf2_sha256$<iterations>$<salt_b64>$<hash_b64>" with a random 16-byte
// salt and a 32-byte derived key. Empty only if the system's random source
// fails (callers then refuse, as for a storage error).
std::string HashPassword(std::string_view password, int iterations = kPasswordIterations);
// True if `password` matches `stored` (a HashPassword() result); compared in
// constant time. False for a malformed `stored`.
bool VerifyPassword(std::string_view password, std::string_view stored);

// `n` random decimal digits from OpenSSL's CSPRNG; empty if it fails.
std::string RandomDigits(int n);

}  // namespace gridbot::storage
