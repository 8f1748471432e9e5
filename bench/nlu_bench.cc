// NLU throughput: normalise + segment + classify + slots per message, over
// the test corpus, single thread, after loading. Target (issue 4): at least
// 100,000 messages/s on one core of the 2-core machine.
//
//   make bench            # builds with -DGRIDBOT_BENCH=ON and runs this
#include <benchmark/benchmark.h>

#include <cstdio>

#include "nlu/eval.h"
#include "nlu/nlu.h"

namespace {

using namespace gridbot;

const std::vector<nlu::Example>& Corpus() {
  static const std::vector<nlu::Example> examples = [] {
    auto e = nlu::ReadExamples(std::string(GRIDBOT_SOURCE_DIR) + "/corpus/nlu/test.jsonl");
    if (!e.ok()) {
      std::fprintf(stderr, "%s\n", e.error().c_str());
      std::exit(1);
    }
    return *e;
  }();
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
