// The service's log lines: what `gridbot serve` says while it runs.
//
// Two formats, chosen once at start-up (`--log-format`):
//   text  (default, for a terminal)  "gridbot: MESSAGE" on stderr; the
//         "listening on URL" line on stdout, as service.md requires.
//   json  (for journald and log shippers)  every line is one JSON object on
//         stdout, e.g.
//           {"ts":"2026-12-03T12:00:00.123Z","level":"error","msg":"internal error",
//            "request_id":"5f2c…","method":"POST","path":"/api/chat","error":"…"}
//         the listening line is {"level":"info","msg":"listening on URL","url":URL}
//         (service.md's plain `listening on URL` line is the text format's:
//         json is for a service manager, chosen explicitly).
// With `--access-log on`, every answered request gets a line too (request
// id, method, path, status, milliseconds, client).
//
// Lines are written whole (one line at a time, under a mutex), so lines of
// several threads never interleave; every JSON line is valid UTF-8 (bytes
// that are not become U+FFFD). A reader that stops reading stalls the
// threads that log (as with any blocking log); SIGPIPE is ignored by
// main(), so a reader that goes away costs the lines, not the process. Thread safety: Configure() before the threads start;
// everything else from any thread.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gridbot::logging {

enum class Format { kText, kJson };

void Configure(Format format, bool access_log);
Format format();
bool access_log();

// Extra fields of a line: key and value, both strings (numbers as text are
// written as JSON numbers when `numeric`).
struct Field {
  std::string key, value;
  bool numeric = false;
};
using Fields = std::vector<Field>;

void Info(std::string_view msg, const Fields& fields = {});
void Error(std::string_view msg, const Fields& fields = {});

// The start-up line: "listening on URL" (stdout, flushed) in text; a JSON
// line with "url" in json.
void Listening(const std::string& url);

// One answered request (only when access_log()): `peer` the TCP peer,
// `client` the customer's address as the rate limits see it (X-Forwarded-For
// from a trusted proxy; "" for a loopback caller).
void Request(const std::string& request_id, const std::string& method, const std::string& path,
             int status, double ms, const std::string& peer, const std::string& client);

// A request id for a request that came without a usable X-Request-Id:
// 16 hex digits, unique in this process and very likely across instances.
std::string NewRequestId();
// The client's X-Request-Id if it is one we may log and echo (1–64 of
// [A-Za-z0-9._-]), else a new one.
std::string RequestIdFrom(std::string_view header);

// The JSON of one line (exposed for tests).
std::string JsonLine(std::string_view level, std::string_view msg, const Fields& fields);

}  // namespace gridbot::logging
