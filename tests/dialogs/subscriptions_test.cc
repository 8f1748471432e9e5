// Scripted conversations for bill subscriptions (订阅服务 / 取消订阅) and the
// notices `gridbot notify-bills` queues, against the demo data with today
// 2024-08-04. Demo account 0301000001234 (南宁市, password 246810, phone
// 13800138000): 2024-07 bill 236 kWh / 129.80 unpaid, due 2024-08-20;
// 2024-06 bill paid.
#include "storage/subscriptions.h"

#include "bot/outbox.h"
#include "tests/dialogs/conversation.h"

namespace gridbot::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kAccount[] = "0301000001234";
constexpr char kPassword[] = "246810";

// "sms:13800138000@0301000001234, …" for the user's active subscriptions.
std::string Subscriptions(Conversation& c, const std::string& channel = "web",
                          const std::string& user = "u1") {
  storage::Tx tx = c.store().Begin();
  const std::int64_t user_id = tx.UserIdFor(channel, user, c.clock().Now());
  std::string out;
  for (const auto& s : storage::ListSubscriptions(tx, user_id))
    out += (out.empty() ? "" : ", ") + s.channel + ":" + s.target + "@" + s.account_no;
  EXPECT_TRUE(tx.Commit().ok());
  return out;
}

// Every outbox message as "channel|recipient|status|body", one per line.
std::string Outbox(Conversation& c) {
  storage::Tx tx = c.store().Begin();
  std::string out;
  for (const auto& m : storage::ListOutbox(tx, ""))
    out += m.channel + "|" + m.recipient + "|" + m.status + "|" + m.body + "\n";
  EXPECT_TRUE(tx.Commit().ok());
  return out;
}

// Subscribes the bound demo account by SMS (default phone) and by e-mail.
void SubscribeSmsAndEmail(Conversation& c) {
  c.Say("订阅短信账单");
  ASSERT_THAT(c.Say("确认"), HasSubstr("订阅成功"));
  c.Say("订阅邮件账单");
  c.Say("zhangsan@example.com");
  ASSERT_THAT(c.Say("确认"), HasSubstr("订阅成功"));
}

TEST(Subscribe, BySmsToTheAccountsPhoneByDefault) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  EXPECT_THAT(c.Say("订阅服务"), AllOf(HasSubstr("户号0301000001234"), HasSubstr("短信"),
                                       HasSubstr("邮件"), HasSubstr("微信")));
  EXPECT_THAT(c.Say("短信"), AllOf(HasSubstr("请确认订阅信息"), HasSubstr("0301000001234"),
                                   HasSubstr("民族大道88号"), HasSubstr("138****8000")));
  EXPECT_EQ(Subscriptions(c), "");  // nothing before the confirmation
  EXPECT_THAT(c.Say("确认"),
              AllOf(HasSubstr("订阅成功"), HasSubstr("短信"), HasSubstr("138****8000")));
  EXPECT_EQ(Subscriptions(c), "sms:13800138000@0301000001234");
}

TEST(Subscribe, ChannelByNumberOfTheList) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  c.Say("订阅账单");
  EXPECT_THAT(c.Say("1"), HasSubstr("138****8000"));
  EXPECT_THAT(c.Say("好的"), HasSubstr("订阅成功"));
  EXPECT_EQ(Subscriptions(c), "sms:13800138000@0301000001234");
}

TEST(Subscribe, RegisteredPhoneComesBeforeTheAccountsPhone) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  {
    storage::Tx tx = c.store().Begin();
    const std::int64_t user_id = tx.UserIdFor("web", "u1", c.clock().Now());
    storage::Statement st = tx.Prep("UPDATE users SET phone = '13912345678' WHERE id = ?");
    st.Bind(1, user_id);
    ASSERT_TRUE(st.Run().ok());
    ASSERT_TRUE(tx.Commit().ok());
  }
  EXPECT_THAT(c.Say("订阅短信账单"),
              AllOf(HasSubstr("139****5678"), Not(HasSubstr("138****8000"))));
  c.Say("确认");
  EXPECT_EQ(Subscriptions(c), "sms:13912345678@0301000001234");
}

TEST(Subscribe, AnotherPhoneInTheRequestOrAtTheConfirmation) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  EXPECT_THAT(c.Say("账单短信订阅，发到13912345678"), HasSubstr("139****5678"));
  EXPECT_THAT(c.Say("换成137 0000 1111"), AllOf(HasSubstr("137****1111"), HasSubstr("请确认")));
  EXPECT_THAT(c.Say("确认"), HasSubstr("137****1111"));
  EXPECT_EQ(Subscriptions(c), "sms:13700001111@0301000001234");
}

TEST(Subscribe, EmailInvalidAddressRefusedThenValidOne) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  EXPECT_THAT(c.Say("每个月把账单发我邮箱"), HasSubstr("请输入接收电子账单的邮箱地址"));
  EXPECT_THAT(c.Say("zhangsan@qq"), HasSubstr("邮箱地址格式不正确"));
  EXPECT_THAT(c.Say("zhangsan.qq.com"), HasSubstr("邮箱地址格式不正确"));
  EXPECT_EQ(Subscriptions(c), "");
  EXPECT_THAT(c.Say("我的邮箱是 ZhangSan@QQ.com"),
              AllOf(HasSubstr("请确认订阅信息"), HasSubstr("zhangsan@qq.com")));
  EXPECT_THAT(c.Say("是的"),
              AllOf(HasSubstr("订阅成功"), HasSubstr("邮件"), HasSubstr("zhangsan@qq.com")));
  EXPECT_EQ(Subscriptions(c), "email:zhangsan@qq.com@0301000001234");
}

TEST(Subscribe, EmailGivenUpAfterThreeInvalidAddresses) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  c.Say("订阅邮件账单");
  c.Say("a@b");
  c.Say("a@@b.com");
  EXPECT_THAT(c.Say("x@y"), HasSubstr("已退出订阅账单"));
  EXPECT_EQ(Subscriptions(c), "");
}

TEST(Subscribe, DeclinedAtTheConfirmation) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  c.Say("订阅短信账单");
  EXPECT_THAT(c.Say("不用了"), HasSubstr("已放弃本次订阅"));
  EXPECT_EQ(Subscriptions(c), "");
}

TEST(Subscribe, SameAccountChannelAndTargetTwiceIsSaidSo) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  c.Say("订阅短信账单");
  c.Say("确认");
  EXPECT_THAT(c.Say("我要订阅短信账单"),
              AllOf(HasSubstr("已经订阅"), HasSubstr("138****8000"), Not(HasSubstr("请确认"))));
  // Another target on the same channel is a new subscription.
  EXPECT_THAT(c.Say("订阅短信账单发到13912345678"), HasSubstr("请确认"));
  c.Say("确认");
  EXPECT_EQ(Subscriptions(c), "sms:13800138000@0301000001234, sms:13912345678@0301000001234");
}

TEST(Subscribe, UnboundCustomerBindsFirst) {
  Conversation c;
  EXPECT_THAT(c.Say("订阅电费账单"), HasSubstr("先绑定"));
  c.Say("南宁");
  c.Say(kAccount);
  EXPECT_THAT(c.Say(kPassword), AllOf(HasSubstr("绑定成功"), HasSubstr("哪种方式接收")));
  EXPECT_THAT(c.Say("短信"), HasSubstr("138****8000"));
}

TEST(Subscribe, WechatOnTheWebIsExplained) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  EXPECT_THAT(c.Say("订阅微信账单"), AllOf(HasSubstr("微信公众号中订阅"), HasSubstr("短信或邮件")));
  EXPECT_EQ(Subscriptions(c), "");
}

TEST(Subscribe, WechatOnWechatGoesToTheOpenId) {
  Conversation c;
  auto say = [&c](const std::string& text) {
    dialogs::Inbound in;
    in.channel = "wechat";
    in.user = "oWx_openid_1";
    in.text = text;
    std::string joined;
    for (const auto& r : c.engine().Handle(in).replies) joined += r.text + "\n";
    return joined;
  };
  say("绑定户号");
  say("南宁");
  say(kAccount);
  ASSERT_THAT(say(kPassword), HasSubstr("绑定成功"));
  EXPECT_THAT(say("订阅微信账单"), AllOf(HasSubstr("微信（本微信号）"), HasSubstr("确认")));
  EXPECT_THAT(say("确认"), AllOf(HasSubstr("订阅成功"), HasSubstr("本微信号")));
  EXPECT_EQ(Subscriptions(c, "wechat", "oWx_openid_1"), "wechat:oWx_openid_1@0301000001234");
}

TEST(SubscriptionList, EmptyThenTwo) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  EXPECT_THAT(c.Say("我的订阅"), HasSubstr("还没有订阅"));
  SubscribeSmsAndEmail(c);
  EXPECT_THAT(c.Say("查看我的订阅"),
              AllOf(HasSubstr("共有2个"), HasSubstr("1. 户号0301000001234｜短信｜138****8000"),
                    HasSubstr("2. 户号0301000001234｜邮件｜zhangsan@example.com")));
}

TEST(Unsubscribe, NothingToCancel) {
  Conversation c;
  EXPECT_THAT(c.Say("取消订阅"), HasSubstr("没有生效中的电费账单订阅"));
}

TEST(Unsubscribe, OneByTheNumberOfTheList) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  SubscribeSmsAndEmail(c);
  EXPECT_THAT(c.Say("取消订阅"),
              AllOf(HasSubstr("取消哪一个"), HasSubstr("1. 户号0301000001234｜短信"),
                    HasSubstr("2. 户号0301000001234｜邮件")));
  EXPECT_THAT(c.Say("5"), HasSubstr("没有找到您要取消的订阅"));
  EXPECT_THAT(c.Say("第二个"), AllOf(HasSubstr("确认取消以下订阅"),
                                     HasSubstr("zhangsan@example.com"), Not(HasSubstr("短信"))));
  EXPECT_EQ(Subscriptions(c),
            "sms:13800138000@0301000001234, email:zhangsan@example.com@0301000001234");
  EXPECT_THAT(c.Say("确认"), HasSubstr("已为您取消1个订阅"));
  EXPECT_EQ(Subscriptions(c), "sms:13800138000@0301000001234");
  EXPECT_THAT(c.Say("我的订阅"), AllOf(HasSubstr("共有1个"), Not(HasSubstr("邮件"))));
}

TEST(Unsubscribe, ByChannelWordInTheRequest) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  SubscribeSmsAndEmail(c);
  EXPECT_THAT(c.Say("不要再发账单短信了"),
              AllOf(HasSubstr("确认取消"), HasSubstr("138****8000"), Not(HasSubstr("邮件"))));
  EXPECT_THAT(c.Say("是的"), HasSubstr("已为您取消1个订阅"));
  EXPECT_EQ(Subscriptions(c), "email:zhangsan@example.com@0301000001234");
  // No WeChat subscription: said so, then the list to choose from.
  EXPECT_THAT(c.Say("退订微信账单"),
              AllOf(HasSubstr("您没有通过微信订阅"), HasSubstr("1. 户号0301000001234｜邮件")));
  c.Say("取消");
  // Nor for another account.
  EXPECT_THAT(c.Say("退订0301000003517的账单"),
              AllOf(HasSubstr("您没有为户号0301000003517订阅"), HasSubstr("取消哪一个")));
}

TEST(Unsubscribe, AskingAgainRepeatsTheQuestionWithoutCountingAFailure) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  SubscribeSmsAndEmail(c);
  c.Say("取消订阅");
  EXPECT_THAT(c.Say("9"), HasSubstr("没有找到您要取消的订阅"));
  EXPECT_THAT(c.Say("10"), HasSubstr("没有找到您要取消的订阅"));
  EXPECT_THAT(c.Say("取消订阅"), HasSubstr("请问要取消哪一个"));
  EXPECT_THAT(c.Say("邮件那个"), HasSubstr("zhangsan@example.com"));
  EXPECT_THAT(c.Say("确认"), HasSubstr("已为您取消1个订阅"));
  EXPECT_EQ(Subscriptions(c), "sms:13800138000@0301000001234");
}

TEST(Unsubscribe, AllOfThem) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  SubscribeSmsAndEmail(c);
  c.Say("取消订阅");
  EXPECT_THAT(c.Say("全部"), AllOf(HasSubstr("确认取消"), HasSubstr("短信"), HasSubstr("邮件")));
  EXPECT_THAT(c.Say("确认"), HasSubstr("已为您取消2个订阅"));
  EXPECT_EQ(Subscriptions(c), "");
  EXPECT_THAT(c.Say("我的订阅"), HasSubstr("还没有订阅"));
}

TEST(Unsubscribe, AllOfThemSaidWithCancelWordsAndABareCancelStillCancels) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  SubscribeSmsAndEmail(c);
  c.Say("取消订阅");
  EXPECT_THAT(c.Say("都取消吧"),
              AllOf(HasSubstr("确认取消"), HasSubstr("短信"), HasSubstr("邮件")));
  EXPECT_THAT(c.Say("确认"), HasSubstr("已为您取消2个订阅"));
  SubscribeSmsAndEmail(c);
  c.Say("取消订阅");
  EXPECT_THAT(c.Say("取消"), HasSubstr("已为您取消"));
  EXPECT_EQ(Subscriptions(c),
            "sms:13800138000@0301000001234, email:zhangsan@example.com@0301000001234");
}

TEST(Unsubscribe, KeptWhenDenied) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  c.Say("订阅短信账单");
  c.Say("确认");
  EXPECT_THAT(c.Say("取消订阅"), HasSubstr("确认取消以下订阅"));  // the only one
  EXPECT_THAT(c.Say("不用了"), HasSubstr("订阅保持不变"));
  EXPECT_EQ(Subscriptions(c), "sms:13800138000@0301000001234");
}

TEST(Unsubscribe, ResubscribingReactivatesTheSameRow) {
  Conversation c;
  storage::Tx tx = c.store().Begin();
  const std::int64_t user = tx.UserIdFor("web", "u1", 0);
  auto id = storage::Subscribe(tx, user, kAccount, "sms", "13800138000", 100);
  ASSERT_TRUE(id);
  EXPECT_FALSE(storage::Subscribe(tx, user, kAccount, "sms", "13800138000", 200));
  EXPECT_TRUE(storage::Unsubscribe(tx, user, *id));
  EXPECT_FALSE(storage::Unsubscribe(tx, user, *id));
  EXPECT_FALSE(storage::Unsubscribe(tx, user + 1, *id));
  EXPECT_EQ(storage::Subscribe(tx, user, kAccount, "sms", "13800138000", 300), id);
  ASSERT_EQ(storage::ListSubscriptions(tx, user).size(), 1u);
  EXPECT_EQ(storage::ListSubscriptions(tx, user)[0].created_at, 300);
  EXPECT_TRUE(tx.Commit().ok());
}

// --- notify-bills ---------------------------------------------------------

TEST(NotifyBills, RunTwiceQueuesOnce) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  SubscribeSmsAndEmail(c);
  const UnixSeconds now = c.clock().Now();
  {
    storage::Tx tx = c.store().Begin();
    const bot::BillNoticeReport r = bot::QueueBillNotices(tx, *SharedReplies(), "2024-07", now);
    EXPECT_EQ(r.queued, 2);
    EXPECT_EQ(r.duplicate, 0);
    EXPECT_EQ(r.no_bill, 0);
    ASSERT_TRUE(tx.Commit().ok());
  }
  {
    storage::Tx tx = c.store().Begin();
    const bot::BillNoticeReport r = bot::QueueBillNotices(tx, *SharedReplies(), "2024-07", now);
    EXPECT_EQ(r.queued, 0);
    EXPECT_EQ(r.duplicate, 2);
    ASSERT_TRUE(tx.Commit().ok());
  }
  const std::string outbox = Outbox(c);
  EXPECT_THAT(outbox, HasSubstr("sms|13800138000|pending|【广西电网95598】尊敬的客户，您的户号"
                                "0301000001234 2024年7月电费129.80元（236度），请于2024年8月20日"
                                "前缴纳。\n"));
  EXPECT_THAT(outbox, HasSubstr("email|zhangsan@example.com|pending|"));
  EXPECT_THAT(outbox, AllOf(HasSubstr("民族大道88号"), HasSubstr("缴费截止日期：2024年8月20日")));
  {
    storage::Tx tx = c.store().Begin();
    EXPECT_EQ(storage::ListOutbox(tx, "").size(), 2u);
  }
}

TEST(NotifyBills, WechatSubscribersGetATemplateMessageWhenOneIsConfigured) {
  Conversation c;
  storage::Tx tx = c.store().Begin();
  const auto user = tx.UserIdFor("wechat", "oWx_9", 0);
  ASSERT_TRUE(storage::Subscribe(tx, user, kAccount, "wechat", "oWx_9", 0));
  bot::BillNoticeReport r =
      bot::QueueBillNotices(tx, *SharedReplies(), "2024-07", 0, "TEMPLATE_ID_1");
  EXPECT_EQ(r.queued, 1);
  auto messages = storage::ListOutbox(tx, "pending");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].channel, "wechat_template");
  EXPECT_EQ(messages[0].recipient, "oWx_9");
  EXPECT_EQ(
      messages[0].body,
      R"({"template_id":"TEMPLATE_ID_1","client_msg_id":"bill:2024-07:0301000001234:wechat:oWx_9",)"
      R"("data":{"keyword1":{"value":"0301000001234"},"keyword2":{"value":"2024年7月"},)"
      R"("keyword3":{"value":"129.80元"},"keyword4":{"value":"2024年8月20日"}}})");
}

TEST(NotifyBills, PaidBillMissingBillAndCancelledSubscription) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  SubscribeSmsAndEmail(c);
  c.Say("取消邮件订阅");
  ASSERT_THAT(c.Say("确认"), HasSubstr("已为您取消1个订阅"));
  storage::Tx tx = c.store().Begin();
  bot::BillNoticeReport r = bot::QueueBillNotices(tx, *SharedReplies(), "2019-01", 0);
  EXPECT_EQ(r.queued, 0);
  EXPECT_EQ(r.no_bill, 1);  // the cancelled e-mail one is not counted
  r = bot::QueueBillNotices(tx, *SharedReplies(), "2024-06", 0);
  EXPECT_EQ(r.queued, 1);
  auto messages = storage::ListOutbox(tx, "pending");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].channel, "sms");
  EXPECT_THAT(messages[0].body,
              AllOf(HasSubstr("2024年6月"), HasSubstr("已缴清"), Not(HasSubstr("请于"))));
}

}  // namespace
}  // namespace gridbot::testing
