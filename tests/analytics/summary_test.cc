// analytics.md's figures over a log made by the real engine: 300 scripted
// customers of five kinds, whose expected figures this test counts from the
// scripts themselves (not from the log).
#include "analytics/summary.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "analytics/turns.h"

#include "storage/analytics.h"
#include "tests/dialogs/conversation.h"

namespace gridbot::testing {
namespace {

using nlohmann::json;

// What one kind of customer says, and what it should count as.
struct Script {
  std::vector<std::string> lines;
  int bot_turns, desk_messages, fallbacks;
  bool handoff;
  // flow -> how its run ends (one run per flow per script here)
  std::map<std::string, std::string> runs;
  std::map<std::string, std::vector<std::string>> steps;  // flow -> steps asked
  std::map<std::string, int> intents;
};

const std::vector<Script>& Scripts() {
  static const std::vector<Script> kScripts = {
      // Asks a bill unbound: binds first, then the bill is answered.
      {{"上个月电费多少", "南宁", "0301000001234", "246810"},
       4, 0, 0, false,
       {{"bind_account", "completed"}, {"query_bill", "completed"}},
       {{"bind_account", {"city", "account", "password"}}},
       {{"query_bill", 1}, {"bind_account", 3}}},
      // Starts a repair and cancels it.
      {{"家里跳闸了", "取消"},
       2, 0, 0, false,
       {{"report_fault", "cancelled"}},
       {{"report_fault", {"address"}}},  // unbound: where is the fault
       {{"report_fault", 1}, {"cancel", 1}}},
      // Not understood twice: handed to a person; then writes to the desk.
      {{"今天天气怎么样", "讲个笑话", "在吗"},
       2, 1, 2, true, {}, {}, {{"unknown", 2}}},
      // Starts binding and goes away (abandoned: no answer in 30 minutes).
      {{"绑定户号"},
       1, 0, 0, false,
       {{"bind_account", "abandoned"}},
       {{"bind_account", {"city"}}},
       {{"bind_account", 1}}},
      // Asks for a person, then cancels the queue, then asks the bot and
      // does not send the location it asks for.
      {{"转人工", "不转了", "附近的营业厅"},
       2, 1, 0, true,
       {{"find_outlet", "abandoned"}},
       {{"find_outlet", {"location"}}},
       {{"human_agent", 1}, {"find_outlet", 1}}},
  };
  return kScripts;
}

constexpr int kCustomers = 300;

class SummaryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    conversation_ = new Conversation();
    const UnixSeconds day1 = FromCivil(CivilTime{{2024, 8, 5}, 9, 0, 0});
    // Customers one after another, 20 s apart; even ones on the 5th, odd
    // ones on the 6th. Their lines 10 s apart.
    for (int k = 0; k < kCustomers; ++k) {
      const Script& s = Scripts()[k % Scripts().size()];
      UnixSeconds t = day1 + (k % 2) * 24 * 3600 + (k / 2) * 20;
      for (const std::string& line : s.lines) {
        conversation_->clock().Set(t);
        conversation_->Say(line, "c" + std::to_string(k));
        t += 10;
      }
    }
    // The summary is read at 18:00 on the 6th: everything is over 30
    // minutes old, except nothing.
    now_ = FromCivil(CivilTime{{2024, 8, 6}, 18, 0, 0});
  }
  static void TearDownTestSuite() { delete conversation_; }

  static json Summary(const std::string& from, const std::string& to) {
    auto p = analytics::Period::Parse(from, to, {2024, 8, 6});
    EXPECT_TRUE(p.ok()) << p.error();
    return analytics::Summarize(conversation_->store(), *p, now_);
  }

  static Conversation* conversation_;
  static UnixSeconds now_;
};

Conversation* SummaryTest::conversation_ = nullptr;
UnixSeconds SummaryTest::now_ = 0;

TEST_F(SummaryTest, TotalsAndDaysAsDefined) {
  int turns = 0, desk = 0, fallbacks = 0, handoffs = 0;
  std::map<int, int> day_turns, day_customers;
  for (int k = 0; k < kCustomers; ++k) {
    const Script& s = Scripts()[k % Scripts().size()];
    turns += s.bot_turns;
    desk += s.desk_messages;
    fallbacks += s.fallbacks;
    handoffs += s.handoff;
    day_turns[k % 2] += s.bot_turns;
    ++day_customers[k % 2];
  }
  const json sum = Summary("2024-08-05", "2024-08-06");
  const json& t = sum["totals"];
  EXPECT_EQ(t["turns"], turns);
  EXPECT_EQ(t["desk_messages"], desk);
  EXPECT_EQ(t["customers"], kCustomers);
  EXPECT_EQ(t["conversations"], kCustomers);  // each customer's lines are 10 s apart
  EXPECT_DOUBLE_EQ(t["fallback_rate"].get<double>(), static_cast<double>(fallbacks) / turns);
  EXPECT_DOUBLE_EQ(t["handoff_rate"].get<double>(), static_cast<double>(handoffs) / kCustomers);
  ASSERT_EQ(sum["days"].size(), 2u);
  EXPECT_EQ(sum["days"][0]["date"], "2024-08-05");
  EXPECT_EQ(sum["days"][0]["turns"], day_turns[0]);
  EXPECT_EQ(sum["days"][1]["turns"], day_turns[1]);
  EXPECT_EQ(sum["days"][0]["customers"], day_customers[0]);
  EXPECT_EQ(sum["days"][0]["conversations"], day_customers[0]);
  // One day only.
  EXPECT_EQ(Summary("2024-08-06", "2024-08-06")["totals"]["turns"], day_turns[1]);
}

TEST_F(SummaryTest, IntentsCountBotTurns) {
  std::map<std::string, int> expected;
  for (int k = 0; k < kCustomers; ++k)
    for (const auto& [intent, n] : Scripts()[k % Scripts().size()].intents) expected[intent] += n;
  std::map<std::string, int> got;
  const json sum = Summary("2024-08-05", "2024-08-06");
  for (const json& i : sum["intents"]) got[i["intent"]] = i["turns"];
  EXPECT_EQ(got, expected);
}

TEST_F(SummaryTest, FunnelsFollowEveryRunToItsEnd) {
  std::map<std::string, std::map<std::string, int>> expected;  // flow -> field -> n
  for (int k = 0; k < kCustomers; ++k) {
    const Script& s = Scripts()[k % Scripts().size()];
    for (const auto& [flow, how] : s.runs) {
      ++expected[flow]["started"];
      ++expected[flow][how];
    }
    for (const auto& [flow, steps] : s.steps)
      for (const std::string& step : steps) ++expected[flow]["step:" + step];
  }
  std::map<std::string, std::map<std::string, int>> got;
  const json sum = Summary("2024-08-05", "2024-08-06");
  for (const json& f : sum["funnels"]) {
    auto& g = got[f["flow"]];
    g["started"] = f["started"];
    for (const char* how : {"completed", "cancelled", "gave_up", "handed_off", "abandoned", "open"})
      if (f[how].get<int>() > 0) g[how] = f[how];
    for (const json& st : f["steps"]) g["step:" + st["step"].get<std::string>()] = st["reached"];
  }
  EXPECT_EQ(got, expected);
}

TEST_F(SummaryTest, LatencyIsTheNearestRankOfTheTurnsTimes) {
  std::vector<double> ms;
  {
    storage::Tx tx = conversation_->store().Begin();
    for (const auto& t : storage::TurnsByCustomer(tx, 0, now_))
      if (t.intent != "handoff") ms.push_back(t.micros / 1000.0);
  }
  std::sort(ms.begin(), ms.end());
  auto rank = [&ms](double p) { return ms[static_cast<size_t>(std::ceil(p / 100 * ms.size())) - 1]; };
  const json sum = Summary("2024-08-05", "2024-08-06");
  const json& l = sum["totals"]["latency_ms"];
  EXPECT_DOUBLE_EQ(l["p50"].get<double>(), rank(50));
  EXPECT_DOUBLE_EQ(l["p95"].get<double>(), rank(95));
  EXPECT_DOUBLE_EQ(l["p99"].get<double>(), rank(99));
}

// Runs still waiting when the period ends are open while it is less than
// 30 minutes since the customer's last message, abandoned after.
TEST_F(SummaryTest, RunsWaitingAtTheEndAreOpenForThirtyMinutes) {
  const UnixSeconds day2 = FromCivil(CivilTime{{2024, 8, 6}, 9, 0, 0});
  const UnixSeconds now = day2 + (kCustomers / 2) * 20 + 600;  // ten minutes after the last
  int open = 0;
  for (int k = 1; k < kCustomers; k += 2) {  // the 6th's customers
    const Script& s = Scripts()[k % Scripts().size()];
    const UnixSeconds last = day2 + (k / 2) * 20 + 10 * (s.lines.size() - 1);
    for (const auto& [flow, how] : s.runs)
      if (how == "abandoned" && now - last <= 30 * 60) ++open;
  }
  ASSERT_GT(open, 0);
  auto p = analytics::Period::Parse("2024-08-06", "2024-08-06", {2024, 8, 6});
  const json sum = analytics::Summarize(conversation_->store(), *p, now);
  int got = 0;
  for (const json& f : sum["funnels"]) got += f["open"].get<int>();
  EXPECT_EQ(got, open);
}

TEST_F(SummaryTest, DeskFiguresCountHandoffsByReason) {
  int asked = 0, not_understood = 0;
  for (int k = 0; k < kCustomers; ++k) {
    const Script& s = Scripts()[k % Scripts().size()];
    if (!s.handoff) continue;
    (s.fallbacks ? not_understood : asked)++;
  }
  const json sum = Summary("2024-08-05", "2024-08-06");
  EXPECT_EQ(sum["desk"]["handoffs"], asked + not_understood);
  EXPECT_EQ(sum["desk"]["by_reason"]["asked"], asked);
  EXPECT_EQ(sum["desk"]["by_reason"]["not_understood"], not_understood);
  EXPECT_EQ(sum["desk"]["claimed"], 0);  // nobody was at the desk
}

TEST(DeskFigures, WaitFirstResponseAndRatings) {
  std::vector<storage::DeskRecord> r = {{"asked", "closed", 100, 160, 220, 5},
                                        {"asked", "closed", 100, 400, 0, 2},
                                        {"gave_up", "", 100, 0, 0, 0}};
  const json d = analytics::DeskFigures(r);
  EXPECT_EQ(d["handoffs"], 3);
  EXPECT_EQ(d["claimed"], 2);
  EXPECT_EQ(d["wait_seconds"]["p50"], 60);
  EXPECT_EQ(d["wait_seconds"]["p95"], 300);
  EXPECT_EQ(d["first_response_seconds"]["p50"], 120);
  EXPECT_EQ(d["ratings"]["count"], 2);
  EXPECT_DOUBLE_EQ(d["ratings"]["average"].get<double>(), 3.5);
  EXPECT_EQ(d["ratings"]["distribution"]["5"], 1);
}

TEST(Period, BadDatesAreErrors) {
  EXPECT_FALSE(analytics::Period::Parse("2024-13-01", "", {2024, 8, 6}).ok());
  EXPECT_FALSE(analytics::Period::Parse("2024-08-07", "2024-08-06", {2024, 8, 6}).ok());
  EXPECT_TRUE(analytics::Period::Parse("", "", {2024, 8, 6}).ok());
  EXPECT_EQ(analytics::NearestRank({3, 1, 2, 4}, 50), 2);
  EXPECT_EQ(analytics::NearestRank({3, 1, 2, 4}, 99), 4);
}

}  // namespace
}  // namespace gridbot::testing

namespace gridbot::testing {
namespace {

// Search finds what an analyst types wherever it occurs (issue 9's cases),
// pages without limit, and shows everything masked.
TEST(Search, FindsChineseAsTypedAndPagesAndMasks) {
  Conversation c;
  c.clock().Set(FromCivil(CivilTime{{2024, 8, 5}, 10, 0, 0}));
  c.Say("电费多少", "a");
  c.Say("上个月的电费账单", "b");
  c.Say("家里老是跳闸", "c");
  c.Say("我的电话13800138000", "d");
  for (int i = 0; i < 7; ++i) c.Say("查一下电费", "e" + std::to_string(i));
  auto search = [&c](std::map<std::string, std::string> q) {
    q["from"] = "2024-08-05";
    q["to"] = "2024-08-05";
    auto r = analytics::SearchTurns(c.store(), q, {2024, 8, 5});
    EXPECT_TRUE(r.ok()) << r.error();
    return r.ok() ? *r : json();
  };
  auto texts = [](const json& page) {
    std::vector<std::string> out;
    for (const json& t : page["turns"]) out.push_back(t["text"]);
    return out;
  };
  const auto bill = texts(search({{"q", "电费"}, {"limit", "500"}}));
  EXPECT_THAT(bill, ::testing::Contains("电费多少"));
  EXPECT_THAT(bill, ::testing::Contains("上个月的电费账单"));
  EXPECT_EQ(bill.size(), 9u);
  EXPECT_THAT(texts(search({{"q", "跳闸"}})), ::testing::ElementsAre("家里老是跳闸"));
  EXPECT_THAT(texts(search({{"q", "老是跳闸"}})), ::testing::ElementsAre("家里老是跳闸"));
  EXPECT_TRUE(texts(search({{"q", "跳电"}})).empty());
  // Pages of 4: 9 turns, newest first, no repeats, until next is null.
  std::vector<std::string> all;
  std::map<std::string, std::string> q = {{"q", "电费"}, {"limit", "4"}};
  for (int pages = 0; pages < 5; ++pages) {
    const json page = search(q);
    for (const json& t : page["turns"]) all.push_back(std::to_string(t["id"].get<long long>()));
    if (page["next"].is_null()) break;
    q["cursor"] = page["next"];
  }
  EXPECT_EQ(all.size(), 9u);
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), 9u);
  // Masked on the way out.
  const json phone = search({{"q", "电话"}});
  EXPECT_EQ(phone["turns"][0]["text"], "我的电话138****8000");
  EXPECT_THAT(phone.dump(), ::testing::Not(::testing::HasSubstr("13800138000")));
  // A transcript by the conversation id a turn carries.
  const std::string id = phone["turns"][0]["conversation"];
  auto t = analytics::ConversationTranscript(c.store(), id, false);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)["turns"][0]["text"], "我的电话138****8000");
  EXPECT_FALSE(analytics::ConversationTranscript(c.store(), "999999", false).ok());
  // Bad filters are errors, not empty pages.
  std::map<std::string, std::string> bad = {{"from", "2024-08-05"}, {"limit", "0"}};
  EXPECT_FALSE(analytics::SearchTurns(c.store(), bad, {2024, 8, 5}).ok());
}

TEST(Search, BigramsOfTextAsIndexed) {
  EXPECT_EQ(storage::Bigrams("电费多少"), "电费 费多 多少");
  EXPECT_EQ(storage::Bigrams("跳闸"), "跳闸");
  EXPECT_EQ(storage::Bigrams("电"), "电");
  EXPECT_EQ(storage::Bigrams("户号abc12查询"), "户号 abc12 查询");
  EXPECT_EQ(storage::Bigrams("你好，电费"), "你好 电费");
}

}  // namespace
}  // namespace gridbot::testing
