#include "storage/ledger.h"

namespace gridbot::storage {

CreditResult Credit(Tx& tx, const std::string& account_no, std::int64_t amount_fen,
                    const std::string& method, const std::string& reference, UnixSeconds now,
                    const std::string& month_limit) {
  CreditResult result;
  Statement pay = tx.Prep(
      "INSERT INTO payments(account_no, paid_at, amount_fen, method, reference) "
      "VALUES (?,?,?,?,?)");
  pay.Bind(1, account_no).Bind(2, now).Bind(3, amount_fen).Bind(4, method);
  if (reference.empty())
    pay.BindNull(5);
  else
    pay.Bind(5, reference);
  tx.Check(pay.Run());
  Statement bal = tx.Prep(
      "UPDATE accounts SET balance_fen = balance_fen + ? WHERE account_no = ? "
      "RETURNING balance_fen");
  bal.Bind(1, amount_fen).Bind(2, account_no);
  std::int64_t balance = 0;
  if (bal.Step()) balance = bal.Int(0);
  tx.Check(bal);
  bal.Reset();
  for (const Bill& b : tx.UnpaidBills(account_no, month_limit)) {
    if (b.amount_fen > balance) break;  // oldest first: stop at the first not covered
    balance -= b.amount_fen;
    Statement paid = tx.Prep("UPDATE bills SET paid = 1 WHERE account_no = ? AND month = ?");
    paid.Bind(1, account_no).Bind(2, b.month);
    tx.Check(paid.Run());
    ++result.bills_paid;
  }
  Statement set = tx.Prep("UPDATE accounts SET balance_fen = ? WHERE account_no = ?");
  set.Bind(1, balance).Bind(2, account_no);
  tx.Check(set.Run());
  result.balance_fen = balance;
  return result;
}

}  // namespace gridbot::storage
