// Percent-encoding for URLs built by bot/ (query values, links).
#pragma once

#include <cctype>
#include <string>

namespace gridbot::bot {

// RFC 3986 unreserved characters kept; every other byte as %XX.
inline std::string UrlEncode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace gridbot::bot
