// End to end over real HTTP: the gridbot binary on a free port, talked to
// with a Beast client. Covers /api/chat, signed /wechat, bad input, and a
// restart (SIGKILL) in the middle of a flow.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>
#include <string>

#include "bot/wechat_protocol.h"
#include "tests/bot/test_server.h"

namespace gridbot::testing {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using nlohmann::json;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr char kToken[] = "gridbottoken";

// The server with a WeChat token, and the text of the replies of a chat.
class Server : public TestServer {
 public:
  explicit Server(const std::string& db) : TestServer(db, {"--wechat-token", kToken}) {}

  std::string Chat(const std::string& user, const std::string& text) {
    return ChatText(user, text);
  }
};

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
  Server s(TempDb("http", "health"));
  ASSERT_NE(s.port(), 0);
  auto res = s.Request(http::verb::get, "/healthz");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "ok");
  s.Chat("m1", "你好");
  s.Chat("m1", "绑定户号");
  s.Chat("m1", "南宁");      // an answer to the prompt: a bind turn, not a fallback
  s.Chat("m2", "讲个笑话");  // a fallback (m2 has nothing in progress)
  auto m = s.Request(http::verb::get, "/metrics");
  EXPECT_THAT(
      m.body(),
      AllOf(HasSubstr("gridbot_requests_total{endpoint=\"/api/chat\",status=\"200\"} 4"),
            HasSubstr("gridbot_turns_total{intent=\"greet\"} 1"),
            HasSubstr("gridbot_turns_total{intent=\"bind_account\"} 2"),
            HasSubstr("gridbot_fallbacks_total 1"), HasSubstr("gridbot_request_seconds_count")));
}

TEST(Http, ChatBindAndBills) {
  Server s(TempDb("http", "chat"));
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
  Server s(TempDb("http", "click"));
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
  Server s(TempDb("http", "bad"));
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
  Server s(TempDb("http", "wechat"));
  ASSERT_NE(s.port(), 0);
  auto verify = s.Request(
      http::verb::get, "/wechat?" + SignedQuery("1714036504", "1514711492") + "&echostr=hello123");
  EXPECT_EQ(verify.result_int(), 200);
  EXPECT_EQ(verify.body(), "hello123");
  auto forged = s.Request(http::verb::get, "/wechat?signature=0000&timestamp=1&nonce=2&echostr=x");
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

  // A LOCATION report is acknowledged with "success" and remembered.
  auto report = s.Request(
      http::verb::post, q,
      "<xml><ToUserName><![CDATA[gh_gridbot]]></ToUserName><FromUserName><![CDATA[oUser1]]>"
      "</FromUserName><CreateTime>1722736900</CreateTime><MsgType><![CDATA[event]]></MsgType>"
      "<Event><![CDATA[LOCATION]]></Event><Latitude>22.8170</Latitude>"
      "<Longitude>108.3669</Longitude><Precision>30.0</Precision></xml>",
      "text/xml");
  EXPECT_EQ(report.result_int(), 200);
  EXPECT_EQ(report.body(), "success");
  EXPECT_THAT(push("附近的营业厅", "1007"), HasSubstr("南宁供电局青秀营业厅"));

  auto bad_xml = s.Request(http::verb::post, q, "<xml><oops", "text/xml");
  EXPECT_EQ(bad_xml.result_int(), 400);
  auto xxe = s.Request(http::verb::post, q,
                       "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><xml>&e;</xml>",
                       "text/xml");
  EXPECT_EQ(xxe.result_int(), 400);
}

TEST(Http, KilledBetweenBindPromptAndPasswordContinuesAfterRestart) {
  const std::string db = TempDb("http", "restart");
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
  Server s(TempDb("http", "term"));
  ASSERT_NE(s.port(), 0);
  s.Chat("t1", "你好");
  const int status = s.Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace gridbot::testing
