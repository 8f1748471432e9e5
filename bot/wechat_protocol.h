// WeChat Official Account (公众号) push protocol, without any I/O:
// request signatures, parsing of pushed XML messages and events, and the
// passive-reply XML that goes back in the HTTP response. Section numbers
// (§) refer to shared/spec/wechat.md. Encryption (安全模式) is in
// wechat_crypto.h.
//
// A plaintext-mode POST, as the HTTP layer would handle it:
//
//   namespace wechat = gridbot::bot::wechat;
//   if (!wechat::VerifySignature(token, q.timestamp, q.nonce, q.signature))
//     return Forbidden();
//   Result<wechat::InboundMessage> in = wechat::ParseMessage(body);
//   if (!in.ok()) return BadRequest(in.error());
//   if (auto cached = dedup.Find(wechat::DedupKey(*in))) return *cached;
//   return wechat::TextReply(*in, clock.Now(), "您好！");
//
// In secure mode the body is only an envelope: ParseMessage() fills
// `to_user` and `encrypt`; verify and decrypt `encrypt` with
// wechat::Cryptor and call ParseMessage() again on the decrypted XML.
//
// Errors: functions that can fail return Result<T> whose message is a short
// English sentence for logs and HTTP 400 bodies; it never echoes the input.
// No exception escapes this interface.
//
// Thread safety: every function here is pure (no globals, no clock) and may
// be called from any number of threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace gridbot::bot::wechat {

// ---------------------------------------------------------------------------
// Signatures (§1.2, §4.3)

// Lower-case hex SHA-1 of `data` (40 characters). Returns "" only if
// OpenSSL itself fails, which makes every signature check fail closed.
std::string Sha1Hex(std::string_view data);

// hex_lower(SHA1(concat(sort(parts)))): the WeChat signature. Parts are
// sorted byte-wise and joined with no separator. Three parts
// (token, timestamp, nonce) give the URL `signature`; four parts
// (token, timestamp, nonce, Encrypt) give `msg_signature`.
std::string SignParts(std::vector<std::string> parts);

// True iff `signature` equals SignParts({token, timestamp, nonce}). The
// comparison is constant-time in the signature's content and ignores the
// case of its hex digits. An empty token never verifies.
bool VerifySignature(std::string_view token, std::string_view timestamp, std::string_view nonce,
                     std::string_view signature);

// Constant-time equality of two lower-case hex digests; upper-case hex
// digits in `given` are accepted. Exposed for wechat_crypto.cc.
bool DigestEquals(std::string_view expected, std::string_view given);

// ---------------------------------------------------------------------------
// Inbound messages (§2)

// One pushed message or event. Strings are UTF-8 with surrounding XML
// white space trimmed; absent elements are "" (or 0 / false).
struct InboundMessage {
  std::string to_user;           // ToUserName: the account's gh_ id
  std::string from_user;         // FromUserName: the sender's OpenID
  std::string msg_type;          // MsgType, ASCII lower-cased: "text", "event"...
  std::string content;           // Content (text messages)
  std::string msg_id;            // MsgId, exactly as sent (a 64-bit integer)
  std::string event;             // Event, ASCII lower-cased: "subscribe", "click"
  std::string event_key;         // EventKey, as sent ("qrscene_" is kept)
  std::string label;             // Label (location messages)
  std::string recognition;       // Recognition (voice, when WeChat provides it)
  std::string media_id;          // MediaId (image, voice, video)
  std::string pic_url;           // PicUrl (image)
  std::string format;            // Format (voice: amr, speex)
  std::string encrypt;           // Encrypt (secure/compatible-mode envelope)
  std::int64_t create_time = 0;  // CreateTime, Unix seconds
  // Set from Location_X/Location_Y when msg_type == "location", or from
  // Latitude/Longitude when msg_type == "event" and event == "location".
  bool has_location = false;
  double latitude = 0, longitude = 0;
};

// Largest document ParseMessage() accepts. Real pushes are a few KB; the
// HTTP layer should enforce its own, smaller body limit as well.
inline constexpr std::size_t kMaxMessageBytes = 1 << 20;

// Parses a pushed XML body (§2.2–2.4, §4.1).
//
// Accepts: a UTF-8 document whose single root element is <xml>; field
// values given as text and/or CDATA (several CDATA sections are
// concatenated, so a split "]]>" round-trips); elements in any order;
// unknown elements are ignored. Only direct children of <xml> are read.
//
// Rejects, with an error: an empty or over-long body (kMaxMessageBytes), a
// NUL byte, any "<!DOCTYPE" or "<!ENTITY" anywhere in the body (checked
// case-insensitively before parsing, so even inside CDATA: XXE hardening),
// XML that is not well-formed, a root other than <xml>, content outside the
// root, a field that repeats or contains child elements, an undefined
// entity or a character reference to a character XML forbids (e.g. &#0;),
// invalid UTF-8 in a field, a CreateTime that is not a 64-bit integer,
// coordinates that are not numbers in range or come without their partner.
//
// Required: FromUserName and MsgType, except when Encrypt is non-empty (a
// secure-mode envelope has only ToUserName and Encrypt).
Result<InboundMessage> ParseMessage(std::string_view xml);

// Key for dropping WeChat's retries (§3.4): "msg:<FromUserName>|<MsgId>" when msg_id is
// set, else "evt:<FromUserName>|<CreateTime>|<Event>|<EventKey>" (event
// lower-cased as stored). REQUIRES: `in` is a decrypted message, not an
// envelope.
std::string DedupKey(const InboundMessage& in);

// One line describing `in` for tests and debug logs, listing only the
// fields that are set, e.g.
//   {to_user="gh_1" from_user="oX" create_time=1 msg_type="text" content="hi"}
// Contains user content: do not log it where personal data may not go.
std::string DebugString(const InboundMessage& in);

// ---------------------------------------------------------------------------
// Passive replies (§3). All swap the addresses (reply ToUserName =
// in.from_user, FromUserName = in.to_user), take `now` in Unix seconds,
// wrap strings in CDATA with any "]]>" split as "]]]]><![CDATA[>", and
// return compact XML (no white space between elements). Control
// characters that XML 1.0 forbids (U+0000–U+001F except tab, LF, CR) are
// dropped. REQUIRES: the strings are valid UTF-8.

// <MsgType>text</MsgType> with <Content>.
std::string TextReply(const InboundMessage& in, std::int64_t now, std::string_view content);

// <MsgType>news</MsgType> with exactly one article (the limit when
// answering a user's message since 2018).
std::string NewsReply(const InboundMessage& in, std::int64_t now, std::string_view title,
                      std::string_view description, std::string_view pic_url, std::string_view url);

// <MsgType>transfer_customer_service</MsgType> (多客服, §3.3). With a
// non-empty `kf_account`, adds <TransInfo><KfAccount> to pick the agent.
std::string TransferToCustomerServiceReply(const InboundMessage& in, std::int64_t now,
                                           std::string_view kf_account = {});

// ---------------------------------------------------------------------------
// Small helpers shared with wechat_crypto.cc (also handy in tests).

// `text` as the inside of a CDATA section: "]]>" becomes
// "]]]]><![CDATA[>". Wrap the result in "<![CDATA[" ... "]]>".
std::string CdataEscape(std::string_view text);

// True iff `s` is well-formed UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view s);

}  // namespace gridbot::bot::wechat
