// A `gridbot serve` child process for end-to-end tests over real HTTP:
//   TestServer s(TempDb("http", "chat"), {"--wechat-token", "gridbottoken"});
//   ASSERT_NE(s.port(), 0);
//   auto res = s.Request(http::verb::get, "/healthz");
// The binary is GRIDBOT_BINARY (a compile definition of the test target).
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "privacy/sealer.h"
#include "tests/test_db.h"

namespace gridbot::testing {

// A fresh database path in the temp directory (gridbot_<prefix>_<name>_<pid>.db, with no
// earlier file, WAL or SHM left); against PostgreSQL, a fresh schema.
inline std::string TempDb(const std::string& prefix, const std::string& name) {
  if (TestPostgres()) {
    std::string db = NewPostgresSchema(prefix + name);
    std::filesystem::remove(KeyFileOf(db));
    return db;
  }
  auto p = std::filesystem::temp_directory_path() /
           ("gridbot_" + prefix + "_" + name + "_" + std::to_string(getpid()) + ".db");
  for (const char* suffix : {"", "-wal", "-shm", ".key"})
    std::filesystem::remove(p.string() + suffix);
  return p.string();
}

// An outbox body as delivery sends it: a sealed one (SMS with a code) opened
// with the key file the server keeps beside database `db`.
inline std::string OpenedOutboxBody(const std::string& db, const std::string& body) {
  if (!privacy::Sealer::IsSealed(body)) return body;
  auto sealer = privacy::Sealer::FromKeyFile(KeyFileOf(db));
  return sealer.ok() ? sealer->Open(body).value_or("") : "";
}

// `gridbot serve` on 127.0.0.1:0 with database `db`, today 2024-08-04, two
// threads, and `flags` added to its command line; port() is 0 if it did not
// start. Stopped (SIGTERM) when destroyed.
class TestServer {
 public:
  TestServer(const std::string& db, const std::vector<std::string>& flags) {
    std::vector<std::string> args = {GRIDBOT_BINARY, "serve", "--listen", "127.0.0.1:0",
                                     "--db",         db,      "--now",    "2024-08-04"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(), {"--threads", "2"});
    if (storage::IsPostgresSpec(db) &&
        std::find(flags.begin(), flags.end(), "--secrets-key") == flags.end())
      args.insert(args.end(), {"--secrets-key", KeyFileOf(db)});
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int out[2];
    EXPECT_EQ(pipe(out), 0);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      execv(GRIDBOT_BINARY, argv.data());
      _exit(127);
    }
    close(out[1]);
    out_ = fdopen(out[0], "r");
    char line[256] = {0};
    // Blocks until the server says it listens (or exits).
    if (fgets(line, sizeof line, out_)) {
      std::string s(line);
      const size_t colon = s.rfind(':');
      if (s.rfind("listening on http://", 0) == 0 && colon != std::string::npos)
        port_ = static_cast<unsigned short>(std::stoi(s.substr(colon + 1)));
    }
  }
  ~TestServer() { Stop(SIGTERM); }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  // Sends `sig`, waits, returns the exit status.
  int Stop(int sig) {
    if (pid_ <= 0) return -1;
    kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    if (out_) fclose(out_);
    out_ = nullptr;
    return status;
  }

  unsigned short port() const { return port_; }

  boost::beast::http::response<boost::beast::http::string_body> Request(
      boost::beast::http::verb verb, const std::string& target, const std::string& body = "",
      const std::string& type = "application/json",
      const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    namespace beast = boost::beast;
    namespace http = beast::http;
    boost::asio::io_context io;
    beast::tcp_stream stream(io);
    stream.connect(
        boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port_));
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, "127.0.0.1");
    for (const auto& [name, value] : headers) req.set(name, value);
    if (!body.empty() || verb == http::verb::post) {
      req.set(http::field::content_type, type);
      req.body() = body;
      req.prepare_payload();
    }
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(10 << 20);
    http::read(stream, buffer, parser);
    return parser.release();
  }

  // The replies to a chat message on /api/chat (a JSON array; null if the
  // answer is not a JSON object).
  nlohmann::json ChatReplies(const std::string& user, const std::string& text) {
    auto res = Request(boost::beast::http::verb::post, "/api/chat",
                       nlohmann::json{{"user", user}, {"text", text}}.dump());
    EXPECT_EQ(res.result_int(), 200) << res.body();
    auto j = nlohmann::json::parse(res.body(), nullptr, false);
    return j.is_object() ? j["replies"] : nlohmann::json();
  }

  // The texts of all replies to a chat message, one per line.
  std::string ChatText(const std::string& user, const std::string& text) {
    std::string joined;
    for (const auto& r : ChatReplies(user, text)) joined += r["text"].get<std::string>() + "\n";
    return joined;
  }

 private:
  pid_t pid_ = -1;
  unsigned short port_ = 0;
  FILE* out_ = nullptr;
};

}  // namespace gridbot::testing
