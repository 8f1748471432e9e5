// libFuzzer: the WeChat push parser and the secure-mode decryptor on
// arbitrary bytes. Neither may crash, hang or read out of bounds; what
// parses must give a dedup key and a debug line, and what decrypts must
// parse or fail cleanly.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "bot/wechat_crypto.h"
#include "bot/wechat_protocol.h"

using namespace gridbot::bot;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto msg = wechat::ParseMessage(bytes);
  if (msg.ok()) {
    (void)wechat::DedupKey(*msg);
    (void)wechat::DebugString(*msg);
    (void)wechat::TextReply(*msg, 1722736800, msg->content);
  }
  static const auto cryptor = wechat::Cryptor::Create(
      "gridbottoken", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wxgridbot");
  if (!cryptor.ok()) __builtin_trap();
  // The Encrypt element of a push, or the bytes themselves as base64.
  const std::string_view encrypt = msg.ok() && !msg->encrypt.empty() ? std::string_view(msg->encrypt) : bytes;
  (void)cryptor->VerifyMsgSignature("1722736800", "nonce", encrypt, bytes.substr(0, 40));
  auto plain = cryptor->Decrypt(encrypt);
  if (plain.ok()) (void)wechat::ParseMessage(*plain);
  (void)cryptor->DecryptEchostr("1722736800", "nonce", encrypt, "0");
  return 0;
}
