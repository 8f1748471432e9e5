#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>

namespace gridbot::logging {
namespace {

std::atomic<Format> g_format{Format::kText};
std::atomic<bool> g_access{false};

std::mutex g_write_mu;

// One whole line: under a mutex (a pipe splits writes longer than PIPE_BUF,
// and a partial write is finished by a second one), retrying on EINTR (the
// server's signal handlers do not restart system calls).
void WriteAll(int fd, const std::string& line) {
  std::lock_guard<std::mutex> lock(g_write_mu);
  size_t off = 0;
  while (off < line.size()) {
    const ssize_t n = ::write(fd, line.data() + off, line.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to log to: never fail the request for it
    off += static_cast<size_t>(n);
  }
}

std::string Timestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

// A JSON number: -?digits[.digits] (all our numeric fields are).
bool NumericOk(std::string_view v) {
  size_t i = 0;
  if (i < v.size() && v[i] == '-') ++i;
  const size_t int_start = i;
  while (i < v.size() && v[i] >= '0' && v[i] <= '9') ++i;
  if (i == int_start || (v[int_start] == '0' && i - int_start > 1)) return false;
  if (i < v.size() && v[i] == '.') {
    const size_t frac = ++i;
    while (i < v.size() && v[i] >= '0' && v[i] <= '9') ++i;
    if (i == frac) return false;
  }
  return i == v.size();
}

// Text lines stay one line: a newline in a field is written as \n.
std::string OneLine(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else out += c;
  }
  return out;
}

void Emit(std::string_view level, std::string_view msg, const Fields& fields) {
  if (format() == Format::kJson) {
    WriteAll(STDOUT_FILENO, JsonLine(level, msg, fields) + "\n");
    return;
  }
  std::string line = "gridbot: ";
  line += OneLine(msg);
  for (const auto& f : fields) line += " " + f.key + "=" + OneLine(f.value);
  WriteAll(STDERR_FILENO, line + "\n");
}

}  // namespace

void Configure(Format format, bool access_log) {
  g_format = format;
  g_access = access_log;
}
Format format() { return g_format.load(std::memory_order_relaxed); }
bool access_log() { return g_access.load(std::memory_order_relaxed); }

std::string JsonLine(std::string_view level, std::string_view msg, const Fields& fields) {
  // nlohmann::json (the project's JSON) escapes control characters, and
  // with error_handler_t::replace writes bytes that are not UTF-8 (a raw
  // request target, an error quoting input) as U+FFFD, so that every line
  // is valid JSON and valid UTF-8. Ordered: ts, level, msg come first.
  nlohmann::ordered_json j;
  j["ts"] = Timestamp();
  j["level"] = std::string(level);
  j["msg"] = std::string(msg);
  for (const auto& f : fields)
    j[f.key] = f.numeric && NumericOk(f.value) ? nlohmann::ordered_json::parse(f.value)
                                               : nlohmann::ordered_json(f.value);
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void Info(std::string_view msg, const Fields& fields) { Emit("info", msg, fields); }
void Error(std::string_view msg, const Fields& fields) { Emit("error", msg, fields); }

void Listening(const std::string& url) {
  if (format() == Format::kJson) {
    WriteAll(STDOUT_FILENO, JsonLine("info", "listening on " + url, {{"url", url}}) + "\n");
    return;
  }
  std::fflush(stdout);
  WriteAll(STDOUT_FILENO, "listening on " + url + "\n");
}

void Request(const std::string& request_id, const std::string& method, const std::string& path,
             int status, double ms, const std::string& peer, const std::string& client) {
  if (!access_log()) return;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", ms);
  Fields f = {{"request_id", request_id},
              {"method", method},
              {"path", path},
              {"status", std::to_string(status), true},
              {"ms", buf, true},
              {"peer", peer},
              {"client", client}};
  if (format() == Format::kJson) {
    WriteAll(STDOUT_FILENO, JsonLine("info", "request", f) + "\n");
  } else {
    WriteAll(STDERR_FILENO, "gridbot: " + request_id + " " + method + " " + OneLine(path) + " " +
                                std::to_string(status) + " " + buf + " ms " + peer + "\n");
  }
}

std::string NewRequestId() {
  // A random 32-bit prefix per process and a counter: unique here, and two
  // instances collide only if their prefixes do.
  static const std::uint32_t prefix = [] {
    std::random_device rd;
    return static_cast<std::uint32_t>(rd());
  }();
  static std::atomic<std::uint32_t> counter{0};
  char buf[20];
  std::snprintf(buf, sizeof buf, "%08x%08x", prefix,
                counter.fetch_add(1, std::memory_order_relaxed));
  return buf;
}

std::string RequestIdFrom(std::string_view header) {
  if (header.empty() || header.size() > 64) return NewRequestId();
  for (char c : header) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return NewRequestId();
  }
  return std::string(header);
}

}  // namespace gridbot::logging
