#include "desk/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <stdexcept>
#include <vector>

namespace gridbot::desk {
namespace {

std::string Hex(const unsigned char* p, size_t n) {
  static const char* kHex = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += kHex[p[i] >> 4];
    s += kHex[p[i] & 15];
  }
  return s;
}

std::vector<unsigned char> Unhex(const std::string& s) {
  std::vector<unsigned char> out;
  auto v = [](char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
  };
  if (s.size() % 2) return {};
  for (size_t i = 0; i < s.size(); i += 2) {
    const int a = v(s[i]), b = v(s[i + 1]);
    if (a < 0 || b < 0) return {};
    out.push_back(static_cast<unsigned char>(a * 16 + b));
  }
  return out;
}

void Random(unsigned char* p, size_t n) {
  if (RAND_bytes(p, static_cast<int>(n)) != 1) throw std::runtime_error("no random bytes");
}

std::vector<unsigned char> Derive(const std::string& password, const std::vector<unsigned char>& salt,
                                  int iterations) {
  std::vector<unsigned char> out(32);
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt.data(),
                    static_cast<int>(salt.size()), iterations, EVP_sha256(),
                    static_cast<int>(out.size()), out.data());
  return out;
}

}  // namespace

std::string HashPassword(const std::string& password) {
  std::vector<unsigned char> salt(16);
  Random(salt.data(), salt.size());
  const auto dk = Derive(password, salt, kPasswordIterations);
  return "pbkdf2-sha256$" + std::to_string(kPasswordIterations) + "$" +
         Hex(salt.data(), salt.size()) + "$" + Hex(dk.data(), dk.size());
}

bool VerifyPassword(const std::string& password, const std::string& hash) {
  // pbkdf2-sha256$ITER$SALT$DK
  const size_t a = hash.find('$'), b = hash.find('$', a + 1), c = hash.find('$', b + 1);
  if (a == std::string::npos || b == std::string::npos || c == std::string::npos ||
      hash.substr(0, a) != "pbkdf2-sha256")
    return false;
  int iterations = 0;
  for (char ch : hash.substr(a + 1, b - a - 1)) {
    if (ch < '0' || ch > '9' || iterations > 10000000) return false;
    iterations = iterations * 10 + (ch - '0');
  }
  const auto salt = Unhex(hash.substr(b + 1, c - b - 1));
  const auto want = Unhex(hash.substr(c + 1));
  if (iterations <= 0 || salt.empty() || want.size() != 32) return false;
  const auto got = Derive(password, salt, iterations);
  return CRYPTO_memcmp(got.data(), want.data(), want.size()) == 0;
}

std::string NewToken() {
  unsigned char b[32];
  Random(b, sizeof b);
  return Hex(b, sizeof b);
}

std::string TokenHash(const std::string& token) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), md);
  return Hex(md, sizeof md);
}

}  // namespace gridbot::desk
