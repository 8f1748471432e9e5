#include "storage/store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storage/fixtures.h"

namespace gridbot::storage {
namespace {

using ::testing::HasSubstr;

TEST(Fixtures, MoneyParsing) {
  EXPECT_EQ(ParseMoney("129.80"), 12980);
  EXPECT_EQ(ParseMoney("0.00"), 0);
  EXPECT_FALSE(ParseMoney("129.8"));
  EXPECT_FALSE(ParseMoney("12a.00"));
  EXPECT_FALSE(ParseMoney(".50"));
  EXPECT_EQ(FormatMoney(12980), "129.80");
  EXPECT_EQ(FormatMoney(5), "0.05");
}

TEST(Fixtures, ErrorNamesTheFirstBadRecordAndField) {
  auto r = ParseFixtures(R"({"accounts":[], "bills":[{"account_no":"0301000001234"}]})");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error(), HasSubstr("bills[0].account_no"));
  r = ParseFixtures(
      R"({"prepaid_cards":[{"card_no":"1","password":"2","amount":"1.5","used":false}]})");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error(), HasSubstr("prepaid_cards[0].amount"));
  EXPECT_FALSE(ParseFixtures("not json").ok());
  EXPECT_TRUE(ParseFixtures("{}").ok());
}

TEST(Fixtures, DemoFileIsValid) {
  auto d = ReadFixtureFile(std::string(GRIDBOT_SOURCE_DIR) + "/corpus/demo/fixtures.json");
  ASSERT_TRUE(d.ok()) << d.error();
  EXPECT_GE(d->accounts.size(), 5u);
}

Account MakeAccount(const std::string& no, std::int64_t balance) {
  Account a;
  a.account_no = no;
  a.service_password = "1";
  a.holder = a.city = a.district = a.address = "x";
  a.reading_day = 1;
  a.balance_fen = balance;
  return a;
}

TEST(Store, ArrearsAreUnpaidBillsUpToNowLessBalanceNeverNegative) {
  auto store = Store::Open(":memory:");
  ASSERT_TRUE(store.ok()) << store.error();
  BackendData d;
  d.accounts = {MakeAccount("0301000000001", 5000), MakeAccount("0301000000002", 90000)};
  d.bills = {{"0301000000001", "2024-06", 100, 10000, "2024-07-20", false},
             {"0301000000001", "2024-07", 100, 12000, "2024-08-20", false},
             {"0301000000001", "2024-09", 100, 99999, "2024-10-20", false},
             {"0301000000002", "2024-07", 100, 12000, "2024-08-20", false}};
  Tx tx = (*store)->Begin();
  ASSERT_TRUE(tx.ReplaceBackend(d).ok());
  EXPECT_EQ(tx.ArrearsFen("0301000000001", "2024-08"), 17000);
  EXPECT_EQ(tx.UnpaidBills("0301000000001", "2024-08").size(), 2u);
  EXPECT_EQ(tx.ArrearsFen("0301000000002", "2024-08"), 0);
  EXPECT_EQ(tx.LatestBill("0301000000001", "2024-08")->month, "2024-07");
  EXPECT_TRUE(tx.Commit().ok());
}

TEST(Store, BindingsKeepOneDefault) {
  auto store = Store::Open(":memory:");
  ASSERT_TRUE(store.ok());
  Tx tx = (*store)->Begin();
  const auto user = tx.UserIdFor("web", "u1", 100);
  EXPECT_EQ(tx.UserIdFor("web", "u1", 200), user);
  EXPECT_NE(tx.UserIdFor("wechat", "u1", 200), user);
  tx.AddBinding(user, "A", true, 1);
  tx.AddBinding(user, "B", false, 2);
  tx.SetDefault(user, "B");
  auto b = tx.Bindings(user);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_FALSE(b[0].is_default);
  EXPECT_TRUE(b[1].is_default);
  tx.RemoveBinding(user, "B");
  b = tx.Bindings(user);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_TRUE(b[0].is_default);
  EXPECT_TRUE(tx.Commit().ok());
}

TEST(Store, RolledBackUnlessCommitted) {
  auto store = Store::Open(":memory:");
  ASSERT_TRUE(store.ok());
  {
    Tx tx = (*store)->Begin();
    tx.SaveSession("web", "u1", "{}", 1);
  }
  Tx tx = (*store)->Begin();
  EXPECT_FALSE(tx.LoadSession("web", "u1"));
}

// Delivered SMS and e-mail are forgotten after a while; undelivered ones and
// those whose dedup key stops a repeat (a month's bill notice) are kept.
TEST(Store, DeliveredMessagesArePurgedButNotTheirRepeatGuards) {
  auto store = Store::Open(":memory:");
  ASSERT_TRUE(store.ok());
  Tx tx = (*store)->Begin();
  ASSERT_TRUE(tx.QueueOutbox("sms", "13800138000", "code 123456", "", 100));
  ASSERT_TRUE(tx.QueueOutbox("sms", "13800138000", "bill", "bill:2024-07:1", 100));
  ASSERT_TRUE(tx.QueueOutbox("sms", "13800138000", "pending", "", 100));
  ASSERT_TRUE(tx.QueueOutbox("web", "u1", "notice", "", 100));
  for (std::int64_t id : {1, 2, 4}) tx.MarkOutboxSent(id, 200);
  tx.PurgeDeliveredOutbox(150);  // nothing delivered before 150
  Statement count = tx.Prep("SELECT COUNT(*) FROM outbox");
  ASSERT_TRUE(count.Step());
  EXPECT_EQ(count.Int(0), 4);
  tx.PurgeDeliveredOutbox(300);
  Statement left = tx.Prep("SELECT body FROM outbox ORDER BY id");
  std::vector<std::string> bodies;
  while (left.Step()) bodies.push_back(left.Text(0));
  EXPECT_EQ(bodies, (std::vector<std::string>{"bill", "pending", "notice"}));
  EXPECT_TRUE(tx.Commit().ok());
}

}  // namespace
}  // namespace gridbot::storage
