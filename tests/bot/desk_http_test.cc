// The desk over real HTTP (desk.md): authentication and roles on every
// endpoint, the console's cookie, the customer's updates (long poll), the
// event stream, the page's session cookie, WeChat pictures, and a restart in
// the middle of a hold.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <ctime>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "bot/wechat_protocol.h"
#include "tests/bot/test_server.h"

namespace gridbot::testing {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kWechatToken[] = "gridbottoken";

// Staff accounts made with the CLI before the server starts.
void AddAgent(const std::string& db, const std::string& name, const std::string& role) {
  const std::string cmd = "echo '" + name + "-password' | " + std::string(GRIDBOT_BINARY) +
                          " agent add " + name + " --role " + role + " " + DbFlags(db) +
                          " > /dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

class Desk : public TestServer {
 public:
  explicit Desk(const std::string& db) : TestServer(db, {"--wechat-token", kWechatToken}) {}

  std::string Login(const std::string& name) {
    auto res = Request(http::verb::post, "/api/agent/login",
                       json{{"name", name}, {"password", name + "-password"}}.dump());
    EXPECT_EQ(res.result_int(), 200) << res.body();
    json j = json::parse(res.body(), nullptr, false);
    return j.is_object() ? j.value("token", "") : "";
  }

  http::response<http::string_body> As(const std::string& token, http::verb verb,
                                       const std::string& target, const std::string& body = "") {
    return Request(verb, target, body, "application/json", {{"Authorization", "Bearer " + token}});
  }

  json AsJson(const std::string& token, http::verb verb, const std::string& target,
              const std::string& body = "") {
    auto res = As(token, verb, target, body);
    EXPECT_EQ(res.result_int(), 200) << target << ": " << res.body();
    return json::parse(res.body(), nullptr, false);
  }

  std::string FirstQueued(const std::string& token) {
    const json queue = AsJson(token, http::verb::get, "/api/agent/queue");
    for (const json& c : queue["conversations"])
      if (c["state"] == "queued") return c["id"];
    return "";
  }
};

std::vector<std::pair<http::verb, std::string>> Endpoints(const std::string& id) {
  const std::string c = "/api/agent/conversations/" + id;
  return {{http::verb::get, "/api/agent/queue"},       {http::verb::get, c},
          {http::verb::post, c + "/claim"},            {http::verb::post, c + "/reply"},
          {http::verb::post, c + "/note"},             {http::verb::post, c + "/release"},
          {http::verb::post, c + "/close"},            {http::verb::post, c + "/transfer"},
          {http::verb::post, c + "/typing"},           {http::verb::get, c + "/assist"},
          {http::verb::get, "/api/agent/canned"},      {http::verb::get, "/api/agent/agents"},
          {http::verb::get, "/api/agent/events"}};
}

TEST(DeskHttp, EveryEndpointRefusesNoTokenAndTheWrongRole) {
  const std::string db = TempDb("deskhttp", "roles");
  AddAgent(db, "xiaowang", "agent");
  AddAgent(db, "fenxi", "analyst");
  Desk s(db);
  ASSERT_NE(s.port(), 0);
  s.ChatText("u1", "转人工");
  const std::string wang = s.Login("xiaowang"), analyst = s.Login("fenxi");
  const std::string id = s.FirstQueued(wang);
  ASSERT_FALSE(id.empty());
  for (const auto& [verb, target] : Endpoints(id)) {
    EXPECT_EQ(s.Request(verb, target, "{\"text\":\"x\"}").result_int(), 401) << target;
    EXPECT_EQ(s.As("not-a-token", verb, target, "{\"text\":\"x\"}").result_int(), 401) << target;
    EXPECT_EQ(s.As(analyst, verb, target, "{\"text\":\"x\"}").result_int(), 403) << target;
  }
  // What only supervisors may: the agents' load, transfers.
  EXPECT_EQ(s.As(wang, http::verb::get, "/api/agent/agents").result_int(), 403);
  EXPECT_EQ(s.As(wang, http::verb::post, "/api/agent/conversations/" + id + "/transfer", "{}")
                .result_int(),
            403);
  // Logged out: the token ends.
  EXPECT_EQ(s.As(wang, http::verb::post, "/api/agent/logout").result_int(), 200);
  EXPECT_EQ(s.As(wang, http::verb::get, "/api/agent/queue").result_int(), 401);
}

TEST(DeskHttp, AnalyticsSummaryIsForAnalystsSupervisorsAndAdmins) {
  const std::string db = TempDb("deskhttp", "analytics");
  AddAgent(db, "xiaowang", "agent");
  AddAgent(db, "fenxi", "analyst");
  Desk s(db);
  s.ChatText("u1", "上个月电费多少");
  const std::string target = "/api/analytics/summary?from=2024-08-04&to=2024-08-04";
  EXPECT_EQ(s.Request(http::verb::get, target).result_int(), 401);
  EXPECT_EQ(s.As(s.Login("xiaowang"), http::verb::get, target).result_int(), 403);
  const std::string analyst = s.Login("fenxi");
  const json sum = s.AsJson(analyst, http::verb::get, target);
  EXPECT_EQ(sum["totals"]["turns"], 1);
  EXPECT_EQ(sum["days"][0]["date"], "2024-08-04");
  EXPECT_EQ(s.As(analyst, http::verb::get, "/api/analytics/summary?from=2024-13-01").result_int(), 400);
}

TEST(DeskHttp, LoginAnswersAlikeForUnknownNamesAndSetsAnHttpOnlyCookie) {
  const std::string db = TempDb("deskhttp", "login");
  AddAgent(db, "xiaowang", "agent");
  Desk s(db);
  auto unknown = s.Request(http::verb::post, "/api/agent/login",
                           R"({"name":"nobody","password":"whatever-1"})");
  auto wrong = s.Request(http::verb::post, "/api/agent/login",
                         R"({"name":"xiaowang","password":"whatever-1"})");
  EXPECT_EQ(unknown.result_int(), 401);
  EXPECT_EQ(wrong.result_int(), 401);
  EXPECT_EQ(unknown.body(), wrong.body());
  EXPECT_EQ(s.Request(http::verb::post, "/api/agent/login", "not json").result_int(), 400);
  EXPECT_EQ(s.Request(http::verb::post, "/api/agent/login", R"({"name":1})").result_int(), 400);
  auto ok = s.Request(http::verb::post, "/api/agent/login",
                      R"({"name":"xiaowang","password":"xiaowang-password"})");
  ASSERT_EQ(ok.result_int(), 200);
  const std::string cookie(ok[http::field::set_cookie]);
  EXPECT_THAT(cookie, HasSubstr("HttpOnly"));
  EXPECT_THAT(cookie, HasSubstr("SameSite=Strict"));
  const json j = json::parse(ok.body());
  EXPECT_EQ(j["role"], "agent");
  EXPECT_GT(j["expires_at"].get<long long>(), 0);
  auto me = s.Request(http::verb::get, "/api/agent/me", "", "", {{"Cookie", cookie.substr(0, cookie.find(';'))}});
  EXPECT_EQ(me.result_int(), 200) << me.body();
  EXPECT_THAT(me.body(), HasSubstr("xiaowang"));
}

TEST(DeskHttp, BadRequestsGetClearErrorsNever500) {
  const std::string db = TempDb("deskhttp", "bad");
  AddAgent(db, "xiaowang", "agent");
  Desk s(db);
  s.ChatText("u1", "转人工");
  const std::string wang = s.Login("xiaowang");
  const std::string id = s.FirstQueued(wang);
  const std::string c = "/api/agent/conversations/";
  EXPECT_EQ(s.As(wang, http::verb::get, c + "nope").result_int(), 404);
  EXPECT_EQ(s.As(wang, http::verb::get, c + std::string(500, 'x')).result_int(), 404);
  EXPECT_EQ(s.As(wang, http::verb::post, c + id + "/claim").result_int(), 200);
  EXPECT_EQ(s.As(wang, http::verb::post, c + id + "/reply", "{").result_int(), 400);
  EXPECT_EQ(s.As(wang, http::verb::post, c + id + "/reply", R"({"text":5})").result_int(), 400);
  EXPECT_EQ(s.As(wang, http::verb::post, c + id + "/reply", R"({"text":"   "})").result_int(), 400);
  EXPECT_EQ(s.As(wang, http::verb::post, c + id + "/reply", "\xff\xfe").result_int(), 400);
  EXPECT_EQ(s.As(wang, http::verb::get, c + id + "/reply").result_int(), 405);
  EXPECT_EQ(s.As(wang, http::verb::post, c + id + "/frobnicate").result_int(), 404);
  EXPECT_EQ(s.As(wang, http::verb::post, "/api/agent/me", R"({"auto_assign":"yes"})").result_int(), 400);
  EXPECT_EQ(s.Request(http::verb::get, "/api/chat/updates?user=u1&after=x").result_int(), 400);
  EXPECT_EQ(s.Request(http::verb::get, "/api/chat/updates").result_int(), 400);
  EXPECT_EQ(s.Request(http::verb::get, "/assets/../../etc/passwd").result_int(), 404);
  EXPECT_EQ(s.Request(http::verb::get, "/healthz").result_int(), 200);
}

TEST(DeskHttp, TheCustomerReadsTheAgentsReplyByLongPoll) {
  const std::string db = TempDb("deskhttp", "poll");
  AddAgent(db, "xiaowang", "agent");
  Desk s(db);
  s.ChatText("u1", "转人工");
  const std::string wang = s.Login("xiaowang");
  const std::string id = s.FirstQueued(wang);
  ASSERT_EQ(s.As(wang, http::verb::post, "/api/agent/conversations/" + id + "/claim").result_int(), 200);
  // The greeting "客服xiaowang为您服务" is the first update.
  json first = json::parse(s.Request(http::verb::get, "/api/chat/updates?user=u1&after=0").body());
  ASSERT_EQ(first["messages"].size(), 1u);
  const long long after = first["messages"][0]["seq"];
  std::string polled;
  std::thread customer([&] {
    polled = s.Request(http::verb::get,
                       "/api/chat/updates?user=u1&after=" + std::to_string(after) + "&wait=20")
                 .body();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  s.As(wang, http::verb::post, "/api/agent/conversations/" + id + "/reply",
       R"({"text":"您好，请问有什么可以帮您？"})");
  customer.join();
  const json j = json::parse(polled, nullptr, false);
  ASSERT_TRUE(j.is_object()) << polled;
  ASSERT_EQ(j["messages"].size(), 1u) << polled;
  EXPECT_EQ(j["messages"][0]["from"], "agent");
  EXPECT_EQ(j["messages"][0]["text"], "您好，请问有什么可以帮您？");
  // Nothing new: an empty answer once the wait runs out.
  auto empty = s.Request(http::verb::get, "/api/chat/updates?user=u1&after=" +
                                              j["messages"][0]["seq"].dump() + "&wait=1");
  EXPECT_EQ(json::parse(empty.body())["messages"].size(), 0u);
}

// Reads the event stream until `needle` appears (or a few seconds pass).
std::string ReadEvents(unsigned short port, const std::string& token, const std::string& needle,
                       const std::function<void()>& meanwhile) {
  boost::asio::io_context io;
  beast::tcp_stream stream(io);
  stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  const std::string req = "GET /api/agent/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                          token + "\r\n\r\n";
  boost::asio::write(stream.socket(), boost::asio::buffer(req));
  std::string got;
  char buf[4096];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  bool started = false;
  while (got.find(needle) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    stream.expires_after(std::chrono::seconds(2));
    beast::error_code ec;
    const size_t n = stream.socket().read_some(boost::asio::buffer(buf), ec);
    if (ec && ec != boost::asio::error::would_block) break;
    got.append(buf, n);
    if (!started && got.find(": connected") != std::string::npos) {
      started = true;
      meanwhile();
    }
  }
  return got;
}

TEST(DeskHttp, TheEventStreamTellsAgentsOfChanges) {
  const std::string db = TempDb("deskhttp", "events");
  AddAgent(db, "xiaowang", "agent");
  Desk s(db);
  const std::string wang = s.Login("xiaowang");
  const std::string got =
      ReadEvents(s.port(), wang, "\"kind\":\"queued\"", [&] { s.ChatText("u1", "转人工"); });
  EXPECT_THAT(got, HasSubstr("text/event-stream"));
  EXPECT_THAT(got, HasSubstr("event: change"));
  EXPECT_THAT(got, HasSubstr("\"kind\":\"queued\""));
}

TEST(DeskHttp, ThePageGetsASessionCookieAndChatsWithoutAName) {
  const std::string db = TempDb("deskhttp", "page");
  Desk s(db);
  auto page = s.Request(http::verb::get, "/");
  ASSERT_EQ(page.result_int(), 200);
  EXPECT_THAT(std::string(page[http::field::content_type]), HasSubstr("text/html"));
  const std::string cookie(page[http::field::set_cookie]);
  EXPECT_THAT(cookie, HasSubstr("gb_sid="));
  EXPECT_THAT(cookie, HasSubstr("HttpOnly"));
  const std::string sid = cookie.substr(0, cookie.find(';'));
  auto chat = s.Request(http::verb::post, "/api/chat", R"({"text":"你好"})", "application/json",
                        {{"Cookie", sid}});
  EXPECT_EQ(chat.result_int(), 200) << chat.body();
  auto again = s.Request(http::verb::get, "/", "", "", {{"Cookie", sid}});
  EXPECT_TRUE(std::string(again[http::field::set_cookie]).empty());  // kept, not replaced
  auto history = s.Request(http::verb::get, "/api/chat/history", "", "", {{"Cookie", sid}});
  EXPECT_THAT(history.body(), HasSubstr("你好"));
  // Without the cookie, another customer: nothing of theirs.
  EXPECT_EQ(s.Request(http::verb::post, "/api/chat", R"({"text":"你好"})").result_int(), 400);
  EXPECT_EQ(s.Request(http::verb::get, "/agent").result_int(), 200);
  EXPECT_EQ(s.Request(http::verb::get, "/assets/chat.js").result_int(), 200);
  EXPECT_THAT(s.Request(http::verb::get, "/api/menu").body(), HasSubstr("账单查询"));
}

std::string Push(const std::string& from, const std::string& type, const std::string& extra,
                 const std::string& msg_id) {
  return "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[" + from +
         "]]></FromUserName><CreateTime>1722823200</CreateTime><MsgType><![CDATA[" + type +
         "]]></MsgType>" + extra + "<MsgId>" + msg_id + "</MsgId></xml>";
}

// A freshly signed push query: the real time, a nonce never used before.
std::string WechatTarget() {
  static int n = 0;
  const std::string ts = std::to_string(std::time(nullptr)), nonce = "n" + std::to_string(++n);
  return "/wechat?signature=" + bot::wechat::SignParts({kWechatToken, ts, nonce}) +
         "&timestamp=" + ts + "&nonce=" + nonce;
}

TEST(DeskHttp, WechatPicturesGetAnAnswerAndHeldConversationsAreSilent) {
  const std::string db = TempDb("deskhttp", "wechat");
  AddAgent(db, "xiaowang", "agent");
  Desk s(db);
  auto pic = s.Request(http::verb::post, WechatTarget(),
                       Push("oPic1", "image",
                            "<PicUrl><![CDATA[http://mmbiz.qpic.cn/a.jpg]]></PicUrl>"
                            "<MediaId><![CDATA[M1]]></MediaId>",
                            "1001"),
                       "text/xml");
  EXPECT_THAT(pic.body(), HasSubstr("文字描述"));
  s.Request(http::verb::post, WechatTarget(),
            Push("oPic1", "text", "<Content><![CDATA[转人工]]></Content>", "1002"), "text/xml");
  const std::string wang = s.Login("xiaowang");
  const std::string id = s.FirstQueued(wang);
  ASSERT_EQ(s.As(wang, http::verb::post, "/api/agent/conversations/" + id + "/claim").result_int(), 200);
  auto held = s.Request(http::verb::post, WechatTarget(),
                        Push("oPic1", "image",
                             "<PicUrl><![CDATA[http://mmbiz.qpic.cn/meter.jpg]]></PicUrl>"
                             "<MediaId><![CDATA[M2]]></MediaId>",
                             "1003"),
                        "text/xml");
  EXPECT_EQ(held.body(), "success");  // the agent answers, through the outbox
  const json conv = s.AsJson(wang, http::verb::get, "/api/agent/conversations/" + id);
  const json& last = conv["messages"].back();
  EXPECT_EQ(last["from"], "customer");
  EXPECT_EQ(last["media"]["url"], "http://mmbiz.qpic.cn/meter.jpg");
}

// desk.md: "a restart in the middle of a hold loses nothing and sends
// nothing twice".
TEST(DeskHttp, ARestartInTheMiddleOfAHoldLosesNothingAndSendsNothingTwice) {
  const std::string db = TempDb("deskhttp", "restart");
  AddAgent(db, "xiaowang", "agent");
  std::string id;
  long long seen = 0;
  {
    Desk s(db);
    s.ChatText("u1", "上个月电费多少");
    s.ChatText("u1", "转人工");
    const std::string wang = s.Login("xiaowang");
    id = s.FirstQueued(wang);
    ASSERT_EQ(s.As(wang, http::verb::post, "/api/agent/conversations/" + id + "/claim").result_int(), 200);
    ASSERT_EQ(s.As(wang, http::verb::post, "/api/agent/conversations/" + id + "/reply",
                   R"({"text":"第一条回复"})").result_int(), 200);
    const json u = json::parse(s.Request(http::verb::get, "/api/chat/updates?user=u1&after=0").body());
    ASSERT_EQ(u["messages"].size(), 2u);  // the greeting and the reply
    seen = u["messages"][1]["seq"];
    s.ChatText("u1", "好的，我等一下");
    ASSERT_EQ(s.As(wang, http::verb::post, "/api/agent/conversations/" + id + "/reply",
                   R"({"text":"第二条回复"})").result_int(), 200);
    s.Stop(SIGKILL);
  }
  Desk s(db);
  ASSERT_NE(s.port(), 0);
  const std::string wang = s.Login("xiaowang");
  const json conv = s.AsJson(wang, http::verb::get, "/api/agent/conversations/" + id);
  EXPECT_EQ(conv["state"], "held");
  EXPECT_EQ(conv["agent"], "xiaowang");
  std::vector<std::string> said;
  for (const json& m : conv["messages"])
    if (m["from"] == "customer" || m["from"] == "agent") said.push_back(m["text"]);
  EXPECT_THAT(said, ::testing::ElementsAre("上个月电费多少", "转人工", "第一条回复", "好的，我等一下",
                                           "第二条回复"));
  // The customer gets what was not read yet, once.
  const json u = json::parse(
      s.Request(http::verb::get, "/api/chat/updates?user=u1&after=" + std::to_string(seen)).body());
  ASSERT_EQ(u["messages"].size(), 1u);
  EXPECT_EQ(u["messages"][0]["text"], "第二条回复");
  // Still held: the bot stays silent; the reply's notice is not repeated.
  const json replies = s.ChatReplies("u1", "还在吗");
  for (const json& r : replies) EXPECT_NE(r["text"], "第二条回复");
  for (const json& r : replies) EXPECT_EQ(r["type"], "notice") << r.dump();
}

}  // namespace
}  // namespace gridbot::testing
