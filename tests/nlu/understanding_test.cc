// The NLU's newer mechanisms (issue 7): homophone typos corrected by pinyin
// (nlu/pinyin.h), negation scopes (the negated part does not vote), and
// numbers read out digit by digit in Chinese.
#include <gtest/gtest.h>

#include "nlu/nlu.h"

namespace gridbot::nlu {
namespace {

std::shared_ptr<const Model> Shared() {
  static std::shared_ptr<const Model> model = [] {
    auto m = Model::Load(std::string(GRIDBOT_SOURCE_DIR) + "/corpus");
    EXPECT_TRUE(m.ok()) << m.error();
    return *m;
  }();
  return model;
}

const CivilDay kToday{2024, 8, 4};

TEST(Pinyin, SoundsAreTonelessAndFoldSouthernConfusions) {
  const PinyinMatcher& p = Shared()->pinyin();
  EXPECT_EQ(p.Sound(U'绑'), "ban");   // bang: -ng folded
  EXPECT_EQ(p.Sound(U'版'), "ban");
  EXPECT_EQ(p.Sound(U'修'), "xiu");
  EXPECT_EQ(p.Sound(U'秀'), "xiu");
  EXPECT_EQ(p.Sound(U'真'), "zen");   // zhen: zh folded
  EXPECT_EQ(p.Sound(U'能'), "len");   // neng: n/l and -ng folded
  EXPECT_EQ(p.Sound(U'a'), "");
  EXPECT_GT(p.words(), 50u);
}

TEST(Pinyin, CorrectsHomophoneTyposOfDomainWords) {
  const PinyinMatcher& p = Shared()->pinyin();
  EXPECT_EQ(p.Correct("版定户号"), "绑定户号");
  EXPECT_EQ(p.Correct("我要报秀"), "我要报修");
  EXPECT_EQ(p.Correct("人攻客服"), "人工客服");
  EXPECT_EQ(p.Correct("家里停点了"), "家里停电了");
  EXPECT_EQ(p.Correct("今天天气好"), "今天天气好");  // nothing sounds like a domain word
  EXPECT_EQ(p.Correct("abc 123"), "abc 123");
}

TEST(Pinyin, OnlyMessagesNoRuleUnderstoodAreCorrectedAndTheyCostConfidence) {
  // Typos no rule spells out (the rules carry the frequent ones: 版定, 人攻 …).
  const Understanding typo = Shared()->Parse("傍锭户号", kToday);
  EXPECT_EQ(typo.intent, "bind_account");
  EXPECT_EQ(typo.corrected, "绑定户号");
  const Understanding right = Shared()->Parse("绑定户号", kToday);
  EXPECT_EQ(right.corrected, "");
  EXPECT_LT(typo.confidence, right.confidence);
  EXPECT_EQ(Shared()->Parse("仁功客服", kToday).intent, "human_agent");
  EXPECT_EQ(Shared()->Parse("家里亭店了", kToday).intent, "query_outage");
}

TEST(Negation, ScopeRunsToTheContrast) {
  const std::string s = "不是停电 是跳闸";
  auto spans = NegatedSpans(s);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(s.substr(spans[0].begin, spans[0].end - spans[0].begin), "停电");
  const std::string t = "我不是要交费是想查账单";
  spans = NegatedSpans(t);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(t.substr(spans[0].begin, spans[0].end - spans[0].begin), "交费");
  EXPECT_TRUE(NegatedSpans("是不是电表坏了").empty());  // a question, not a negation
  EXPECT_TRUE(NegatedSpans("要不要交电费").empty());
  EXPECT_TRUE(NegatedSpans("上个月电费多少").empty());
}

TEST(Negation, TheNegatedPartDoesNotVote) {
  EXPECT_EQ(Shared()->Parse("我不是要交费，是想查账单", kToday).intent, "query_bill");
  EXPECT_EQ(Shared()->Parse("不用绑定 我就问问停电", kToday).intent, "query_outage");
  EXPECT_EQ(Shared()->Parse("不是停电，是跳闸", kToday).intent, "report_fault");
  // Nothing else asked: the intent stands, the negated option is set aside.
  const Understanding u = Shared()->Parse("我不想用支付宝", kToday);
  EXPECT_EQ(u.intent, "pay_bill");
  EXPECT_EQ(u.negated.at("pay_method"), "alipay");
  EXPECT_EQ(u.slots.at("pay_method"), "alipay");  // the message names it (nlu.md)
}

TEST(ChineseDigits, RunsOfSevenOrMoreAreNumbers) {
  EXPECT_EQ(ChineseDigitRunsToAscii("零三零一零零零零零一二三四"), "0301000001234");
  EXPECT_EQ(ChineseDigitRunsToAscii("手机幺三八零零幺三八零零零"), "手机13800138000");
  EXPECT_EQ(ChineseDigitRunsToAscii("三月份"), "三月份");       // a month, not a number
  EXPECT_EQ(ChineseDigitRunsToAscii("一二三四五六"), "一二三四五六");  // six: left alone
  EXPECT_EQ(Shared()->Parse("户号零三零一零零零零零一二三四", kToday).slots.at("account_no"),
            "0301000001234");
}

}  // namespace
}  // namespace gridbot::nlu
