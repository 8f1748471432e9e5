#include "privacy/sealer.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace gridbot::privacy {
namespace {

constexpr std::string_view kPrefix = "sealed:v1:";
constexpr std::string_view kMacPrefix = "hmac:v1:";
constexpr size_t kNonceBytes = 12, kTagBytes = 16;

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string Base64Url(const std::string& bytes) {
  std::string out;
  unsigned int acc = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 63];
  return out;
}

std::optional<std::string> FromBase64Url(std::string_view text) {
  std::string out;
  unsigned int acc = 0;
  int bits = 0;
  for (char c : text) {
    const char* p = std::strchr(kAlphabet, c);
    if (c == '\0' || p == nullptr) return std::nullopt;
    acc = (acc << 6) | static_cast<unsigned int>(p - kAlphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

std::optional<std::array<unsigned char, 32>> ParseHexKey(std::string_view hex) {
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r' || hex.back() == ' '))
    hex.remove_suffix(1);
  if (hex.size() != 64) return std::nullopt;
  std::array<unsigned char, 32> key{};
  for (size_t i = 0; i < 32; ++i) {
    int v = 0;
    for (int j = 0; j < 2; ++j) {
      const char c = hex[2 * i + j];
      const int d = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
      if (d < 0) return std::nullopt;
      v = v * 16 + d;
    }
    key[i] = static_cast<unsigned char>(v);
  }
  return key;
}

}  // namespace

Sealer Sealer::Random() {
  std::array<unsigned char, 32> key{};
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) std::abort();
  return Sealer(key);
}

namespace {

// Reads an existing key file: the key, an error, or nullopt when there is
// no file at `path`.
std::optional<Result<Sealer>> ReadKeyFile(
    const std::string& path, Result<Sealer> (*make)(const std::array<unsigned char, 32>&)) {
  // O_NONBLOCK: a FIFO in the key's place does not hang the start.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    return Result<Sealer>(
        Status::Error("cannot read secrets key file " + path + ": " + std::strerror(errno)));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Result<Sealer>(Status::Error("secrets key file " + path + " is not a regular file"));
  }
  std::string text;
  char buf[256];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      return Result<Sealer>(
          Status::Error("cannot read secrets key file " + path + ": " + std::strerror(e)));
    }
    if (n == 0 || text.size() > 4096) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  auto key = ParseHexKey(text);
  if (!key)
    return Result<Sealer>(Status::Error("secrets key file " + path + ": not 64 hex digits"));
  return make(*key);
}

}  // namespace

Result<Sealer> Sealer::FromKeyFile(const std::string& path) {
  auto make = [](const std::array<unsigned char, 32>& key) -> Result<Sealer> {
    return Sealer(key);
  };
  if (auto existing = ReadKeyFile(path, make)) return std::move(*existing);
  std::array<unsigned char, 32> key{};
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1)
    return Status::Error("no random source for a new secrets key");
  std::string hex;
  for (unsigned char b : key) {
    static constexpr char kHex[] = "0123456789abcdef";
    hex += kHex[b >> 4];
    hex += kHex[b & 15];
  }
  hex += '\n';
  // The key is written whole to a private temporary file, then linked to
  // `path`: link() fails when `path` exists, so of two processes starting at
  // once one key wins and the other reads it — never a half-written file.
  unsigned char tag[8];
  if (RAND_bytes(tag, sizeof tag) != 1)
    return Status::Error("no random source for a new secrets key");
  std::string tmp = path + ".tmp-";
  for (unsigned char b : tag) tmp += "0123456789abcdef"[b & 15];
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return Status::Error("cannot create secrets key file " + path + ": " + std::strerror(errno));
  const bool written = ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size());
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!written || !synced) {
    ::unlink(tmp.c_str());
    return Status::Error("cannot write secrets key file " + path);
  }
  const int linked = ::link(tmp.c_str(), path.c_str());
  const int link_errno = errno;
  ::unlink(tmp.c_str());
  if (linked != 0) {
    if (link_errno == EEXIST) {
      if (auto existing = ReadKeyFile(path, make)) return std::move(*existing);
    }
    return Status::Error("cannot create secrets key file " + path + ": " +
                         std::strerror(link_errno));
  }
  // The new name made durable too: a crash now must not lose the key that
  // sealed what is already queued.
  const std::string dir =
      path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/') + 1);
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Sealer(key);
}

std::string Sealer::Mac(std::string_view purpose, std::string_view data) const {
  // A key per purpose, derived from the secrets key, so a MAC of one kind
  // never stands for another.
  unsigned char subkey[EVP_MAX_MD_SIZE];
  unsigned int subkey_len = 0;
  const std::string label = "gridbot-mac:" + std::string(purpose);
  if (!HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
            reinterpret_cast<const unsigned char*>(label.data()), label.size(), subkey,
            &subkey_len))
    return "";
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (!HMAC(EVP_sha256(), subkey, static_cast<int>(subkey_len),
            reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &mac_len))
    return "";
  OPENSSL_cleanse(subkey, sizeof subkey);
  return std::string(kMacPrefix) +
         Base64Url(std::string(reinterpret_cast<const char*>(mac), mac_len));
}

bool Sealer::VerifyMac(std::string_view purpose, std::string_view data,
                       std::string_view mac) const {
  const std::string expected = Mac(purpose, data);
  return !expected.empty() && expected.size() == mac.size() &&
         CRYPTO_memcmp(expected.data(), mac.data(), mac.size()) == 0;
}

bool Sealer::IsMac(std::string_view text) {
  return text.substr(0, kMacPrefix.size()) == kMacPrefix;
}

bool Sealer::IsSealed(std::string_view text) { return text.substr(0, kPrefix.size()) == kPrefix; }

std::string Sealer::Seal(std::string_view plaintext) const {
  unsigned char nonce[kNonceBytes];
  if (RAND_bytes(nonce, sizeof nonce) != 1) return "";
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  std::string out(reinterpret_cast<const char*>(nonce), kNonceBytes);
  out.resize(kNonceBytes + plaintext.size() + kTagBytes);
  auto* ct = reinterpret_cast<unsigned char*>(out.data()) + kNonceBytes;
  int len = 0, fin = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), nonce) != 1 ||
      EVP_EncryptUpdate(ctx.get(), ct, &len,
                        reinterpret_cast<const unsigned char*>(plaintext.data()),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), ct + len, &fin) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, ct + plaintext.size()) != 1)
    return "";
  return std::string(kPrefix) + Base64Url(out);
}

std::optional<std::string> Sealer::Open(std::string_view sealed) const {
  if (!IsSealed(sealed)) return std::nullopt;
  auto raw = FromBase64Url(sealed.substr(kPrefix.size()));
  if (!raw || raw->size() < kNonceBytes + kTagBytes) return std::nullopt;
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw->data());
  const size_t n = raw->size() - kNonceBytes - kTagBytes;
  std::string out(n, '\0');
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int len = 0, fin = 0;
  unsigned char tag[kTagBytes];
  std::memcpy(tag, bytes + kNonceBytes + n, kTagBytes);
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), bytes) != 1 ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                        bytes + kNonceBytes, static_cast<int>(n)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len, &fin) != 1)
    return std::nullopt;
  return out;
}

}  // namespace gridbot::privacy
