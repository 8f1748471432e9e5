// WeChat message encryption (消息加解密; compatible and secure mode, §4 of
// shared/spec/wechat.md): msg_signature, AES-256-CBC with WeChat's framing
// and 32-byte PKCS#7 padding, and the encrypted reply envelope. No I/O.
//
// Handling an `encrypt_type=aes` POST (after checking `signature` as in
// plaintext mode, see wechat_protocol.h):
//
//   Result<wechat::Cryptor> c = wechat::Cryptor::Create(token, aes_key,
//                                                       app_id, old_key);
//   // ... once, at start-up; then per request:
//   Result<wechat::InboundMessage> env = wechat::ParseMessage(body);
//   if (!env.ok() || env->encrypt.empty()) return BadRequest(...);
//   if (!c->VerifyMsgSignature(q.timestamp, q.nonce, env->encrypt,
//                              q.msg_signature)) return Forbidden();
//   wechat::AesKeySlot key;
//   Result<std::string> xml = c->Decrypt(env->encrypt, &key);
//   if (!xml.ok()) return BadRequest(xml.error());
//   Result<wechat::InboundMessage> in = wechat::ParseMessage(*xml);
//   ...
//   std::string reply = wechat::TextReply(*in, now, "您好！");
//   return c->EncryptedReply(reply, std::to_string(now), q.nonce, key);
//
// Decryption uses only the bytes given; it trusts nothing in them until the
// padding, the length field and the trailing AppID all check out. Verify
// msg_signature *before* decrypting (it authenticates the ciphertext; AES-CBC
// alone does not).
//
// Errors are Result<T> with short English messages (for logs and HTTP 400
// bodies); no exception escapes. Key material never appears in messages.
//
// Thread safety: a Cryptor is immutable after Create(); all its methods are
// const and may be called from any number of threads at once (each call uses
// its own OpenSSL context; RAND_bytes is thread-safe in OpenSSL 3).
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace gridbot::bot::wechat {

// Which EncodingAESKey a message was decrypted with, and which to encrypt
// the reply with. The console lets admins change the key; the official FAQ
// says to try the current key, then the previous one, and to answer with the
// key that worked (§4.2).
enum class AesKeySlot { kCurrent, kPrevious };

class Cryptor {
 public:
  // `token`: the 服务器配置 Token (non-empty). `encoding_aes_key` and
  // `previous_aes_key` (optional, "" for none): 43 base64 characters,
  // decoded leniently (the 2 spare bits of the last character are ignored,
  // as WeChat's own keys need). `app_id`: the AppID (WeCom: the corp ID)
  // that must end every decrypted message (non-empty).
  // Returns an error naming the bad argument.
  static Result<Cryptor> Create(std::string token, std::string encoding_aes_key, std::string app_id,
                                std::string previous_aes_key = "");

  const std::string& token() const { return token_; }
  const std::string& app_id() const { return app_id_; }
  bool has_previous_key() const { return previous_key_.has_value(); }

  // sha1(sort(token, timestamp, nonce, encrypt)) in lower-case hex (§4.3).
  std::string Sign(std::string_view timestamp, std::string_view nonce,
                   std::string_view encrypt) const;

  // True iff `msg_signature` == Sign(timestamp, nonce, encrypt), compared in
  // constant time (upper-case hex accepted). `encrypt` is the base64 text
  // exactly as it appeared in the XML.
  bool VerifyMsgSignature(std::string_view timestamp, std::string_view nonce,
                          std::string_view encrypt, std::string_view msg_signature) const;

  // Decrypts an <Encrypt> value to the message it carries (usually XML;
  // returned byte-exact, not trimmed). Tries the current key, then the
  // previous one; on success stores the key that worked in `*used_key` (if
  // not null). Fails if `encrypt_b64` is not base64 of a non-empty multiple
  // of 16 bytes, the padding byte is not in 1..32, the length field overruns
  // the buffer, or the trailing AppID differs from app_id(); the error is
  // the one the current key gave. Does not check a signature.
  Result<std::string> Decrypt(std::string_view encrypt_b64, AesKeySlot* used_key = nullptr) const;

  // WeCom-style URL verification (GET with msg_signature, §1.2, §7 step 1):
  // verifies msg_signature over (token, timestamp, nonce, echostr), then
  // returns the decrypted echostr to send back as the body. `echostr` must
  // be URL-decoded correctly ('+' is part of base64, not a space).
  Result<std::string> DecryptEchostr(std::string_view timestamp, std::string_view nonce,
                                     std::string_view echostr,
                                     std::string_view msg_signature) const;

  // Base64(AES-256-CBC(random16 || len32be(msg) || msg || app_id || pad)).
  // Deterministic given `random16`, for test vectors. REQUIRES:
  // random16.size() == 16 (a shorter value is zero-padded, a longer one
  // truncated). With AesKeySlot::kPrevious and no previous key, the current
  // key is used. Returns "" only if OpenSSL fails.
  std::string Encrypt(std::string_view msg, std::string_view random16,
                      AesKeySlot key = AesKeySlot::kCurrent) const;

  // As above with 16 fresh bytes from RAND_bytes. Returns "" only if
  // OpenSSL fails (callers treat it as an internal error).
  std::string Encrypt(std::string_view msg, AesKeySlot key = AesKeySlot::kCurrent) const;

  // The secure-mode reply (§4.6): encrypts the complete passive-reply XML
  // `reply_xml` (from TextReply() etc.) and wraps it as
  //   <xml><Encrypt><![CDATA[..]]></Encrypt>
  //   <MsgSignature><![CDATA[..]]></MsgSignature>
  //   <TimeStamp>..</TimeStamp><Nonce><![CDATA[..]]></Nonce></xml>
  // (without the line breaks), signed with Sign(timestamp, nonce, Encrypt).
  // `timestamp` should be Unix seconds; `nonce` any string (reusing the
  // request's is fine; both are escaped). Returns "" only if OpenSSL fails.
  std::string EncryptedReply(std::string_view reply_xml, std::string_view timestamp,
                             std::string_view nonce, AesKeySlot key = AesKeySlot::kCurrent) const;

  // As above with a fixed `random16` prefix, for test vectors.
  std::string EncryptedReply(std::string_view reply_xml, std::string_view timestamp,
                             std::string_view nonce, std::string_view random16,
                             AesKeySlot key = AesKeySlot::kCurrent) const;

 private:
  using AesKey = std::array<unsigned char, 32>;

  Cryptor(std::string token, std::string app_id, const AesKey& key,
          std::optional<AesKey> previous_key);

  const AesKey& KeyFor(AesKeySlot slot) const;
  Result<std::string> DecryptWith(const AesKey& key, std::string_view encrypt_b64) const;
  std::string Envelope(const std::string& encrypt, std::string_view timestamp,
                       std::string_view nonce) const;

  std::string token_;
  std::string app_id_;
  AesKey key_;
  std::optional<AesKey> previous_key_;
};

}  // namespace gridbot::bot::wechat
