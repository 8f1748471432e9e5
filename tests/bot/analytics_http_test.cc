// The analysts' endpoints over real HTTP (analytics.md): roles, and the
// promise that no byte served or exported — every endpoint, page and format,
// and the CLI — carries an unmasked phone, 户号, card number, e-mail, name,
// password or SMS code of the conversations behind it, the lockout case
// included (issue 9).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <sys/wait.h>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>

#include "storage/store.h"
#include "tests/bot/test_server.h"

namespace gridbot::testing {
namespace {

namespace http = boost::beast::http;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

void AddAgent(const std::string& db, const std::string& name, const std::string& role) {
  const std::string cmd = "echo '" + name + "-password' | " + std::string(GRIDBOT_BINARY) +
                          " agent add " + name + " --role " + role + " " + DbFlags(db) + " > /dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

// What a command prints on standard output, and its exit status.
std::pair<std::string, int> Run(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return {out, -1};
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  const int status = pclose(p);
  return {out, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

// The output of a command that must succeed with something to say.
std::string Output(const std::string& cmd, int ok_status = 0) {
  auto [out, status] = Run(cmd);
  EXPECT_TRUE(status == 0 || status == ok_status) << cmd << " exited " << status;
  EXPECT_FALSE(out.empty()) << cmd;
  return out;
}

class AnalyticsHttp : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = TempDb("analytics_http", ::testing::UnitTest::GetInstance()->current_test_info()->name());
    AddAgent(db_, "fenxi", "analyst");
    AddAgent(db_, "zhuguan", "supervisor");
    AddAgent(db_, "xiaowang", "agent");
    server_ = std::make_unique<TestServer>(db_, std::vector<std::string>{});
    ASSERT_NE(server_->port(), 0);
  }

  std::string Login(const std::string& name) {
    auto res = server_->Request(http::verb::post, "/api/agent/login",
                                json{{"name", name}, {"password", name + "-password"}}.dump());
    EXPECT_EQ(res.result_int(), 200) << res.body();
    return json::parse(res.body(), nullptr, false).value("token", "");
  }

  http::response<http::string_body> As(const std::string& token, http::verb verb,
                                       const std::string& target, const std::string& body = "") {
    return server_->Request(verb, target, body, "application/json",
                            {{"Authorization", "Bearer " + token}});
  }

  std::string db_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(AnalyticsHttp, OnlyAnalystsSupervisorsAndAdmins) {
  const std::string agent = Login("xiaowang"), analyst = Login("fenxi"), boss = Login("zhuguan");
  for (const char* path : {"/api/analytics/summary", "/api/analytics/turns", "/api/analytics/unrecognised",
                           "/api/analytics/labelled", "/api/analytics/export?format=csv",
                           "/api/analytics/intents", "/api/analytics/runs"}) {
    EXPECT_EQ(server_->Request(http::verb::get, path).result_int(), 401) << path;
    EXPECT_EQ(As(agent, http::verb::get, path).result_int(), 403) << path;
    // A customer's own session (the web chat's cookie) is not staff.
    EXPECT_EQ(server_->Request(http::verb::get, path, "", "application/json",
                               {{"Cookie", "gb_sid=" + std::string(64, 'a')}})
                  .result_int(),
              403)
        << path;
    EXPECT_EQ(As(analyst, http::verb::get, path).result_int(), 200) << path;
    EXPECT_EQ(As(boss, http::verb::get, path).result_int(), 200) << path;
  }
  // Malformed requests are 4xx, never 500.
  EXPECT_EQ(As(analyst, http::verb::get, "/api/analytics/summary?from=2024-99-01").result_int(), 400);
  EXPECT_EQ(As(analyst, http::verb::get, "/api/analytics/export?format=xlsx").result_int(), 400);
  EXPECT_EQ(As(analyst, http::verb::get, "/api/analytics/runs?ended=maybe").result_int(), 400);
  EXPECT_EQ(As(analyst, http::verb::post, "/api/analytics/unrecognised/abc/label", "{").result_int(), 400);
  EXPECT_EQ(As(analyst, http::verb::post, "/api/analytics/unrecognised/abcdef123456/label",
               R"({"intent":"greet"})")
                .result_int(),
            404);
  EXPECT_EQ(As(analyst, http::verb::get, "/api/analytics/nothing").result_int(), 404);
  EXPECT_EQ(As(analyst, http::verb::get, "/api/analytics/conversations/x").result_int(), 404);
}

TEST_F(AnalyticsHttp, NoUnmaskedByteInAnyOutput) {
  // Customers who give everything away. (The server's day is 2024-08-04.)
  auto say = [this](const std::string& user, const std::string& text) {
    return server_->ChatText(user, text);
  };
  // Binding locked out with five wrong passwords; then the right one.
  say("a1", "绑定户号");
  say("a1", "南宁");
  say("a1", "0301000001234");
  for (const char* wrong : {"135791", "864202", "975310", "192837", "564738"}) say("a1", wrong);
  EXPECT_THAT(say("a1", "246810"), HasSubstr("不会被记录"));
  say("a1", "我的密码是246810");
  // Bound properly, then a prepaid card with its password.
  say("a2", "绑定户号");
  say("a2", "南宁");
  say("a2", "0301000001234");
  EXPECT_THAT(say("a2", "246810"), HasSubstr("绑定成功"));
  say("a2", "充值卡充值");
  say("a2", "8800123456789003");
  say("a2", "271945");
  EXPECT_THAT(say("a2", "确认"), HasSubstr("充值成功"));
  // A registration with an SMS code and a login password.
  say("r1", "注册");
  say("r1", "南宁");
  say("r1", "138 7777 6666");
  say("r1", "abcd12345xyz");
  EXPECT_THAT(say("r1", "abcd12345xyz"), HasSubstr("验证码"));
  std::string code;
  {
    auto store = storage::Store::Open(db_);
    ASSERT_TRUE(store.ok()) << store.error();
    storage::Tx tx = (*store)->Begin();
    storage::Statement st = tx.Prep("SELECT body FROM outbox WHERE channel = 'sms' ORDER BY id DESC");
    std::smatch m;
    if (st.Step()) {
      const std::string body = OpenedOutboxBody(db_, st.Text(0));
      if (std::regex_search(body, m, std::regex("([0-9]{6})"))) code = m[1];
    }
  }
  ASSERT_EQ(code.size(), 6u);
  say("r1", code);
  // An application with the contact's name typed alone, and free text.
  say("p1", "我要装电表");
  say("p1", "南宁");
  say("p1", "青秀区");
  say("p1", "黄建明");
  say("p1", "13877776666");
  say("p1", "民族大道100号5栋1单元301");
  say("p1", "新房装表，联系人：王小红，邮箱wangxiaohong@163.com");
  say("p1", "确认");
  // Not understood: grouped, and labelled below.
  say("u1", "我叫李大伟，手机13912345678，今天天气怎么样");
  say("u2", "今天天气怎么样");
  // To a person: the agent answers and notes with the customer's data.
  say("d1", "转人工");
  say("d1", "我的户号是0302000004815，电话18677128903");
  const std::string agent = Login("xiaowang");
  auto queue = json::parse(As(agent, http::verb::get, "/api/agent/queue").body());
  ASSERT_FALSE(queue["conversations"].empty());
  const std::string conv = queue["conversations"][0]["id"];
  ASSERT_EQ(As(agent, http::verb::post, "/api/agent/conversations/" + conv + "/claim").result_int(), 200);
  As(agent, http::verb::post, "/api/agent/conversations/" + conv + "/reply",
     json{{"text", "好的，已记下您的电话18677128903"}}.dump());
  As(agent, http::verb::post, "/api/agent/conversations/" + conv + "/note",
     json{{"text", "联系人：覃小芳，户号0302000004815"}}.dump());
  As(agent, http::verb::post, "/api/agent/conversations/" + conv + "/close");

  const std::vector<std::string> secrets = {
      "0301000001234", "0302000004815", "8800123456789003", "13877776666", "138 7777 6666",
      "13912345678",   "18677128903",   "13800138000",      "wangxiaohong@163.com",
      "黄建明",        "王小红",        "李大伟",           "覃小芳",
      "135791",        "864202",        "975310",           "192837",
      "564738",        "246810",        "271945",           "abcd12345xyz", code};
  std::vector<std::pair<std::string, std::string>> outputs;  // (what, bytes)

  const std::string analyst = Login("fenxi"), boss = Login("zhuguan");
  auto get = [&](const std::string& token, const std::string& path) {
    auto res = As(token, http::verb::get, path);
    EXPECT_EQ(res.result_int(), 200) << path << ": " << res.body();
    outputs.emplace_back(path, res.body());
    return json::parse(res.body(), nullptr, false);
  };
  const std::string period = "from=2024-08-04&to=2024-08-04";
  const json summary = get(analyst, "/api/analytics/summary?" + period);
  EXPECT_GT(summary["totals"]["turns"].get<int>(), 30);
  std::set<std::string> conversations;
  for (const char* q : {"", "&q=电话", "&q=13877776666", "&q=户号", "&q=密码", "&fallback=1",
                               "&handoff=1"}) {
    std::string cursor;
    for (int page = 0; page < 20; ++page) {
      const json p = get(analyst, "/api/analytics/turns?" + period + std::string(q) + "&limit=7" + cursor);
      for (const json& t : p["turns"]) conversations.insert(t["conversation"]);
      if (p["next"].is_null()) break;
      cursor = "&cursor=" + (p["next"].is_string() ? p["next"].get<std::string>() : p["next"].dump());
    }
  }
  EXPECT_GE(conversations.size(), 7u);
  // Masked data can't be looked up: the index holds it masked too.
  EXPECT_TRUE(get(analyst, "/api/analytics/turns?" + period + "&q=13877776666")["turns"].empty());
  EXPECT_TRUE(get(analyst, "/api/analytics/turns?" + period + "&q=0301000001234")["turns"].empty());
  for (const std::string& id : conversations) {
    get(analyst, "/api/analytics/conversations/" + id);
    get(boss, "/api/analytics/conversations/" + id);  // with notes
  }
  for (const json& f : summary["funnels"])
    get(analyst, "/api/analytics/runs?" + period + "&flow=" + f["flow"].get<std::string>());
  const json groups = get(analyst, "/api/analytics/unrecognised?" + period);
  ASSERT_FALSE(groups["groups"].empty());
  auto label = As(analyst, http::verb::post,
                  "/api/analytics/unrecognised/" + groups["groups"][0]["id"].get<std::string>() + "/label",
                  R"({"intent":"unknown"})");
  EXPECT_EQ(label.result_int(), 200) << label.body();
  outputs.emplace_back("label", label.body());
  const auto labelled = As(analyst, http::verb::get, "/api/analytics/labelled");
  EXPECT_THAT(labelled.body(), HasSubstr("\"intent\":\"unknown\""));
  outputs.emplace_back("labelled", labelled.body());
  for (const char* format : {"csv", "jsonl"}) {
    const auto res = As(analyst, http::verb::get,
                        "/api/analytics/export?format=" + std::string(format) + "&" + period);
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_THAT(res.body(), HasSubstr("138****6666"));
    outputs.emplace_back(std::string("export ") + format, res.body());
  }
  for (const char* page : {"/analytics", "/assets/analytics.js", "/agent", "/assets/agent.js"})
    outputs.emplace_back(page, server_->Request(http::verb::get, page).body());
  // The command line, on the same database.
  const std::string cli = std::string(GRIDBOT_BINARY) + " logs ";
  for (const char* format : {"csv", "jsonl"}) {
    outputs.emplace_back(std::string("logs export ") + format,
                         Output(cli + "export " + DbFlags(db_, false) + " --format " + format));
    EXPECT_THAT(outputs.back().second, HasSubstr("138****6666"));
  }
  outputs.emplace_back("logs stats", Output(cli + "stats " + DbFlags(db_, false) + " --from 2024-08-04 --to 2024-08-04"));
  outputs.emplace_back("logs replay", Output(cli + "replay " + DbFlags(db_, false) +
                                             " --from 2024-08-04 --to 2024-08-04 --format json", 1));
  EXPECT_THAT(outputs.back().second, HasSubstr("\"checked\""));
  outputs.emplace_back("logs replay text",
                       Output(cli + "replay " + DbFlags(db_, false) + " --from 2024-08-04 --to 2024-08-04", 1));

  for (const auto& [what, bytes] : outputs)
    for (const std::string& s : secrets) {
      const size_t at = bytes.find(s);
      EXPECT_EQ(at, std::string::npos)
          << what << " shows " << s << ": …"
          << bytes.substr(at == std::string::npos ? 0 : (at > 80 ? at - 80 : 0), 200) << "…";
    }
  // …and they were there to be masked: the masked forms appear.
  std::string all;
  for (const auto& o : outputs) all += o.second;
  for (const char* masked : {"0301*****1234", "************9003", "138****6666", "w***@163.com", "黄*明",
                             "王*红", "李*伟", "覃*芳", "186****8903"})
    EXPECT_THAT(all, HasSubstr(masked));
  // --unmasked is the one way to read them in clear.
  EXPECT_THAT(Output(cli + "export " + DbFlags(db_, false) + " --format jsonl --unmasked"), HasSubstr("13877776666"));
}

}  // namespace
}  // namespace gridbot::testing
