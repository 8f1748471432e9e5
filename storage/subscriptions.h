// Repository functions for monthly bill subscriptions and for the outbox's
// delivery (issue 3). Free functions on a Tx, so they run inside the caller's
// transaction (a dialog turn, a command) and a failed statement rolls it
// back (Tx::Check).
//
//   storage::Tx tx = store.Begin();
//   auto id = storage::Subscribe(tx, user_id, "0301000001234", "sms", "13800138000", now);
//   if (!id) …                                   // the same one is already active
//   for (const auto& s : storage::ListSubscriptions(tx, user_id)) …
//   tx.Commit();
//
// Channels of a subscription: "sms" (target: an 11-digit mobile number),
// "email" (an address) and "wechat" (the subscriber's OpenID).
//
// Thread safety: as Tx (one thread per transaction).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "storage/store.h"

namespace gridbot::storage {

struct Subscription {
  std::int64_t id = 0;
  std::int64_t user_id = 0;
  std::string account_no, channel, target;
  UnixSeconds created_at = 0;
  bool active = true;
};

// --- subscriptions -----------------------------------------------------------

// Subscribes `user_id` to the monthly bill of `account_no` on `channel` to
// `target`. Returns the subscription's id, or nullopt if the user already has
// that very subscription active (nothing changed). A cancelled one is made
// active again (keeping its id).
std::optional<std::int64_t> Subscribe(Tx& tx, std::int64_t user_id, const std::string& account_no,
                                      const std::string& channel, const std::string& target,
                                      UnixSeconds now);
// The user's active subscription for exactly this account, channel and
// target, if any.
std::optional<Subscription> FindSubscription(Tx& tx, std::int64_t user_id,
                                             const std::string& account_no,
                                             const std::string& channel, const std::string& target);
// The user's active subscriptions, oldest first.
std::vector<Subscription> ListSubscriptions(Tx& tx, std::int64_t user_id);
// Deactivates the user's subscription `id`. False if it is not an active
// subscription of that user (nothing changed).
bool Unsubscribe(Tx& tx, std::int64_t user_id, std::int64_t id);
// Every active subscription of every user, by id.
std::vector<Subscription> ActiveSubscriptions(Tx& tx);
// The bill of `account_no` for `month` ("YYYY-MM"), if the back end has it.
std::optional<Bill> BillFor(Tx& tx, const std::string& account_no, const std::string& month);
// The mobile number the user registered with, if any.
std::optional<std::string> RegisteredPhone(Tx& tx, std::int64_t user_id);

// --- the outbox --------------------------------------------------------------

struct OutboxMessage {
  std::int64_t id = 0;
  std::string channel, recipient, body;
  std::string status;  // "pending", "sent", "failed"
  int attempts = 0;
  UnixSeconds created_at = 0;
  std::optional<UnixSeconds> sent_at;
};

// Outbox messages with `status` ("" for all), oldest first, at most `limit`.
std::vector<OutboxMessage> ListOutbox(Tx& tx, const std::string& status, size_t limit = 1000);
// Pending messages of the given channels, oldest first, at most `limit`,
// claimed until `now + lease`: no other caller (of any instance) gets them
// before then, so each is sent by one deliverer; one whose sender dies is
// claimed again once its lease is over. (PostgreSQL: FOR UPDATE SKIP
// LOCKED, so deliverers of several instances never wait for each other.)
std::vector<OutboxMessage> ClaimPendingOutbox(Tx& tx, const std::vector<std::string>& channels,
                                              size_t limit, UnixSeconds now, UnixSeconds lease);
// A message delivered: status "sent", one more attempt, sent_at = now.
void MarkOutboxDelivered(Tx& tx, std::int64_t id, UnixSeconds now);
// A delivery that failed: one more attempt; status "failed" once attempts
// reach `max_attempts` (it stays "pending" before, to be tried again).
// Returns the new status.
std::string MarkOutboxAttemptFailed(Tx& tx, std::int64_t id, int max_attempts);

}  // namespace gridbot::storage
