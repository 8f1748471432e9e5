#include "nlu/normalizer.h"

#include <gtest/gtest.h>

#include "nlu/segmenter.h"

namespace gridbot::nlu {
namespace {

TEST(Normalizer, FoldsWidthCaseTraditionalEmojiAndPunctuation) {
  Normalizer n;
  EXPECT_EQ(n.Normalize("繳費 ０３０１！😊").text, "缴费 0301");
  EXPECT_EQ(n.Normalize("上個月電費多少？？").text, "上个月电费多少");
  EXPECT_EQ(n.Normalize("查 电 费").text, "查电费");
  EXPECT_EQ(n.Normalize("ABC@QQ.COM").text, "abc@qq.com");
  EXPECT_EQ(n.Normalize("138 0013 8000").text, "138 0013 8000");
  EXPECT_EQ(n.Normalize("￥88.5").text, "¥88.5");
  EXPECT_EQ(n.Normalize("  ").text, "");
  EXPECT_EQ(n.Normalize("帳單。").text, "帐单");  // ICU: 帳 → 帐, a valid simplified form
}

TEST(Normalizer, InvalidUtf8IsFlaggedNotCrashing) {
  Normalizer n;
  for (const char* bad : {"\xff", "\xc0\xaf", "\xed\xa0\x80", "abc\xe4\xb8"}) {
    NormalizedText t = n.Normalize(bad);
    EXPECT_FALSE(t.valid_utf8) << bad;
    EXPECT_EQ(t.text, "");
  }
}

TEST(Segmenter, KeepsDomainWordsWhole) {
  Segmenter s({"电费", "户号", "报修", "青秀区"});
  std::vector<std::string> expected = {"查", "电费", "户号", "青秀区", "报修"};
  auto got = s.Segment("查电费户号青秀区报修");
  ASSERT_GE(got.size(), 4u);
  EXPECT_EQ(got[1], "电费");
  EXPECT_EQ(got[2], "户号");
  EXPECT_EQ(got[3], "青秀区");
  EXPECT_EQ(got.back(), "报修");
}

}  // namespace
}  // namespace gridbot::nlu

namespace gridbot::nlu {
namespace {

TEST(Normalizer, MeaningfulEmojiReadAsWords) {
  Normalizer n;
  ASSERT_TRUE(n.LoadEmojiWords(std::string(GRIDBOT_SOURCE_DIR) + "/corpus/nlu/emoji.tsv").ok());
  EXPECT_EQ(n.Normalize("👍").text, "好的");
  EXPECT_EQ(n.Normalize("好的👍").text, "好的 好的");
  EXPECT_EQ(n.Normalize("查电费😊").text, "查电费");  // other emoji are set aside
}

}  // namespace
}  // namespace gridbot::nlu
