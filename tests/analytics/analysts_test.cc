// What analysts do with the log beyond the summary (issue 9): unrecognised
// messages grouped and labelled into corpus lines, replay of the log against
// a changed corpus, export in both formats, and pruning that keeps every
// figure of the pruned days. Logs made by the real engine.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "analytics/export.h"
#include "analytics/replay.h"
#include "analytics/summary.h"
#include "analytics/turns.h"
#include "analytics/unrecognised.h"
#include "storage/analytics.h"
#include "tests/dialogs/conversation.h"

namespace gridbot::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

analytics::Period Day(int month, int day) {
  char d[16];
  std::snprintf(d, sizeof d, "2024-%02d-%02d", month, day);
  auto p = analytics::Period::Parse(d, d, {2024, 8, 31});
  EXPECT_TRUE(p.ok());
  return *p;
}

std::vector<analytics::IntentTitle> Titles() {
  auto t = analytics::LoadIntentTitles(CorpusDir() + "/nlu/intent_titles.tsv");
  EXPECT_TRUE(t.ok()) << t.error();
  return t.ok() ? *t : std::vector<analytics::IntentTitle>{};
}

// Customers who are not understood, in three kinds of wording, plus one the
// rules understand (it must not be grouped).
void SayUnrecognised(Conversation& c) {
  c.clock().Set(FromCivil(CivilTime{{2024, 8, 5}, 10, 0, 0}));
  const std::vector<std::string> weather = {"今天天气怎么样", "今天天气怎么样", "明天天气怎么样",
                                            "今天天气怎么样啊", "南宁今天天气怎么样"};
  const std::vector<std::string> jokes = {"讲个笑话", "给我讲个笑话", "讲个笑话吧"};
  int k = 0;
  // Each customer says one thing (a second would hand them to the desk).
  for (const auto& t : weather) c.Say(t, "w" + std::to_string(k++));
  for (const auto& t : jokes) c.Say(t, "j" + std::to_string(k++));
  c.Say("你叫什么名字", "l1");
  c.Say("上个月电费多少", "b1");
}

TEST(Unrecognised, GroupsBySimilarityLargestFirstAndLabelsIntoCorpusLines) {
  Conversation c;
  SayUnrecognised(c);
  const json g = analytics::UnrecognisedGroups(c.store(), *SharedModel(), Day(8, 5),
                                               FromCivil(CivilTime{{2024, 8, 6}, 0, 0, 0}));
  ASSERT_EQ(g["groups"].size(), 3u) << g.dump(1);
  EXPECT_EQ(g["groups"][0]["size"], 5);
  EXPECT_EQ(g["groups"][1]["size"], 3);
  EXPECT_EQ(g["groups"][2]["size"], 1);
  EXPECT_THAT(g["groups"][0]["examples"].dump(), HasSubstr("天气"));
  EXPECT_THAT(g["groups"][1]["examples"].dump(), HasSubstr("笑话"));
  EXPECT_THAT(g.dump(), Not(HasSubstr("电费")));  // understood: not a fallback
  EXPECT_TRUE(g["groups"][0]["label"].is_null());

  // Labelled: the group shows it, and its texts become corpus lines.
  const std::string id = g["groups"][1]["id"];
  auto r = analytics::LabelGroup(c.store(), *SharedModel(), Titles(), id, "unknown", "ana", 1);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ((*r)["texts"], 3);
  const json again = analytics::UnrecognisedGroups(c.store(), *SharedModel(), Day(8, 5), 2);
  EXPECT_EQ(again["groups"][1]["id"], id);  // the same id while its first text leads
  EXPECT_EQ(again["groups"][1]["label"], "unknown");
  std::istringstream lines(analytics::LabelledLines(c.store()));
  std::set<std::string> texts;
  for (std::string line; std::getline(lines, line);) {
    const json j = json::parse(line);
    EXPECT_EQ(j["intent"], "unknown");
    EXPECT_TRUE(j["slots"].is_object());
    texts.insert(j["text"]);
  }
  EXPECT_EQ(texts, (std::set<std::string>{"讲个笑话", "给我讲个笑话", "讲个笑话吧"}));

  // Errors: an intent nlu.md does not have, a group never shown.
  EXPECT_FALSE(analytics::LabelGroup(c.store(), *SharedModel(), Titles(), id, "weather", "a", 1).ok());
  auto missing = analytics::LabelGroup(c.store(), *SharedModel(), Titles(), "000000000000", "greet", "a", 1);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error(), "no such group");
}

// A copy of the corpus with one more rule: what an analyst would deploy.
std::string CorpusWith(const std::string& rule) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("gridbot_corpus_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::copy(CorpusDir(), dir, std::filesystem::copy_options::recursive);
  std::ofstream(dir / "nlu" / "intents.rules", std::ios::app) << "\n" << rule << "\n";
  return dir.string();
}

TEST(Replay, ListsWhatAChangedCorpusWouldReadDifferently) {
  Conversation c;
  SayUnrecognised(c);
  // The same corpus: nothing changes.
  json same = analytics::Replay(c.store(), *SharedModel(), Day(8, 5));
  EXPECT_EQ(same["checked"], 10);
  EXPECT_EQ(same["changed_total"], 0);
  // A rule that makes weather questions about outages.
  auto changed_model = nlu::Model::Load(CorpusWith("query_outage 0.99  (天气)"));
  ASSERT_TRUE(changed_model.ok()) << changed_model.error();
  const json r = analytics::Replay(c.store(), **changed_model, Day(8, 5));
  EXPECT_EQ(r["changed_total"], 5);
  for (const json& ch : r["changed"]) {
    EXPECT_THAT(ch["text"].get<std::string>(), HasSubstr("天气"));
    EXPECT_EQ(ch["before"]["intent"], "unknown");
    EXPECT_EQ(ch["after"]["intent"], "query_outage");
  }
  ASSERT_EQ(r["changes_by_intent"].size(), 1u);
  EXPECT_EQ(r["changes_by_intent"][0]["change"], "unknown → query_outage");
  // The grouping drops what the new rules understand.
  const json g = analytics::UnrecognisedGroups(c.store(), **changed_model, Day(8, 5), 1);
  EXPECT_EQ(g["groups"].size(), 2u);
  EXPECT_THAT(g.dump(), Not(HasSubstr("天气")));
}

TEST(Export, JsonlAndCsvWithBomMaskedUnlessAskedAndBounded) {
  Conversation c;
  c.clock().Set(FromCivil(CivilTime{{2024, 8, 5}, 10, 0, 0}));
  c.Say("我的电话是13800138000，邮箱zhangsan@qq.com", "p1");
  c.Say("户号0301000001234欠费多少", "p2");
  c.Say("=1+1", "p3");
  auto req = [](const char* format) {
    analytics::ExportRequest r;
    r.period = Day(8, 5);
    r.format = format;
    return r;
  };
  auto run = [&c](analytics::ExportRequest r) {
    std::string out;
    Status s = analytics::ExportTurns(c.store(), r, [&out](std::string_view x) { out.append(x); });
    EXPECT_TRUE(s.ok()) << s.message();
    return out;
  };
  const std::string jsonl = run(req("jsonl"));
  std::istringstream in(jsonl);
  int n = 0;
  for (std::string line; std::getline(in, line); ++n) {
    const json j = json::parse(line);
    for (const std::string& col : analytics::ExportColumns()) EXPECT_TRUE(j.contains(col)) << col;
  }
  EXPECT_EQ(n, 3);
  EXPECT_THAT(jsonl, HasSubstr("138****8000"));
  EXPECT_THAT(jsonl, HasSubstr("z***@qq.com"));
  EXPECT_THAT(jsonl, HasSubstr("0301*****1234"));
  EXPECT_THAT(jsonl, Not(HasSubstr("13800138000")));
  EXPECT_THAT(jsonl, Not(HasSubstr("0301000001234")));
  EXPECT_THAT(jsonl, Not(HasSubstr("\"p1\"")));  // customer ids masked too

  const std::string csv = run(req("csv"));
  ASSERT_EQ(csv.substr(0, 3), "\xEF\xBB\xBF");
  EXPECT_EQ(csv.substr(3, csv.find('\r') - 3), "id,time,channel,customer,text,normalized,intent,confidence,"
                                               "slots,flow,step,replies,latency_ms,fallback,handoff");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 4);
  EXPECT_THAT(csv, HasSubstr("\"'=1+1\""));  // never a formula in Excel
  EXPECT_THAT(csv, Not(HasSubstr("13800138000")));

  analytics::ExportRequest raw = req("jsonl");
  raw.unmasked = true;
  EXPECT_THAT(run(raw), HasSubstr("13800138000"));
  analytics::ExportRequest one = req("jsonl");
  one.user = "p2";
  const std::string only = run(one);
  EXPECT_EQ(std::count(only.begin(), only.end(), '\n'), 1);

  analytics::ExportRequest bounded = req("csv");
  bounded.max_rows = 2;
  std::string none;
  EXPECT_FALSE(analytics::ExportTurns(c.store(), bounded, [&none](std::string_view x) { none.append(x); }).ok());
  EXPECT_TRUE(none.empty());
  analytics::ExportRequest bad = req("xlsx");
  EXPECT_FALSE(analytics::ExportTurns(c.store(), bad, [](std::string_view) {}).ok());
}

// Three days of customers; pruning the first two keeps every figure of the
// summary for them and deletes their turns.
TEST(Prune, DeletesOldTurnsAndKeepsTheirDailyFigures) {
  Conversation c;
  const std::vector<std::vector<std::string>> kinds = {
      {"上个月电费多少", "南宁", "0301000001234", "246810"},
      {"家里跳闸了", "取消"},
      {"今天天气怎么样", "讲个笑话", "在吗"},
      {"绑定户号"},
      {"附近的营业厅"}};
  for (int k = 0; k < 45; ++k) {
    UnixSeconds t = FromCivil(CivilTime{{2024, 8, 5 + k % 3}, 9, 0, 0}) + (k / 3) * 40;
    for (const std::string& line : kinds[k % kinds.size()]) {
      c.clock().Set(t);
      c.Say(line, "k" + std::to_string(k));
      t += 10;
    }
  }
  // Across midnight: a conversation from the 5th into the 6th, a binding
  // started at 23:50 and finished at 00:10, and one left waiting at 23:45.
  auto at = [](int day, int h, int m) { return FromCivil(CivilTime{{2024, 8, day}, h, m, 0}); };
  const std::vector<std::tuple<UnixSeconds, std::string, std::string>> night = {
      {at(5, 23, 50), "m1", "绑定户号"},     {at(5, 23, 58), "m1", "南宁"},
      {at(6, 0, 5), "m1", "0301000001234"}, {at(6, 0, 10), "m1", "246810"},
      {at(6, 0, 20), "m1", "上个月电费多少"}, {at(5, 23, 45), "m2", "绑定户号"},
      {at(5, 23, 55), "m3", "你好"},         {at(6, 0, 15), "m3", "附近的营业厅"}};
  for (const auto& [t, user, line] : night) {
    c.clock().Set(t);
    c.Say(line, user);
  }
  const UnixSeconds now = FromCivil(CivilTime{{2024, 8, 8}, 12, 0, 0});
  auto period = analytics::Period::Parse("2024-08-05", "2024-08-07", {2024, 8, 8});
  json before = analytics::Summarize(c.store(), *period, now);

  auto r = analytics::Prune(c.store(), 1, now);  // before the 7th: the 5th and the 6th
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ((*r)["days_kept"], json::array({"2024-08-05", "2024-08-06"}));
  EXPECT_GT((*r)["deleted_turns"].get<int>(), 0);
  {
    storage::Tx tx = c.store().Begin();
    EXPECT_TRUE(storage::TurnsByCustomer(tx, 0, FromCivil(CivilTime{{2024, 8, 7}, 0, 0, 0})).empty());
    EXPECT_FALSE(storage::TurnsByCustomer(tx, 0, now).empty());
  }
  auto q = std::map<std::string, std::string>{{"from", "2024-08-05"}, {"to", "2024-08-06"}, {"q", "电费"}};
  EXPECT_TRUE((*analytics::SearchTurns(c.store(), q, {2024, 8, 8}))["turns"].empty());

  json after = analytics::Summarize(c.store(), *period, now);
  // Latency percentiles of pruned days come from a 10 µs histogram.
  auto close = [](const json& a, const json& b) {
    for (const char* p : {"p50", "p95", "p99"})
      EXPECT_NEAR(a[p].get<double>(), b[p].get<double>(), 0.006) << p;
  };
  close(after["totals"]["latency_ms"], before["totals"]["latency_ms"]);
  for (size_t d = 0; d < 3; ++d) close(after["days"][d]["latency_ms"], before["days"][d]["latency_ms"]);
  for (json* s : std::vector<json*>{&before, &after}) {
    (*s)["totals"].erase("latency_ms");
    for (json& d : (*s)["days"]) d.erase("latency_ms");
  }
  EXPECT_EQ(after["days"], before["days"]);
  // Customers of pruned days are counted per day: m1 and m3 came on two.
  EXPECT_EQ(after["totals"]["customers"].get<int>(), before["totals"]["customers"].get<int>() + 2);
  after["totals"].erase("customers");
  before["totals"].erase("customers");
  EXPECT_EQ(after["totals"], before["totals"]);
  EXPECT_EQ(after["intents"], before["intents"]);
  EXPECT_EQ(after["funnels"], before["funnels"]);
  EXPECT_EQ(after["desk"], before["desk"]);
  EXPECT_FALSE(analytics::Prune(c.store(), 0, now).ok());
  // Again: nothing more to prune, the figures unchanged.
  r = analytics::Prune(c.store(), 1, now);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["deleted_turns"], 0);
  json again = analytics::Summarize(c.store(), *period, now);
  EXPECT_EQ(again["funnels"], after["funnels"]);
}

}  // namespace
}  // namespace gridbot::testing
