#include "storage/store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "storage/fixtures.h"
#include "storage/limits.h"
#include "storage/subscriptions.h"
#include "storage/synthetic.h"
#include "tests/test_db.h"

namespace gridbot::storage {
namespace {

using ::testing::HasSubstr;
using gridbot::testing::TestDb;

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
  auto store = Store::Open(TestDb());
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
  auto store = Store::Open(TestDb());
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
  auto store = Store::Open(TestDb());
  ASSERT_TRUE(store.ok());
  {
    Tx tx = (*store)->Begin();
    tx.SaveSession("web", "u1", "{}", 1);
  }
  Tx tx = (*store)->Begin();
  EXPECT_FALSE(tx.LoadSession("web", "u1"));
}

// The shared request limit's bucket, in the database's own arithmetic: a
// burst of the minute's rate, then a refusal saying when to come back, a
// token back every 60/rate seconds, never more than full, and nothing from
// a clock that went back (another instance's, a little behind).
TEST(RequestLimits, BucketInTheDatabase) {
  auto store = Store::Open(TestDb("buckets"));
  ASSERT_TRUE(store.ok()) << store.error();
  Tx tx = (*store)->Begin();
  const std::int64_t t0 = 1'800'000'000'000;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(TakeRequest(tx, "ip|a", 3, t0 + i), 0) << i;
  EXPECT_EQ(TakeRequest(tx, "ip|a", 3, t0 + 3), 20);  // one token is 20 s away
  EXPECT_EQ(TakeRequest(tx, "ip|b", 3, t0 + 3), 0);   // keys are apart
  EXPECT_EQ(TakeRequest(tx, "ip|a", 3, t0 - 5000), 20);  // an earlier clock adds nothing
  EXPECT_EQ(TakeRequest(tx, "ip|a", 3, t0 + 15'000), 5);
  EXPECT_EQ(TakeRequest(tx, "ip|a", 3, t0 + 20'003), 0);
  EXPECT_EQ(TakeRequest(tx, "ip|a", 3, t0 + 20'004), 20);
  // An hour later: full (3), not 180.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(TakeRequest(tx, "ip|a", 3, t0 + 3'600'000), 0) << i;
  EXPECT_GT(TakeRequest(tx, "ip|a", 3, t0 + 3'600'000), 0);
  EXPECT_EQ(TakeRequest(tx, "ip|a", 0, t0), 0);  // 0: no limit
  PurgeRequestBuckets(tx, t0 + 60'000);  // b is gone, a (touched since) is kept
  EXPECT_GT(TakeRequest(tx, "ip|a", 3, t0 + 3'600'000), 0);
  EXPECT_TRUE(tx.ok()) << tx.error();
  ASSERT_TRUE(tx.Commit().ok());
  Tx check = (*store)->Begin();
  Statement st = check.Prep("SELECT count(*) FROM rate_buckets");
  ASSERT_TRUE(st.Step());
  EXPECT_EQ(st.Int(0), 1);
}

// Two instances (two stores on one database) allow the rate once between
// them when the database is shared; the embedded database counts in the
// one process that serves it.
TEST(RequestLimits, InstancesOnOneDatabaseCountTogether) {
  const std::string db = TestDb("limits");
  auto a = Store::Open(db);
  ASSERT_TRUE(a.ok()) << a.error();
  const bool shared = (*a)->dialect() == Dialect::kPostgres;
  auto b = shared ? Store::Open(db) : Store::Open(":memory:");
  ASSERT_TRUE(b.ok()) << b.error();
  auto on_a = NewRequestLimit(**a, 10);
  auto on_b = NewRequestLimit(**b, 10);
  int allowed = 0;
  for (int i = 0; i < 12; ++i) {
    allowed += on_a->Take("wechat|o1") == 0;
    allowed += on_b->Take("wechat|o1") == 0;
  }
  EXPECT_EQ(allowed, shared ? 10 : 20);
  EXPECT_GT(on_a->Take("wechat|o1"), 0);
  EXPECT_EQ(on_a->Take("wechat|o2"), 0);
  EXPECT_EQ(NewRequestLimit(**a, 0)->Take("wechat|o1"), 0);
}

// Delivered SMS and e-mail are forgotten after a while; undelivered ones and
// those whose dedup key stops a repeat (a month's bill notice) are kept.
TEST(Store, DeliveredMessagesArePurgedButNotTheirRepeatGuards) {
  auto store = Store::Open(TestDb());
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

// A database file of its own for each test, removed with its WAL.
class FileStore : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "gridbot-store-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db";
    Remove();
  }
  void TearDown() override { Remove(); }
  void Remove() {
    for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + ext);
  }
  int Sessions(Store& store) {
    Tx tx = store.Begin();
    Statement st = tx.Prep("SELECT COUNT(*) FROM sessions");
    return st.Step() ? static_cast<int>(st.Int(0)) : -1;
  }
  std::string path_;
};

// Many threads commit at once: every committed Tx is in the file once the
// store is reopened, the batches held them all, and the hook saw each batch.
TEST_F(FileStore, GroupCommitKeepsEveryCommittedTransaction) {
  constexpr int kThreads = 6, kEach = 150;
  std::atomic<int> hooked{0};
  {
    auto store = Store::Open(path_);
    ASSERT_TRUE(store.ok()) << store.error();
    (*store)->SetBeforeCommitHook([&](int txs) { hooked += txs; });
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        for (int i = 0; i < kEach; ++i) {
          Tx tx = (*store)->Begin();
          tx.SaveSession("web", "u" + std::to_string(t) + "-" + std::to_string(i), "{}", 1);
          if (!tx.Commit().ok()) ++failures;
        }
      });
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
    const Store::BatchStats stats = (*store)->batch_stats();
    EXPECT_EQ(stats.txs, static_cast<std::uint64_t>(kThreads * kEach));
    EXPECT_GE(stats.batches, 1u);
    EXPECT_LE(stats.batches, stats.txs);
    EXPECT_EQ(stats.failed, 0u);
    EXPECT_EQ(hooked.load(), kThreads * kEach);
  }
  auto reopened = Store::Open(path_);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(Sessions(**reopened), kThreads * kEach);
}

// A Tx that fails (or is dropped) is rolled back alone: whichever batch it
// ran in, the others' work stays.
TEST_F(FileStore, AFailedTransactionSpoilsNoOtherInItsBatch) {
  constexpr int kThreads = 4, kEach = 100;
  std::atomic<int> bad_commits_ok{0};
  {
    auto store = Store::Open(path_);
    ASSERT_TRUE(store.ok());
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        for (int i = 0; i < kEach; ++i) {
          Tx tx = (*store)->Begin();
          tx.SaveSession("web", "u" + std::to_string(t) + "-" + std::to_string(i), "{}", 1);
          if (t == 0 && i % 2 == 1) {
            tx.Prep("SELECT no_such_column FROM sessions");  // fails: the Tx will roll back
            if (tx.Commit().ok()) ++bad_commits_ok;
          } else if (t == 1 && i % 3 == 0) {
            // dropped without Commit: rolled back
          } else {
            EXPECT_TRUE(tx.Commit().ok());
          }
        }
      });
    for (auto& th : threads) th.join();
  }
  EXPECT_EQ(bad_commits_ok.load(), 0);
  auto reopened = Store::Open(path_);
  ASSERT_TRUE(reopened.ok());
  const int dropped = kEach / 2 + (kEach + 2) / 3;
  EXPECT_EQ(Sessions(**reopened), kThreads * kEach - dropped);
  Tx tx = (*reopened)->Begin();
  EXPECT_TRUE(tx.LoadSession("web", "u0-0"));
  EXPECT_FALSE(tx.LoadSession("web", "u0-1"));
  EXPECT_FALSE(tx.LoadSession("web", "u1-0"));
  EXPECT_TRUE(tx.LoadSession("web", "u1-1"));
}

// CommitWithNext does not wait, but its work is durable with the next Tx's
// Commit (whatever batch that lands in) and is seen by it at once.
TEST_F(FileStore, CommitWithNextIsDurableWithTheNextCommit) {
  {
    auto store = Store::Open(path_);
    ASSERT_TRUE(store.ok());
    {
      Tx tx = (*store)->Begin();
      tx.SaveSession("wechat", "first", "{}", 1);
      ASSERT_TRUE(tx.CommitWithNext().ok());
    }
    Tx tx = (*store)->Begin();
    EXPECT_TRUE(tx.LoadSession("wechat", "first"));
    tx.SaveSession("wechat", "second", "{}", 1);
    ASSERT_TRUE(tx.Commit().ok());
  }
  auto reopened = Store::Open(path_);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(Sessions(**reopened), 2);
}

TEST(Store, ACommittedTransactionCannotCommitAgain) {
  auto store = Store::Open(TestDb());
  ASSERT_TRUE(store.ok());
  Tx tx = (*store)->Begin();
  ASSERT_TRUE(tx.Commit().ok());
  EXPECT_FALSE(tx.Commit().ok());
  EXPECT_TRUE((*store)->Healthy());
}

// A Statement that outlives its Tx (declared next to it, destroyed after
// Commit() released the lock) was reset on the shared connection by a thread
// no longer holding it: a crash in SQLite under load (/healthz during
// turns). The Tx now takes its statements back before it lets go.
TEST(Store, AStatementOutlivingItsTransactionIsTakenBackBeforeTheLockGoes) {
  auto store = Store::Open(TestDb());
  ASSERT_TRUE(store.ok());
  Tx tx = (*store)->Begin();
  Statement st = tx.Prep("SELECT 1 UNION ALL SELECT 2");
  ASSERT_TRUE(st.Step());
  Statement moved = std::move(st);  // still tracked after a move
  ASSERT_TRUE(tx.Commit().ok());
  EXPECT_FALSE(moved.Step());
  EXPECT_FALSE(moved.Run().ok());
  EXPECT_THAT(moved.Run().message(), HasSubstr("after its transaction ended"));
  Tx again = (*store)->Begin();  // the cached statement is handed out again, reset
  Statement fresh = again.Prep("SELECT 1 UNION ALL SELECT 2");
  ASSERT_TRUE(fresh.Step());
  EXPECT_EQ(fresh.Int(0), 1);
}

TEST_F(FileStore, HealthChecksRaceTurnsSafely) {
  auto store = Store::Open(path_);
  ASSERT_TRUE(store.ok());
  std::atomic<bool> stop{false};
  std::atomic<int> unhealthy{0}, failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&] {
      while (!stop) {
        if (!(*store)->Healthy()) ++unhealthy;
        if (!(*store)->CheckReady().ready()) ++unhealthy;
      }
    });
  for (int t = 0; t < 3; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i) {
        Tx tx = (*store)->Begin();
        tx.SaveSession("web", "h" + std::to_string(t) + "-" + std::to_string(i), "{}", 1);
        if (!tx.Commit().ok()) ++failures;
      }
    });
  for (size_t i = 2; i < threads.size(); ++i) threads[i].join();
  stop = true;
  threads[0].join();
  threads[1].join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(unhealthy.load(), 0);
  EXPECT_EQ(Sessions(**store), 900);
}

// Statements are compiled once per connection and handed out again; two
// live at once of the same text are two statements.
// Two deliverers (two instances: two stores on one database) claiming the
// outbox at once get each message once between them; a claim whose lease
// is over is taken again.
TEST(Outbox, ClaimsOfTwoStoresNeverOverlap) {
  std::string db = TestDb("claims");
  if (!IsPostgresSpec(db)) {
    db = (std::filesystem::temp_directory_path() /
          ("gridbot_claims_" + std::to_string(getpid()) + ".db")).string();
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db + suffix);
  }
  auto a = Store::Open(db);
  auto b = Store::Open(db);
  ASSERT_TRUE(a.ok()) << a.error();
  ASSERT_TRUE(b.ok()) << b.error();
  {
    Tx tx = (*a)->Begin();
    for (int i = 0; i < 60; ++i)
      tx.QueueOutbox("sms", "1380000" + std::to_string(1000 + i), "m", "", 100);
    ASSERT_TRUE(tx.Commit().ok());
  }
  std::vector<std::int64_t> got[2];
  auto claim = [&](Store& store, std::vector<std::int64_t>& out) {
    for (;;) {
      Tx tx = store.Begin();
      auto batch = ClaimPendingOutbox(tx, {"sms"}, 7, 200, 600);
      if (!tx.Commit().ok() || batch.empty()) return;
      for (const auto& m : batch) out.push_back(m.id);
    }
  };
  std::thread ta([&] { claim(**a, got[0]); });
  std::thread tb([&] { claim(**b, got[1]); });
  ta.join();
  tb.join();
  std::vector<std::int64_t> all = got[0];
  all.insert(all.end(), got[1].begin(), got[1].end());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all.size(), 60u);
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end()) << "a message claimed twice";
  {
    Tx tx = (*b)->Begin();
    EXPECT_TRUE(ClaimPendingOutbox(tx, {"sms"}, 100, 799, 600).empty());  // still held
    EXPECT_EQ(ClaimPendingOutbox(tx, {"sms"}, 100, 800, 600).size(), 60u);  // leases over
    EXPECT_TRUE(tx.Commit().ok());
  }
}

TEST(Sqlite, CachedStatementsAreResetAndIndependent) {
  auto db = Connection::Open(TestDb());
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->Exec("CREATE TABLE t(k INTEGER); INSERT INTO t VALUES (1),(2),(3);").ok());
  const char* sql = "SELECT k FROM t WHERE k >= ? ORDER BY k";
  for (int round = 0; round < 3; ++round) {
    Statement a = (*db)->Prepare(sql);
    a.Bind(1, 2);
    ASSERT_TRUE(a.Step());
    EXPECT_EQ(a.Int(0), 2);
    Statement b = (*db)->Prepare(sql);  // a is still in use
    b.Bind(1, 1);
    ASSERT_TRUE(b.Step());
    EXPECT_EQ(b.Int(0), 1);
    ASSERT_TRUE(a.Step());
    EXPECT_EQ(a.Int(0), 3);
  }
  Statement c = (*db)->Prepare(sql);  // unbound: ? is NULL, no rows
  EXPECT_FALSE(c.Step());
  EXPECT_TRUE((*db)->Run("DELETE FROM t").ok());
}

TEST(Synthetic, AccountsWithTwoYearsOfBillsAndBoundCustomers) {
  auto store = Store::Open(TestDb());
  ASSERT_TRUE(store.ok());
  SyntheticSpec spec;
  spec.accounts = 120;
  spec.customers = 30;
  spec.batch = 50;
  std::int64_t last_progress = 0;
  const UnixSeconds now = 1722729600;  // 2024-08-04
  ASSERT_TRUE(WriteSynthetic(**store, spec, now, [&](std::int64_t n) { last_progress = n; }).ok());
  EXPECT_EQ(last_progress, 120);
  Tx tx = (*store)->Begin();
  const std::string no = SyntheticAccountNo(7);
  EXPECT_EQ(no.size(), 13u);
  auto account = tx.FindAccount(no);
  ASSERT_TRUE(account);
  EXPECT_TRUE(tx.FindBill(no, "2024-07"));
  EXPECT_TRUE(tx.FindBill(no, "2022-08"));
  EXPECT_FALSE(tx.FindBill(no, "2024-08"));
  const std::int64_t user = tx.UserIdFor("wechat", SyntheticCustomer(7), now);
  auto bindings = tx.Bindings(user);
  ASSERT_EQ(bindings.size(), 1u);
  EXPECT_EQ(bindings[0].account_no, no);
  EXPECT_TRUE(tx.Commit().ok());
  EXPECT_FALSE(WriteSynthetic(**store, spec, now).ok());  // not on a filled back end
}

}  // namespace
}  // namespace gridbot::storage
