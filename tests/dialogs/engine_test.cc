// Whole conversations against the demo data (corpus/demo/fixtures.json),
// with today fixed at 2024-08-04. Demo account 0301000001234 (南宁市, service
// password 246810): 2024-07 bill 236 kWh / 129.80 unpaid, 2024-03 bill
// 111 kWh / 58.64 paid.
#include <filesystem>

#include "storage/desk.h"
#include "tests/dialogs/conversation.h"

namespace gridbot::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kAccount[] = "0301000001234";
constexpr char kPassword[] = "246810";

TEST(BindAndBills, BindThenLatestLastMonthFollowUpAndArrears) {
  Conversation c;
  EXPECT_THAT(c.Say("绑定户号"), HasSubstr("哪个市"));
  EXPECT_THAT(c.Say("南宁"), HasSubstr("请输入您的户号"));
  EXPECT_THAT(c.Say(kAccount), HasSubstr("服务密码"));
  EXPECT_THAT(c.Say(kPassword), AllOf(HasSubstr("绑定成功"), HasSubstr("默认户号")));
  EXPECT_THAT(c.Say("最新账单"), AllOf(HasSubstr("2024年7月"), HasSubstr("236度"),
                                       HasSubstr("129.80元"), HasSubstr("未缴费")));
  EXPECT_THAT(c.Say("上个月电费多少"), AllOf(HasSubstr("2024年7月"), HasSubstr("129.80元")));
  EXPECT_THAT(c.Say("那3月份的呢"), AllOf(HasSubstr("2024年3月"), HasSubstr("111度"),
                                          HasSubstr("58.64元"), HasSubstr("已缴清")));
  EXPECT_THAT(c.Say("我欠费了吗"), AllOf(HasSubstr("欠费129.80元"), HasSubstr("2024年7月")));
}

TEST(BindAndBills, EverythingInOneMessage) {
  Conversation c;
  EXPECT_THAT(c.Say("我要绑定南宁的户号0301000001234"), HasSubstr("服务密码"));
  EXPECT_THAT(c.Say(kPassword), HasSubstr("绑定成功"));
}

TEST(BindAndBills, TraditionalAndFullWidthInput) {
  Conversation c;
  c.Bind("南寧", "０３０１０００００１２３４", "２４６８１０");
  EXPECT_THAT(c.Say("上個月電費多少"), HasSubstr("129.80元"));
}

TEST(BindAndBills, UnboundCustomerIsBoundFirstThenAnswered) {
  Conversation c;
  EXPECT_THAT(c.Say("上个月电费多少"), AllOf(HasSubstr("先绑定"), HasSubstr("哪个市")));
  c.Say("南宁市");
  c.Say(kAccount);
  EXPECT_THAT(c.Say(kPassword),
              AllOf(HasSubstr("绑定成功"), HasSubstr("2024年7月"), HasSubstr("129.80元")));
}

TEST(BindAndBills, MonthWithoutBill) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  EXPECT_THAT(c.Say("2019年3月电费多少"), HasSubstr("没有2019年3月的账单"));
}

// The city only helps to find a number: the number and its password decide,
// and the reply names the account's own address.
TEST(BindAndBills, TheRightPasswordBindsWhateverCityWasNamed) {
  Conversation c;
  c.Say("绑定户号");
  c.Say("柳州");
  EXPECT_THAT(c.Say(kAccount), HasSubstr("服务密码"));
  EXPECT_THAT(c.Say(kPassword), AllOf(HasSubstr("绑定成功"), HasSubstr("南宁市")));
}

// Whether a 户号 exists is never told before its password: an unknown one is
// asked for a password like any other, and both mistakes get one answer.
TEST(BindAndBills, AnUnknownAccountIsNotToldApartFromAWrongPassword) {
  Conversation c;
  c.Say("绑定户号", "u1");
  c.Say("南宁", "u1");
  const std::string asked_known = c.Say(kAccount, "u1");
  const std::string wrong_known = c.Say("135790", "u1");
  c.Say("绑定户号", "u2");
  c.Say("南宁", "u2");
  const std::string asked_unknown = c.Say("0301999999999", "u2");
  const std::string wrong_unknown = c.Say("135790", "u2");
  EXPECT_EQ(asked_unknown, ReplaceAll(asked_known, kAccount, "0301999999999"));
  EXPECT_EQ(wrong_unknown, ReplaceAll(wrong_known, kAccount, "0301999999999"));
  EXPECT_THAT(wrong_unknown, HasSubstr("户号或服务密码不正确"));
  // A typo in the number is mended by sending the right one.
  EXPECT_THAT(c.Say(kAccount, "u2"), HasSubstr("服务密码"));
  EXPECT_THAT(c.Say(kPassword, "u2"), HasSubstr("绑定成功"));
}

TEST(Lockout, FiveWrongPasswordsLockForThirtyMinutes) {
  Conversation c;
  c.Say("绑定户号");
  c.Say("南宁");
  c.Say(kAccount);
  EXPECT_THAT(c.Say("000000"), HasSubstr("还可以尝试4次"));
  EXPECT_THAT(c.Say("000001"), HasSubstr("还可以尝试3次"));
  EXPECT_THAT(c.Say("000002"), HasSubstr("还可以尝试2次"));
  EXPECT_THAT(c.Say("000003"), HasSubstr("还可以尝试1次"));
  EXPECT_THAT(c.Say("000004"), AllOf(HasSubstr("锁定30分钟"), HasSubstr(kAccount)));
  // Even the right password is refused while locked.
  c.Say("绑定户号");
  c.Say("南宁");
  EXPECT_THAT(c.Say(kAccount), AllOf(HasSubstr("暂时锁定"), HasSubstr("30分钟")));
  c.clock().Advance(20 * 60);
  c.Say("绑定户号");
  c.Say("南宁");
  EXPECT_THAT(c.Say(kAccount), HasSubstr("10分钟"));
  c.clock().Advance(11 * 60);
  EXPECT_THAT(c.Bind("南宁", kAccount, kPassword), HasSubstr("绑定成功"));
}

TEST(Lockout, SentencesWithoutDigitsAreNotAttempts) {
  Conversation c;
  c.Say("绑定户号");
  c.Say("南宁");
  c.Say(kAccount);
  EXPECT_THAT(c.Say("我忘记密码了"), HasSubstr("营业厅重置"));
  EXPECT_THAT(c.Say("密码是 000000"), HasSubstr("还可以尝试4次"));
  EXPECT_THAT(c.Say("我的密码是246810"), HasSubstr("绑定成功"));
}

TEST(Lockout, LockIsPerUser) {
  Conversation c;
  c.Say("绑定户号");
  c.Say("南宁");
  c.Say(kAccount);
  for (int i = 0; i < 5; ++i) c.Say("000000");
  c.Say("绑定户号", "other");
  c.Say("南宁", "other");
  c.Say(kAccount, "other");
  EXPECT_THAT(c.Say(kPassword, "other"), HasSubstr("绑定成功"));
}

TEST(Accounts, AtMostFiveAccounts) {
  Conversation c;
  EXPECT_THAT(c.Bind("南宁", "0301000001234", "246810"), HasSubstr("绑定成功"));
  EXPECT_THAT(c.Bind("南宁", "0301000003517", "802413"), HasSubstr("绑定成功"));
  EXPECT_THAT(c.Bind("南宁", "0301000007026", "570921"), HasSubstr("绑定成功"));
  EXPECT_THAT(c.Bind("柳州", "0302000004815", "419263"), HasSubstr("绑定成功"));
  EXPECT_THAT(c.Bind("桂林", "0303000006392", "638054"), HasSubstr("绑定成功"));
  EXPECT_THAT(c.Say("绑定户号"), HasSubstr("已达上限"));
  EXPECT_THAT(c.Say("我绑了哪些户号"),
              AllOf(HasSubstr("已绑定5个"), HasSubstr("0301000001234（默认）")));
}

TEST(Accounts, SwitchDefaultAndUnbindWithConfirmation) {
  Conversation c;
  c.Bind("南宁", "0301000001234", "246810");
  c.Bind("柳州", "0302000004815", "419263");
  EXPECT_THAT(c.Say("切换户号"), HasSubstr("2. 0302000004815"));
  EXPECT_THAT(c.Say("2"), HasSubstr("已将户号0302000004815设为默认"));
  EXPECT_THAT(c.Say("我欠费了吗"), HasSubstr("0302000004815"));
  EXPECT_THAT(c.Say("解绑户号"), HasSubstr("要解绑哪个"));
  EXPECT_THAT(c.Say("0302000004815"), HasSubstr("确认要解绑户号0302000004815"));
  EXPECT_THAT(c.Say("确认"),
              AllOf(HasSubstr("已解绑户号0302000004815"), HasSubstr("默认户号为0301000001234")));
}

TEST(Accounts, UnbindCanBeDeclined) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  EXPECT_THAT(c.Say("解绑户号"), HasSubstr("确认要解绑"));
  EXPECT_THAT(c.Say("不要"), HasSubstr("保持绑定"));
  EXPECT_THAT(c.Say("我绑了哪些户号"), HasSubstr(kAccount));
}

TEST(Engine, CancelEndsTheFlow) {
  Conversation c;
  c.Say("绑定户号");
  EXPECT_THAT(c.Say("取消"), HasSubstr("已为您取消绑定户号"));
  EXPECT_THAT(c.Say("南宁"), Not(HasSubstr("请输入您的户号")));
}

TEST(Engine, CancelAtThePasswordPrompt) {
  Conversation c;
  c.Say("绑定户号");
  c.Say("南宁");
  c.Say(kAccount);
  EXPECT_THAT(c.Say("取消"), HasSubstr("已为您取消"));
}

TEST(Engine, NoThanksAtAPromptEndsTheFlow) {
  Conversation c;
  c.Say("绑定户号");
  EXPECT_THAT(c.Say("不要了"), HasSubstr("已为您取消绑定户号"));
}

TEST(Engine, AHumanAgentRequestEndsTheFlow) {
  Conversation c;
  c.Say("绑定户号");
  const std::string r = c.Say("转人工");
  EXPECT_THAT(r, HasSubstr("人工客服"));
  EXPECT_THAT(r, Not(HasSubstr("我们继续")));
  EXPECT_THAT(c.Say("南宁"), Not(HasSubstr("请输入您的户号")));
}

TEST(Engine, ABareAccountNumberOffersToBindIt) {
  Conversation c;
  EXPECT_THAT(c.Say("0301000007026"), HasSubstr("哪个市"));
  c.Say("南宁");
  EXPECT_THAT(c.Say("570921"), HasSubstr("绑定成功"));
  EXPECT_THAT(c.Say("0301000007026"), HasSubstr("电费账单"));
}

TEST(Engine, ABareCardOrBusinessNumberStartsItsService) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  EXPECT_THAT(c.Say("8800123456789012"), HasSubstr("卡密码"));
  c.Say("取消");
  EXPECT_THAT(c.Say("YK20240801001"), HasSubstr("现场勘查"));
}

TEST(Engine, AReportedLocationIsUsedForNearbyOutlets) {
  Conversation c;
  dialogs::Inbound report;
  report.channel = "web";
  report.user = "u1";
  report.event = dialogs::Event{"location_report", "", 22.8170, 108.3669};
  EXPECT_TRUE(c.engine().Handle(report).replies.empty());  // no answer to a report
  EXPECT_THAT(c.Say("附近的营业厅"), HasSubstr("南宁供电局青秀营业厅"));
  c.clock().Advance(31 * 60);  // an old location is not trusted
  EXPECT_THAT(c.Say("附近的营业厅"), HasSubstr("位置"));
}

TEST(Engine, SwitchingBackAndForthDoesNotPileUpFlows) {
  Conversation c;
  for (int i = 0; i < 10; ++i) {
    c.Say("我要报修");
    c.Say("我要申请新装");
  }
  storage::Tx tx = c.store().Begin();
  auto state = dialogs::ConversationState::FromJson(*tx.LoadSession("web", "u1"));
  EXPECT_LE(state.stack.size(), 3u);
}

TEST(Engine, HelpInTheMiddleAnswersAndAsksAgain) {
  Conversation c;
  c.Say("绑定户号");
  const std::string r = c.Say("你能做什么");
  EXPECT_THAT(r, AllOf(HasSubstr("绑定户号"), HasSubstr("我们继续"), HasSubstr("哪个市")));
  EXPECT_THAT(c.Say("南宁"), HasSubstr("请输入您的户号"));
}

TEST(Engine, QuestionOfAnotherFlowIsAnsweredThenResumed) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  c.Say("绑定户号");
  const std::string r = c.Say("我欠费了吗");
  EXPECT_THAT(r, AllOf(HasSubstr("129.80"), HasSubstr("我们继续"), HasSubstr("哪个市")));
}

TEST(Engine, GivesUpAfterRepeatedNonsense) {
  Conversation c;
  c.Say("绑定户号");
  EXPECT_THAT(c.Say("啊啊啊"), HasSubstr("地市"));
  c.Say("哦哦哦");
  EXPECT_THAT(c.Say("呃呃呃"), HasSubstr("已退出绑定户号"));
}

TEST(Engine, UnknownTextGetsAPoliteFallbackThenAPerson) {
  // desk.md: not understood twice in a row hands the conversation over.
  Conversation c;
  EXPECT_THAT(c.Say("今天天气怎么样"), HasSubstr("没太明白"));
  EXPECT_THAT(c.Say("讲个笑话"), HasSubstr("转接人工客服"));
}

TEST(Engine, InvalidUtf8IsAnsweredPolitely) {
  Conversation c;
  EXPECT_THAT(c.Say(std::string("\xff\xfe\xfd")), HasSubstr("无法识别"));
}

TEST(Engine, PasswordsNeverReachTheLogOrTheState) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  storage::Tx tx = c.store().Begin();
  auto st = tx.connection().Prepare(
      "SELECT COUNT(*) FROM dialog_log WHERE text LIKE '%246810%' OR normalized LIKE '%246810%' "
      "OR slots LIKE '%246810%'");
  ASSERT_TRUE(st.Step());
  EXPECT_EQ(st.Int(0), 0);
  auto masked = tx.connection().Prepare("SELECT COUNT(*) FROM dialog_log WHERE masked = 1");
  ASSERT_TRUE(masked.Step());
  EXPECT_EQ(masked.Int(0), 1);
  auto sessions =
      tx.connection().Prepare("SELECT COUNT(*) FROM sessions WHERE state LIKE '%246810%'");
  ASSERT_TRUE(sessions.Step());
  EXPECT_EQ(sessions.Int(0), 0);
}

TEST(Engine, AskingForDataWhileBindingAnswersAfterTheBinding) {
  Conversation c;
  c.Say("绑定户号");
  EXPECT_THAT(c.Say("我欠费了吗"), AllOf(HasSubstr("绑定完成后"), HasSubstr("哪个市")));
  c.Say("南宁");
  c.Say(kAccount);
  EXPECT_THAT(c.Say(kPassword), AllOf(HasSubstr("绑定成功"), HasSubstr("欠费129.80元")));
}

TEST(Engine, TheDeferredRequestKeepsItsWording) {
  Conversation c;
  c.Say("我家抄表日是哪天");
  c.Say("南宁");
  c.Say(kAccount);
  const std::string r = c.Say(kPassword);
  EXPECT_THAT(r, AllOf(HasSubstr("绑定成功"), HasSubstr("5日")));
  EXPECT_THAT(r, Not(HasSubstr("计量方式")));  // only the field asked for
}

TEST(Engine, PasswordsInADeferredRequestAreMaskedInTheState) {
  Conversation c;
  c.Say("查上个月电费 我的密码是Abc12345");
  storage::Tx tx = c.store().Begin();
  EXPECT_THAT(*tx.LoadSession("web", "u1"), Not(HasSubstr("Abc12345")));
}

TEST(Engine, PasswordsTypedUnaskedAreMaskedInTheLog) {
  Conversation c;
  c.Say("我的密码是Abc12345 帮我登录");
  storage::Tx tx = c.store().Begin();
  auto st = tx.connection().Prepare("SELECT text, normalized FROM dialog_log");
  ASSERT_TRUE(st.Step());
  EXPECT_EQ(st.Text(0), "我的密码是****** 帮我登录");
  EXPECT_THAT(st.Text(1), Not(HasSubstr("12345")));
}

TEST(Engine, EveryTurnIsLogged) {
  Conversation c;
  c.Say("你好");
  c.Say("上个月电费多少");
  storage::Tx tx = c.store().Begin();
  auto st = tx.connection().Prepare(
      "SELECT intent, text, flow, step, tokens FROM dialog_log ORDER BY id");
  ASSERT_TRUE(st.Step());
  EXPECT_EQ(st.Text(0), "greet");
  ASSERT_TRUE(st.Step());
  EXPECT_EQ(st.Text(0), "query_bill");
  EXPECT_EQ(st.Text(1), "上个月电费多少");
  EXPECT_THAT(st.Text(4), HasSubstr("电费"));  // the domain word whole, for search
  EXPECT_EQ(st.Text(2), "bind_account");
  EXPECT_EQ(st.Text(3), "city");
}

TEST(Engine, ARepeatedDedupKeyRunsOnce) {
  Conversation c;
  c.Say("绑定户号");
  c.Say("南宁");
  c.Say(kAccount);
  dialogs::Inbound in;
  in.user = "u1";
  in.text = "000000";
  in.dedup_key = "msg:42";
  const auto first = c.engine().Handle(in);
  const auto again = c.engine().Handle(in);
  ASSERT_EQ(first.replies.size(), 1u);
  ASSERT_EQ(again.replies.size(), 1u);
  EXPECT_EQ(first.replies[0].text, again.replies[0].text);
  EXPECT_TRUE(again.duplicate);
  EXPECT_THAT(c.Say("000001"), HasSubstr("还可以尝试3次"));  // the retry did not count
}

// An answer lost on the way (the page's connection dropped) and asked for
// again with the same id brings back the notices it carried: they were
// marked shown with the first answer and would be lost otherwise.
TEST(Engine, AResentMessageGetsTheNoticesOfItsFirstAnswerAgain) {
  Conversation c;
  c.Say("你好");
  {
    storage::Tx tx = c.store().Begin();
    storage::QueueCustomerMessage(tx, "web", "u1", "客服小李：您好，您的报修已派单。", "agent",
                                  c.clock().Now());
    ASSERT_TRUE(tx.Commit().ok());
  }
  dialogs::Inbound in;
  in.user = "u1";
  in.text = "谢谢";
  in.dedup_key = "id:u1|m-9";
  EXPECT_FALSE(c.engine().Answered(in));
  const auto first = c.engine().Handle(in);
  EXPECT_TRUE(c.engine().Answered(in));
  const auto again = c.engine().Handle(in);
  ASSERT_GE(first.replies.size(), 2u);
  EXPECT_EQ(first.replies[0].type, "notice");
  ASSERT_EQ(again.replies.size(), first.replies.size());
  for (size_t i = 0; i < first.replies.size(); ++i) {
    EXPECT_EQ(again.replies[i].type, first.replies[i].type) << i;
    EXPECT_EQ(again.replies[i].text, first.replies[i].text) << i;
    EXPECT_EQ(again.replies[i].seq, first.replies[i].seq) << i;
    EXPECT_EQ(again.replies[i].from, first.replies[i].from) << i;
  }
  // A new message does not show the notice a third time.
  EXPECT_THAT(c.Say("你好"), Not(HasSubstr("已派单")));
}

// A retry answer expires: the same key long after (a replay, not WeChat's
// retry within seconds) is a message of its own, not the old answer again.
TEST(Engine, RetryAnswersExpire) {
  Conversation c;
  dialogs::Inbound in;
  in.user = "u1";
  in.text = "你好";
  in.dedup_key = "msg:u1|7";
  c.engine().Handle(in);
  c.clock().Advance(60);
  EXPECT_TRUE(c.engine().Handle(in).duplicate);
  c.clock().Advance(11 * 60);
  EXPECT_FALSE(c.engine().Handle(in).duplicate);
}

// NUL, other controls and direction overrides are not part of what is read
// and logged.
TEST(Engine, InvisibleControlsAreStripped) {
  Conversation c;
  EXPECT_THAT(c.Say(std::string("上个月") + '\0' +
                    "电费\xE2\x80\xAE"
                    "多少\x07"),
              HasSubstr("绑定"));
  EXPECT_EQ(QueryText(c, "SELECT text FROM dialog_log ORDER BY id DESC LIMIT 1"), "上个月电费多少");
  EXPECT_EQ(dialogs::WithoutInvisibleControls("a\xE2\x81\xA6"
                                              "b\xEF\xBB\xBF"
                                              "c\td"),
            "abc\td");
}

TEST(Engine, ARestartInTheMiddleOfAFlowContinues) {
  const std::string db = (std::filesystem::temp_directory_path() /
                          ("gridbot_restart_" + std::to_string(getpid()) + ".db"))
                             .string();
  std::filesystem::remove(db);
  {
    Conversation before(db);
    before.Say("绑定户号");
    before.Say("南宁");
    EXPECT_THAT(before.Say(kAccount), HasSubstr("服务密码"));
  }
  {
    Conversation after(db);
    EXPECT_THAT(after.Say(kPassword), HasSubstr("绑定成功"));
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db + suffix);
}

}  // namespace
}  // namespace gridbot::testing

namespace gridbot::testing {
namespace {

// A service password can't be found by spreading guesses over made-up users
// (issue 10: 200 users x 5 guesses found one in 0.5 s): the account counts
// wrong passwords from everyone; its owner still binds after the wait.
TEST(Trust, ServicePasswordGuessesAcrossUsersAreSlowedAndTheOwnerGetsIn) {
  Conversation c;
  int tested = 0;
  for (int u = 0; u < 200; ++u) {
    const std::string user = "g" + std::to_string(u);
    c.Say("绑定户号", user);
    c.Say("南宁", user);
    c.Say("0301000001234", user);
    for (int i = 0; i < 5; ++i) {
      const std::string guess = std::to_string(100000 + u * 5 + i);
      if (c.Say(guess, user).find("服务密码不正确") != std::string::npos) ++tested;
    }
  }
  EXPECT_LE(tested, 10);  // the free ones; then everyone waits
  c.Say("绑定户号");
  c.Say("南宁");
  EXPECT_THAT(c.Say("0301000001234"), HasSubstr("输错次数较多"));
  c.clock().Advance(60 * 60);
  EXPECT_THAT(c.Bind("南宁", "0301000001234", "246810"), HasSubstr("绑定成功"));
}

// An address that mistypes now and then (an office behind one address)
// never drifts into waiting: each quiet hour forgives one wrong secret, a
// quiet day forgets them all; a burst from it still waits.
TEST(Trust, AnAddressesWrongSecretsFadeWithQuietTime) {
  Conversation c;
  c.SetSource("198.51.100.7");
  int who = 0;
  auto wrong = [&] {
    const std::string u = "office" + std::to_string(who++);
    c.Say("绑定户号", u);
    c.Say("南宁", u);
    c.Say("0301888" + std::to_string(100000 + who), u);  // made up: none waits itself
    return c.Say("135790", u);
  };
  for (int i = 0; i < 29; ++i) ASSERT_THAT(wrong(), HasSubstr("户号或服务密码不正确")) << i;
  c.clock().Advance(5 * 3600 + 60);  // five quiet hours: five forgiven
  for (int i = 0; i < 6; ++i) EXPECT_THAT(wrong(), HasSubstr("户号或服务密码不正确")) << i;
  EXPECT_THAT(wrong(), HasSubstr("所在的网络"));  // a burst still waits
  c.clock().Advance(25 * 3600);                   // a quiet day: afresh
  for (int i = 0; i < 30; ++i) EXPECT_THAT(wrong(), HasSubstr("户号或服务密码不正确")) << i;
  // Counts quiet for a week are forgotten by housekeeping.
  {
    const UnixSeconds later = c.clock().Now() + 8 * 24 * 3600;
    storage::Tx tx = c.store().Begin();
    tx.PurgeAttempts(later - 7 * 24 * 3600, later);
    ASSERT_TRUE(tx.Commit().ok());
  }
  EXPECT_EQ(QueryInt(c, "SELECT COUNT(*) FROM bind_attempts"), 0);
}

}  // namespace
}  // namespace gridbot::testing

namespace gridbot::testing {
namespace {

// A service password typed unlabelled beside the 户号, in the first message,
// is never stored in clear (only the back end's own account row has it).
TEST(Trust, AnUnlabelledPasswordBesideTheAccountIsNotLogged) {
  Conversation c;
  c.Say("绑定户号 0301000001234 246810");
  c.Say("绑定户号０３０１０００００１２３４　２４６８１０", "u2");
  EXPECT_THAT(WhereFound(c, "246810"), ::testing::ElementsAre("accounts.service_password"));
  EXPECT_THAT(WhereFound(c, "２４６８１０"), ::testing::IsEmpty());
  // Years, amounts and the numbers themselves are left alone.
  c.Say("户号0301000001234 2024年3月的账单", "u3");
  EXPECT_FALSE(WhereFound(c, "2024年3月").empty());
}

}  // namespace
}  // namespace gridbot::testing
