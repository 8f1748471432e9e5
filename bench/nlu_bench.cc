// NLU throughput: normalise + segment + classify + slots per message, over
// the test corpus, single thread, after loading. Target (issue 4): at least
// 100,000 messages/s on one core of the 2-core machine.
//
//   make bench            # builds with -DGRIDBOT_BENCH=ON and runs this
#include <benchmark/benchmark.h>

#include <cstdio>

#include "dialogs/commands.h"
#include "dialogs/flows/flows.h"
#include "nlu/eval.h"
#include "nlu/nlu.h"

namespace {

using namespace gridbot;

std::vector<nlu::Example> Read(const std::string& file) {
  auto e = nlu::ReadExamples(std::string(GRIDBOT_SOURCE_DIR) + "/corpus/nlu/" + file);
  if (!e.ok()) {
    std::fprintf(stderr, "%s\n", e.error().c_str());
    std::exit(1);
  }
  return *e;
}

const std::vector<nlu::Example>& Corpus() {
  static const std::vector<nlu::Example> examples = Read("test.jsonl");
  return examples;
}

// Written the hard way (voice text, homophone typos, Cantonese): more of it
// reaches the pinyin correction and the negation scopes.
const std::vector<nlu::Example>& HardCorpus() {
  static const std::vector<nlu::Example> examples = Read("test_hard.jsonl");
  return examples;
}

std::shared_ptr<const nlu::Model> Model() {
  static std::shared_ptr<const nlu::Model> model = [] {
    auto m = nlu::Model::Load(std::string(GRIDBOT_SOURCE_DIR) + "/corpus");
    if (!m.ok()) {
      std::fprintf(stderr, "%s\n", m.error().c_str());
      std::exit(1);
    }
    return *m;
  }();
  return model;
}

// The test corpus, normalised once: the input of the stages after the
// normaliser.
const std::vector<std::string>& NormalizedCorpus() {
  static const std::vector<std::string> normalized = [] {
    std::vector<std::string> out;
    for (const auto& e : Corpus()) out.push_back(Model()->normalizer().Normalize(e.text).text);
    return out;
  }();
  return normalized;
}

// The whole pipeline, as `gridbot nlu` runs it.
void BM_Parse(benchmark::State& state) {
  const auto& corpus = Corpus();
  auto model = Model();
  const CivilDay today{2024, 8, 4};
  size_t i = 0;
  for (auto _ : state) {
    auto u = model->Parse(corpus[i].text, today);
    benchmark::DoNotOptimize(u);
    if (++i == corpus.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Parse);

void BM_ParseHard(benchmark::State& state) {
  const auto& corpus = HardCorpus();
  auto model = Model();
  const CivilDay today{2024, 8, 4};
  size_t i = 0;
  for (auto _ : state) {
    auto u = model->Parse(corpus[i].text, today);
    benchmark::DoNotOptimize(u);
    if (++i == corpus.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseHard);

// The pinyin pass alone (run by Parse only for messages no rule matched).
void BM_Pinyin(benchmark::State& state) {
  const auto& normalized = NormalizedCorpus();
  auto model = Model();
  size_t i = 0;
  for (auto _ : state) {
    auto c = model->pinyin().Correct(normalized[i]);
    benchmark::DoNotOptimize(c);
    if (++i == normalized.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Pinyin);

// The command layer on parsed messages (dialogs/commands.h): at the top
// level and at the service-password step of a binding, the costliest place
// (every message is first tested against the secret's shape). The NLU parse
// is outside the timing.
void CommandsAt(benchmark::State& state, const std::string& flow_name, const std::string& step) {
  static const auto rules = [] {
    auto r = dialogs::CommandRules::Load(std::string(GRIDBOT_SOURCE_DIR) + "/corpus/dialog/commands.rules");
    if (!r.ok()) std::exit(1);
    return *r;
  }();
  static const auto flows = dialogs::MakeFlows();
  const dialogs::Flow* flow = nullptr;
  for (const auto& f : flows)
    if (f->name() == flow_name) flow = f.get();
  dialogs::Frame frame;
  frame.flow = flow_name;
  frame.step = step;
  frame.slots = {{"city", "南宁市"}, {"account_no", "0301000001234"}};
  auto model = Model();
  const CivilDay today{2024, 8, 4};
  std::vector<nlu::Understanding> parsed;
  for (const auto& e : Corpus()) parsed.push_back(model->Parse(e.text, today));
  size_t i = 0;
  for (auto _ : state) {
    dialogs::TurnInput in{parsed[i], *model, today, flow, flow ? &frame : nullptr,
                          [](const std::string& x) { return x != "unknown"; }, "", {},
                          [](const std::string&) { return false; }, nullptr};
    auto c = dialogs::Decide(*rules, in);
    benchmark::DoNotOptimize(c);
    if (++i == parsed.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
void BM_CommandsTopLevel(benchmark::State& state) { CommandsAt(state, "", ""); }
void BM_CommandsAtPasswordStep(benchmark::State& state) {
  CommandsAt(state, "bind_account", "password");
}
BENCHMARK(BM_CommandsTopLevel);
BENCHMARK(BM_CommandsAtPasswordStep);

// The stages alone, to see where the time goes.
void BM_Normalize(benchmark::State& state) {
  const auto& corpus = Corpus();
  auto model = Model();
  size_t i = 0;
  for (auto _ : state) {
    auto n = model->normalizer().Normalize(corpus[i].text);
    benchmark::DoNotOptimize(n);
    if (++i == corpus.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Normalize);

void BM_Slots(benchmark::State& state) {
  const auto& normalized = NormalizedCorpus();
  auto model = Model();
  const CivilDay today{2024, 8, 4};
  size_t i = 0;
  for (auto _ : state) {
    auto s = model->slots().Extract(normalized[i], today);
    benchmark::DoNotOptimize(s);
    if (++i == normalized.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Slots);

void BM_Segment(benchmark::State& state) {
  const auto& normalized = NormalizedCorpus();
  auto model = Model();
  size_t i = 0;
  for (auto _ : state) {
    auto t = model->segmenter().Segment(normalized[i]);
    benchmark::DoNotOptimize(t);
    if (++i == normalized.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Segment);

void BM_Classify(benchmark::State& state) {
  const auto& normalized = NormalizedCorpus();
  auto model = Model();
  size_t i = 0;
  for (auto _ : state) {
    auto c = model->rules().Classify(normalized[i]);
    benchmark::DoNotOptimize(c);
    if (++i == normalized.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Classify);

}  // namespace

BENCHMARK_MAIN();
