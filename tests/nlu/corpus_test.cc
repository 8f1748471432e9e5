// The NLU's floors on the held-out corpus (corpus/nlu/test.jsonl), with
// today = 2024-08-04 as the corpus is labelled. Failing here means a change
// made the NLU worse: fix rules or lexicon, never the test file.
#include <gtest/gtest.h>

#include "nlu/eval.h"

namespace gridbot::nlu {
namespace {

constexpr double kIntentAccuracyFloor = 0.97;  // issue 4
constexpr double kOodRejectionFloor = 0.95;
constexpr double kSlotF1Floor = 0.95;

TEST(Corpus, HeldOutFloors) {
  auto model = Model::Load(std::string(GRIDBOT_SOURCE_DIR) + "/corpus");
  ASSERT_TRUE(model.ok()) << model.error();
  auto examples = ReadExamples(std::string(GRIDBOT_SOURCE_DIR) + "/corpus/nlu/test.jsonl");
  ASSERT_TRUE(examples.ok()) << examples.error();
  ASSERT_GE(examples->size(), 500u);
  EvalReport r = Evaluate(**model, *examples, CivilDay{2024, 8, 4});
  const std::string report = r.ToText(40);
  EXPECT_GE(r.accuracy(), kIntentAccuracyFloor) << report;
  EXPECT_GE(r.ood_rejection(), kOodRejectionFloor) << report;
  EXPECT_GE(r.slots_all.f1(), kSlotF1Floor) << report;
}

// The second held-out file, written the hard way (voice text, homophone
// typos, Cantonese, rambling). Issue 7's goal is 0.97 intent accuracy here;
// measured 0.955 on 2026-12-01, so the floor guards what is reached, not the
// goal (the issue stays open until the goal is the floor).
constexpr double kHardIntentAccuracyFloor = 0.94;

TEST(Corpus, HardHeldOutFloors) {
  auto model = Model::Load(std::string(GRIDBOT_SOURCE_DIR) + "/corpus");
  ASSERT_TRUE(model.ok()) << model.error();
  auto examples = ReadExamples(std::string(GRIDBOT_SOURCE_DIR) + "/corpus/nlu/test_hard.jsonl");
  ASSERT_TRUE(examples.ok()) << examples.error();
  ASSERT_GE(examples->size(), 600u);
  EvalReport r = Evaluate(**model, *examples, CivilDay{2024, 8, 4});
  const std::string report = r.ToText(0);  // the figures only: the lines stay unread
  EXPECT_GE(r.accuracy(), kHardIntentAccuracyFloor) << report;
  EXPECT_GE(r.ood_rejection(), kOodRejectionFloor) << report;
  EXPECT_GE(r.slots_all.f1(), kSlotF1Floor) << report;
}

TEST(Corpus, SpecBorders) {
  auto model = Model::Load(std::string(GRIDBOT_SOURCE_DIR) + "/corpus");
  ASSERT_TRUE(model.ok()) << model.error();
  const CivilDay today{2024, 8, 4};
  auto intent = [&](const char* text) { return (*model)->Parse(text, today).intent; };
  EXPECT_EQ(intent("家里停电了"), "query_outage");
  EXPECT_EQ(intent("家里跳闸了"), "report_fault");
  EXPECT_EQ(intent("取消订阅"), "unsubscribe_bill");
  EXPECT_EQ(intent("取消"), "cancel");
  EXPECT_EQ(intent("电费怎么交"), "pay_bill");
  EXPECT_EQ(intent("我欠多少钱"), "query_arrears");
  EXPECT_EQ(intent("上个月电费多少"), "query_bill");
  EXPECT_EQ(intent("上个月電費多少！！😊"), "query_bill");
  EXPECT_EQ(intent("今天天气怎么样"), "unknown");
  EXPECT_EQ(intent(""), "unknown");
  EXPECT_EQ(intent("\xff\xfe"), "unknown");
}

}  // namespace
}  // namespace gridbot::nlu
