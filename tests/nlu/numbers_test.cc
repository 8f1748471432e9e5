// Tests for nlu/numbers.h: Chinese and Arabic numerals, money, yuan format.
#include "nlu/numbers.h"

#include <gtest/gtest.h>

#include <string>

namespace gridbot::nlu {
namespace {

// "123", or "none" for nullopt, so that failures read as values.
std::string Num(std::string_view s) {
  auto v = ParseNumber(s);
  return v ? std::to_string(*v) : "none";
}

// Yuan as FormatYuan writes it, or "none".
std::string Money(std::string_view s) {
  auto v = ParseMoneyFen(s);
  return v ? FormatYuan(*v) : "none";
}

TEST(ParseNumberTest, ArabicDigits) {
  EXPECT_EQ(Num("0"), "0");
  EXPECT_EQ(Num("7"), "7");
  EXPECT_EQ(Num("123"), "123");
  EXPECT_EQ(Num("0301"), "301");
  EXPECT_EQ(Num("2024"), "2024");
}

TEST(ParseNumberTest, ExamplesFromTheNotes) {
  EXPECT_EQ(Num("一百二十三"), "123");
  EXPECT_EQ(Num("两百"), "200");
  EXPECT_EQ(Num("十二"), "12");
  EXPECT_EQ(Num("一千二"), "1200");
  EXPECT_EQ(Num("三万五"), "35000");
  EXPECT_EQ(Num("二〇二四"), "2024");
  EXPECT_EQ(Num("二零二四"), "2024");
  EXPECT_EQ(Num("零"), "0");
}

TEST(ParseNumberTest, SingleDigitsAndTens) {
  EXPECT_EQ(Num("一"), "1");
  EXPECT_EQ(Num("两"), "2");
  EXPECT_EQ(Num("九"), "9");
  EXPECT_EQ(Num("〇"), "0");
  EXPECT_EQ(Num("十"), "10");
  EXPECT_EQ(Num("二十"), "20");
  EXPECT_EQ(Num("一十二"), "12");
  EXPECT_EQ(Num("九十九"), "99");
}

TEST(ParseNumberTest, PositionalWithZero) {
  EXPECT_EQ(Num("一百零五"), "105");
  EXPECT_EQ(Num("一千零五"), "1005");
  EXPECT_EQ(Num("一千零五十"), "1050");
  EXPECT_EQ(Num("一万零五百"), "10500");
  EXPECT_EQ(Num("两千零二十四"), "2024");
  EXPECT_EQ(Num("一百一十"), "110");
}

TEST(ParseNumberTest, SpokenAbbreviations) {
  EXPECT_EQ(Num("一百一"), "110");
  EXPECT_EQ(Num("两百五"), "250");
  EXPECT_EQ(Num("一千二百三"), "1230");
  EXPECT_EQ(Num("一万二"), "12000");
  EXPECT_EQ(Num("一万二千五"), "12500");
  EXPECT_EQ(Num("一亿五"), "150000000");
}

TEST(ParseNumberTest, LargeUnits) {
  EXPECT_EQ(Num("十万"), "100000");
  EXPECT_EQ(Num("三百万"), "3000000");
  EXPECT_EQ(Num("一亿"), "100000000");
  EXPECT_EQ(Num("一亿零一"), "100000001");
  EXPECT_EQ(Num("三亿两千万"), "320000000");
}

TEST(ParseNumberTest, ArabicWithChineseUnits) {
  EXPECT_EQ(Num("3万"), "30000");
  EXPECT_EQ(Num("12万"), "120000");
  EXPECT_EQ(Num("3千5"), "3500");
}

TEST(ParseNumberTest, FinancialForms) {
  EXPECT_EQ(Num("壹佰贰拾叁"), "123");
  EXPECT_EQ(Num("伍拾"), "50");
}

TEST(ParseNumberTest, NotNumbers) {
  EXPECT_EQ(Num(""), "none");
  EXPECT_EQ(Num("abc"), "none");
  EXPECT_EQ(Num("12a"), "none");
  EXPECT_EQ(Num("一百块"), "none");
  EXPECT_EQ(Num("百"), "none");  // a unit with no digit
  EXPECT_EQ(Num("万"), "none");
  EXPECT_EQ(Num("十百"), "none");  // units must fall
  EXPECT_EQ(Num("一百二百"), "none");
  EXPECT_EQ(Num("一二三百"), "none");  // two digits before a unit
  EXPECT_EQ(Num("二零2四"), "none");   // Arabic and Chinese digits mixed
  EXPECT_EQ(Num("1 2"), "none");
  EXPECT_EQ(Num("一万万"), "none");
  EXPECT_EQ(Num("\xff\xfe"), "none");  // invalid UTF-8 is no crash
}

TEST(ParseNumberTest, Overflow) {
  EXPECT_EQ(Num("99999999999999999999"), "none");
  EXPECT_EQ(Num("九九九九九九九九九九九九九九九九九九九九"), "none");
  EXPECT_EQ(Num("99999999亿"), "none");
}

TEST(ParseMoneyFenTest, ExamplesFromTheSpec) {
  EXPECT_EQ(Money("100元"), "100.00");
  EXPECT_EQ(Money("一百五十块"), "150.00");
  EXPECT_EQ(Money("¥88.5"), "88.50");
}

TEST(ParseMoneyFenTest, ExamplesFromTheHeader) {
  EXPECT_EQ(Money("3块5"), "3.50");
  EXPECT_EQ(Money("两块五毛"), "2.50");
  EXPECT_EQ(Money("12.3元"), "12.30");
}

TEST(ParseMoneyFenTest, YuanWords) {
  EXPECT_EQ(Money("100块钱"), "100.00");
  EXPECT_EQ(Money("一百块"), "100.00");
  EXPECT_EQ(Money("五十元"), "50.00");
  EXPECT_EQ(Money("十块钱"), "10.00");
  EXPECT_EQ(Money("20圆"), "20.00");
  EXPECT_EQ(Money("100 元"), "100.00");
  EXPECT_EQ(Money("一千二百元"), "1200.00");
  EXPECT_EQ(Money("三万五元"), "35000.00");
  EXPECT_EQ(Money("0元"), "0.00");
}

TEST(ParseMoneyFenTest, JiaoAndFen) {
  EXPECT_EQ(Money("3元5角2分"), "3.52");
  EXPECT_EQ(Money("两块五毛五"), "2.55");
  EXPECT_EQ(Money("两块五毛钱"), "2.50");
  EXPECT_EQ(Money("一块五"), "1.50");
  EXPECT_EQ(Money("五毛"), "0.50");
  EXPECT_EQ(Money("五毛钱"), "0.50");
  EXPECT_EQ(Money("5角"), "0.50");
  EXPECT_EQ(Money("5毛5"), "0.55");
  EXPECT_EQ(Money("8分"), "0.08");
  EXPECT_EQ(Money("8分钱"), "0.08");
}

TEST(ParseMoneyFenTest, Decimals) {
  EXPECT_EQ(Money("88.50元"), "88.50");
  EXPECT_EQ(Money("0.5元"), "0.50");
  EXPECT_EQ(Money("三点五元"), "3.50");
  EXPECT_EQ(Money("1.5万元"), "15000.00");
  EXPECT_EQ(Money("¥0.01"), "0.01");
  EXPECT_EQ(Money("12.345元"), "none");  // finer than a fen
}

TEST(ParseMoneyFenTest, CurrencySigns) {
  EXPECT_EQ(Money("¥100"), "100.00");
  EXPECT_EQ(Money("￥100"), "100.00");
  EXPECT_EQ(Money("¥ 100"), "100.00");
  EXPECT_EQ(Money("¥100元"), "100.00");
  EXPECT_EQ(Money("rmb100"), "100.00");
  EXPECT_EQ(Money("人民币50元"), "50.00");
}

TEST(ParseMoneyFenTest, NotMoney) {
  EXPECT_EQ(Money(""), "none");
  EXPECT_EQ(Money("100"), "none");  // no currency
  EXPECT_EQ(Money("一百"), "none");
  EXPECT_EQ(Money("元"), "none");
  EXPECT_EQ(Money("¥"), "none");
  EXPECT_EQ(Money("100度"), "none");
  EXPECT_EQ(Money("100元钱啊"), "none");  // the whole string must be money
  EXPECT_EQ(Money("3.5元5角"), "none");   // decimals and jiao both
  EXPECT_EQ(Money("3块50"), "none");      // 50 is not one jiao digit
  EXPECT_EQ(Money("百元"), "none");
}

TEST(FormatYuanTest, TwoDecimals) {
  EXPECT_EQ(FormatYuan(15000), "150.00");
  EXPECT_EQ(FormatYuan(8850), "88.50");
  EXPECT_EQ(FormatYuan(5), "0.05");
  EXPECT_EQ(FormatYuan(0), "0.00");
  EXPECT_EQ(FormatYuan(100000000), "1000000.00");
  EXPECT_EQ(FormatYuan(-250), "-2.50");
}

}  // namespace
}  // namespace gridbot::nlu
