// Scripted conversations for the money flows (issue 3): prepaid cards
// (recharge_card) and online payment orders (pay_bill), against the demo data
// with today 2024-08-04 10:00.
//
// Demo figures used here: 0301000007026 (南宁市武鸣区, 570921) owes 2024-06
// 117.99 and 2024-07 161.10; 0301000001234 (246810) owes 2024-07 129.80;
// 0301000003517 (802413) owes nothing. Cards: 8800123456789018 / 046291
// 200.00, 8800123456789012 / 135790 100.00, 8800123456789015 / 728364 500.00,
// 8800123456789001 used.
#include "storage/money.h"

#include <unistd.h>

#include <filesystem>
#include <latch>
#include <regex>
#include <set>
#include <thread>

#include "tests/dialogs/conversation.h"

namespace gridbot::testing {
namespace {

constexpr UnixSeconds kMaxTargetWaitForTest = 60 * 60;  // dialogs::kMaxTargetWait

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

// One row of payments, as "account amount_fen method reference".
std::vector<std::string> PaymentsWithReference(storage::Store& store, const std::string& ref) {
  storage::Tx tx = store.Begin();
  storage::Statement st = tx.Prep(
      "SELECT account_no, amount_fen, method, reference FROM payments WHERE reference = ? "
      "ORDER BY id");
  st.Bind(1, ref);
  std::vector<std::string> rows;
  while (st.Step())
    rows.push_back(st.Text(0) + " " + std::to_string(st.Int(1)) + " " + st.Text(2) + " " +
                   st.Text(3));
  return rows;
}

std::int64_t Balance(storage::Store& store, const std::string& account) {
  storage::Tx tx = store.Begin();
  auto a = tx.FindAccount(account);
  return a ? a->balance_fen : -1;
}

std::int64_t Arrears(storage::Store& store, const std::string& account) {
  storage::Tx tx = store.Begin();
  return tx.ArrearsFen(account, "2024-07");
}

// Bills of an account up to 2024-07 as "month:paid|unpaid" lines.
std::string BillStates(storage::Store& store, const std::string& account) {
  storage::Tx tx = store.Begin();
  storage::Statement st = tx.Prep(
      "SELECT month, paid FROM bills WHERE account_no = ? AND month BETWEEN '2024-06' AND "
      "'2024-07' ORDER BY month");
  st.Bind(1, account);
  std::string out;
  while (st.Step()) out += st.Text(0) + (st.Int(1) ? ":paid " : ":unpaid ");
  return out;
}

int CountRows(storage::Store& store, const std::string& sql) {
  storage::Tx tx = store.Begin();
  storage::Statement st = tx.Prep(sql);
  return st.Step() ? static_cast<int>(st.Int(0)) : -1;
}

std::string OrderNoIn(const std::string& reply) {
  std::smatch m;
  std::regex re("PO\\d{8}[0-9A-Z]{26}");  // the date, then 130 random bits
  return std::regex_search(reply, m, re) ? m.str() : "";
}

std::string TempDb(const std::string& name) {
  auto p = std::filesystem::temp_directory_path() /
           ("gridbot_money_" + name + "_" + std::to_string(getpid()) + ".db");
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(p.string() + suffix);
  return p.string();
}

// --- prepaid cards -------------------------------------------------------------

TEST(MoneyCard, RechargePaysTheOldestBillAndTellsWhatIsLeft) {
  Conversation c;
  c.Bind("南宁", "0301000007026", "570921");
  EXPECT_THAT(c.Say("充值卡充值"), HasSubstr("请输入充值卡卡号"));
  EXPECT_THAT(c.Say("8800 1234 5678 9018"), HasSubstr("卡号8800123456789018的卡密码"));
  EXPECT_THAT(c.Say("046291"), AllOf(HasSubstr("面值200.00元"), HasSubstr("0301000007026"),
                                     HasSubstr("武鸣区"), HasSubstr("确认")));
  // 200.00 pays 2024-06 (117.99); 82.01 stays on the account, short of
  // 2024-07 (161.10): 79.09 still owed.
  EXPECT_THAT(c.Say("确认"),
              AllOf(HasSubstr("充值成功"), HasSubstr("200.00元已充入户号0301000007026"),
                    HasSubstr("已自动缴清2024年6月的电费"), HasSubstr("仍欠费79.09元"),
                    HasSubstr("余额：82.01元")));
  EXPECT_EQ(BillStates(c.store(), "0301000007026"), "2024-06:paid 2024-07:unpaid ");
  EXPECT_EQ(Balance(c.store(), "0301000007026"), 8201);
  EXPECT_EQ(Arrears(c.store(), "0301000007026"), 7909);
  EXPECT_EQ(PaymentsWithReference(c.store(), "8800123456789018"),
            std::vector<std::string>{"0301000007026 20000 充值卡 8800123456789018"});
  {
    storage::Tx tx = c.store().Begin();
    auto card = storage::FindCard(tx, "8800123456789018");
    ASSERT_TRUE(card.has_value());
    EXPECT_TRUE(card->used);
  }
  EXPECT_THAT(c.Say("我欠费了吗"), AllOf(HasSubstr("2024年7月"), HasSubstr("还需缴纳79.09元")));
  // The card password was never kept: not in any saved state, not in the log.
  EXPECT_EQ(CountRows(c.store(), "SELECT COUNT(*) FROM sessions WHERE state LIKE '%046291%'"), 0);
  EXPECT_EQ(CountRows(c.store(),
                      "SELECT COUNT(*) FROM dialog_log WHERE text LIKE '%046291%' "
                      "OR normalized LIKE '%046291%' OR slots LIKE '%046291%'"),
            0);
  EXPECT_EQ(CountRows(c.store(), "SELECT COUNT(*) FROM dialog_log WHERE masked = 1"), 2);  // + bind
}

TEST(MoneyCard, CardInTheFirstMessageToAnotherBoundAccount) {
  Conversation c;
  c.Bind("南宁", "0301000001234", "246810");
  c.Bind("南宁", "0301000003517", "802413");
  EXPECT_THAT(c.Say("我要用卡号8800123456789012充值"), HasSubstr("卡密码"));
  EXPECT_THAT(c.Say("135790"), AllOf(HasSubstr("面值100.00元"), HasSubstr("0301000001234"),
                                     HasSubstr("其他已绑定的户号")));
  EXPECT_THAT(c.Say("3517"), AllOf(HasSubstr("充值户号：0301000003517"), HasSubstr("西乡塘")));
  EXPECT_THAT(c.Say("确认"), AllOf(HasSubstr("100.00元已充入户号0301000003517"),
                                   HasSubstr("目前没有欠费"), HasSubstr("余额：100.00元")));
  EXPECT_EQ(Balance(c.store(), "0301000003517"), 10000);
  EXPECT_EQ(Balance(c.store(), "0301000001234"), 0);
  EXPECT_EQ(Arrears(c.store(), "0301000001234"), 12980);
}

// Unknown, used and valid card numbers get the same answer until the
// password is right: card numbers can't be enumerated.
TEST(MoneyCard, ACardNumberAloneTellsNothing) {
  Conversation c;
  c.Bind("南宁", "0301000001234", "246810");
  std::set<std::string> answers;
  for (const char* card : {"8800999999999999", "8800123456789001", "8800123456789012"}) {
    c.Say("充值卡充值");
    std::string a = c.Say(card);
    a.replace(a.find(card), std::strlen(card), "CARD");
    answers.insert(a);
    std::string wrong = c.Say("111111");
    answers.insert("wrong:" + wrong);
    c.Say("取消");
  }
  EXPECT_EQ(answers.size(), 2u) << ::testing::PrintToString(answers);
}

TEST(MoneyCard, UsedCardIsRefused) {
  Conversation c;
  c.Bind("南宁", "0301000001234", "246810");
  c.Say("充值卡充值");
  // The number alone does not say so (it asks the password as for any card).
  EXPECT_THAT(c.Say("8800123456789001"), HasSubstr("请输入卡号8800123456789001的卡密码"));
  EXPECT_THAT(c.Say("604218"), HasSubstr("已经使用过，不能再次充值"));
  // The flow is over: the next message is a request of its own.
  EXPECT_THAT(c.Say("我欠费了吗"), HasSubstr("129.80元"));
  EXPECT_EQ(PaymentsWithReference(c.store(), "8800123456789001").size(), 0u);
}

TEST(MoneyCard, UnknownCardIsRefusedAtThePasswordAndAnotherNumberTaken) {
  Conversation c;
  c.Bind("南宁", "0301000001234", "246810");
  c.Say("充值卡充值");
  EXPECT_THAT(c.Say("12"), HasSubstr("16位数字"));
  EXPECT_THAT(c.Say("8800999999999999"), HasSubstr("请输入卡号8800999999999999的卡密码"));
  EXPECT_THAT(c.Say("111111"), HasSubstr("卡号或卡密码不正确"));
  // The right number typed at the password prompt: the card is corrected.
  EXPECT_THAT(c.Say("8800123456789012"), HasSubstr("请输入卡号8800123456789012的卡密码"));
  EXPECT_THAT(c.Say("135790"), HasSubstr("面值100.00元"));
  EXPECT_THAT(c.Say("不用了"), HasSubstr("未使用"));
  storage::Tx tx = c.store().Begin();
  EXPECT_FALSE(storage::FindCard(tx, "8800123456789012")->used);
}

TEST(MoneyCard, QuestionInTheMiddleThenCancelAtThePassword) {
  Conversation c;
  c.Bind("南宁", "0301000001234", "246810");
  c.Say("充值卡充值");
  EXPECT_THAT(c.Say("我欠费了吗"),
              AllOf(HasSubstr("欠费129.80元"), HasSubstr("继续刚才的“充值卡充值”"),
                    HasSubstr("请输入充值卡卡号")));
  EXPECT_THAT(c.Say("8800123456789012"), HasSubstr("卡密码"));
  EXPECT_THAT(c.Say("取消"), HasSubstr("已为您取消充值卡充值"));
  storage::Tx tx = c.store().Begin();
  EXPECT_FALSE(storage::FindCard(tx, "8800123456789012")->used);
}

TEST(MoneyCard, FiveWrongCardPasswordsLockThatCardForThirtyMinutes) {
  Conversation c;
  c.Bind("南宁", "0301000001234", "246810");
  c.Say("充值卡充值");
  c.Say("8800123456789012");
  EXPECT_THAT(c.Say("000000"), HasSubstr("还可以尝试4次"));
  EXPECT_THAT(c.Say("111111"), HasSubstr("还可以尝试3次"));
  EXPECT_THAT(c.Say("222222"), HasSubstr("还可以尝试2次"));
  EXPECT_THAT(c.Say("333333"), HasSubstr("还可以尝试1次"));
  EXPECT_THAT(c.Say("444444"), AllOf(HasSubstr("连续输错5次"), HasSubstr("锁定30分钟")));
  // Locked, even with the right password later.
  c.Say("充值卡充值");
  EXPECT_THAT(c.Say("8800123456789012"), AllOf(HasSubstr("暂时锁定"), HasSubstr("30分钟")));
  c.clock().Advance(10 * 60);
  c.Say("充值卡充值");
  EXPECT_THAT(c.Say("8800123456789012"), HasSubstr("20分钟"));
  // Another card is not locked; another user is not locked out of this card.
  c.Say("充值卡充值");
  EXPECT_THAT(c.Say("8800123456789018"), HasSubstr("卡密码"));
  c.Say("取消");
  c.Say("绑定户号", "u2");
  c.Say("南宁", "u2");
  c.Say("0301000003517", "u2");
  c.Say("802413", "u2");
  c.Say("充值卡充值", "u2");
  EXPECT_THAT(c.Say("8800123456789012", "u2"), HasSubstr("请输入卡号8800123456789012的卡密码"));
  c.Say("取消", "u2");
  // After the lock: the password is asked again and works.
  c.clock().Advance(21 * 60);
  c.Say("充值卡充值");
  EXPECT_THAT(c.Say("8800123456789012"), HasSubstr("卡密码"));
  EXPECT_THAT(c.Say("135790"), HasSubstr("面值100.00元"));
  EXPECT_THAT(c.Say("确认"), HasSubstr("充值成功"));
  EXPECT_EQ(PaymentsWithReference(c.store(), "8800123456789012").size(), 1u);
}

TEST(MoneyCard, NewUsersGetNoNewGuessesYetTheOwnerGetsIn) {
  Conversation c;
  c.Bind("南宁", "0301000001234", "246810");  // u1, the card's rightful user
  // Fresh identities, each trying wrong passwords at the same card: after
  // ten wrong in all, everyone waits before each next try, doubling.
  int tested = 0, user = 0;
  auto guess = [&](int tries) {
    const std::string u = "x" + std::to_string(user++);
    c.Say("绑定户号", u);
    c.Say("南宁", u);
    c.Say("0301000001234", u);
    c.Say("246810", u);
    c.Say("充值卡充值", u);
    c.Say("8800123456789012", u);
    for (int i = 0; i < tries; ++i)
      if (c.Say("00000" + std::to_string(i), u).find("卡密码不正确") != std::string::npos) ++tested;
  };
  guess(5);
  guess(5);
  EXPECT_EQ(tested, 8);  // each user's fifth locks that user ("连续输错5次")
  guess(1);               // the eleventh: now everyone waits a minute
  c.Say("充值卡充值");
  EXPECT_THAT(c.Say("8800123456789012"), AllOf(HasSubstr("输错次数较多"), HasSubstr("1分钟")));
  // A guesser with a new identity every minute for an hour gets a handful
  // of tries, not sixty.
  tested = 0;
  for (int minute = 0; minute < 60; ++minute) {
    c.clock().Advance(60);
    guess(1);
  }
  EXPECT_LE(tested, 6);
  // The owner, after at most an hour's wait, types the right password.
  c.clock().Advance(kMaxTargetWaitForTest);
  c.Say("充值卡充值");
  EXPECT_THAT(c.Say("8800123456789012"), HasSubstr("卡密码"));
  EXPECT_THAT(c.Say("135790"), HasSubstr("面值100.00元"));
  EXPECT_THAT(c.Say("确认"), HasSubstr("充值成功"));
}

TEST(MoneyCard, SameCardFromTwoUsersAtTheSameMomentIsCreditedOnce) {
  const std::string db = TempDb("race");
  Conversation a(db, "ua");
  Conversation b(db, "ub");
  a.Bind("南宁", "0301000001234", "246810");
  b.Bind("南宁", "0301000003517", "802413");
  for (Conversation* c : {&a, &b}) {
    c->Say("充值卡充值");
    c->Say("8800123456789015");
    ASSERT_THAT(c->Say("728364"), HasSubstr("面值500.00元"));
  }
  std::string reply_a, reply_b;
  std::latch start(2);
  std::thread ta([&] {
    start.arrive_and_wait();
    reply_a = a.Say("确认");
  });
  std::thread tb([&] {
    start.arrive_and_wait();
    reply_b = b.Say("确认");
  });
  ta.join();
  tb.join();
  const bool a_won = reply_a.find("充值成功") != std::string::npos;
  const bool b_won = reply_b.find("充值成功") != std::string::npos;
  EXPECT_NE(a_won, b_won) << reply_a << "\n---\n" << reply_b;
  EXPECT_THAT(a_won ? reply_b : reply_a, HasSubstr("刚刚已被使用"));
  const auto rows = PaymentsWithReference(a.store(), "8800123456789015");
  ASSERT_EQ(rows.size(), 1u);
  if (a_won) {
    EXPECT_EQ(rows[0], "0301000001234 50000 充值卡 8800123456789015");
    EXPECT_EQ(Balance(a.store(), "0301000001234"), 50000 - 12980);
    EXPECT_EQ(Balance(a.store(), "0301000003517"), 0);
  } else {
    EXPECT_EQ(rows[0], "0301000003517 50000 充值卡 8800123456789015");
    EXPECT_EQ(Balance(a.store(), "0301000003517"), 50000);
    EXPECT_EQ(Balance(a.store(), "0301000001234"), 0);
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db + suffix);
}

// --- online payment --------------------------------------------------------------

TEST(MoneyPay, AlipayOrderForTheArrearsWithALink) {
  Conversation c;
  c.Bind("南宁", "0301000001234", "246810");
  EXPECT_THAT(
      c.Say("用支付宝缴费"),
      AllOf(HasSubstr("民族大道88号"), HasSubstr("结算单位：南宁供电局"),
            HasSubstr("当前欠费：129.80元"), HasSubstr("用支付宝为户号0301000001234缴纳129.80元")));
  const std::string reply = c.Say("确认");
  const std::string order_no = OrderNoIn(reply);
  ASSERT_THAT(order_no, MatchesRegex("PO20240804[0-9A-HJKMNP-TV-Z]{26}")) << reply;
  EXPECT_THAT(reply, AllOf(HasSubstr("129.80元"), HasSubstr("支付宝"),
                           HasSubstr("http://127.0.0.1:8080/pay/" + order_no)));
  storage::Tx tx = c.store().Begin();
  auto order = storage::FindOrder(tx, order_no);
  ASSERT_TRUE(order.has_value());
  EXPECT_EQ(order->account_no, "0301000001234");
  EXPECT_EQ(order->amount_fen, 12980);
  EXPECT_EQ(order->method, "alipay");
  EXPECT_EQ(order->status, "pending");
  EXPECT_EQ(order->channel, "web");
  EXPECT_EQ(order->external_id, "u1");
  // Nothing is credited before the gateway confirms.
  EXPECT_EQ(tx.ArrearsFen("0301000001234", "2024-07"), 12980);
}

TEST(MoneyPay, UnionPayWithoutArrearsIsRefused) {
  Conversation c;
  c.Bind("南宁", "0301000003517", "802413");
  EXPECT_THAT(c.Say("用银联缴费"),
              AllOf(HasSubstr("0301000003517目前没有欠费"), HasSubstr("银联缴费仅用于缴纳欠费")));
  EXPECT_EQ(CountRows(c.store(), "SELECT COUNT(*) FROM payment_orders"), 0);
  // The flow is over.
  EXPECT_THAT(c.Say("我欠费了吗"), HasSubstr("没有欠费"));
}

TEST(MoneyPay, NothingOwedAlipayPrepaysANamedAmount) {
  Conversation c;
  c.Bind("南宁", "0301000003517", "802413");
  EXPECT_THAT(c.Say("交电费"),
              AllOf(HasSubstr("目前没有欠费"), HasSubstr("支付宝预存"), HasSubstr("回复预存金额")));
  EXPECT_THAT(c.Say("银联"), HasSubstr("预存电费请使用支付宝"));
  EXPECT_THAT(c.Say("一百"), HasSubstr("用支付宝为户号0301000003517预存电费100.00元"));
  const std::string order_no = OrderNoIn(c.Say("确认"));
  ASSERT_FALSE(order_no.empty());
  storage::Tx tx = c.store().Begin();
  EXPECT_EQ(storage::FindOrder(tx, order_no)->amount_fen, 10000);
}

TEST(MoneyPay, MethodAskedAmountChangedAndValidated) {
  Conversation c;
  c.Bind("南宁", "0301000001234", "246810");
  EXPECT_THAT(c.Say("交电费"), AllOf(HasSubstr("当前欠费：129.80元"), HasSubstr("支付宝”或“银联")));
  EXPECT_THAT(c.Say("银联"), HasSubstr("用银联为户号0301000001234缴纳129.80元"));
  EXPECT_THAT(c.Say("60000"), HasSubstr("不超过50000.00元"));
  EXPECT_THAT(c.Say("改成50元"), HasSubstr("缴纳50.00元"));
  EXPECT_THAT(c.Say("支付宝"), HasSubstr("用支付宝为户号0301000001234缴纳50.00元"));
  EXPECT_THAT(c.Say("不用了"), HasSubstr("本次不缴费"));
  EXPECT_EQ(CountRows(c.store(), "SELECT COUNT(*) FROM payment_orders"), 0);
}

TEST(MoneyPay, AmountAndMethodInTheFirstMessage) {
  Conversation c;
  c.Bind("南宁", "0301000007026", "570921");
  EXPECT_THAT(c.Say("支付宝交100元"),
              AllOf(HasSubstr("当前欠费：279.09元"), HasSubstr("缴纳100.00元")));
  const std::string order_no = OrderNoIn(c.Say("确认"));
  storage::Tx tx = c.store().Begin();
  auto order = storage::FindOrder(tx, order_no);
  ASSERT_TRUE(order.has_value());
  EXPECT_EQ(order->amount_fen, 10000);
}

TEST(MoneyPay, OrderNumbersAreUniqueAndOrdersCreditOnce) {
  Conversation c;
  c.Bind("南宁", "0301000001234", "246810");
  std::set<std::string> numbers;
  for (int i = 0; i < 5; ++i) {
    c.Say("支付宝交10元");
    numbers.insert(OrderNoIn(c.Say("确认")));
  }
  EXPECT_EQ(numbers.size(), 5u);
  const std::string order_no = *numbers.begin();
  for (int i = 0; i < 3; ++i) {
    storage::Tx tx = c.store().Begin();
    auto r = storage::ConfirmOrder(tx, order_no, "test", c.clock().Now(), "2024-07");
    EXPECT_EQ(r.status,
              i == 0 ? storage::ConfirmStatus::kConfirmed : storage::ConfirmStatus::kAlreadyPaid);
    ASSERT_TRUE(tx.Commit().ok());
  }
  EXPECT_EQ(PaymentsWithReference(c.store(), order_no),
            std::vector<std::string>{"0301000001234 1000 支付宝 " + order_no});
  EXPECT_EQ(Balance(c.store(), "0301000001234"), 1000);
}

}  // namespace
}  // namespace gridbot::testing
