// Which search index finds what an analyst types (issue 9): the log made by
// the real engine from every customer message of corpus/nlu/*.jsonl (one
// customer each), then, for each query of bench/search_queries.txt, the
// turns whose normalised text contains it (what the analyst means) against
// what each index returns:
//   bigrams  — overlapping character bigrams as a phrase (what `q` uses);
//   words    — the ICU + lexicon tokens, the query as a phrase of its tokens;
//   either   — the union.
// Then the time of a search on a larger log (each turn copied N times).
//
//   build/bench/search_eval [--copies 30]     (make bench-search)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "analytics/summary.h"
#include "analytics/turns.h"
#include "dialogs/commands.h"
#include "dialogs/engine.h"
#include "storage/analytics.h"
#include "storage/fixtures.h"

using namespace gridbot;

namespace {

std::string Corpus() { return std::string(GRIDBOT_SOURCE_DIR) + "/corpus"; }

template <typename T>
T Must(Result<T> r, const char* what) {
  if (!r.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, r.error().c_str());
    std::exit(1);
  }
  return std::move(*r);
}

double Millis(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

}  // namespace

int main(int argc, char** argv) {
  int copies = 30;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--copies") copies = std::atoi(argv[++i]);

  auto model = Must(nlu::Model::Load(Corpus()), "corpus");
  auto replies = Must(dialogs::Replies::Load(Corpus() + "/replies"), "replies");
  auto rules = Must(dialogs::CommandRules::Load(Corpus() + "/dialog/commands.rules"), "commands");
  auto store = Must(storage::Store::Open(":memory:"), "store");
  {
    storage::Tx tx = store->Begin();
    tx.ReplaceBackend(Must(storage::ReadFixtureFile(Corpus() + "/demo/fixtures.json"), "fixtures"));
    tx.Commit();
  }
  auto clock = std::make_shared<FakeClock>(FromCivil(CivilTime{{2024, 8, 5}, 9, 0, 0}));
  dialogs::Engine engine(model, replies, rules, *store, clock);

  int n = 0;
  for (const char* file : {"train.jsonl", "test.jsonl", "test_hard.jsonl"}) {
    std::ifstream in(Corpus() + "/nlu/" + file);
    for (std::string line; std::getline(in, line);) {
      const auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_object() || !j.contains("text")) continue;
      dialogs::Inbound m;
      m.channel = "web";
      m.user = "c" + std::to_string(n++);
      m.text = j["text"].get<std::string>();
      engine.Handle(m);
      clock->Advance(1);
    }
  }
  const auto period = *analytics::Period::Parse("2024-08-05", "2024-08-06", {2024, 8, 6});

  // Every turn's normalised text, as logged.
  std::map<std::int64_t, std::string> normalized;
  {
    storage::Tx tx = store->Begin();
    for (const auto& t : storage::ExportBatch(tx, period.begin, period.end, "", "", "", 0, 1 << 30))
      if (t.text != "******") normalized[t.id] = t.normalized;
  }
  std::printf("log: %d customer messages, %zu turns searchable\n\n", n, normalized.size());
  std::printf("%-8s %6s | %-17s | %-17s | %-17s\n", "query", "truth", "bigrams rec/prec",
              "words rec/prec", "either rec/prec");

  std::ifstream qf(std::string(GRIDBOT_SOURCE_DIR) + "/bench/search_queries.txt");
  std::vector<std::string> queries;
  for (std::string q; std::getline(qf, q);)
    if (!q.empty() && q[0] != '#') queries.push_back(q);

  struct Sum {
    double hit = 0, found = 0;
  };
  std::map<std::string, Sum> sums;
  double truth_total = 0;
  for (const std::string& q : queries) {
    std::set<std::int64_t> truth;
    for (const auto& [id, text] : normalized)
      if (text.find(q) != std::string::npos) truth.insert(id);
    std::map<std::string, std::set<std::int64_t>> got;
    {
      storage::Tx tx = store->Begin();
      for (auto id : storage::MatchIds(tx, "grams : \"" + storage::Bigrams(q) + "\"")) got["bigrams"].insert(id);
      std::string words;
      for (const auto& w : model->Parse(q, {2024, 8, 5}).tokens) words += (words.empty() ? "" : " ") + w;
      for (auto id : storage::MatchIds(tx, "words : \"" + words + "\"")) got["words"].insert(id);
    }
    got["either"] = got["bigrams"];
    got["either"].insert(got["words"].begin(), got["words"].end());
    std::printf("%-8s %6zu |", q.c_str(), truth.size());
    truth_total += truth.size();
    for (const char* index : {"bigrams", "words", "either"}) {
      const auto& g = got[index];
      size_t hit = 0;
      for (auto id : g) hit += truth.count(id);
      sums[index].hit += hit;
      sums[index].found += g.size();
      std::printf(" %6.1f%% / %6.1f%% |", truth.empty() ? 100.0 : 100.0 * hit / truth.size(),
                  g.empty() ? 100.0 : 100.0 * hit / g.size());
    }
    std::printf("\n");
  }
  std::printf("%-8s %6.0f |", "all", truth_total);
  for (const char* index : {"bigrams", "words", "either"})
    std::printf(" %6.1f%% / %6.1f%% |", 100.0 * sums[index].hit / truth_total,
                100.0 * sums[index].hit / sums[index].found);
  std::printf("\n\n");

  // Time on a larger log: every turn copied.
  {
    storage::Tx tx = store->Begin();
    for (const auto& [id, text] : normalized) storage::DuplicateTurn(tx, id, copies);
    tx.Commit();
  }
  const size_t total = normalized.size() * (copies + 1);
  std::printf("search time on %zu turns (median of 15; the first page of 50, newest first):\n", total);
  for (const char* q : {"电费", "跳闸", "营业厅", "上个月电费"}) {
    std::vector<double> ms;
    size_t found = 0;
    for (int r = 0; r < 15; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      auto page = analytics::SearchTurns(*store, {{"from", "2024-08-05"}, {"to", "2024-08-06"}, {"q", q}},
                                         {2024, 8, 6});
      ms.push_back(Millis(std::chrono::steady_clock::now() - t0));
      found = page.ok() ? (*page)["turns"].size() : 0;
    }
    std::sort(ms.begin(), ms.end());
    std::printf("  %-10s %6.2f ms  (%zu on the page)\n", q, ms[ms.size() / 2], found);
  }
  {
    std::vector<double> ms;
    for (int r = 0; r < 5; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      std::map<std::string, std::string> q = {{"from", "2024-08-05"}, {"to", "2024-08-06"}, {"q", "电费"},
                                              {"limit", "500"}};
      size_t pages = 0;
      for (;; ++pages) {
        auto page = analytics::SearchTurns(*store, q, {2024, 8, 6});
        if (!page.ok() || (*page)["next"].is_null()) break;
        q["cursor"] = (*page)["next"].get<std::string>();
      }
      ms.push_back(Millis(std::chrono::steady_clock::now() - t0));
    }
    std::sort(ms.begin(), ms.end());
    std::printf("  every page of 电费 (500 a page): %.0f ms\n", ms[ms.size() / 2]);
  }
  return 0;
}
