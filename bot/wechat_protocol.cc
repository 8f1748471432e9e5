#include "bot/wechat_protocol.h"

#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <pugixml.hpp>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace gridbot::bot::wechat {
namespace {

constexpr std::string_view kXmlSpace = " \t\r\n";

std::string_view TrimXmlSpace(std::string_view s) {
  const std::size_t begin = s.find_first_not_of(kXmlSpace);
  if (begin == std::string_view::npos) return {};
  const std::size_t end = s.find_last_not_of(kXmlSpace);
  return s.substr(begin, end - begin + 1);
}

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

void AsciiLowerInPlace(std::string* s) {
  for (char& c : *s) c = AsciiLower(c);
}

bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle) {
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                        [](char a, char b) { return AsciiLower(a) == AsciiLower(b); });
  return it != haystack.end();
}

// The characters XML 1.0 allows (production [2] Char).
bool IsXmlChar(std::uint32_t cp) {
  return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
         (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

void AppendUtf8(std::uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Decodes the references in parsed character data. pugixml runs without
// parse_escapes so that we, not it, decide: it would turn "&#0;" into a NUL
// that silently truncates the value, and it keeps undefined entities as
// text. With DTDs banned, only the five predefined entities exist.
Status AppendUnescaped(std::string_view raw, std::string* out) {
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c == ']' && raw.substr(i, 3) == "]]>") {
      return Status::Error("\"]]>\" outside a CDATA section");
    }
    if (c != '&') {
      out->push_back(c);
      continue;
    }
    const std::size_t semi = raw.find(';', i + 1);
    if (semi == std::string_view::npos || semi - i > 12) {
      return Status::Error("unterminated or bare '&'");
    }
    const std::string_view ref = raw.substr(i + 1, semi - i - 1);
    i = semi;
    if (ref == "lt") {
      out->push_back('<');
    } else if (ref == "gt") {
      out->push_back('>');
    } else if (ref == "amp") {
      out->push_back('&');
    } else if (ref == "apos") {
      out->push_back('\'');
    } else if (ref == "quot") {
      out->push_back('"');
    } else if (!ref.empty() && ref[0] == '#') {
      std::string_view digits = ref.substr(1);
      int base = 10;
      if (!digits.empty() && digits[0] == 'x') {
        base = 16;
        digits.remove_prefix(1);
      }
      std::uint32_t cp = 0;
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), cp, base);
      if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
        return Status::Error("malformed character reference");
      }
      if (!IsXmlChar(cp)) {
        return Status::Error("character reference to a character XML forbids");
      }
      AppendUtf8(cp, out);
    } else {
      return Status::Error("undefined entity reference");
    }
  }
  return Status::Ok();
}

// The text of a field element: its text and CDATA children concatenated,
// references decoded, XML white space trimmed.
Status ElementText(const pugi::xml_node& element, std::string* out) {
  std::string text;
  for (const pugi::xml_node& child : element.children()) {
    switch (child.type()) {
      case pugi::node_pcdata: {
        Status s = AppendUnescaped(child.value(), &text);
        if (!s.ok()) {
          return Status::Error(s.message() + " in <" + element.name() + ">");
        }
        break;
      }
      case pugi::node_cdata:
        text += child.value();
        break;
      case pugi::node_element:
        return Status::Error(std::string("<") + element.name() + "> must not contain elements");
      default:
        break;  // Comments and PIs are not even kept by our parse options.
    }
  }
  const std::string_view trimmed = TrimXmlSpace(text);
  if (!IsValidUtf8(trimmed)) {
    return Status::Error(std::string("invalid UTF-8 in <") + element.name() + ">");
  }
  out->assign(trimmed);
  return Status::Ok();
}

Status ParseCoordinate(std::string_view name, std::string_view text, double limit, double* out) {
  double v = 0;
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), v, std::chars_format::fixed);
  if (ec != std::errc() || end != text.data() + text.size() || !(v >= -limit && v <= limit)) {
    return Status::Error("<" + std::string(name) + "> is not a number between -" +
                         std::to_string(static_cast<int>(limit)) + " and " +
                         std::to_string(static_cast<int>(limit)));
  }
  *out = v;
  return Status::Ok();
}

Status ParseLocation(std::string_view lat_name, const std::string& lat_text,
                     std::string_view lon_name, const std::string& lon_text, InboundMessage* msg) {
  if (lat_text.empty() && lon_text.empty()) return Status::Ok();
  if (lat_text.empty() || lon_text.empty()) {
    return Status::Error("<" + std::string(lat_name) + "> and <" + std::string(lon_name) +
                         "> must come together");
  }
  Status s = ParseCoordinate(lat_name, lat_text, 90, &msg->latitude);
  if (!s.ok()) return s;
  s = ParseCoordinate(lon_name, lon_text, 180, &msg->longitude);
  if (!s.ok()) return s;
  msg->has_location = true;
  return Status::Ok();
}

// Keeps what XML 1.0 allows: drops C0 controls other than tab, LF and CR.
std::string StripForbiddenControls(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 && u != '\t' && u != '\n' && u != '\r') continue;
    out.push_back(c);
  }
  return out;
}

void AppendCdataElement(std::string_view name, std::string_view value, std::string* out) {
  out->append("<").append(name).append("><![CDATA[");
  out->append(CdataEscape(StripForbiddenControls(value)));
  out->append("]]></").append(name).append(">");
}

// <xml> plus the fields every reply starts with.
std::string ReplyHead(const InboundMessage& in, std::int64_t now, std::string_view msg_type) {
  std::string out = "<xml>";
  AppendCdataElement("ToUserName", in.from_user, &out);
  AppendCdataElement("FromUserName", in.to_user, &out);
  out.append("<CreateTime>").append(std::to_string(now)).append("</CreateTime>");
  AppendCdataElement("MsgType", msg_type, &out);
  return out;
}

void AppendQuoted(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        out->push_back(c);
    }
  }
  out->push_back('"');
}

std::string DoubleToString(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::string("?");
}

}  // namespace

// ---------------------------------------------------------------------------
// Signatures

std::string Sha1Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &md_len, EVP_sha1(), nullptr) != 1) {
    return "";
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(md_len * 2);
  for (unsigned int i = 0; i < md_len; ++i) {
    hex.push_back(kHex[md[i] >> 4]);
    hex.push_back(kHex[md[i] & 0xF]);
  }
  return hex;
}

std::string SignParts(std::vector<std::string> parts) {
  std::sort(parts.begin(), parts.end());
  std::string joined;
  for (const std::string& p : parts) joined += p;
  return Sha1Hex(joined);
}

bool DigestEquals(std::string_view expected, std::string_view given) {
  if (expected.empty() || expected.size() != given.size()) return false;
  unsigned diff = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    unsigned g = static_cast<unsigned char>(given[i]);
    // Lower-case 'A'..'F' without a data-dependent branch.
    const unsigned is_upper_hex = (g - 'A') < 6u;
    g |= 0x20u * is_upper_hex;
    diff |= g ^ static_cast<unsigned char>(expected[i]);
  }
  return diff == 0;
}

bool VerifySignature(std::string_view token, std::string_view timestamp, std::string_view nonce,
                     std::string_view signature) {
  if (token.empty()) return false;
  return DigestEquals(SignParts({std::string(token), std::string(timestamp), std::string(nonce)}),
                      signature);
}

// ---------------------------------------------------------------------------
// Inbound messages

Result<InboundMessage> ParseMessage(std::string_view xml) {
  if (TrimXmlSpace(xml).empty()) return Status::Error("body is empty");
  if (xml.size() > kMaxMessageBytes) {
    return Status::Error("body is too large (" + std::to_string(xml.size()) +
                         " bytes; the limit is " + std::to_string(kMaxMessageBytes) + ")");
  }
  if (xml.find('\0') != std::string_view::npos) {
    return Status::Error("body contains a NUL byte");
  }
  // XXE hardening. pugixml never expands DTD entities, but a DTD has no
  // business in a WeChat push, so refuse it outright.
  if (ContainsIgnoreCase(xml, "<!DOCTYPE")) {
    return Status::Error("document type declarations are not allowed");
  }
  if (ContainsIgnoreCase(xml, "<!ENTITY")) {
    return Status::Error("entity declarations are not allowed");
  }

  pugi::xml_document doc;
  // No parse_doctype, no parse_escapes (see AppendUnescaped);
  // parse_fragment keeps stray top-level text so that we can reject it.
  const unsigned options = pugi::parse_cdata | pugi::parse_eol | pugi::parse_fragment;
  const pugi::xml_parse_result parsed =
      doc.load_buffer(xml.data(), xml.size(), options, pugi::encoding_utf8);
  if (!parsed) {
    return Status::Error(std::string("malformed XML at byte ") + std::to_string(parsed.offset) +
                         ": " + parsed.description());
  }

  pugi::xml_node root;
  for (const pugi::xml_node& node : doc.children()) {
    if (node.type() == pugi::node_element) {
      if (root) return Status::Error("more than one root element");
      root = node;
    } else if (node.type() == pugi::node_pcdata || node.type() == pugi::node_cdata) {
      return Status::Error("text outside the root element");
    }
  }
  if (!root) return Status::Error("no root element");
  if (std::string_view(root.name()) != "xml") {
    return Status::Error("root element must be <xml>");
  }

  InboundMessage msg;
  std::string create_time, location_x, location_y, latitude, longitude;
  struct Field {
    std::string_view name;
    std::string* value;
    bool seen = false;
  };
  Field fields[] = {
      {"ToUserName", &msg.to_user},
      {"FromUserName", &msg.from_user},
      {"MsgType", &msg.msg_type},
      {"Content", &msg.content},
      {"MsgId", &msg.msg_id},
      {"Event", &msg.event},
      {"EventKey", &msg.event_key},
      {"Label", &msg.label},
      {"Recognition", &msg.recognition},
      {"MediaId", &msg.media_id},
      {"PicUrl", &msg.pic_url},
      {"Format", &msg.format},
      {"Encrypt", &msg.encrypt},
      {"CreateTime", &create_time},
      {"Location_X", &location_x},
      {"Location_Y", &location_y},
      {"Latitude", &latitude},
      {"Longitude", &longitude},
  };
  for (const pugi::xml_node& element : root.children()) {
    if (element.type() != pugi::node_element) continue;
    const std::string_view name = element.name();
    for (Field& field : fields) {
      if (field.name != name) continue;
      if (field.seen) {
        return Status::Error("duplicate <" + std::string(name) + ">");
      }
      field.seen = true;
      Status s = ElementText(element, field.value);
      if (!s.ok()) return s;
      break;
    }
  }

  AsciiLowerInPlace(&msg.msg_type);
  AsciiLowerInPlace(&msg.event);

  if (!create_time.empty()) {
    auto [end, ec] = std::from_chars(create_time.data(), create_time.data() + create_time.size(),
                                     msg.create_time);
    if (ec != std::errc() || end != create_time.data() + create_time.size()) {
      return Status::Error("<CreateTime> is not a 64-bit integer");
    }
  }

  if (msg.msg_type == "location") {
    Status s = ParseLocation("Location_X", location_x, "Location_Y", location_y, &msg);
    if (!s.ok()) return s;
  } else if (msg.msg_type == "event" && msg.event == "location") {
    Status s = ParseLocation("Latitude", latitude, "Longitude", longitude, &msg);
    if (!s.ok()) return s;
  }

  if (msg.encrypt.empty()) {
    if (msg.from_user.empty()) return Status::Error("missing <FromUserName>");
    if (msg.msg_type.empty()) return Status::Error("missing <MsgType>");
  }
  return msg;
}

std::string DedupKey(const InboundMessage& in) {
  // Scoped to the sender: another account reusing a MsgId is another message.
  if (!in.msg_id.empty()) return "msg:" + in.from_user + "|" + in.msg_id;
  return "evt:" + in.from_user + "|" + std::to_string(in.create_time) + "|" + in.event + "|" +
         in.event_key;
}

std::string DebugString(const InboundMessage& in) {
  std::string out = "{";
  auto add = [&out](std::string_view key, const std::string& value) {
    if (value.empty()) return;
    if (out.size() > 1) out.push_back(' ');
    out.append(key).push_back('=');
    AppendQuoted(value, &out);
  };
  add("to_user", in.to_user);
  add("from_user", in.from_user);
  if (in.create_time != 0) {
    if (out.size() > 1) out.push_back(' ');
    out.append("create_time=").append(std::to_string(in.create_time));
  }
  add("msg_type", in.msg_type);
  add("event", in.event);
  add("event_key", in.event_key);
  add("content", in.content);
  add("msg_id", in.msg_id);
  add("media_id", in.media_id);
  add("recognition", in.recognition);
  add("label", in.label);
  if (in.has_location) {
    if (out.size() > 1) out.push_back(' ');
    out.append("location=")
        .append(DoubleToString(in.latitude))
        .append(",")
        .append(DoubleToString(in.longitude));
  }
  add("encrypt", in.encrypt);
  out.push_back('}');
  return out;
}

// ---------------------------------------------------------------------------
// Passive replies

std::string TextReply(const InboundMessage& in, std::int64_t now, std::string_view content) {
  std::string out = ReplyHead(in, now, "text");
  AppendCdataElement("Content", content, &out);
  out.append("</xml>");
  return out;
}

std::string NewsReply(const InboundMessage& in, std::int64_t now, std::string_view title,
                      std::string_view description, std::string_view pic_url,
                      std::string_view url) {
  std::string out = ReplyHead(in, now, "news");
  out.append("<ArticleCount>1</ArticleCount><Articles><item>");
  AppendCdataElement("Title", title, &out);
  AppendCdataElement("Description", description, &out);
  AppendCdataElement("PicUrl", pic_url, &out);
  AppendCdataElement("Url", url, &out);
  out.append("</item></Articles></xml>");
  return out;
}

std::string TransferToCustomerServiceReply(const InboundMessage& in, std::int64_t now,
                                           std::string_view kf_account) {
  std::string out = ReplyHead(in, now, "transfer_customer_service");
  if (!kf_account.empty()) {
    out.append("<TransInfo>");
    AppendCdataElement("KfAccount", kf_account, &out);
    out.append("</TransInfo>");
  }
  out.append("</xml>");
  return out;
}

// ---------------------------------------------------------------------------
// Helpers

std::string CdataEscape(std::string_view text) {
  static constexpr std::string_view kEnd = "]]>";
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  while (true) {
    const std::size_t hit = text.find(kEnd, pos);
    if (hit == std::string_view::npos) break;
    out.append(text.substr(pos, hit - pos));
    out.append("]]]]><![CDATA[>");
    pos = hit + kEnd.size();
  }
  out.append(text.substr(pos));
  return out;
}

bool IsValidUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    std::uint32_t cp;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      len = 2;
      cp = b0 & 0x1F;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      len = 3;
      cp = b0 & 0x0F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      len = 4;
      cp = b0 & 0x07;
    } else {
      return false;  // Continuation byte, C0/C1 overlong lead, or > F4.
    }
    if (s.size() - i < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || (cp >= 0xD800 && cp <= 0xDFFF) ||
        cp > 0x10FFFF) {
      return false;
    }
    i += len;
  }
  return true;
}

}  // namespace gridbot::bot::wechat
