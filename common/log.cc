#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>

namespace gridbot::logging {
namespace {

std::atomic<Format> g_format{Format::kText};
std::atomic<bool> g_access{false};

void WriteAll(int fd, const std::string& line) {
  size_t off = 0;
  while (off < line.size()) {
    const ssize_t n = ::write(fd, line.data() + off, line.size() - off);
    if (n <= 0) return;  // nowhere to log to: never fail the request for it
    off += static_cast<size_t>(n);
  }
}

void AppendEscaped(std::string& out, std::string_view s) {
  out += '"';
  for (const unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);  // UTF-8 passes through
        }
    }
  }
  out += '"';
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

bool NumericOk(std::string_view v) {
  if (v.empty()) return false;
  for (char c : v)
    if (!((c >= '0' && c <= '9') || c == '.' || c == '-')) return false;
  return true;
}

void Emit(std::string_view level, std::string_view msg, const Fields& fields) {
  if (format() == Format::kJson) {
    WriteAll(STDOUT_FILENO, JsonLine(level, msg, fields) + "\n");
    return;
  }
  std::string line = "gridbot: ";
  line += msg;
  for (const auto& f : fields) line += " " + f.key + "=" + f.value;
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
  std::string out = "{\"ts\":\"" + Timestamp() + "\",\"level\":";
  AppendEscaped(out, level);
  out += ",\"msg\":";
  AppendEscaped(out, msg);
  for (const auto& f : fields) {
    out += ',';
    AppendEscaped(out, f.key);
    out += ':';
    if (f.numeric && NumericOk(f.value))
      out += f.value;
    else
      AppendEscaped(out, f.value);
  }
  out += '}';
  return out;
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
             int status, double ms, const std::string& client) {
  if (!access_log()) return;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", ms);
  Fields f = {{"request_id", request_id},
              {"method", method},
              {"path", path},
              {"status", std::to_string(status), true},
              {"ms", buf, true},
              {"client", client}};
  if (format() == Format::kJson) {
    WriteAll(STDOUT_FILENO, JsonLine("info", "request", f) + "\n");
  } else {
    WriteAll(STDERR_FILENO, "gridbot: " + request_id + " " + method + " " + path + " " +
                                std::to_string(status) + " " + buf + " ms " + client + "\n");
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
