// Store: gridbot's database — the embedded back end (fixtures.md) and the
// bot's own tables — behind typed repository calls.
//
//   auto store = storage::Store::Open("var/gridbot.db");   // migrates
//   {
//     storage::Tx tx = (*store)->Begin();                 // BEGIN IMMEDIATE
//     auto account = tx.FindAccount("0301000001234");
//     tx.AddBinding(user_id, "0301000001234", true, now);
//     tx.Commit();                                         // else rolled back
//   }
//
// Every read and write happens inside a Tx. A dialog turn runs in one Tx, so
// what a turn changes (bindings, lock-outs, the new conversation state and
// the turn's log row) is committed together or not at all.
//
// Thread safety: Store is thread-safe. A Tx holds the store's lock for its
// lifetime (one writer at a time, as SQLite has anyway); keep it short and
// use it from the thread that began it.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "storage/records.h"
#include "storage/sqlite.h"

namespace gridbot::storage {

class Store;

class Tx {
 public:
  ~Tx();  // rolls back unless committed
  Tx(Tx&&) noexcept;
  Tx(const Tx&) = delete;

  Status Commit();
  // False once a statement has failed: the transaction will roll back.
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  // --- the back end -----------------------------------------------------
  bool BackendEmpty();
  // Replaces accounts, bills, payments, outages, business, outlets and cards.
  Status ReplaceBackend(const BackendData& data);
  std::optional<Account> FindAccount(const std::string& account_no);
  std::optional<Bill> FindBill(const std::string& account_no, const std::string& month);
  // The most recent bill issued up to `month_limit` ("YYYY-MM"), if any.
  std::optional<Bill> LatestBill(const std::string& account_no, const std::string& month_limit);
  // Unpaid bills of months up to `month_limit` ("YYYY-MM"), oldest first:
  // a bill dated after "now" has not been issued yet.
  std::vector<Bill> UnpaidBills(const std::string& account_no, const std::string& month_limit);
  // Unpaid bills up to `month_limit` less the balance, never below zero
  // (fixtures.md).
  std::int64_t ArrearsFen(const std::string& account_no, const std::string& month_limit);
  std::vector<Payment> Payments(const std::string& account_no, UnixSeconds from, UnixSeconds to);

  // --- users and bindings -------------------------------------------------
  // The user behind (channel, external id); created on first contact.
  std::int64_t UserIdFor(const std::string& channel, const std::string& external_id,
                         UnixSeconds now);
  std::vector<Binding> Bindings(std::int64_t user_id);  // oldest first
  void AddBinding(std::int64_t user_id, const std::string& account_no, bool is_default,
                  UnixSeconds now);
  // Removes a binding; if it was the default, the oldest remaining becomes it.
  void RemoveBinding(std::int64_t user_id, const std::string& account_no);
  void SetDefault(std::int64_t user_id, const std::string& account_no);
  AttemptState Attempts(std::int64_t user_id, const std::string& account_no,
                        const std::string& kind);
  // A state with no failures and no lock forgets the row.
  void SaveAttempts(std::int64_t user_id, const std::string& account_no, const std::string& kind,
                    const AttemptState& state);
  // Forgets the counts whose last failure is older than `before` and whose
  // lock, if any, is over by `now`.
  void PurgeAttempts(UnixSeconds before, UnixSeconds now);

  // --- conversations --------------------------------------------------------
  std::optional<std::string> LoadSession(const std::string& channel,
                                         const std::string& external_id);
  void SaveSession(const std::string& channel, const std::string& external_id,
                   const std::string& state_json, UnixSeconds now);
  void AppendTurn(const TurnLog& turn);
  // The answer given to the message `key` at or after `not_before` (a retry
  // gets it again; older answers have expired).
  std::optional<std::string> DedupReply(const std::string& channel, const std::string& key,
                                        UnixSeconds not_before = 0);
  void SaveDedup(const std::string& channel, const std::string& key, const std::string& reply,
                 UnixSeconds now);
  void PurgeDedup(UnixSeconds before);
  // A signed push's nonce (with its timestamp), bound to the message it
  // came with: kFresh the first time, kRetry for the same message again
  // (WeChat's retries), kReused for another message under the same nonce
  // (a replayed signature). `at` is the real time; PurgeNonces forgets
  // those older than `before`.
  enum class NonceUse { kFresh, kRetry, kReused };
  NonceUse RememberNonce(const std::string& nonce, const std::string& timestamp,
                         const std::string& message_key, UnixSeconds at);
  void PurgeNonces(UnixSeconds before);

  // --- outbox ---------------------------------------------------------------
  // (The messages a pull-channel customer reads: storage/desk.h.)
  void MarkOutboxSent(std::int64_t id, UnixSeconds now);
  // Forgets SMS and e-mail delivered before `before` (their text: codes,
  // bills), except rows whose dedup key still stops a repeat (bill notices).
  void PurgeDeliveredOutbox(UnixSeconds before);
  // False if `dedup_key` was already queued (nothing added). Channels:
  // "sms", "email" (recipient: phone / address), "wechat" (OpenID; sent with
  // the customer-service API), "web" and "cli" (shown in the chat).
  bool QueueOutbox(const std::string& channel, const std::string& recipient,
                   const std::string& body, const std::string& dedup_key, UnixSeconds now);

  Connection& connection() { return *db_; }

  // For repository functions in other files (storage/<domain>.cc): prepare
  // a statement, and record a failed one so the transaction rolls back.
  Statement Prep(std::string_view sql);
  void Check(const Statement& st);
  void Check(const Status& s);

 private:
  friend class Store;
  Tx(std::unique_lock<std::mutex> lock, Connection* db);

  std::unique_lock<std::mutex> lock_;
  Connection* db_;
  bool done_ = false;
  std::string error_;
};

class Store {
 public:
  // Opens or creates the database file (":memory:" for tests) and migrates it.
  static Result<std::unique_ptr<Store>> Open(const std::string& path);

  Tx Begin();
  // True while a trivial query succeeds (GET /healthz).
  bool Healthy();

 private:
  explicit Store(std::unique_ptr<Connection> db) : db_(std::move(db)) {}
  std::mutex mu_;
  std::unique_ptr<Connection> db_;  // GUARDED_BY(mu_)
};

}  // namespace gridbot::storage
