#include "common/log.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <vector>

namespace gridbot::logging {
namespace {

TEST(Log, JsonLineIsOneParsableObjectWhateverTheText) {
  const std::string nasty = "line\nbreak \"quoted\" back\\slash \t tab \x01 ctl 中文 \x7f";
  const std::string line = JsonLine("error", nasty, {{"path", "/api/chat?x=\"1\""},
                                                     {"status", "503", true},
                                                     {"ms", "1.25", true},
                                                     {"bad_number", "12; rm", true}});
  EXPECT_EQ(line.find('\n'), std::string::npos);  // one line, always
  const auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["level"], "error");
  EXPECT_EQ(j["msg"], nasty);
  EXPECT_EQ(j["path"], "/api/chat?x=\"1\"");
  EXPECT_EQ(j["status"], 503);
  EXPECT_DOUBLE_EQ(j["ms"].get<double>(), 1.25);
  EXPECT_EQ(j["bad_number"], "12; rm");  // not a number: written as a string
  const std::string ts = j["ts"];
  EXPECT_EQ(ts.size(), 24u);  // 2026-12-03T12:00:00.123Z
  EXPECT_EQ(ts.back(), 'Z');
}

TEST(Log, BytesThatAreNotUtf8BecomeReplacementCharacters) {
  // A raw request target may hold any byte; the line must still be UTF-8.
  const std::string line = JsonLine("info", "request", {{"path", "/\xff\xfe?a=\xe4\xb8"},
                                                        {"ok", "电费\xc0\x80"},
                                                        {"emoji", "\xf0\x9f\x91\x8d"}});
  const auto j = nlohmann::json::parse(line);  // throws on invalid UTF-8
  // Each invalid byte is one U+FFFD; a truncated sequence at the end (e4 b8)
  // is one, as Unicode's "maximal subpart" practice has it.
  EXPECT_EQ(j["path"], "/\ufffd\ufffd?a=\ufffd");
  EXPECT_EQ(j["ok"], "电费\ufffd\ufffd");  // an overlong NUL is not UTF-8
  EXPECT_EQ(j["emoji"], "\xf0\x9f\x91\x8d");
}

TEST(Log, OnlyRealNumbersAreWrittenAsNumbers) {
  for (const std::string n : {"0", "503", "-1", "1.25", "0.001"})
    EXPECT_TRUE(nlohmann::json::parse(JsonLine("info", "m", {{"v", n, true}}))["v"].is_number()) << n;
  for (const std::string n : {"", "-", ".", "1.", "1.2.3", "01", "1-2", "1e5", "nan"})
    EXPECT_TRUE(nlohmann::json::parse(JsonLine("info", "m", {{"v", n, true}}))["v"].is_string()) << n;
}

TEST(Log, RequestIdsKeepUsableOnesAndReplaceTheRest) {
  EXPECT_EQ(RequestIdFrom("abc-123_X.y"), "abc-123_X.y");
  std::set<std::string> seen;
  for (const std::string& bad : std::vector<std::string>{"", "has space", "new\nline", "引号", std::string(65, 'a')}) {
    const std::string id = RequestIdFrom(bad);
    EXPECT_EQ(id.size(), 16u) << bad;
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 5u);  // each one new
}

}  // namespace
}  // namespace gridbot::logging
