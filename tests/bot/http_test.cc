// End to end over real HTTP: the gridbot binary on a free port, talked to
// with a Beast client. Covers /api/chat, signed /wechat, bad input, and a
// restart (SIGKILL) in the middle of a flow.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "bot/wechat_protocol.h"
#include "storage/store.h"
#include "tests/bot/test_server.h"

namespace gridbot::testing {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using nlohmann::json;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kToken[] = "gridbottoken";

// The server with a WeChat token, and the text of the replies of a chat.
class Server : public TestServer {
 public:
  explicit Server(const std::string& db) : TestServer(db, {"--wechat-token", kToken}) {}

  std::string Chat(const std::string& user, const std::string& text) {
    return ChatText(user, text);
  }
};

// Now on the real clock (what the server checks the timestamp against),
// and a nonce never used before in this test program.
std::string RealNow() { return std::to_string(std::time(nullptr)); }
std::string FreshNonce() {
  static int n = 0;
  return std::to_string(getpid()) + "n" + std::to_string(++n);
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
  Server s(TempDb("http", "health"));
  ASSERT_NE(s.port(), 0);
  auto res = s.Request(http::verb::get, "/healthz");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "ok");
  EXPECT_EQ(res["X-Request-Id"].size(), 16u);  // a new id when the client sent none
  auto ready = s.Request(http::verb::get, "/readyz");
  EXPECT_EQ(ready.result_int(), 200);
  const auto r = nlohmann::json::parse(ready.body());
  EXPECT_EQ(r["status"], "ready");
  EXPECT_EQ(r["database"], "reachable");
  EXPECT_EQ(r["schema_version"], r["schema_latest"]);
  EXPECT_EQ(s.Request(http::verb::post, "/readyz").result_int(), 405);
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
  // The commits: at least one a turn's worth of transactions behind them.
  auto counter = [&](const std::string& name) {
    const std::string body = m.body();
    const size_t at = body.find("\n" + name + " ");
    return at == std::string::npos ? -1.0 : std::stod(body.substr(at + name.size() + 2));
  };
  EXPECT_GE(counter("gridbot_db_commits_total"), 1);
  EXPECT_GE(counter("gridbot_db_transactions_total"), 4);
  EXPECT_GE(counter("gridbot_db_transactions_total"), counter("gridbot_db_commits_total"));
  EXPECT_EQ(counter("gridbot_db_failed_commits_total"), 0);
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
  auto verify = s.Request(http::verb::get,
                          "/wechat?" + SignedQuery(RealNow(), "1514711492") + "&echostr=hello123");
  EXPECT_EQ(verify.result_int(), 200);
  EXPECT_EQ(verify.body(), "hello123");
  auto forged = s.Request(http::verb::get, "/wechat?signature=0000&timestamp=1&nonce=2&echostr=x");
  EXPECT_EQ(forged.result_int(), 403);
  auto unsigned_push = s.Request(http::verb::post, "/wechat?signature=bad&timestamp=1&nonce=2",
                                 TextPush("oUser1", "你好", "1"), "text/xml");
  EXPECT_EQ(unsigned_push.result_int(), 403);

  auto fresh = [] { return "/wechat?" + SignedQuery(RealNow(), FreshNonce()) + "&openid=oUser1"; };
  auto push_to = [&](const std::string& q, const std::string& from, const std::string& text,
                     const std::string& id) {
    auto res = s.Request(http::verb::post, q, TextPush(from, text, id), "text/xml");
    EXPECT_EQ(res.result_int(), 200) << res.body();
    auto msg = bot::wechat::ParseMessage(res.body());
    EXPECT_TRUE(msg.ok()) << res.body();
    EXPECT_EQ(msg->to_user, from);
    EXPECT_EQ(msg->from_user, "gh_gridbot");
    return msg->content;
  };
  auto push = [&](const std::string& text, const std::string& id) {
    return push_to(fresh(), "oUser1", text, id);
  };
  EXPECT_THAT(push("绑定户号", "1001"), HasSubstr("哪个市"));
  push("南宁", "1002");
  push("0301000001234", "1003");
  const std::string once = fresh();
  const std::string first = push_to(once, "oUser1", "000000", "1004");
  EXPECT_THAT(first, HasSubstr("还可以尝试4次"));
  // WeChat retries the same push (same signed query, same MsgId): same
  // answer, and the password is not tried again.
  EXPECT_EQ(push_to(once, "oUser1", "000000", "1004"), first);
  EXPECT_EQ(push_to(once, "oUser1", "000000", "1004"), first);
  EXPECT_THAT(push("246810", "1005"), HasSubstr("绑定成功"));
  const std::string bill = fresh();
  EXPECT_THAT(push_to(bill, "oUser1", "上个月电费多少", "1006"), HasSubstr("129.80元"));

  // Replays: the captured signed query with another message (another
  // sender, another text) is refused; so is one outside the time window.
  EXPECT_EQ(
      s.Request(http::verb::post, bill, TextPush("oThief", "上个月电费多少", "1006"), "text/xml")
          .result_int(),
      403);
  EXPECT_EQ(s.Request(http::verb::post, bill, TextPush("oUser1", "我欠费了吗", "1099"), "text/xml")
                .result_int(),
            403);
  const std::string stale = std::to_string(std::time(nullptr) - 3600);
  EXPECT_EQ(s.Request(http::verb::post, "/wechat?" + SignedQuery(stale, FreshNonce()),
                      TextPush("oUser1", "你好", "1100"), "text/xml")
                .result_int(),
            403);
  // Another sender reusing the victim's MsgId gets its own answer, not the bill.
  EXPECT_THAT(push_to(fresh(), "oOther", "上个月电费多少", "1006"), Not(HasSubstr("129.80元")));

  // A LOCATION report is acknowledged with "success" and remembered.
  auto report = s.Request(
      http::verb::post, fresh(),
      "<xml><ToUserName><![CDATA[gh_gridbot]]></ToUserName><FromUserName><![CDATA[oUser1]]>"
      "</FromUserName><CreateTime>1722736900</CreateTime><MsgType><![CDATA[event]]></MsgType>"
      "<Event><![CDATA[LOCATION]]></Event><Latitude>22.8170</Latitude>"
      "<Longitude>108.3669</Longitude><Precision>30.0</Precision></xml>",
      "text/xml");
  EXPECT_EQ(report.result_int(), 200);
  EXPECT_EQ(report.body(), "success");
  EXPECT_THAT(push("附近的营业厅", "1007"), HasSubstr("南宁供电局青秀营业厅"));

  auto bad_xml = s.Request(http::verb::post, fresh(), "<xml><oops", "text/xml");
  EXPECT_EQ(bad_xml.result_int(), 400);
  auto xxe = s.Request(http::verb::post, fresh(),
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

namespace gridbot::testing {
namespace {

// Identity (issue 10): the body's "user" is believed only from a caller with
// the API key; the page's customers are their session; an open /api/chat
// on a non-loopback address is refused at start.
TEST(Trust, UserFieldOnlyWithTheApiKey) {
  const std::string key = "test-api-key-0123456789";
  TestServer s(TempDb("trust", "apikey"), {"--api-key", key});
  ASSERT_NE(s.port(), 0);
  const std::string body = json{{"user", "payer1"}, {"text", "我的档案"}}.dump();
  auto anon = s.Request(http::verb::post, "/api/chat", body);
  EXPECT_EQ(anon.result_int(), 403) << anon.body();
  auto wrong = s.Request(http::verb::post, "/api/chat", body, "application/json",
                         {{"X-Api-Key", "test-api-key-0123456780"}});
  EXPECT_EQ(wrong.result_int(), 403);
  auto keyed =
      s.Request(http::verb::post, "/api/chat", body, "application/json", {{"X-Api-Key", key}});
  EXPECT_EQ(keyed.result_int(), 200) << keyed.body();
  EXPECT_EQ(s.Request(http::verb::get, "/api/chat/updates?user=payer1").result_int(), 403);
  EXPECT_EQ(s.Request(http::verb::get, "/api/chat/history?user=payer1").result_int(), 403);
  // The page's customer: the session cookie, no key needed.
  auto page = s.Request(http::verb::post, "/api/chat", R"({"text":"你好"})", "application/json",
                        {{"Cookie", "gb_sid=" + std::string(64, 'c')}});
  EXPECT_EQ(page.result_int(), 200) << page.body();
}

TEST(Trust, AnOpenChatApiOffLoopbackIsRefused) {
  const std::string cmd = std::string(GRIDBOT_BINARY) + " serve --listen 0.0.0.0:0 " +
                          DbFlags(TempDb("trust", "open")) + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[512] = {0};
  std::string out;
  while (fgets(buf, sizeof buf, p)) out += buf;
  const int status = pclose(p);
  EXPECT_NE(WEXITSTATUS(status), 0);
  EXPECT_THAT(out, HasSubstr("--api-key"));
}

// /metrics: a client-chosen menu key is one "click" series, never a label
// of its own (nor a forged line).
TEST(Trust, MetricsLabelsAreBoundedAndEscaped) {
  TestServer s(TempDb("trust", "metrics"), {});
  ASSERT_NE(s.port(), 0);
  for (int i = 0; i < 30; ++i) {
    const std::string key = "K" + std::to_string(i) + "\"} 1\ngridbot_forged 1\n#";
    s.Request(http::verb::post, "/api/chat",
              json{{"user", "m1"}, {"event", {{"type", "click"}, {"key", key}}}}.dump());
  }
  const std::string metrics = s.Request(http::verb::get, "/metrics").body();
  EXPECT_THAT(metrics, Not(HasSubstr("gridbot_forged")));
  EXPECT_THAT(metrics, Not(HasSubstr("K1")));
  EXPECT_THAT(metrics, HasSubstr("gridbot_turns_total{intent=\"click\"} 30"));
}

// Money: no simulator unless asked, no notify without a configured secret,
// order numbers that can't be guessed.
TEST(Trust, PaymentSimulatorOnlyWhenAskedAndNotifyNeedsASecret) {
  TestServer s(TempDb("trust", "pay"), {});
  ASSERT_NE(s.port(), 0);
  auto say = [&s](const std::string& text) { return s.ChatText("p1", text); };
  say("绑定户号");
  say("南宁");
  say("0301000001234");
  say("246810");
  say("交电费");
  say("支付宝");
  const std::string answer = say("确认");
  EXPECT_THAT(answer, HasSubstr("在线缴费暂未开通"));
  EXPECT_THAT(answer, Not(HasSubstr("/pay/")));
  auto notify = s.Request(
      http::verb::post, "/pay/notify",
      "order_no=PO20240804000001&amount=129.80&status=success&sign=" + std::string(64, '0'),
      "application/x-www-form-urlencoded");
  EXPECT_EQ(notify.result_int(), 403);
  EXPECT_THAT(notify.body(), HasSubstr("--pay-secret"));
  EXPECT_EQ(s.Request(http::verb::post, "/pay/PO20240804000001/confirm").result_int(), 404);

  TestServer sim(TempDb("trust", "paysim"), {"--pay-simulator"});
  ASSERT_NE(sim.port(), 0);
  std::set<std::string> orders;
  for (const char* user : {"q1", "q2"}) {
    sim.ChatText(user, "绑定户号");
    sim.ChatText(user, "南宁");
    sim.ChatText(user, "0301000001234");
    sim.ChatText(user, "246810");
    sim.ChatText(user, "交电费");
    sim.ChatText(user, "支付宝");
    std::smatch m;
    const std::string text = sim.ChatText(user, "确认");
    ASSERT_TRUE(std::regex_search(text, m, std::regex("/pay/(PO[0-9]{8}[0-9A-Z]{26})"))) << text;
    orders.insert(m[1]);
  }
  EXPECT_EQ(orders.size(), 2u);
  // The page shows the account masked.
  const std::string page = sim.Request(http::verb::get, "/pay/" + *orders.begin()).body();
  EXPECT_THAT(page, HasSubstr("0301*****1234"));
  EXPECT_THAT(page, Not(HasSubstr("0301000001234")));
}

}  // namespace
}  // namespace gridbot::testing

namespace gridbot::testing {
namespace {

// Connections are capped: beyond the cap a new one gets a quick 503 and is
// closed; when one of the open ones goes, the service answers again.
TEST(Trust, ConnectionsAreCapped) {
  TestServer s(TempDb("trust", "conns"), {"--max-connections", "3"});
  ASSERT_NE(s.port(), 0);
  boost::asio::io_context io;
  std::vector<std::unique_ptr<boost::asio::ip::tcp::socket>> idle;
  const boost::asio::ip::tcp::endpoint at(boost::asio::ip::make_address("127.0.0.1"), s.port());
  for (int i = 0; i < 3; ++i) {
    idle.push_back(std::make_unique<boost::asio::ip::tcp::socket>(io));
    idle.back()->connect(at);
  }
  // Wait until the server has taken all three (accepted asynchronously).
  int busy = 0;
  for (int i = 0; i < 100 && busy == 0; ++i) {
    try {
      busy = s.Request(http::verb::get, "/healthz").result_int() == 503;
    } catch (const std::exception&) {
    }
    if (!busy) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(busy);
  idle.clear();  // closed
  int status = 0;
  for (int i = 0; i < 100 && status != 200; ++i) {
    try {
      status = s.Request(http::verb::get, "/healthz").result_int();
    } catch (const std::exception&) {
    }
    if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(status, 200);
}

}  // namespace
}  // namespace gridbot::testing

namespace gridbot::testing {
namespace {

// Limits: messages per customer (a polite Chinese answer, nothing run), and
// requests per client address — read from X-Forwarded-For only when the
// peer is a configured trusted proxy; loopback peers are not limited.
TEST(Trust, RequestsPerCustomerAndPerAddressAreLimited) {
  TestServer s(TempDb("trust", "rates"), {"--rate-per-customer", "3", "--rate-per-address", "5",
                                          "--trusted-proxies", "127.0.0.1"});
  ASSERT_NE(s.port(), 0);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(s.ChatReplies("r1", "你好").is_null());
  auto over =
      s.Request(http::verb::post, "/api/chat", json{{"user", "r1"}, {"text", "你好"}}.dump());
  EXPECT_EQ(over.result_int(), 429);
  EXPECT_THAT(over.body(), HasSubstr("您发送得太快了"));
  EXPECT_FALSE(s.ChatReplies("r2", "你好").is_null());  // another customer
  auto from = [&s](const std::string& address) {
    return s
        .Request(http::verb::get, "/api/menu", "", "application/json",
                 {{"X-Forwarded-For", address}})
        .result_int();
  };
  for (int i = 0; i < 5; ++i) EXPECT_EQ(from("198.51.100.7, 203.0.113.5"), 200);
  EXPECT_EQ(from("198.51.100.7, 203.0.113.5"), 429);
  EXPECT_EQ(from("203.0.113.6"), 200);
  EXPECT_EQ(s.Request(http::verb::get, "/healthz").result_int(), 200);  // never limited
}

// Instances on one PostgreSQL count a customer's messages and an address's
// requests together: alternating between two instances buys no more than
// the limit. (The embedded database has one process: nothing to share.)
TEST(Trust, LimitsHoldAcrossInstancesOnOneDatabase) {
  if (!TestPostgres()) GTEST_SKIP() << "one process serves the embedded database";
  const std::string db = TempDb("trust", "sharedrates");
  const std::vector<std::string> flags = {"--rate-per-customer", "3", "--rate-per-address", "4",
                                          "--trusted-proxies", "127.0.0.1"};
  TestServer a(db, flags);
  ASSERT_NE(a.port(), 0);
  TestServer b(db, flags);
  ASSERT_NE(b.port(), 0);
  TestServer* both[] = {&a, &b};
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(both[i % 2]->ChatReplies("x1", "你好").is_null()) << i;
  for (TestServer* s : both) {
    auto over =
        s->Request(http::verb::post, "/api/chat", json{{"user", "x1"}, {"text", "你好"}}.dump());
    EXPECT_EQ(over.result_int(), 429);
    EXPECT_THAT(over.body(), HasSubstr("您发送得太快了"));
  }
  auto from = [](TestServer& s) {
    return s
        .Request(http::verb::get, "/api/menu", "", "application/json",
                 {{"X-Forwarded-For", "198.51.100.9"}})
        .result_int();
  };
  for (int i = 0; i < 4; ++i) EXPECT_EQ(from(*both[i % 2]), 200) << i;
  EXPECT_EQ(from(a), 429);
  auto late = b.Request(http::verb::get, "/api/menu", "", "application/json",
                        {{"X-Forwarded-For", "198.51.100.9"}});
  EXPECT_EQ(late.result_int(), 429);
  const int wait = std::stoi(std::string(late[http::field::retry_after]));
  EXPECT_GE(wait, 1);
  EXPECT_LE(wait, 15);  // 4 a minute: one every 15 s
}

// Resends of an answered message (same "id": the page retrying after a
// dropped connection) are neither charged to the customer's limit nor
// counted again as turns in /metrics.
TEST(Trust, ResendsOfOneMessageAreNotChargedOrCountedAgain) {
  TestServer s(TempDb("trust", "resend"), {"--rate-per-customer", "2"});
  ASSERT_NE(s.port(), 0);
  auto say = [&s](const std::string& id) {
    return s.Request(http::verb::post, "/api/chat",
                     json{{"user", "rs1"}, {"text", "你好"}, {"id", id}}.dump());
  };
  const auto first = say("m-1");
  ASSERT_EQ(first.result_int(), 200);
  for (int i = 0; i < 4; ++i) {
    const auto again = say("m-1");
    EXPECT_EQ(again.result_int(), 200) << i;
    EXPECT_EQ(again.body(), first.body()) << i;
  }
  // The same id with other words is no resend: it is charged (and, the id
  // being answered, gets that answer again and runs nothing).
  const auto other = s.Request(http::verb::post, "/api/chat",
                               json{{"user", "rs1"}, {"text", "查电费"}, {"id", "m-1"}}.dump());
  EXPECT_EQ(other.result_int(), 200);
  EXPECT_EQ(other.body(), first.body());
  EXPECT_EQ(say("m-2").result_int(), 429);  // two a minute: both taken
  double turns = 0;
  std::istringstream metrics(s.Request(http::verb::get, "/metrics").body());
  for (std::string line; std::getline(metrics, line);)
    if (line.rfind("gridbot_turns_total{", 0) == 0) turns += std::stod(line.substr(line.rfind(' ')));
  EXPECT_EQ(turns, 1);
}

TEST(Trust, ForwardedForFromAnUntrustedPeerIsIgnored) {
  TestServer s(TempDb("trust", "xff"), {"--rate-per-address", "2"});
  ASSERT_NE(s.port(), 0);
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(s.Request(http::verb::get, "/api/menu", "", "application/json",
                        {{"X-Forwarded-For", "203.0.113.9"}})
                  .result_int(),
              200);
}

// WeChat drops a reply after 5 seconds and retries. A turn slower than the
// budget (an injected slow back end) is answered "success" in time, its
// reply goes out once as a customer-service message, and the retries of
// that push run nothing and send nothing.
TEST(Trust, ASlowTurnAnswersSuccessInTimeAndSendsItsReplyOnce) {
  const std::string db = TempDb("trust", "slow");
  // A customer-service sender configured (late replies need one; this one
  // refuses at once, so they stay in the outbox for the test to read).
  TestServer s(db, {"--wechat-token", kToken, "--inject-slow-backend-ms", "2000",
                    "--wechat-reply-budget-ms", "200", "--wechat-appid", "wxtest",
                    "--wechat-appsecret", "testsecret", "--wechat-api-base", "http://127.0.0.1:1"});
  ASSERT_NE(s.port(), 0);
  const std::string query = "/wechat?" + SignedQuery(RealNow(), FreshNonce());
  const std::string push = TextPush("oSlow1", "你好", "7001");
  auto first = s.Request(http::verb::post, query, push, "text/xml");
  EXPECT_EQ(first.result_int(), 200);
  EXPECT_EQ(first.body(), "success");
  // WeChat's retry while the turn still runs, and a next message behind it.
  EXPECT_EQ(s.Request(http::verb::post, query, push, "text/xml").body(), "success");
  EXPECT_EQ(s.Request(http::verb::post, "/wechat?" + SignedQuery(RealNow(), FreshNonce()),
                      TextPush("oSlow1", "停电查询", "7002"), "text/xml")
                .body(),
            "success");

  // The three run one after the other (2 s each); the last done means the
  // retry is done too.
  auto rows = [&db](const std::string& sql) {
    auto store = storage::Store::Open(db);
    if (!store.ok()) return std::vector<std::string>{};
    storage::Tx tx = (*store)->Begin();
    storage::Statement st = tx.Prep(sql);
    std::vector<std::string> out;
    while (st.Step()) out.push_back(st.Text(0));
    return out;
  };
  const std::string outbox =
      "SELECT dedup_key || ' ' || body FROM outbox WHERE channel = 'wechat' AND recipient = "
      "'oSlow1' ORDER BY id";
  for (int i = 0; i < 300 && rows(outbox).size() < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto sent = rows(outbox);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_THAT(sent[0], AllOf(HasSubstr("7001"), HasSubstr("您好")));
  EXPECT_THAT(sent[1], AllOf(HasSubstr("7002"), HasSubstr("停电")));
  EXPECT_EQ(rows("SELECT text FROM dialog_log WHERE external_id = 'oSlow1' ORDER BY id"),
            (std::vector<std::string>{"你好", "停电查询"}));
  // A retry after all that, then one more message behind it: the retry
  // added nothing.
  EXPECT_EQ(s.Request(http::verb::post, query, push, "text/xml").body(), "success");
  s.Request(http::verb::post, "/wechat?" + SignedQuery(RealNow(), FreshNonce()),
            TextPush("oSlow1", "谢谢", "7003"), "text/xml");
  // Turns of one sender run in order, so once 谢谢's reply is there the
  // retry before it has been handled too: one row per message, no other.
  auto has_7003 = [&] {
    for (const auto& r : rows(outbox))
      if (r.find("7003") != std::string::npos) return true;
    return false;
  };
  for (int i = 0; i < 300 && !has_7003(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto keys = rows(
      "SELECT dedup_key FROM outbox WHERE channel = 'wechat' AND recipient = 'oSlow1' ORDER BY id");
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_THAT(keys[0], HasSubstr("7001"));
  EXPECT_THAT(keys[1], HasSubstr("7002"));
  EXPECT_THAT(keys[2], HasSubstr("7003"));
  EXPECT_EQ(rows("SELECT text FROM dialog_log WHERE external_id = 'oSlow1' ORDER BY id"),
            (std::vector<std::string>{"你好", "停电查询", "谢谢"}));
}

// A client's message id: the same message sent again (the connection
// dropped before the answer) gets the same replies and runs nothing.
TEST(Http, ChatRetriesWithTheSameIdRunOnce) {
  const std::string db = TempDb("http", "chat_id");
  TestServer s(db, {});
  ASSERT_NE(s.port(), 0);
  auto say = [&s](const std::string& text, const std::string& id) {
    return s.Request(http::verb::post, "/api/chat",
                     json{{"user", "idem1"}, {"text", text}, {"id", id}}.dump());
  };
  s.ChatReplies("idem1", "绑定户号");
  s.ChatReplies("idem1", "南宁");
  s.ChatReplies("idem1", "0301000001234");
  auto first = say("000000", "m-4");
  EXPECT_THAT(first.body(), HasSubstr("还可以尝试4次"));
  EXPECT_EQ(say("000000", "m-4").body(), first.body());  // not tried again
  EXPECT_THAT(say("000000", "m-5").body(), HasSubstr("还可以尝试3次"));
  EXPECT_EQ(say("000000", std::string(65, 'x')).result_int(), 400);
  EXPECT_EQ(s.Request(http::verb::post, "/api/chat",
                      json{{"user", "idem1"}, {"text", "你好"}, {"id", 7}}.dump())
                .result_int(),
            400);
}

// New identities from one address get no new guesses: wrong service
// passwords for 31 made-up 户号 (none guessed ten times, so no target
// waits) from 31 fresh sessions behind one proxy address, then that address
// waits; another address does not.
TEST(Trust, GuessesFromOneAddressSlowDownAcrossNewIdentities) {
  TestServer s(TempDb("trust", "source"), {"--trusted-proxies", "127.0.0.1"});
  ASSERT_NE(s.port(), 0);
  auto say = [&s](int who, const std::string& from, const std::string& text) {
    char sid[80];
    std::snprintf(sid, sizeof sid, "gb_sid=%064d", who);
    auto res = s.Request(http::verb::post, "/api/chat", json{{"text", text}}.dump(),
                         "application/json", {{"Cookie", sid}, {"X-Forwarded-For", from}});
    return res.body();
  };
  std::string answer;  // the reply to the password alone
  auto guess = [&](int who, const std::string& from) {
    say(who, from, "绑定户号");
    say(who, from, "南宁");
    const std::string asked = say(who, from, "0301999" + std::to_string(100000 + who));
    answer = say(who, from, "135790");
    return asked + answer;
  };
  for (int who = 0; who < 30; ++who)
    EXPECT_THAT(guess(who, "198.51.100.20"), HasSubstr("户号或服务密码不正确")) << who;
  // The 31st makes the address wait: said at once (no "还可以尝试N次" for a
  // try that would be refused), in words about the network, naming no 户号
  // (its own count is far from a wait).
  guess(30, "198.51.100.20");
  EXPECT_THAT(answer, AllOf(HasSubstr("所在的网络"), HasSubstr("1分钟后再试"),
                             Not(HasSubstr("还可以尝试")), Not(HasSubstr("0301999100030"))));
  EXPECT_THAT(guess(31, "198.51.100.20"),
              AllOf(HasSubstr("所在的网络"), Not(HasSubstr("0301999100031"))));
  EXPECT_THAT(guess(32, "198.51.100.21"), HasSubstr("户号或服务密码不正确"));
  // An IPv6 client is counted by its /64: a fresh address per guess within
  // it gets no fresh guesses; the next /64 is someone else.
  for (int who = 100; who < 131; ++who) guess(who, "2001:db8:7:1:" + std::to_string(who) + "::1");
  EXPECT_THAT(guess(131, "2001:db8:7:1:ffff::9"), HasSubstr("所在的网络"));
  EXPECT_THAT(guess(132, "2001:db8:7:2::9"), HasSubstr("户号或服务密码不正确"));
}

}  // namespace
}  // namespace gridbot::testing
