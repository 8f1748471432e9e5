// bot::App: what the server's timer thread does every few seconds.
#include "bot/app.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <ctime>
#include <filesystem>

#include "storage/store.h"

namespace gridbot::testing {
namespace {

std::string FreshDb(const std::string& name) {
  const std::string p = (std::filesystem::temp_directory_path() /
                         ("gridbot_app_" + name + "_" + std::to_string(getpid()) + ".db"))
                            .string();
  for (const char* suffix : {"", "-wal", "-shm", ".key"}) std::filesystem::remove(p + suffix);
  return p;
}

std::int64_t Count(storage::Store& store, const std::string& sql) {
  storage::Tx tx = store.Begin();
  storage::Statement st = tx.Prep(sql);
  return st.Step() ? st.Int(0) : -1;
}

// What is kept only for a while — retry answers, WeChat nonces, delivered
// SMS, quiet wrong-secret counts — is forgotten by Housekeeping; what is
// still needed stays.
TEST(App, HousekeepingForgetsWhatIsKeptOnlyForAWhile) {
  bot::Config config;
  config.db = FreshDb("housekeeping");
  config.now = "2024-08-04T10:00";
  auto app = bot::App::Create(config);
  ASSERT_TRUE(app.ok()) << app.error();
  storage::Store& store = (*app)->store();
  const UnixSeconds now = (*app)->clock().Now();
  const UnixSeconds real = static_cast<UnixSeconds>(std::time(nullptr));
  const UnixSeconds day = 24 * 3600;
  {
    storage::Tx tx = store.Begin();
    tx.SaveDedup("wechat", "old", "{}", now - 2 * 3600);
    tx.SaveDedup("wechat", "recent", "{}", now - 60);
    tx.RememberNonce("n-old", "1", "m1", real - 2 * config.wechat_max_skew - 10);
    tx.RememberNonce("n-recent", "2", "m2", real - 10);
    ASSERT_TRUE(tx.QueueOutbox("sms", "13800138000", "sent long ago", "", now - 8 * day));
    ASSERT_TRUE(tx.QueueOutbox("sms", "13800138001", "sent today", "", now - 3600));
    ASSERT_TRUE(tx.QueueOutbox("sms", "13800138002", "still pending", "", now - 8 * day));
    tx.SaveAttempts(0, "addr:198.51.100.7", "secret@target", {3, 0, now - 8 * day});
    tx.SaveAttempts(0, "0301000001234", "service_password@target", {12, now + 600, now - 8 * day});
    tx.SaveAttempts(0, "0301000003517", "service_password@target", {2, 0, now - day});
    ASSERT_TRUE(tx.Commit().ok());
  }
  {
    storage::Tx tx = store.Begin();
    storage::Statement st = tx.Prep(
        "UPDATE outbox SET status = 'sent', sent_at = created_at WHERE body != 'still pending'");
    ASSERT_TRUE(st.Run().ok());
    ASSERT_TRUE(tx.Commit().ok());
  }
  (*app)->Housekeeping();
  EXPECT_EQ(Count(store, "SELECT COUNT(*) FROM inbound_dedup WHERE key = 'old'"), 0);
  EXPECT_EQ(Count(store, "SELECT COUNT(*) FROM inbound_dedup WHERE key = 'recent'"), 1);
  EXPECT_EQ(Count(store, "SELECT COUNT(*) FROM wechat_nonces WHERE nonce = 'n-old'"), 0);
  EXPECT_EQ(Count(store, "SELECT COUNT(*) FROM wechat_nonces WHERE nonce = 'n-recent'"), 1);
  EXPECT_EQ(Count(store, "SELECT COUNT(*) FROM outbox WHERE body = 'sent long ago'"), 0);
  EXPECT_EQ(Count(store, "SELECT COUNT(*) FROM outbox WHERE body = 'sent today'"), 1);
  EXPECT_EQ(Count(store, "SELECT COUNT(*) FROM outbox WHERE body = 'still pending'"), 1);
  // A quiet count goes; one whose wait still runs, or a recent one, stays.
  EXPECT_EQ(Count(store, "SELECT COUNT(*) FROM bind_attempts WHERE account_no LIKE 'addr:%'"), 0);
  EXPECT_EQ(Count(store, "SELECT COUNT(*) FROM bind_attempts WHERE account_no = '0301000001234'"), 1);
  EXPECT_EQ(Count(store, "SELECT COUNT(*) FROM bind_attempts WHERE account_no = '0301000003517'"), 1);
}

}  // namespace
}  // namespace gridbot::testing
