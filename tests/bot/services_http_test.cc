// Every service of the account as a scripted conversation over /api/chat,
// against the real binary with the demo data (today 2024-08-04): the right
// figures and records, and the refusals.
#include <gmock/gmock.h>

#include "storage/store.h"
#include "tests/bot/test_server.h"

namespace gridbot::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

std::string Say(TestServer& s, const std::string& user, const std::string& text) {
  return s.ChatText(user, text);
}

void Bind(TestServer& s, const std::string& user, const std::string& city,
          const std::string& account, const std::string& password) {
  Say(s, user, "绑定户号");
  Say(s, user, city);
  Say(s, user, account);
  EXPECT_THAT(Say(s, user, password), HasSubstr("绑定成功"));
}

class Services : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = TempDb("services", ::testing::UnitTest::GetInstance()->current_test_info()->name());
    server_ = std::make_unique<TestServer>(db_, std::vector<std::string>{"--pay-simulator"});
    ASSERT_NE(server_->port(), 0);
  }
  // The latest outbox message of a channel, read from the database the
  // server writes (SQLite allows a second reader).
  std::string LastOutbox(const std::string& channel) {
    auto store = storage::Store::Open(db_);
    EXPECT_TRUE(store.ok()) << store.error();
    storage::Tx tx = (*store)->Begin();
    auto st = tx.connection().Prepare(
        "SELECT body FROM outbox WHERE channel = ? ORDER BY id DESC LIMIT 1");
    st.Bind(1, channel);
    return st.Step() ? OpenedOutboxBody(db_, st.Text(0)) : "";
  }
  TestServer& s() { return *server_; }
  std::string db_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(Services, ProfileProgressOutagesPaymentsAndOutlets) {
  Bind(s(), "a", "南宁", "0301000001234", "246810");
  EXPECT_THAT(Say(s(), "a", "我的档案"),
              AllOf(HasSubstr("每月5日"), HasSubstr("南宁供电局青秀供电分局"),
                    HasSubstr("交流220V"), HasSubstr("低供低计")));
  EXPECT_THAT(Say(s(), "a", "我家抄表日是哪天"),
              AllOf(HasSubstr("5日"), Not(HasSubstr("计量方式"))));
  EXPECT_THAT(Say(s(), "a", "查业务编号YK20240801001办到哪了"),
              AllOf(HasSubstr("现场勘查"), HasSubstr("2024年8月2日 15:20")));
  EXPECT_THAT(Say(s(), "a", "停电查询"),
              AllOf(HasSubstr("民族大道80号至120号沿线"), HasSubstr("线路检修")));
  EXPECT_THAT(Say(s(), "a", "3月到6月交了多少电费"),
              AllOf(HasSubstr("4笔"), HasSubstr("262.04元")));
  auto res = s().Request(
      boost::beast::http::verb::post, "/api/chat",
      nlohmann::json{{"user", "a"},
                     {"event", {{"type", "location"}, {"lat", 22.8170}, {"lng", 108.3669}}}}
          .dump());
  EXPECT_THAT(res.body(), HasSubstr("南宁供电局青秀营业厅"));
  EXPECT_THAT(Say(s(), "a", "附近的营业厅"), HasSubstr("位置"));
}

TEST_F(Services, PrepaidCardRefusalsAndRecharge) {
  Bind(s(), "b", "南宁", "0301000007026", "570921");
  Say(s(), "b", "充值卡充值");
  // A card number alone tells nothing (unknown, used and valid ones all ask
  // for the password); the password proves the card is at hand.
  EXPECT_THAT(Say(s(), "b", "8800123456789001"), HasSubstr("卡密码"));
  EXPECT_THAT(Say(s(), "b", "604218"), HasSubstr("已经使用过"));
  EXPECT_THAT(Say(s(), "b", "8800999999999999"), HasSubstr("卡密码"));  // another card, same flow
  EXPECT_THAT(Say(s(), "b", "135790"), HasSubstr("卡号或卡密码不正确"));
  Say(s(), "b", "取消");
  Say(s(), "b", "充值卡充值");
  EXPECT_THAT(Say(s(), "b", "8800123456789012"), HasSubstr("卡密码"));
  EXPECT_THAT(Say(s(), "b", "000000"), HasSubstr("不正确"));
  EXPECT_THAT(Say(s(), "b", "135790"), HasSubstr("100.00元"));
  EXPECT_THAT(Say(s(), "b", "确认"), HasSubstr("充值成功"));
  EXPECT_THAT(Say(s(), "b", "我欠费了吗"), HasSubstr("179.09"));  // 279.09 − 100.00
}

TEST_F(Services, PaymentOrderAndNoArrearsForUnionPay) {
  Bind(s(), "c", "南宁", "0301000001234", "246810");
  Say(s(), "c", "用支付宝交电费");
  EXPECT_THAT(Say(s(), "c", "确认"), AllOf(HasSubstr("129.80元"), HasSubstr("/pay/PO20240804")));
  Bind(s(), "d", "南宁", "0301000003517", "802413");
  EXPECT_THAT(Say(s(), "d", "银联缴费"), HasSubstr("没有欠费"));
}

TEST_F(Services, RepairAndApplicationShowInProgress) {
  Bind(s(), "e", "南宁", "0301000001234", "246810");
  Say(s(), "e", "家里跳闸了");
  Say(s(), "e", "是");
  Say(s(), "e", "是");
  Say(s(), "e", "跳过");
  EXPECT_THAT(Say(s(), "e", "确认"), HasSubstr("BX20240804001"));
  Say(s(), "e", "我要申请增容");
  Say(s(), "e", "南宁青秀区");
  Say(s(), "e", "李先生");
  Say(s(), "e", "13800138000");
  Say(s(), "e", "青秀区民族大道100号");
  Say(s(), "e", "店铺要加空调");
  EXPECT_THAT(Say(s(), "e", "确认"), HasSubstr("YK20240804001"));
  EXPECT_THAT(
      Say(s(), "e", "查一下进度"),
      AllOf(HasSubstr("BX20240804001"), HasSubstr("YK20240804001"), HasSubstr("YK20240801001")));
}

TEST_F(Services, SubscriptionRefusesABadEmail) {
  Bind(s(), "f", "南宁", "0301000001234", "246810");
  Say(s(), "f", "订阅电费账单");
  Say(s(), "f", "邮件");
  EXPECT_THAT(Say(s(), "f", "abc@"), HasSubstr("格式不正确"));
  Say(s(), "f", "abc@qq.com");
  EXPECT_THAT(Say(s(), "f", "确认"), AllOf(HasSubstr("订阅成功"), HasSubstr("abc@qq.com")));
  EXPECT_THAT(Say(s(), "f", "取消订阅"), HasSubstr("abc@qq.com"));
}

TEST_F(Services, RegisterWithTheSmsCodeThenLogInElsewhere) {
  Say(s(), "g", "我要注册账号");
  Say(s(), "g", "南宁");
  Say(s(), "g", "13912345678");
  Say(s(), "g", "gridbot2024");
  EXPECT_THAT(Say(s(), "g", "gridbot2024"), HasSubstr("验证码"));
  const std::string sms = LastOutbox("sms");
  const size_t at = sms.find_first_of("0123456789", sms.find("验证码"));
  ASSERT_NE(at, std::string::npos) << sms;
  EXPECT_THAT(Say(s(), "g", sms.substr(at, 6)), HasSubstr("注册成功"));
  Bind(s(), "g", "南宁", "0301000001234", "246810");
  // Another web user logs in to the same platform user: the binding follows.
  Say(s(), "h", "登录");
  Say(s(), "h", "13912345678");
  EXPECT_THAT(Say(s(), "h", "gridbot2024"), HasSubstr("登录成功"));
  EXPECT_THAT(Say(s(), "h", "我绑了哪些户号"), HasSubstr("0301000001234"));
}

TEST_F(Services, ASixthAccountIsRefused) {
  Bind(s(), "i", "南宁", "0301000001234", "246810");
  Bind(s(), "i", "南宁", "0301000003517", "802413");
  Bind(s(), "i", "南宁", "0301000007026", "570921");
  Bind(s(), "i", "柳州", "0302000004815", "419263");
  Bind(s(), "i", "桂林", "0303000006392", "638054");
  EXPECT_THAT(Say(s(), "i", "绑定户号"), HasSubstr("已达上限"));
}

}  // namespace
}  // namespace gridbot::testing
