// Repository functions for the money of the account (issue 3): prepaid cards
// and payment orders, both credited through the ledger rule (ledger.h).
//
//   storage::Tx tx = store.Begin();
//   auto r = storage::RedeemCard(tx, "8800123456789012", "0301000001234", now, "2024-07");
//   if (r.status == storage::RedeemStatus::kRedeemed) … r.credit.balance_fen …
//   tx.Commit();
//
// Money is credited exactly once: a card is marked used, and an order paid,
// by a conditional UPDATE (… WHERE used = 0 / status = 'pending') and the
// account is credited only if that UPDATE changed exactly one row, inside the
// caller's transaction, so a card redeemed twice at once, or a notify that
// arrives three times, credits once.
//
// Thread safety: functions run inside a Tx, which serialises them (store.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "storage/ledger.h"
#include "storage/records.h"
#include "storage/store.h"

namespace gridbot::storage {

// payments.method of a prepaid-card recharge (the back end's wording).
inline constexpr char kCardMethod[] = "充值卡";

// --- prepaid cards ----------------------------------------------------------

// The card, nullopt if there is no such card.
std::optional<PrepaidCard> FindCard(Tx& tx, const std::string& card_no);

enum class RedeemStatus {
  kRedeemed,     // the card was unused; its value is now on the account
  kUnknownCard,  // no such card
  kAlreadyUsed,  // used before (or a moment ago, by someone else)
};

struct MoneyResult {
  std::int64_t amount_fen = 0;   // credited
  CreditResult credit;           // balance after, number of bills paid
  std::vector<Bill> bills_paid;  // the bills this credit paid, oldest first
  std::int64_t arrears_fen = 0;  // what the account still owes afterwards
};

struct RedeemResult {
  RedeemStatus status = RedeemStatus::kUnknownCard;
  MoneyResult money;  // set when kRedeemed
};

// Marks the card used by `account_no` and credits its value to the account
// (payments row with method kCardMethod and the card number as reference),
// once. The card password is the caller's business (checked before).
// REQUIRES: the account exists.
RedeemResult RedeemCard(Tx& tx, const std::string& card_no, const std::string& account_no,
                        UnixSeconds now, const std::string& month_limit);

// --- payment orders ---------------------------------------------------------

inline constexpr std::int64_t kMaxOrderFen = 5'000'000;  // 50,000.00 yuan

struct PaymentOrder {
  std::string order_no;  // "PO" + yyyymmdd + 6 digits
  std::int64_t user_id = 0;
  std::string channel, external_id;  // who is told when it is paid
  std::string account_no;
  std::int64_t amount_fen = 0;
  std::string method;              // "alipay" | "unionpay"
  std::string status = "pending";  // "pending" | "paid"
  UnixSeconds created_at = 0;
  std::optional<UnixSeconds> paid_at;
};

// payments.method for an order's method: "支付宝", "银联".
std::string PaymentMethodLabel(const std::string& method);

// Inserts `order` (status pending, created_at `now`) under a fresh number
// "PO" + the date of `now` + 6 random digits, unused so far; returns the
// number, "" if the insert failed (the transaction then rolls back).
std::string CreateOrder(Tx& tx, PaymentOrder order, UnixSeconds now);

std::optional<PaymentOrder> FindOrder(Tx& tx, const std::string& order_no);

enum class ConfirmStatus {
  kConfirmed,     // was pending: now paid and credited
  kAlreadyPaid,   // paid before: nothing done
  kUnknownOrder,  // no such order
};

struct ConfirmResult {
  ConfirmStatus status = ConfirmStatus::kUnknownOrder;
  PaymentOrder order;  // as found (before this call), unless kUnknownOrder
  MoneyResult money;   // set when kConfirmed
};

// Marks a pending order paid (with the gateway's reference, may be "") and
// credits its amount to its account, once. The caller has checked the
// notification's signature and amount.
ConfirmResult ConfirmOrder(Tx& tx, const std::string& order_no, const std::string& gateway_ref,
                           UnixSeconds now, const std::string& month_limit);

}  // namespace gridbot::storage
