// Sealing of secrets that must reach someone later but never sit in the
// database in clear — today the text of an SMS with a verification code,
// which waits in the outbox until it is delivered.
//
//   auto sealer = privacy::Sealer::FromKeyFile("var/gridbot.db.key");
//   std::string body = sealer->Seal("您的验证码是123456");   // "sealed:v1:…"
//   std::optional<std::string> text = sealer->Open(body);    // at delivery
//
// AES-256-GCM with a random 96-bit nonce per message; the key lives in a file
// beside the database (0600), never in it, so a copy of the database (a
// backup, an export, a stolen disk image of the data volume) holds no code.
// Every instance sharing one database must be given the same key file.
//
// Thread safety: a Sealer is immutable after construction; Seal and Open are
// safe from any thread.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace gridbot::privacy {

class Sealer {
 public:
  // A key of this process only (tests, an in-memory database).
  static Sealer Random();
  // Reads the key (64 hex digits) from `path`; creates the file with a new
  // random key, mode 0600, when it does not exist (written whole, then
  // linked into place: concurrent starts all end up with one key). An
  // unreadable or malformed file is an error, never replaced.
  static Result<Sealer> FromKeyFile(const std::string& path);

  // "sealed:v1:" + base64url(nonce | ciphertext | tag). Empty on a failure
  // of the random source (callers treat it as an error).
  std::string Seal(std::string_view plaintext) const;
  // The plaintext, or nullopt when `sealed` was not made with this key or
  // was altered.
  std::optional<std::string> Open(std::string_view sealed) const;
  static bool IsSealed(std::string_view text);

  // A keyed digest of `data` for one `purpose` ("hmac:v1:" + base64url of
  // HMAC-SHA256 under a key derived from this key and `purpose`): what is
  // kept of a short secret (an SMS code) so that the table alone — without
  // the key file — can't be searched through the 10^6 possible codes.
  std::string Mac(std::string_view purpose, std::string_view data) const;
  // In constant time.
  bool VerifyMac(std::string_view purpose, std::string_view data, std::string_view mac) const;
  static bool IsMac(std::string_view text);

 private:
  explicit Sealer(const std::array<unsigned char, 32>& key) : key_(key) {}
  std::array<unsigned char, 32> key_;
};

}  // namespace gridbot::privacy
