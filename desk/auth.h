// Staff credentials: slow salted password hashes and login tokens.
//
//   std::string h = desk::HashPassword("s3cret-pass");   // "pbkdf2-sha256$…"
//   desk::VerifyPassword("s3cret-pass", h);              // true
//   std::string token = desk::NewToken();                // 256 random bits, hex
//   desk::TokenHash(token);                              // what the database keeps
//
// Hashes are PBKDF2-HMAC-SHA256 with a 16-byte random salt and
// kPasswordIterations rounds; verification takes the same time whether the
// password is right or not.
//
// Thread safety: pure functions (OpenSSL's RNG is thread-safe).
#pragma once

#include <string>

namespace gridbot::desk {

constexpr int kPasswordIterations = 120000;

std::string HashPassword(const std::string& password);
bool VerifyPassword(const std::string& password, const std::string& hash);
// A random token (32 bytes, hex); throws std::runtime_error without randomness.
std::string NewToken();
// SHA-256 of the token, hex.
std::string TokenHash(const std::string& token);

}  // namespace gridbot::desk
