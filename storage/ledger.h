// The ledger rule of fixtures.md: money paid to an account (Alipay/UnionPay
// notify, prepaid card) adds a payment row and credits the balance; then the
// unpaid bills, oldest first, are marked paid while the balance covers them.
#pragma once

#include <cstdint>
#include <string>

#include "storage/store.h"

namespace gridbot::storage {

struct CreditResult {
  std::int64_t balance_fen = 0;  // after the bills it paid
  int bills_paid = 0;
};

// REQUIRES: inside `tx`; the account exists; amount_fen > 0. Bills of months
// after `month_limit` ("YYYY-MM") are not issued yet and stay untouched.
CreditResult Credit(Tx& tx, const std::string& account_no, std::int64_t amount_fen,
                    const std::string& method, const std::string& reference, UnixSeconds now,
                    const std::string& month_limit);

}  // namespace gridbot::storage
