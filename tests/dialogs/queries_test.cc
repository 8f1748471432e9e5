// Scripted conversations for the read-only queries (issue 3): profile,
// progress, outages, payments and outlets, against the demo data
// (corpus/demo/fixtures.json) with today 2024-08-04 10:00.
//
// Demo facts used here:
//  - 0301000001234 (南宁市青秀区民族大道88号3栋2单元501): reading day 5,
//    南宁供电局青秀供电分局, 交流220V, 远程自动抄表, 城乡居民生活用电, 低供低计;
//    open business YK20240801001 (new install, 现场勘查: 受理 8-01 10:00,
//    现场勘查 8-02 15:20); outage TD20240805001 lists it (planned, 民族大道80号
//    至120号沿线, 8-05 08:00–18:00, 线路检修); payments 3-02 70.79 银联,
//    4-02 58.64 营业厅现金, 5-10 56.53 支付宝, 6-08 76.08 营业厅现金, 7-12 98.40
//    支付宝, 9-12 134.18 营业厅现金.
//  - 0301000003517 (西乡塘): only business BX20240803002, 已完成.
//  - 0305000008147 (北海海城区): outage TD20240804001 now (fault, 台风影响,
//    05:50–20:00).
//  - 0301000007026 (武鸣, 城厢镇灵源路56号): not listed by any outage, but
//    TD20261202001's area "城厢镇灵源路" is in its address.
//  - 0302000004815 (柳州): its only business YK20261103001 starts in 2026.
//  - Outlets: 青秀营业厅 (22.8170, 108.3669, 东葛路118号), 兴宁, 西乡塘 …;
//    none in 良庆区.
#include <nlohmann/json.hpp>

#include "tests/dialogs/conversation.h"

namespace gridbot::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kAccount[] = "0301000001234";
constexpr char kPassword[] = "246810";
constexpr char kAddress[] = "南宁市青秀区民族大道88号3栋2单元501";

std::string Joined(const dialogs::Outcome& out) {
  std::string joined;
  for (const auto& r : out.replies) joined += (joined.empty() ? "" : "\n\n") + r.text;
  return joined;
}

// A location event (as /api/chat and WeChat location messages give it).
std::string Location(Conversation& c, double lat, double lng, const std::string& channel = "web") {
  dialogs::Inbound in;
  in.channel = channel;
  in.user = "u1";
  in.event = dialogs::Event{.type = "location", .key = "", .lat = lat, .lng = lng, .label = ""};
  return Joined(c.engine().Handle(in));
}

std::string SayOn(Conversation& c, const std::string& channel, const std::string& text) {
  dialogs::Inbound in;
  in.channel = channel;
  in.user = "u1";
  in.text = text;
  return Joined(c.engine().Handle(in));
}

// The saved dialog state of user u1 on the web channel.
nlohmann::json State(Conversation& c) {
  storage::Tx tx = c.store().Begin();
  auto text = tx.LoadSession("web", "u1");
  EXPECT_TRUE(tx.Commit().ok());
  return nlohmann::json::parse(text.value_or("{}"), nullptr, false);
}

// --- 我的档案 ------------------------------------------------------------------

TEST(QueryProfile, WholeFileOfTheCurrentAccount) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  EXPECT_THAT(c.Say("我的档案"),
              AllOf(HasSubstr(kAccount), HasSubstr("用电地址：" + std::string(kAddress)),
                    HasSubstr("抄表例日：每月5日"), HasSubstr("供电单位：南宁供电局青秀供电分局"),
                    HasSubstr("电压等级：交流220V"), HasSubstr("抄表类型：远程自动抄表"),
                    HasSubstr("用电类别：城乡居民生活用电"), HasSubstr("计量方式：低供低计")));
}

TEST(QueryProfile, OneFieldQuestionAnswersOnlyThatField) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  const std::string day = c.Say("我家抄表日是哪天");
  EXPECT_THAT(day, HasSubstr("抄表例日：每月5日"));
  EXPECT_THAT(day, AllOf(Not(HasSubstr("供电单位")), Not(HasSubstr("电压等级")),
                         Not(HasSubstr("民族大道"))));
  const std::string unit = c.Say("供电单位是哪个");
  EXPECT_THAT(unit, HasSubstr("供电单位：南宁供电局青秀供电分局"));
  EXPECT_THAT(unit, AllOf(Not(HasSubstr("抄表例日")), Not(HasSubstr("交流220V"))));
  const std::string voltage = c.Say("电压等级");
  EXPECT_THAT(voltage, HasSubstr("电压等级：交流220V"));
  EXPECT_THAT(voltage, Not(HasSubstr("计量方式")));
  // "抄表类型" is not the reading day, though both say 抄表.
  const std::string type = c.Say("抄表类型是什么");
  EXPECT_THAT(type, HasSubstr("抄表类型：远程自动抄表"));
  EXPECT_THAT(type, Not(HasSubstr("每月5日")));
  // Two fields: those two.
  const std::string two = c.Say("用电类别和计量方式");
  EXPECT_THAT(two, AllOf(HasSubstr("用电类别：城乡居民生活用电"), HasSubstr("计量方式：低供低计")));
  EXPECT_THAT(two, AllOf(Not(HasSubstr("电压等级")), Not(HasSubstr("抄表例日"))));
}

TEST(QueryProfile, UnboundCustomerIsBoundFirstThenAnswered) {
  Conversation c;
  EXPECT_THAT(c.Say("我家抄表日是哪天"), HasSubstr("先绑定"));
  c.Say("南宁");
  c.Say(kAccount);
  EXPECT_THAT(c.Say(kPassword), AllOf(HasSubstr("绑定成功"), HasSubstr("每月5日")));
}

// --- 进度查询 ------------------------------------------------------------------

TEST(QueryProgress, AllOpenBusinessOfTheBoundAccounts) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  EXPECT_THAT(c.Say("进度查询"),
              AllOf(HasSubstr("1项在办业务"), HasSubstr("新装"), HasSubstr("YK20240801001"),
                    HasSubstr("当前状态：现场勘查"), HasSubstr("2024年8月1日 10:00　受理"),
                    HasSubstr("2024年8月2日 15:20　现场勘查")));
}

TEST(QueryProgress, ByNumberOfTheCustomersOwnAccount) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  EXPECT_THAT(c.Say("查业务编号YK20240801001办到哪了"),
              AllOf(HasSubstr("业务编号YK20240801001（新装）"),
                    HasSubstr("户号：" + std::string(kAccount)), HasSubstr(kAddress),
                    HasSubstr("当前状态：现场勘查"), HasSubstr("2024年8月2日 15:20　现场勘查")));
}

TEST(QueryProgress, ByNumberOfAnotherAccountShowsStatusWithoutPersonalDetails) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  const std::string reply = c.Say("工单号BX20240803002");
  EXPECT_THAT(reply, AllOf(HasSubstr("BX20240803002（报修）"), HasSubstr("当前状态：已完成"),
                           HasSubstr("2024年8月3日 19:42　受理"),
                           HasSubstr("2024年8月3日 22:16　已完成"), HasSubstr("已办结")));
  EXPECT_THAT(reply, AllOf(Not(HasSubstr("0301000003517")), Not(HasSubstr("大学东路"))));
}

TEST(QueryProgress, ByNumberWithoutAnyBinding) {
  Conversation c;
  EXPECT_THAT(c.Say("YK20240801001"),
              AllOf(HasSubstr("当前状态：现场勘查"), Not(HasSubstr(kAccount))));
  EXPECT_THAT(c.Say("进度查询"), HasSubstr("请发送您的业务编号"));
}

TEST(QueryProgress, UnknownNumberSaysSoAndHowToCheck) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  EXPECT_THAT(c.Say("查询YK20249999999的进度"),
              AllOf(HasSubstr("没有找到业务编号YK20249999999"), HasSubstr("受理短信或回执")));
}

TEST(QueryProgress, NoOpenBusinessIsAPoliteAnswer) {
  Conversation c;
  c.Bind("南宁", "0301000003517", "802413");  // its only business is 已完成
  EXPECT_THAT(c.Say("进度查询"),
              AllOf(HasSubstr("0301000003517"), HasSubstr("目前没有在办的业务")));
}

TEST(QueryProgress, BusinessDatedAfterNowDoesNotExistYet) {
  Conversation c;
  c.Bind("柳州", "0302000004815", "419263");
  EXPECT_THAT(c.Say("进度查询"), HasSubstr("目前没有在办的业务"));
  EXPECT_THAT(c.Say("YK20261103001"), HasSubstr("没有找到业务编号YK20261103001"));
}

// --- 停电查询 ------------------------------------------------------------------

TEST(QueryOutage, OutagesCoveringTheCurrentAccount) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  EXPECT_THAT(
      c.Say("停电查询"),
      AllOf(HasSubstr(kAddress), HasSubstr("计划停电"), HasSubstr("民族大道80号至120号沿线"),
            HasSubstr("2024年8月5日 08:00至18:00"), HasSubstr("线路检修")));
}

TEST(QueryOutage, AnAreaNamedInTheAddressCoversTheAccount) {
  // TD20261202001 (武鸣 城厢镇灵源路) is announced by late November 2026.
  Conversation c(TestDb(), "u1", FromCivil(CivilTime{{2026, 11, 27}, 10, 0, 0}));
  c.Bind("南宁", "0301000007026", "570921");
  EXPECT_THAT(c.Say("停电查询"),
              AllOf(HasSubstr("城厢镇灵源路"), HasSubstr("2026年12月2日 07:30至18:30")));
}

TEST(QueryOutage, OutagesNotYetAnnouncedAreNotShown) {
  Conversation c;  // 2024-08-04: the 2026 outage in 武鸣 is far ahead
  c.Bind("南宁", "0301000007026", "570921");
  EXPECT_THAT(c.Say("停电查询"), Not(HasSubstr("2026年12月2日")));
}

TEST(QueryOutage, ForANamedDistrictAndCity) {
  Conversation c;
  EXPECT_THAT(c.Say("北海海城区停电查询"),
              AllOf(HasSubstr("北海市海城区"), HasSubstr("故障停电（正在停电）"),
                    HasSubstr("北部湾中路及四川南路片区"), HasSubstr("2024年8月4日 05:50"),
                    HasSubstr("预计20:00恢复供电"), HasSubstr("台风影响")));
  EXPECT_THAT(c.Say("桂林有停电吗"),
              AllOf(HasSubstr("七星路至漓江路一带"), HasSubstr("2024年8月10日 07:30至17:30"),
                    HasSubstr("设备改造")));
  // The fault of 2024-08-02 in 西乡塘区 is over.
  EXPECT_THAT(c.Say("西乡塘区停电"),
              AllOf(HasSubstr("南宁市西乡塘区目前没有"), Not(HasSubstr("明秀西路"))));
}

TEST(QueryOutage, WithoutAccountOrPlaceAsksForADistrict) {
  Conversation c;
  EXPECT_THAT(c.Say("停电查询"), HasSubstr("哪个区县"));
  EXPECT_THAT(c.Say("海城区"), HasSubstr("北部湾中路及四川南路片区"));
}

TEST(QueryOutage, PowerOutWithoutOutageOffersRepairCarryingAccountAndAddress) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  const std::string offer = c.Say("家里停电了");
  EXPECT_THAT(offer, AllOf(HasSubstr("没有正在影响户号" + std::string(kAccount)),
                           HasSubstr("民族大道80号至120号沿线"),  // tomorrow's, for information
                           HasSubstr("需要我帮您报修吗")));
  EXPECT_EQ(State(c)["stack"][0]["flow"], "query_outage");

  const std::string repair = c.Say("是的");
  EXPECT_THAT(repair, Not(HasSubstr("需要我帮您报修吗")));
  EXPECT_FALSE(repair.empty());
  // The repair flow runs now, with the account, its address and the
  // customer's words handed over.
  const nlohmann::json state = State(c);
  ASSERT_EQ(state["stack"].size(), 1u) << state.dump();
  const nlohmann::json& frame = state["stack"][0];
  EXPECT_EQ(frame["flow"], "report_fault");
  EXPECT_EQ(frame["slots"].value("account_no", ""), kAccount);
  EXPECT_EQ(frame["slots"].value("address", ""), kAddress);
  EXPECT_EQ(frame["slots"].value("description", ""), "家里停电了");
}

TEST(QueryOutage, PowerOutRepairDeclined) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  c.Say("家里停电了");
  EXPECT_THAT(c.Say("不用了"), HasSubstr("随时回复“报修”"));
  EXPECT_TRUE(State(c)["stack"].empty());
}

TEST(QueryOutage, PowerOutDuringAnOutageSaysWhenPowerIsBack) {
  Conversation c;
  c.Bind("北海", "0305000008147", "925736");
  const std::string reply = c.Say("家里停电了");
  EXPECT_THAT(reply,
              AllOf(HasSubstr("正在停电"), HasSubstr("台风影响"), HasSubstr("预计20:00恢复供电")));
  EXPECT_THAT(reply, Not(HasSubstr("需要我帮您报修吗")));
  EXPECT_TRUE(State(c)["stack"].empty());
}

// --- 缴费记录 ------------------------------------------------------------------

TEST(QueryPayments, RangeWithDateAmountMethodAndTotal) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  const std::string reply = c.Say("3月到6月交了多少");
  EXPECT_THAT(reply, AllOf(HasSubstr("2024年3月至2024年6月"), HasSubstr("共4笔"),
                           HasSubstr("2024年3月2日 09:31　70.79元（银联）"),
                           HasSubstr("2024年4月2日 16:32　58.64元（营业厅现金）"),
                           HasSubstr("2024年5月10日 16:20　56.53元（支付宝）"),
                           HasSubstr("2024年6月8日 19:16　76.08元（营业厅现金）"),
                           HasSubstr("合计：262.04元")));
  EXPECT_THAT(reply, Not(HasSubstr("98.40")));
}

TEST(QueryPayments, DefaultIsTheLastSixMonthsAndAMonthFollowUp) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  const std::string recent = c.Say("缴费记录");
  EXPECT_THAT(recent, AllOf(HasSubstr("2024年3月至2024年8月"), HasSubstr("共5笔"),
                            HasSubstr("2024年7月12日 09:31　98.40元（支付宝）"),
                            HasSubstr("合计：360.44元")));
  EXPECT_THAT(recent, Not(HasSubstr("77.13")));  // 2024-02
  EXPECT_THAT(c.Say("那3月份的呢"),
              AllOf(HasSubstr("2024年3月的缴费记录"), HasSubstr("70.79元（银联）"),
                    HasSubstr("合计：70.79元"), Not(HasSubstr("58.64"))));
}

TEST(QueryPayments, PaymentsAfterNowAndFutureMonthsAreNotShown) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  EXPECT_THAT(c.Say("2024年9月的缴费记录"), HasSubstr("2024年9月还没到"));
  c.clock().Set(FromCivil(CivilTime{{2024, 9, 10}, 10, 0, 0}));
  EXPECT_THAT(c.Say("这个月缴费记录"),
              AllOf(HasSubstr("2024年9月没有缴费记录"), Not(HasSubstr("134.18"))));
  c.clock().Set(FromCivil(CivilTime{{2024, 9, 12}, 13, 0, 0}));
  EXPECT_THAT(c.Say("这个月缴费记录"), HasSubstr("2024年9月12日 12:56　134.18元（营业厅现金）"));
}

// --- 营业网点 ------------------------------------------------------------------

TEST(FindOutlet, NearestThreeFromALocationEvent) {
  Conversation c;
  const std::string reply = Location(c, 22.8180, 108.3600);
  EXPECT_THAT(
      reply,
      AllOf(HasSubstr("最近的3个营业网点"), HasSubstr("1. 南宁供电局青秀营业厅（距您约716米）"),
            HasSubstr("南宁市青秀区东葛路118号"), HasSubstr("周一至周日 8:30-17:30"),
            HasSubstr("0771-95598"), HasSubstr("2. 南宁供电局兴宁营业厅（距您约3.5公里）"),
            HasSubstr("3. 南宁供电局西乡塘营业厅（距您约7.5公里）")));
  EXPECT_THAT(reply, Not(HasSubstr("江南营业厅")));
}

TEST(FindOutlet, ByDistrictAndCityFallback) {
  Conversation c;
  const std::string qingxiu = c.Say("青秀区营业网点在哪");
  EXPECT_THAT(qingxiu, AllOf(HasSubstr("南宁市青秀区的营业网点（共1个）"),
                             HasSubstr("南宁供电局青秀营业厅"), HasSubstr("东葛路118号")));
  EXPECT_THAT(qingxiu, Not(HasSubstr("兴宁营业厅")));
  EXPECT_THAT(c.Say("柳州的营业厅"), AllOf(HasSubstr("柳州市的营业网点（共3个）"),
                                           HasSubstr("柳南营业厅"), HasSubstr("0772-3820947")));
  // No outlet in 良庆区: those of 南宁市, at most five.
  EXPECT_THAT(c.Say("良庆区营业厅"),
              AllOf(HasSubstr("良庆区暂时没有营业网点"), HasSubstr("南宁市的营业网点（共5个）"),
                    HasSubstr("5. 南宁供电局武鸣营业厅")));
}

TEST(FindOutlet, AsksForALocationAndWaitsForIt) {
  Conversation c;
  EXPECT_THAT(c.Say("附近的营业厅"),
              AllOf(HasSubstr("发送您的位置"), HasSubstr("区县"), Not(HasSubstr("微信"))));
  EXPECT_EQ(State(c)["stack"][0]["step"], "location");
  EXPECT_THAT(c.Say("嗯嗯"), HasSubstr("没有识别到位置"));
  EXPECT_THAT(Location(c, 24.3100, 109.4000),
              AllOf(HasSubstr("1. 柳州供电局柳南营业厅（距您约1.9公里）"),
                    HasSubstr("2. 柳州供电局城中营业厅（距您约2.2公里）")));
  EXPECT_TRUE(State(c)["stack"].empty());
  // Or with a place instead of a location.
  c.Say("附近的营业厅");
  EXPECT_THAT(c.Say("柳北区"), HasSubstr("柳州供电局柳北营业厅"));
}

TEST(FindOutlet, WechatCustomersAreToldHowToSendALocation) {
  Conversation c;
  EXPECT_THAT(SayOn(c, "wechat", "附近的营业厅"), HasSubstr("点“+”→“位置”"));
  EXPECT_THAT(Location(c, 22.8180, 108.3600, "wechat"), HasSubstr("南宁供电局青秀营业厅"));
}

}  // namespace
}  // namespace gridbot::testing
