// End to end over real HTTP: the gridbot binary on a free port, talked to
// with a Beast client. Covers /api/chat, signed /wechat, bad input, and a
// restart (SIGKILL) in the middle of a flow.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "bot/wechat_protocol.h"

namespace gridbot::testing {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;
using ::testing::AllOf;
using ::testing::HasSubstr;
using nlohmann::json;

constexpr char kToken[] = "gridbottoken";

// A `gridbot serve` child process on 127.0.0.1:0.
class Server {
 public:
  explicit Server(const std::string& db) {
    int out[2];
    EXPECT_EQ(pipe(out), 0);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      execl(GRIDBOT_BINARY, GRIDBOT_BINARY, "serve", "--listen", "127.0.0.1:0", "--db",
            db.c_str(), "--now", "2024-08-04", "--wechat-token", kToken, "--threads", "2",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    close(out[1]);
    FILE* f = fdopen(out[0], "r");
    char line[256] = {0};
    // Blocks until the server says it listens (or exits).
    if (fgets(line, sizeof line, f)) {
      std::string s(line);
      const size_t colon = s.rfind(':');
      if (s.rfind("listening on http://", 0) == 0 && colon != std::string::npos)
        port_ = static_cast<unsigned short>(std::stoi(s.substr(colon + 1)));
    }
    out_ = f;
  }
  ~Server() { Stop(SIGTERM); }

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

  http::response<http::string_body> Request(http::verb verb, const std::string& target,
                                            const std::string& body = "",
                                            const std::string& type = "application/json") {
    boost::asio::io_context io;
    beast::tcp_stream stream(io);
    stream.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port_));
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, "127.0.0.1");
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

  // The text of all replies to a chat message.
  std::string Chat(const std::string& user, const std::string& text) {
    auto res = Request(http::verb::post, "/api/chat", json{{"user", user}, {"text", text}}.dump());
    EXPECT_EQ(res.result_int(), 200) << res.body();
    auto j = json::parse(res.body(), nullptr, false);
    std::string joined;
    if (j.is_object())
      for (const auto& r : j["replies"]) joined += r["text"].get<std::string>() + "\n";
    return joined;
  }

 private:
  pid_t pid_ = -1;
  unsigned short port_ = 0;
  FILE* out_ = nullptr;
};

std::string TempDb(const std::string& name) {
  auto p = std::filesystem::temp_directory_path() /
           ("gridbot_http_" + name + "_" + std::to_string(getpid()) + ".db");
  for (const char* suffix : {"", "-wal", "-shm"})
    std::filesystem::remove(p.string() + suffix);
  return p.string();
}

std::string SignedQuery(const std::string& timestamp, const std::string& nonce) {
  return "signature=" + bot::wechat::SignParts({kToken, timestamp, nonce}) +
         "&timestamp=" + timestamp + "&nonce=" + nonce;
}

std::string TextPush(const std::string& from, const std::string& content,
                     const std::string& msg_id) {
  return "<xml><ToUserName><![CDATA[gh_gridbot]]></ToUserName><FromUserName><![CDATA[" + from +
         "]]></FromUserName><CreateTime>1722736800</CreateTime><MsgType><![CDATA[text]]></"
         "MsgType><Content><![CDATA[" +
         content + "]]></Content><MsgId>" + msg_id + "</MsgId></xml>";
}

TEST(Http, HealthzAndMetrics) {
  Server s(TempDb("health"));
  ASSERT_NE(s.port(), 0);
  auto res = s.Request(http::verb::get, "/healthz");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "ok");
  s.Chat("m1", "你好");
  auto m = s.Request(http::verb::get, "/metrics");
  EXPECT_THAT(m.body(), AllOf(HasSubstr("gridbot_requests_total{endpoint=\"/api/chat\",status=\"200\"} 1"),
                              HasSubstr("gridbot_turns_total{intent=\"greet\"} 1"),
                              HasSubstr("gridbot_request_seconds_count")));
}

TEST(Http, ChatBindAndBills) {
  Server s(TempDb("chat"));
  ASSERT_NE(s.port(), 0);
  EXPECT_THAT(s.Chat("u1", "绑定户号"), HasSubstr("哪个市"));
  s.Chat("u1", "南宁");
  s.Chat("u1", "0301000001234");
  EXPECT_THAT(s.Chat("u1", "246810"), HasSubstr("绑定成功"));
  EXPECT_THAT(s.Chat("u1", "上个月电费多少"), AllOf(HasSubstr("2024年7月"), HasSubstr("129.80元")));
  EXPECT_THAT(s.Chat("u1", "那3月份的呢"), HasSubstr("58.64元"));
  EXPECT_THAT(s.Chat("u1", "我欠费了吗"), HasSubstr("欠费129.80元"));
  // Another user is another conversation.
  EXPECT_THAT(s.Chat("u2", "我欠费了吗"), HasSubstr("先绑定"));
}

TEST(Http, MenuClicksStartTheirFlows) {
  Server s(TempDb("click"));
  ASSERT_NE(s.port(), 0);
  auto click = [&](const std::string& key) {
    auto res = s.Request(http::verb::post, "/api/chat",
                         json{{"user", "c1"}, {"event", {{"type", "click"}, {"key", key}}}}.dump());
    EXPECT_EQ(res.result_int(), 200) << res.body();
    return json::parse(res.body(), nullptr, false);
  };
  auto bind = click("BIND_ACCOUNT");
  EXPECT_EQ(bind["intent"], "bind_account");
  EXPECT_THAT(bind["replies"][0]["text"].get<std::string>(), HasSubstr("哪个市"));
  EXPECT_EQ(click("HELP")["intent"], "help");
  EXPECT_THAT(click("NO_SUCH_KEY")["replies"][0]["text"].get<std::string>(),
              HasSubstr("菜单功能暂不可用"));
}

TEST(Http, BadInputGetsClear4xx) {
  Server s(TempDb("bad"));
  ASSERT_NE(s.port(), 0);
  auto check = [&](const std::string& body, int status, const std::string& words) {
    auto res = s.Request(http::verb::post, "/api/chat", body);
    EXPECT_EQ(res.result_int(), status) << body;
    auto j = json::parse(res.body(), nullptr, false);
    ASSERT_TRUE(j.is_object() && j.contains("error")) << res.body();
    EXPECT_THAT(j["error"].get<std::string>(), HasSubstr(words));
  };
  check("{not json", 400, "not valid JSON");
  check("[1,2]", 400, "JSON object");
  check(R"({"text":"你好"})", 400, "user");
  check(R"({"user":"","text":"你好"})", 400, "user");
  check(R"({"user":"u1","text":"   "})", 400, "empty");
  check(R"({"user":"u1"})", 400, "text");
  check(R"({"user":"u1","text":12})", 400, "string");
  check("{\"user\":\"u1\",\"text\":\"\xff\xfe\"}", 400, "UTF-8");
  check(R"({"user":"u1","event":{"type":"teleport"}})", 400, "unknown event");
  check(std::string(200 * 1024, 'x'), 413, "too large");
  EXPECT_EQ(s.Request(http::verb::get, "/api/chat").result_int(), 405);
  EXPECT_EQ(s.Request(http::verb::get, "/nowhere").result_int(), 404);
  // Still alive and well.
  EXPECT_EQ(s.Request(http::verb::get, "/healthz").result_int(), 200);
}

TEST(Http, WechatVerificationSignatureAndRetries) {
  Server s(TempDb("wechat"));
  ASSERT_NE(s.port(), 0);
  auto verify = s.Request(http::verb::get,
                          "/wechat?" + SignedQuery("1714036504", "1514711492") + "&echostr=hello123");
  EXPECT_EQ(verify.result_int(), 200);
  EXPECT_EQ(verify.body(), "hello123");
  auto forged = s.Request(http::verb::get,
                          "/wechat?signature=0000&timestamp=1&nonce=2&echostr=x");
  EXPECT_EQ(forged.result_int(), 403);
  auto unsigned_push = s.Request(http::verb::post, "/wechat?signature=bad&timestamp=1&nonce=2",
                                 TextPush("oUser1", "你好", "1"), "text/xml");
  EXPECT_EQ(unsigned_push.result_int(), 403);

  const std::string q = "/wechat?" + SignedQuery("1722736800", "42") + "&openid=oUser1";
  auto push = [&](const std::string& text, const std::string& id) {
    auto res = s.Request(http::verb::post, q, TextPush("oUser1", text, id), "text/xml");
    EXPECT_EQ(res.result_int(), 200);
    auto msg = bot::wechat::ParseMessage(res.body());
    EXPECT_TRUE(msg.ok()) << res.body();
    EXPECT_EQ(msg->to_user, "oUser1");
    EXPECT_EQ(msg->from_user, "gh_gridbot");
    return msg->content;
  };
  EXPECT_THAT(push("绑定户号", "1001"), HasSubstr("哪个市"));
  push("南宁", "1002");
  push("0301000001234", "1003");
  const std::string first = push("000000", "1004");
  EXPECT_THAT(first, HasSubstr("还可以尝试4次"));
  // WeChat retries the same MsgId: same answer, and the password is not tried again.
  EXPECT_EQ(push("000000", "1004"), first);
  EXPECT_EQ(push("000000", "1004"), first);
  EXPECT_THAT(push("246810", "1005"), HasSubstr("绑定成功"));
  EXPECT_THAT(push("上个月电费多少", "1006"), HasSubstr("129.80元"));

  auto bad_xml = s.Request(http::verb::post, q, "<xml><oops", "text/xml");
  EXPECT_EQ(bad_xml.result_int(), 400);
  auto xxe = s.Request(http::verb::post, q,
                       "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><xml>&e;</xml>",
                       "text/xml");
  EXPECT_EQ(xxe.result_int(), 400);
}

TEST(Http, KilledBetweenBindPromptAndPasswordContinuesAfterRestart) {
  const std::string db = TempDb("restart");
  {
    Server s(db);
    ASSERT_NE(s.port(), 0);
    s.Chat("r1", "绑定户号");
    s.Chat("r1", "南宁");
    EXPECT_THAT(s.Chat("r1", "0301000001234"), HasSubstr("服务密码"));
    s.Stop(SIGKILL);
  }
  Server again(db);
  ASSERT_NE(again.port(), 0);
  EXPECT_THAT(again.Chat("r1", "246810"), HasSubstr("绑定成功"));
  EXPECT_THAT(again.Chat("r1", "我欠费了吗"), HasSubstr("129.80"));
}

TEST(Http, SigtermExitsCleanly) {
  Server s(TempDb("term"));
  ASSERT_NE(s.port(), 0);
  s.Chat("t1", "你好");
  const int status = s.Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace gridbot::testing
