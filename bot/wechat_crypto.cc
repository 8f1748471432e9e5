#include "bot/wechat_crypto.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <climits>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "bot/wechat_protocol.h"

namespace gridbot::bot::wechat {
namespace {

constexpr std::size_t kRandomBytes = 16;
constexpr std::size_t kLengthBytes = 4;
constexpr std::size_t kPadBlock = 32;  // WeChat pads to 32, not AES's 16.
constexpr std::size_t kEncodingAesKeyChars = 43;

constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Standard alphabet. Lenient in the one way WeChat needs: bits left over
// after the last whole byte are ignored even when they are not zero (43-char
// EncodingAESKeys, §4.2 pitfall 1). '=' padding is optional but, when
// present, must complete a 4-character group. No white space.
std::optional<std::string> Base64Decode(std::string_view in) {
  std::size_t pad = 0;
  while (!in.empty() && in.back() == '=' && pad < 2) {
    in.remove_suffix(1);
    ++pad;
  }
  if (pad > 0 && (in.size() + pad) % 4 != 0) return std::nullopt;
  if (in.size() % 4 == 1) return std::nullopt;  // 6 bits: not even a byte.
  std::string out;
  out.reserve(in.size() * 3 / 4);
  std::uint32_t bits = 0;
  int nbits = 0;
  for (char c : in) {
    const int v = Base64Value(c);
    if (v < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<std::uint32_t>(v);
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      out.push_back(static_cast<char>((bits >> nbits) & 0xFF));
    }
  }
  return out;
}

std::string Base64Encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const std::uint32_t n = (static_cast<unsigned char>(in[i]) << 16) |
                            (static_cast<unsigned char>(in[i + 1]) << 8) |
                            static_cast<unsigned char>(in[i + 2]);
    out.push_back(kBase64Alphabet[(n >> 18) & 63]);
    out.push_back(kBase64Alphabet[(n >> 12) & 63]);
    out.push_back(kBase64Alphabet[(n >> 6) & 63]);
    out.push_back(kBase64Alphabet[n & 63]);
  }
  const std::size_t rest = in.size() - i;
  if (rest > 0) {
    std::uint32_t n = static_cast<unsigned char>(in[i]) << 16;
    if (rest == 2) n |= static_cast<unsigned char>(in[i + 1]) << 8;
    out.push_back(kBase64Alphabet[(n >> 18) & 63]);
    out.push_back(kBase64Alphabet[(n >> 12) & 63]);
    out.push_back(rest == 2 ? kBase64Alphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};

// AES-256-CBC, IV = key[0..16), OpenSSL padding off (WeChat pads itself).
// REQUIRES: in.size() % 16 == 0.
bool AesCbc(bool encrypt, const std::array<unsigned char, 32>& key, std::string_view in,
            std::string* out) {
  if (in.size() > static_cast<std::size_t>(INT_MAX) - 32) return false;
  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter> ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return false;
  if (EVP_CipherInit_ex(ctx.get(), EVP_aes_256_cbc(), nullptr, key.data(), key.data(),
                        encrypt ? 1 : 0) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1) {
    return false;
  }
  out->assign(in.size() + 16, '\0');
  auto* dst = reinterpret_cast<unsigned char*>(out->data());
  int n1 = 0, n2 = 0;
  if (EVP_CipherUpdate(ctx.get(), dst, &n1, reinterpret_cast<const unsigned char*>(in.data()),
                       static_cast<int>(in.size())) != 1 ||
      EVP_CipherFinal_ex(ctx.get(), dst + n1, &n2) != 1) {
    out->clear();
    return false;
  }
  out->resize(static_cast<std::size_t>(n1 + n2));
  return true;
}

Result<std::array<unsigned char, 32>> DecodeAesKey(std::string_view what, std::string_view key) {
  const std::string name(what);
  if (key.size() != kEncodingAesKeyChars) {
    return Status::Error(name + " must be 43 characters (got " + std::to_string(key.size()) + ")");
  }
  std::optional<std::string> raw = Base64Decode(key);
  if (!raw || raw->size() != 32) {
    return Status::Error(name + " must contain only base64 characters");
  }
  std::array<unsigned char, 32> out;
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<unsigned char>((*raw)[i]);
  }
  return out;
}

std::string XmlEscapeText(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace

Result<Cryptor> Cryptor::Create(std::string token, std::string encoding_aes_key, std::string app_id,
                                std::string previous_aes_key) {
  if (token.empty()) return Status::Error("token is empty");
  if (app_id.empty()) return Status::Error("AppID is empty");
  Result<AesKey> key = DecodeAesKey("EncodingAESKey", encoding_aes_key);
  if (!key.ok()) return key.status();
  std::optional<AesKey> previous;
  if (!previous_aes_key.empty()) {
    Result<AesKey> prev = DecodeAesKey("previous EncodingAESKey", previous_aes_key);
    if (!prev.ok()) return prev.status();
    previous = *prev;
  }
  return Cryptor(std::move(token), std::move(app_id), *key, previous);
}

Cryptor::Cryptor(std::string token, std::string app_id, const AesKey& key,
                 std::optional<AesKey> previous_key)
    : token_(std::move(token)),
      app_id_(std::move(app_id)),
      key_(key),
      previous_key_(previous_key) {}

const Cryptor::AesKey& Cryptor::KeyFor(AesKeySlot slot) const {
  if (slot == AesKeySlot::kPrevious && previous_key_) return *previous_key_;
  return key_;
}

std::string Cryptor::Sign(std::string_view timestamp, std::string_view nonce,
                          std::string_view encrypt) const {
  return SignParts({token_, std::string(timestamp), std::string(nonce), std::string(encrypt)});
}

bool Cryptor::VerifyMsgSignature(std::string_view timestamp, std::string_view nonce,
                                 std::string_view encrypt, std::string_view msg_signature) const {
  return DigestEquals(Sign(timestamp, nonce, encrypt), msg_signature);
}

Result<std::string> Cryptor::DecryptWith(const AesKey& key, std::string_view encrypt_b64) const {
  std::optional<std::string> cipher = Base64Decode(encrypt_b64);
  if (!cipher) return Status::Error("Encrypt is not valid base64");
  if (cipher->empty() || cipher->size() % 16 != 0) {
    return Status::Error("ciphertext length " + std::to_string(cipher->size()) +
                         " is not a positive multiple of 16");
  }
  std::string plain;
  if (!AesCbc(/*encrypt=*/false, key, *cipher, &plain)) {
    return Status::Error("AES decryption failed");
  }
  const auto pad = static_cast<unsigned char>(plain.back());
  if (pad < 1 || pad > kPadBlock || pad > plain.size()) {
    return Status::Error("bad padding (wrong key or corrupted message)");
  }
  const std::string_view body = std::string_view(plain).substr(0, plain.size() - pad);
  if (body.size() < kRandomBytes + kLengthBytes) {
    return Status::Error("decrypted message is too short");
  }
  std::uint32_t len = 0;
  for (std::size_t i = 0; i < kLengthBytes; ++i) {
    len = (len << 8) | static_cast<unsigned char>(body[kRandomBytes + i]);
  }
  const std::string_view rest = body.substr(kRandomBytes + kLengthBytes);
  if (len > rest.size()) {
    return Status::Error("length field exceeds the message (wrong key or corrupted message)");
  }
  if (rest.substr(len) != app_id_) {
    return Status::Error("AppID mismatch (wrong key, or meant for another app)");
  }
  return std::string(rest.substr(0, len));
}

Result<std::string> Cryptor::Decrypt(std::string_view encrypt_b64, AesKeySlot* used_key) const {
  if (encrypt_b64.empty()) return Status::Error("Encrypt is empty");
  Result<std::string> current = DecryptWith(key_, encrypt_b64);
  if (current.ok()) {
    if (used_key) *used_key = AesKeySlot::kCurrent;
    return current;
  }
  if (previous_key_) {
    Result<std::string> previous = DecryptWith(*previous_key_, encrypt_b64);
    if (previous.ok()) {
      if (used_key) *used_key = AesKeySlot::kPrevious;
      return previous;
    }
  }
  return current;
}

Result<std::string> Cryptor::DecryptEchostr(std::string_view timestamp, std::string_view nonce,
                                            std::string_view echostr,
                                            std::string_view msg_signature) const {
  if (!VerifyMsgSignature(timestamp, nonce, echostr, msg_signature)) {
    return Status::Error("msg_signature does not match");
  }
  return Decrypt(echostr);
}

std::string Cryptor::Encrypt(std::string_view msg, std::string_view random16,
                             AesKeySlot key) const {
  std::string plain(random16.substr(0, kRandomBytes));
  plain.resize(kRandomBytes, '\0');
  const auto len = static_cast<std::uint32_t>(msg.size());
  plain.push_back(static_cast<char>((len >> 24) & 0xFF));
  plain.push_back(static_cast<char>((len >> 16) & 0xFF));
  plain.push_back(static_cast<char>((len >> 8) & 0xFF));
  plain.push_back(static_cast<char>(len & 0xFF));
  plain.append(msg);
  plain.append(app_id_);
  const std::size_t pad = kPadBlock - plain.size() % kPadBlock;  // 1..32
  plain.append(pad, static_cast<char>(pad));
  std::string cipher;
  if (!AesCbc(/*encrypt=*/true, KeyFor(key), plain, &cipher)) return "";
  return Base64Encode(cipher);
}

std::string Cryptor::Encrypt(std::string_view msg, AesKeySlot key) const {
  unsigned char random[kRandomBytes];
  if (RAND_bytes(random, sizeof random) != 1) return "";
  return Encrypt(msg, std::string_view(reinterpret_cast<const char*>(random), sizeof random), key);
}

std::string Cryptor::Envelope(const std::string& encrypt, std::string_view timestamp,
                              std::string_view nonce) const {
  if (encrypt.empty()) return "";
  const std::string signature = Sign(timestamp, nonce, encrypt);
  std::string out = "<xml><Encrypt><![CDATA[";
  out += encrypt;  // Base64: never contains "]]>".
  out += "]]></Encrypt><MsgSignature><![CDATA[";
  out += signature;
  out += "]]></MsgSignature><TimeStamp>";
  out += XmlEscapeText(timestamp);
  out += "</TimeStamp><Nonce><![CDATA[";
  out += CdataEscape(nonce);
  out += "]]></Nonce></xml>";
  return out;
}

std::string Cryptor::EncryptedReply(std::string_view reply_xml, std::string_view timestamp,
                                    std::string_view nonce, AesKeySlot key) const {
  return Envelope(Encrypt(reply_xml, key), timestamp, nonce);
}

std::string Cryptor::EncryptedReply(std::string_view reply_xml, std::string_view timestamp,
                                    std::string_view nonce, std::string_view random16,
                                    AesKeySlot key) const {
  return Envelope(Encrypt(reply_xml, random16, key), timestamp, nonce);
}

}  // namespace gridbot::bot::wechat
