// Tests for nlu/slots.h: every slot of nlu.md, on normalised text (lower-case
// ASCII, Simplified Chinese, CJK punctuation already turned into spaces).
// Today is 2024-08-04 unless a test says otherwise.
#include "nlu/slots.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#ifndef GRIDBOT_SOURCE_DIR
#define GRIDBOT_SOURCE_DIR "/work/main"
#endif

namespace gridbot::nlu {
namespace {

constexpr CivilDay kToday{2024, 8, 4};

const SlotExtractor& Extractor() {
  static const Gazetteer* gazetteer = [] {
    auto r = Gazetteer::Load(std::string(GRIDBOT_SOURCE_DIR) + "/corpus/gazetteer");
    EXPECT_TRUE(r.ok()) << r.error();
    return new Gazetteer(std::move(r).value());
  }();
  static const SlotExtractor* extractor = new SlotExtractor(*gazetteer);
  return *extractor;
}

// All slots as "name=value" joined by spaces, in name order, so that a
// failure reads as a diff.
std::string S(std::string_view text, CivilDay today = kToday) {
  std::string out;
  for (const auto& [name, value] : Extractor().Extract(text, today)) {
    if (!out.empty()) out += ' ';
    out += name + "=" + value;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Months: the examples of nlu.md, "Dates", with today 2024-08-04.

TEST(MonthTest, ThisLastAndTheOneBefore) {
  EXPECT_EQ(S("这个月"), "month=2024-08");
  EXPECT_EQ(S("本月"), "month=2024-08");
  EXPECT_EQ(S("当月电费"), "month=2024-08");
  EXPECT_EQ(S("上个月"), "month=2024-07");
  EXPECT_EQ(S("上月"), "month=2024-07");
  EXPECT_EQ(S("上上个月"), "month=2024-06");
  EXPECT_EQ(S("上上月的账单"), "month=2024-06");
  EXPECT_EQ(S("帮我查下上个月电费"), "month=2024-07");
  EXPECT_EQ(S("这个月电费多少"), "month=2024-08");
}

TEST(MonthTest, MonthWithoutYear) {
  EXPECT_EQ(S("3月"), "month=2024-03");
  EXPECT_EQ(S("三月份"), "month=2024-03");
  EXPECT_EQ(S("查一下3月份的账单"), "month=2024-03");
  EXPECT_EQ(S("8月"), "month=2024-08");  // the current month is this year's
  EXPECT_EQ(S("9月"), "month=2023-09");  // after the current month: last year's
  EXPECT_EQ(S("10月"), "month=2023-10");
  EXPECT_EQ(S("十月"), "month=2023-10");
  EXPECT_EQ(S("十一月"), "month=2023-11");
  EXPECT_EQ(S("十二月"), "month=2023-12");
  EXPECT_EQ(S("一月份"), "month=2024-01");
  EXPECT_EQ(S("03月"), "month=2024-03");
  EXPECT_EQ(S("3 月"), "month=2024-03");
}

TEST(MonthTest, RelativeYears) {
  EXPECT_EQ(S("去年3月"), "month=2023-03");
  EXPECT_EQ(S("今年五月"), "month=2024-05");
  EXPECT_EQ(S("前年12月"), "month=2022-12");
  EXPECT_EQ(S("去年十二月的电费"), "month=2023-12");
  EXPECT_EQ(S("今年的3月"), "month=2024-03");
  EXPECT_EQ(S("今年10月"), "month=2024-10");  // a year said outright is kept
}

TEST(MonthTest, WrittenYears) {
  EXPECT_EQ(S("2024年3月"), "month=2024-03");
  EXPECT_EQ(S("2024-03"), "month=2024-03");
  EXPECT_EQ(S("2024.3"), "month=2024-03");
  EXPECT_EQ(S("2024/3"), "month=2024-03");
  EXPECT_EQ(S("24年3月"), "month=2024-03");
  EXPECT_EQ(S("2023年12月"), "month=2023-12");
  EXPECT_EQ(S("2024 年 3 月"), "month=2024-03");
  EXPECT_EQ(S("二〇二四年三月"), "month=2024-03");
  EXPECT_EQ(S("二零二四年三月"), "month=2024-03");
  EXPECT_EQ(S("二四年三月"), "month=2024-03");
  EXPECT_EQ(S("2024年03月份"), "month=2024-03");
}

TEST(MonthTest, DayOfMonthStillGivesTheMonth) {
  EXPECT_EQ(S("3月5号"), "month=2024-03");
  EXPECT_EQ(S("3月5日停电了吗"), "month=2024-03");
  EXPECT_EQ(S("三月五号"), "month=2024-03");
  EXPECT_EQ(S("2024-03-05"), "month=2024-03");
  EXPECT_EQ(S("2024年7月20号交的"), "month=2024-07");
}

TEST(MonthTest, NotMonths) {
  EXPECT_EQ(S("13月"), "");
  EXPECT_EQ(S("十三月"), "");
  EXPECT_EQ(S("0月"), "");
  EXPECT_EQ(S("2024年13月"), "");
  EXPECT_EQ(S("3个月"), "");
  EXPECT_EQ(S("三个月没交了"), "");
  EXPECT_EQ(S("交了3个月"), "");
  EXPECT_EQ(S("两个月"), "");
  EXPECT_EQ(S("两月没交了"), "");  // 两月 is two months, not February
  EXPECT_EQ(S("一二月份"), "");    // January and February, not December
  EXPECT_EQ(S("每个月把账单发我"), "");
  EXPECT_EQ(S("每月"), "");
  EXPECT_EQ(S("最近半个月"), "");
  EXPECT_EQ(S("电费多少"), "");
}

// ---------------------------------------------------------------------------
// Ranges.

TEST(RangeTest, ExamplesFromTheSpec) {
  const std::string kMarchToJune = "end_month=2024-06 start_month=2024-03";
  EXPECT_EQ(S("3月到6月"), kMarchToJune);
  EXPECT_EQ(S("3至6月"), kMarchToJune);
  EXPECT_EQ(S("从三月到六月"), kMarchToJune);
  EXPECT_EQ(S("3-6月"), kMarchToJune);
  EXPECT_EQ(S("3月到6月交了多少"), kMarchToJune);
  EXPECT_EQ(S("最近三个月"), "end_month=2024-08 start_month=2024-06");
  EXPECT_EQ(S("近3个月"), "end_month=2024-08 start_month=2024-06");
  EXPECT_EQ(S("今年"), "end_month=2024-08 start_month=2024-01");
  EXPECT_EQ(S("去年"), "end_month=2023-12 start_month=2023-01");
}

TEST(RangeTest, MoreWaysToSayIt) {
  const std::string kMarchToJune = "end_month=2024-06 start_month=2024-03";
  EXPECT_EQ(S("3月至6月"), kMarchToJune);
  EXPECT_EQ(S("3月-6月"), kMarchToJune);
  EXPECT_EQ(S("3月~6月"), kMarchToJune);
  EXPECT_EQ(S("三到六月"), kMarchToJune);
  EXPECT_EQ(S("3月份到6月份的缴费记录"), kMarchToJune);
  EXPECT_EQ(S("3月 到 6月"), kMarchToJune);
  EXPECT_EQ(S("3月5号到6月10号"), kMarchToJune);
  EXPECT_EQ(S("2024.3-2024.6"), kMarchToJune);
  EXPECT_EQ(S("2024-03至2024-06"), kMarchToJune);
  EXPECT_EQ(S("2024年3-6月"), kMarchToJune);
  EXPECT_EQ(S("从2024年3月到6月"), kMarchToJune);
}

TEST(RangeTest, ExplicitYears) {
  EXPECT_EQ(S("2023年11月到2024年2月"), "end_month=2024-02 start_month=2023-11");
  EXPECT_EQ(S("去年12月到今年3月"), "end_month=2024-03 start_month=2023-12");
  EXPECT_EQ(S("去年3到6月"), "end_month=2023-06 start_month=2023-03");
  EXPECT_EQ(S("去年3月到6月"), "end_month=2023-06 start_month=2023-03");
  // The end follows a start whose year is given.
  EXPECT_EQ(S("2023年11月到2月"), "end_month=2024-02 start_month=2023-11");
}

TEST(RangeTest, YearsWithoutWritingThem) {
  // Across new year: the end by today's rule, the start before it.
  EXPECT_EQ(S("11月到2月"), "end_month=2024-02 start_month=2023-11");
  // Both after the current month: both last year's.
  EXPECT_EQ(S("9月到10月"), "end_month=2023-10 start_month=2023-09");
  // The end after the current month takes the start back with it.
  EXPECT_EQ(S("6月到10月"), "end_month=2023-10 start_month=2023-06");
  EXPECT_EQ(S("十一月到十二月"), "end_month=2023-12 start_month=2023-11");
}

TEST(RangeTest, BackwardsIsPutRight) {
  EXPECT_EQ(S("2024年6月到2024年3月"), "end_month=2024-06 start_month=2024-03");
}

TEST(RangeTest, RollingWindows) {
  EXPECT_EQ(S("近半年"), "end_month=2024-08 start_month=2024-03");
  EXPECT_EQ(S("最近半年的缴费记录"), "end_month=2024-08 start_month=2024-03");
  EXPECT_EQ(S("最近一年"), "end_month=2024-08 start_month=2023-09");
  EXPECT_EQ(S("近一年"), "end_month=2024-08 start_month=2023-09");
  EXPECT_EQ(S("过去一年"), "end_month=2024-08 start_month=2023-09");
  EXPECT_EQ(S("近两年"), "end_month=2024-08 start_month=2022-09");
  EXPECT_EQ(S("最近6个月"), "end_month=2024-08 start_month=2024-03");
  EXPECT_EQ(S("近两个月"), "end_month=2024-08 start_month=2024-07");
  EXPECT_EQ(S("最近一个月"), "end_month=2024-08 start_month=2024-08");
  EXPECT_EQ(S("近十二个月"), "end_month=2024-08 start_month=2023-09");
}

TEST(RangeTest, WholeYears) {
  EXPECT_EQ(S("今年交了多少"), "end_month=2024-08 start_month=2024-01");
  EXPECT_EQ(S("去年的缴费记录"), "end_month=2023-12 start_month=2023-01");
  EXPECT_EQ(S("前年"), "end_month=2022-12 start_month=2022-01");
  EXPECT_EQ(S("2023年的账单"), "end_month=2023-12 start_month=2023-01");
  EXPECT_EQ(S("2024年的账单"), "end_month=2024-08 start_month=2024-01");
  EXPECT_EQ(S("2025年的账单"), "");  // no bills from the future
}

TEST(RangeTest, UpToNow) {
  EXPECT_EQ(S("3月至今"), "end_month=2024-08 start_month=2024-03");
  EXPECT_EQ(S("5月以来的缴费"), "end_month=2024-08 start_month=2024-05");
  EXPECT_EQ(S("今年3月到现在"), "end_month=2024-08 start_month=2024-03");
  EXPECT_EQ(S("上个月到这个月"), "end_month=2024-08 start_month=2024-07");
  EXPECT_EQ(S("10月至今"), "end_month=2024-08 start_month=2023-10");
}

TEST(RangeTest, RangeWinsOverSingleMonths) {
  EXPECT_EQ(S("3月到6月 还有8月"), "end_month=2024-06 start_month=2024-03");
  EXPECT_EQ(S("3月和5月"), "month=2024-03");  // no range: the first month
}

TEST(RangeTest, InvalidEndGivesNothing) {
  EXPECT_EQ(S("3月到13月"), "");
  EXPECT_EQ(S("3至13月"), "");
}

// ---------------------------------------------------------------------------
// Dates on other days: year boundaries.

TEST(DateBoundaryTest, JanuaryLooksBackToDecember) {
  const CivilDay jan{2024, 1, 15};
  EXPECT_EQ(S("上个月", jan), "month=2023-12");
  EXPECT_EQ(S("上上个月", jan), "month=2023-11");
  EXPECT_EQ(S("这个月", jan), "month=2024-01");
  EXPECT_EQ(S("1月", jan), "month=2024-01");
  EXPECT_EQ(S("2月", jan), "month=2023-02");
  EXPECT_EQ(S("12月", jan), "month=2023-12");
  EXPECT_EQ(S("最近三个月", jan), "end_month=2024-01 start_month=2023-11");
  EXPECT_EQ(S("12月到1月", jan), "end_month=2024-01 start_month=2023-12");
  EXPECT_EQ(S("今年", jan), "end_month=2024-01 start_month=2024-01");
  EXPECT_EQ(S("去年", jan), "end_month=2023-12 start_month=2023-01");
}

TEST(DateBoundaryTest, FebruaryLooksBackOverNewYear) {
  const CivilDay feb{2025, 2, 1};
  EXPECT_EQ(S("上上个月", feb), "month=2024-12");
  EXPECT_EQ(S("近半年", feb), "end_month=2025-02 start_month=2024-09");
}

TEST(DateBoundaryTest, December) {
  const CivilDay dec{2023, 12, 31};
  EXPECT_EQ(S("12月", dec), "month=2023-12");
  EXPECT_EQ(S("十二月", dec), "month=2023-12");
  EXPECT_EQ(S("上个月", dec), "month=2023-11");
  EXPECT_EQ(S("最近一年", dec), "end_month=2023-12 start_month=2023-01");
  EXPECT_EQ(S("今年", dec), "end_month=2023-12 start_month=2023-01");
}

TEST(DateBoundaryTest, LeapDayIsAnOrdinaryDay) {
  const CivilDay leap{2024, 2, 29};
  EXPECT_EQ(S("上个月", leap), "month=2024-01");
  EXPECT_EQ(S("2月", leap), "month=2024-02");
  EXPECT_EQ(S("3月", leap), "month=2023-03");
}

// ---------------------------------------------------------------------------
// Account, phone and card numbers.

TEST(AccountTest, ExamplesFromTheSpec) {
  EXPECT_EQ(S("户号0301000001234"), "account_no=0301000001234");
  EXPECT_EQ(S("我要绑定0301000012345"), "account_no=0301000012345");
  EXPECT_EQ(S("把0301000012345设为默认"), "account_no=0301000012345");
}

TEST(AccountTest, TenToThirteenDigitsLeadingZerosKept) {
  EXPECT_EQ(S("0123456789"), "account_no=0123456789");
  EXPECT_EQ(S("户号 0000000001234"), "account_no=0000000001234");
  EXPECT_EQ(S("户号:0301000001234"), "account_no=0301000001234");
  EXPECT_EQ(S("用户编号0301000012345"), "account_no=0301000012345");
  EXPECT_EQ(S("123456789"), "");       // 9 digits
  EXPECT_EQ(S("12345678901234"), "");  // 14 digits
}

TEST(AccountTest, ElevenDigitsAfterAccountWordsAreAnAccount) {
  EXPECT_EQ(S("我的户号是13800138000"), "account_no=13800138000");
  EXPECT_EQ(S("户口号13800138000"), "account_no=13800138000");
  EXPECT_EQ(S("用户号13912345678"), "account_no=13912345678");
  EXPECT_EQ(S("账号 15012345678"), "account_no=15012345678");
  EXPECT_EQ(S("户号12345678901"), "account_no=12345678901");
}

TEST(AccountTest, LoginAccountIsThePhone) {
  // The platform's login account is a mobile number; 账号 elsewhere is the
  // electricity account.
  EXPECT_EQ(S("我的账号是17707712345 密码123456 帮我登录"), "phone=17707712345");
  EXPECT_EQ(S("注册账号13800138000"), "phone=13800138000");
  EXPECT_EQ(S("电费账号17707712345"), "account_no=17707712345");
}

TEST(AccountTest, WrittenInGroupsAfterAccountWords) {
  EXPECT_EQ(S("户号 0301 0000 12345"), "account_no=0301000012345");
  EXPECT_EQ(S("0301 0000 12345"), "");  // without the word, three short numbers
  EXPECT_EQ(S("户号是 0301 000 001 234"), "account_no=0301000001234");
  EXPECT_EQ(S("户号0301000012 345元"), "account_no=0301000012 amount=345.00");
}

TEST(PhoneTest, ElevenDigitMobiles) {
  EXPECT_EQ(S("13800138000"), "phone=13800138000");
  EXPECT_EQ(S("手机13800138000"), "phone=13800138000");
  EXPECT_EQ(S("电话是19912345678"), "phone=19912345678");
  EXPECT_EQ(S("12345678901"), "account_no=12345678901");  // 12 is no mobile prefix
}

TEST(PhoneTest, SpacesDashesAndCountryCode) {
  EXPECT_EQ(S("138 0013 8000"), "phone=13800138000");
  EXPECT_EQ(S("138-0013-8000"), "phone=13800138000");
  EXPECT_EQ(S("+86 138 0013 8000"), "phone=13800138000");
  EXPECT_EQ(S("+86-138-0013-8000"), "phone=13800138000");
  EXPECT_EQ(S("86 13800138000"), "phone=13800138000");
  EXPECT_EQ(S("+8613800138000"), "phone=13800138000");
  EXPECT_EQ(S("8613800138000"), "phone=13800138000");
  EXPECT_EQ(S("我的手机号 138 0013 8000 谢谢"), "phone=13800138000");
}

TEST(PhoneTest, NearestWordDecides) {
  EXPECT_EQ(S("户号0301000012345 手机13800138000"), "account_no=0301000012345 phone=13800138000");
  EXPECT_EQ(S("手机13800138000 户号0301000012345"), "account_no=0301000012345 phone=13800138000");
  EXPECT_EQ(S("绑定户号 我手机是13800138000"), "phone=13800138000");
  EXPECT_EQ(S("户号0301000012345 13800138000"), "account_no=0301000012345 phone=13800138000");
}

TEST(PhoneTest, LandlinesAreNotMobiles) {
  EXPECT_EQ(S("0771-12345678"), "");
  EXPECT_EQ(S("95598"), "");
}

TEST(CardTest, ExamplesFromTheSpec) {
  EXPECT_EQ(S("卡号 8800123456789012"), "card_no=8800123456789012");
}

TEST(CardTest, CardContextOr88Prefix) {
  EXPECT_EQ(S("8800123456789012"), "card_no=8800123456789012");  // 16 digits, 88
  EXPECT_EQ(S("充值卡1234567890123456"), "card_no=1234567890123456");
  EXPECT_EQ(S("电费卡 12345678901234567890"), "card_no=12345678901234567890");
  EXPECT_EQ(S("我买了张卡 卡上是1234567890123456"), "card_no=1234567890123456");
  EXPECT_EQ(S("1234567890123456"), "");  // no card word, not 88...
  EXPECT_EQ(S("充值卡号 8800 9876 5432 1098"), "card_no=8800987654321098");
  EXPECT_EQ(S("8800 1111 2222 3333"), "card_no=8800111122223333");
  EXPECT_EQ(S("卡号 1234-5678-9012-3456"), "card_no=1234567890123456");
  EXPECT_EQ(S("1234 5678 9012 3456"), "");
  EXPECT_EQ(S("卡号 1234 5678 9012 3456 7890"), "card_no=12345678901234567890");
  EXPECT_EQ(S("充值卡 8800 1111 2222 3333 100元"), "amount=100.00 card_no=8800111122223333");
  // Not four-digit groups: the account and the amount stay apart.
  EXPECT_EQ(S("充值卡给户号0301000012345 100元"), "account_no=0301000012345 amount=100.00");
  EXPECT_EQ(S("8800123456789012345"), "");  // 88 alone is for 16 digits
}

TEST(CardTest, IdentityNumbersAreNothing) {
  EXPECT_EQ(S("我身份证号450102199001011234"), "");
  EXPECT_EQ(S("交450102199001011234"), "");  // and no amount either
}

// ---------------------------------------------------------------------------
// Business numbers and e-mail.

TEST(BusinessTest, ExamplesFromTheSpec) {
  EXPECT_EQ(S("业务编号yk20240801001"), "business_no=YK20240801001");
}

TEST(BusinessTest, AfterItsName) {
  EXPECT_EQ(S("查业务编号yk20240801001办到哪了"), "business_no=YK20240801001");
  EXPECT_EQ(S("工单号bx2024080100201"), "business_no=BX2024080100201");
  EXPECT_EQ(S("受理号 20240801001"), "business_no=20240801001");
  EXPECT_EQ(S("工单号是20240801001"), "business_no=20240801001");
  EXPECT_EQ(S("单号:abc123"), "business_no=ABC123");
  EXPECT_EQ(S("业务号13800138000"), "business_no=13800138000");  // not a phone
}

TEST(BusinessTest, TwoLettersThenDigits) {
  EXPECT_EQ(S("yk20240801001"), "business_no=YK20240801001");
  EXPECT_EQ(S("我的报装 bx20240801 到哪了"), "apply_type=new_install business_no=BX20240801");
  EXPECT_EQ(S("yk2024080"), "");       // seven digits
  EXPECT_EQ(S("ayk20240801001"), "");  // three letters
  EXPECT_EQ(S("qq12345678"), "");      // a QQ number
}

TEST(BusinessTest, NotBusinessNumbers) {
  EXPECT_EQ(S("业务编号xxxx"), "");
  EXPECT_EQ(S("业务编号12"), "");  // too short
}

TEST(EmailTest, LowerCased) {
  EXPECT_EQ(S("abc@qq.com"), "email=abc@qq.com");
  EXPECT_EQ(S("ABC@QQ.com"), "email=abc@qq.com");  // as if not normalised
  EXPECT_EQ(S("发到我邮箱abc.def_1@163.com"), "channel=email email=abc.def_1@163.com");
  EXPECT_EQ(S("邮箱是 a.b+c@mail.gxdw.com.cn."), "channel=email email=a.b+c@mail.gxdw.com.cn");
}

TEST(EmailTest, DigitsInAnAddressAreNotAnAccount) {
  EXPECT_EQ(S("12345678901@qq.com"), "email=12345678901@qq.com");
  EXPECT_EQ(S("yk20240801001@qq.com"), "email=yk20240801001@qq.com");
}

TEST(EmailTest, NotAddresses) {
  EXPECT_EQ(S("abc@"), "");
  EXPECT_EQ(S("@qq.com"), "");
  EXPECT_EQ(S("abc@qq"), "");
}

// ---------------------------------------------------------------------------
// Amounts.

TEST(AmountTest, ExamplesFromTheSpec) {
  EXPECT_EQ(S("100元"), "amount=100.00");
  EXPECT_EQ(S("一百五十块"), "amount=150.00");
  EXPECT_EQ(S("¥88.5"), "amount=88.50");
}

TEST(AmountTest, YuanWords) {
  EXPECT_EQ(S("100块钱"), "amount=100.00");
  EXPECT_EQ(S("一百块"), "amount=100.00");
  EXPECT_EQ(S("五十元"), "amount=50.00");
  EXPECT_EQ(S("3块5"), "amount=3.50");
  EXPECT_EQ(S("两块五毛"), "amount=2.50");
  EXPECT_EQ(S("3元5角2分"), "amount=3.52");
  EXPECT_EQ(S("五毛钱"), "amount=0.50");
  EXPECT_EQ(S("12.3元"), "amount=12.30");
  EXPECT_EQ(S("1.5万元"), "amount=15000.00");
  EXPECT_EQ(S("一千二百块"), "amount=1200.00");
  EXPECT_EQ(S("三万五元"), "amount=35000.00");
  EXPECT_EQ(S("¥ 100"), "amount=100.00");
  EXPECT_EQ(S("人民币50元"), "amount=50.00");
  EXPECT_EQ(S("电费是129.80元吗"), "amount=129.80");
}

TEST(AmountTest, BareNumberAfterPayVerb) {
  EXPECT_EQ(S("交100"), "amount=100.00");
  EXPECT_EQ(S("缴100"), "amount=100.00");
  EXPECT_EQ(S("充200"), "amount=200.00");
  EXPECT_EQ(S("付50"), "amount=50.00");
  EXPECT_EQ(S("交了100"), "amount=100.00");
  EXPECT_EQ(S("缴费 200"), "amount=200.00");
  EXPECT_EQ(S("充值300"), "amount=300.00");
  EXPECT_EQ(S("交电费88.5"), "amount=88.50");
  EXPECT_EQ(S("交五十"), "amount=50.00");
  EXPECT_EQ(S("充值两百"), "amount=200.00");
  EXPECT_EQ(S("交一百五"), "amount=150.00");
}

TEST(AmountTest, MoneyFollowedByAVerb) {
  EXPECT_EQ(S("我之前交的200块去哪了查下缴费记录"), "amount=200.00");
  EXPECT_EQ(S("一块去交费"), "");  // 一块 here is "together"
}

TEST(AmountTest, UnitWinsOverBareNumber) { EXPECT_EQ(S("交100 不对是200元"), "amount=200.00"); }

TEST(AmountTest, NotAmounts) {
  EXPECT_EQ(S("交了3个月"), "");
  EXPECT_EQ(S("交了两次"), "");
  EXPECT_EQ(S("交一下电费"), "");
  EXPECT_EQ(S("用了100度电"), "");
  EXPECT_EQ(S("100"), "");
  EXPECT_EQ(S("一块电表坏了"), "");
  EXPECT_EQ(S("两块电表"), "");
  EXPECT_EQ(S("十二块地"), "");
  EXPECT_EQ(S("一块儿去交费"), "");
  EXPECT_EQ(S("3单元501"), "");
  EXPECT_EQ(S("民族大道88号"), "");
  EXPECT_EQ(S("交100kwh"), "");
}

TEST(AmountTest, NumbersTakenByOtherSlotsAreNotAmounts) {
  EXPECT_EQ(S("交0301000012345"), "account_no=0301000012345");
  EXPECT_EQ(S("充13800138000"), "phone=13800138000");
  EXPECT_EQ(S("交3月的"), "month=2024-03");
  EXPECT_EQ(S("交2024年的"), "end_month=2024-08 start_month=2024-01");
  EXPECT_EQ(S("缴费3月到6月"), "end_month=2024-06 start_month=2024-03");
  EXPECT_EQ(S("3月交了100元"), "amount=100.00 month=2024-03");
}

// ---------------------------------------------------------------------------
// Keyword slots.

TEST(PayMethodTest, Alipay) {
  EXPECT_EQ(S("用支付宝缴费"), "pay_method=alipay");
  EXPECT_EQ(S("alipay"), "pay_method=alipay");
  EXPECT_EQ(S("用zfb交"), "pay_method=alipay");
}

TEST(PayMethodTest, UnionPay) {
  EXPECT_EQ(S("银联付款"), "pay_method=unionpay");
  EXPECT_EQ(S("网银"), "pay_method=unionpay");
  EXPECT_EQ(S("银行卡"), "pay_method=unionpay");
  EXPECT_EQ(S("云闪付"), "pay_method=unionpay");
  EXPECT_EQ(S("unionpay"), "pay_method=unionpay");
  EXPECT_EQ(S("用兴业银行卡交费"), "pay_method=unionpay");
  EXPECT_EQ(S("信用卡还款"), "");  // not a way to pay the bill here
}

TEST(PayMethodTest, FirstMentionWinsAndWordsInsideWordsDoNot) {
  EXPECT_EQ(S("支付宝还是银联"), "pay_method=alipay");
  EXPECT_EQ(S("zfbx"), "");
  EXPECT_EQ(S("交电费"), "");
}

TEST(ChannelTest, Channels) {
  EXPECT_EQ(S("不要再发账单短信了"), "channel=sms");
  EXPECT_EQ(S("每个月把账单发我邮箱"), "channel=email");
  EXPECT_EQ(S("邮件"), "channel=email");
  EXPECT_EQ(S("电子邮件"), "channel=email");
  EXPECT_EQ(S("email"), "channel=email");
  EXPECT_EQ(S("e-mail通知我"), "channel=email");
  EXPECT_EQ(S("发微信"), "channel=wechat");
  EXPECT_EQ(S("邮件和短信"), "channel=email");
  EXPECT_EQ(S("myemail@qq.com"), "email=myemail@qq.com");  // no channel word
}

TEST(ApplyTypeTest, NewInstall) {
  EXPECT_EQ(S("我要装电表"), "apply_type=new_install");
  EXPECT_EQ(S("新装"), "apply_type=new_install");
  EXPECT_EQ(S("装表"), "apply_type=new_install");
  EXPECT_EQ(S("我的报装进度"), "apply_type=new_install");
  EXPECT_EQ(S("开户"), "apply_type=new_install");
  EXPECT_EQ(S("新开户"), "apply_type=new_install");
  EXPECT_EQ(S("开店要装个电表"), "apply_type=new_install");
  EXPECT_EQ(S("我要申请装一个电表"), "apply_type=new_install");
  EXPECT_EQ(S("银行卡开户行"), "pay_method=unionpay");  // a bank's branch
}

TEST(ApplyTypeTest, CapacityAndChange) {
  EXPECT_EQ(S("申请增容"), "apply_type=capacity_increase");
  EXPECT_EQ(S("加容量"), "apply_type=capacity_increase");
  EXPECT_EQ(S("变更"), "apply_type=change");
  EXPECT_EQ(S("过户"), "apply_type=change");
  EXPECT_EQ(S("改类"), "apply_type=change");
  EXPECT_EQ(S("减容"), "apply_type=change");
  EXPECT_EQ(S("更名"), "apply_type=change");
  EXPECT_EQ(S("改名"), "apply_type=change");
}

// ---------------------------------------------------------------------------
// Places.

TEST(PlaceTest, ExamplesFromTheSpec) {
  EXPECT_EQ(S("南宁"), "city=南宁市");
  EXPECT_EQ(S("防城港"), "city=防城港市");
  EXPECT_EQ(S("青秀"), "district=青秀区");
  EXPECT_EQ(S("武鸣"), "district=武鸣区");
}

TEST(PlaceTest, DistrictDoesNotAddItsCity) {
  EXPECT_EQ(S("青秀区营业网点在哪"), "district=青秀区");
  EXPECT_EQ(S("南宁青秀区停电"), "city=南宁市 district=青秀区");
  EXPECT_EQ(S("广西南宁市西乡塘区"), "city=南宁市 district=西乡塘区");
  EXPECT_EQ(S("融水停电了"), "district=融水苗族自治县");
  EXPECT_EQ(S("横县"), "district=横州市");
  EXPECT_EQ(S("邕城"), "city=南宁市");
}

TEST(PlaceTest, FirstOfEachKind) {
  EXPECT_EQ(S("南宁和柳州"), "city=南宁市");
  EXPECT_EQ(S("青秀还是江南"), "district=青秀区");
}

TEST(PlaceTest, NotPlaces) {
  EXPECT_EQ(S("今天等一下"), "");
  EXPECT_EQ(S("电表都安装好了"), "");  // not 都安 (都安瑶族自治县)
  EXPECT_EQ(S("城中村停电"), "");
  EXPECT_EQ(S("北京朝阳区"), "");
}

// ---------------------------------------------------------------------------
// Whole messages.

TEST(MessageTest, SeveralSlots) {
  EXPECT_EQ(S("户号0301000012345 3月到6月交了多少"),
            "account_no=0301000012345 end_month=2024-06 start_month=2024-03");
  EXPECT_EQ(S("用支付宝给0301000012345交100元"),
            "account_no=0301000012345 amount=100.00 pay_method=alipay");
  EXPECT_EQ(S("每个月把账单发我邮箱abc@qq.com"), "channel=email email=abc@qq.com");
  EXPECT_EQ(S("南宁青秀区3月5号停电吗"), "city=南宁市 district=青秀区 month=2024-03");
  EXPECT_EQ(S("我买了张电费卡8800123456789012要充值 户号0301000012345"),
            "account_no=0301000012345 card_no=8800123456789012");
  EXPECT_EQ(S("充值卡充值100元 卡号8800123456789012"), "amount=100.00 card_no=8800123456789012");
  EXPECT_EQ(S("我要在武鸣新装一个电表 电话138 0013 8000"),
            "apply_type=new_install district=武鸣区 phone=13800138000");
}

TEST(MessageTest, NothingToFind) {
  EXPECT_EQ(S(""), "");
  EXPECT_EQ(S(" "), "");
  EXPECT_EQ(S("你好"), "");
  EXPECT_EQ(S("今天天气怎么样"), "");
  EXPECT_EQ(S("讲个笑话"), "");
  EXPECT_EQ(S("hello"), "");
  EXPECT_EQ(S("家里跳闸了 电线断了"), "");
}

TEST(MessageTest, OddBytesAreNoCrash) {
  EXPECT_EQ(S("\xe6\x9c"), "");
  EXPECT_EQ(S("3\xe6\x9c"), "");
  EXPECT_EQ(S(std::string(5000, '9')), "");
  std::string many;
  for (int i = 0; i < 200; ++i) many += "3月到6月 交100元 ";
  EXPECT_EQ(S(many), "amount=100.00 end_month=2024-06 start_month=2024-03");
}

TEST(MessageTest, ConcurrentExtractIsSafe) {
  std::vector<std::thread> threads;
  std::vector<std::string> results(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &results] {
      for (int i = 0; i < 200; ++i) results[t] = S("户号0301000012345 上个月交了100元");
    });
  }
  for (std::thread& th : threads) th.join();
  for (const std::string& r : results)
    EXPECT_EQ(r, "account_no=0301000012345 amount=100.00 month=2024-07");
}

}  // namespace
}  // namespace gridbot::nlu
