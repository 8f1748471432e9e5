#include "storage/money.h"

#include <openssl/rand.h>

#include <cstdio>
#include <random>

namespace gridbot::storage {
namespace {

// What a credit did, in the customer's terms: the bills it paid (the oldest
// unpaid ones, as many as Credit() reports) and what is still owed.
MoneyResult CreditAndDescribe(Tx& tx, const std::string& account_no, std::int64_t amount_fen,
                              const std::string& method, const std::string& reference,
                              UnixSeconds now, const std::string& month_limit) {
  MoneyResult m;
  m.amount_fen = amount_fen;
  std::vector<Bill> unpaid = tx.UnpaidBills(account_no, month_limit);
  m.credit = Credit(tx, account_no, amount_fen, method, reference, now, month_limit);
  for (int i = 0; i < m.credit.bills_paid && i < static_cast<int>(unpaid.size()); ++i)
    m.bills_paid.push_back(unpaid[i]);
  m.arrears_fen = tx.ArrearsFen(account_no, month_limit);
  return m;
}

PaymentOrder ReadOrder(const Statement& st) {
  PaymentOrder o;
  o.order_no = st.Text(0);
  o.user_id = st.Int(1);
  o.channel = st.Text(2);
  o.external_id = st.Text(3);
  o.account_no = st.Text(4);
  o.amount_fen = st.Int(5);
  o.method = st.Text(6);
  o.status = st.Text(7);
  o.created_at = st.Int(8);
  if (!st.IsNull(9)) o.paid_at = st.Int(9);
  return o;
}

}  // namespace

// --- prepaid cards -------------------------------------------------------------

std::optional<PrepaidCard> FindCard(Tx& tx, const std::string& card_no) {
  Statement st =
      tx.Prep("SELECT card_no, password, amount_fen, used FROM prepaid_cards WHERE card_no = ?");
  st.Bind(1, card_no);
  if (!st.Step()) {
    tx.Check(st);
    return std::nullopt;
  }
  return PrepaidCard{st.Text(0), st.Text(1), st.Int(2), st.Int(3) != 0};
}

RedeemResult RedeemCard(Tx& tx, const std::string& card_no, const std::string& account_no,
                        UnixSeconds now, const std::string& month_limit) {
  RedeemResult r;
  auto card = FindCard(tx, card_no);
  if (!card) return r;
  Statement use = tx.Prep(
      "UPDATE prepaid_cards SET used = 1, used_by = ?, used_at = ? "
      "WHERE card_no = ? AND used = 0");
  use.Bind(1, account_no).Bind(2, now).Bind(3, card_no);
  tx.Check(use.Run());
  if (!tx.ok() || tx.connection().Changes() != 1) {
    r.status = RedeemStatus::kAlreadyUsed;
    return r;
  }
  r.status = RedeemStatus::kRedeemed;
  r.money =
      CreditAndDescribe(tx, account_no, card->amount_fen, kCardMethod, card_no, now, month_limit);
  return r;
}

// --- payment orders --------------------------------------------------------------

std::string PaymentMethodLabel(const std::string& method) {
  if (method == "alipay") return "支付宝";
  if (method == "unionpay") return "银联";
  return method;
}

std::string CreateOrder(Tx& tx, PaymentOrder order, UnixSeconds now) {
  // The date, then 130 random bits (26 characters of Crockford's base 32):
  // a number that can't be guessed or scanned.
  const CivilDay d = ToCivilDay(now);
  char prefix[16];
  std::snprintf(prefix, sizeof prefix, "PO%04d%02d%02d", d.year, d.month, d.day);
  static const char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  for (int attempt = 0; attempt < 20 && tx.ok(); ++attempt) {
    unsigned char bytes[26];
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
      tx.Check(Status::Error("no randomness for a payment order number"));
      return "";
    }
    std::string no = prefix;
    for (unsigned char b : bytes) no += kAlphabet[b & 31];
    // ON CONFLICT DO NOTHING: a number already taken changes nothing; try another.
    Statement st = tx.Prep(
        "INSERT INTO payment_orders(order_no, user_id, channel, external_id, account_no, "
        "amount_fen, method, status, created_at) VALUES (?,?,?,?,?,?,?,'pending',?) "
        "ON CONFLICT DO NOTHING");
    st.Bind(1, no)
        .Bind(2, order.user_id)
        .Bind(3, order.channel)
        .Bind(4, order.external_id)
        .Bind(5, order.account_no)
        .Bind(6, order.amount_fen)
        .Bind(7, order.method)
        .Bind(8, now);
    tx.Check(st.Run());
    if (tx.ok() && tx.connection().Changes() == 1) return no;
  }
  if (tx.ok()) tx.Check(Status::Error("no free payment order number for " + std::string(prefix)));
  return "";
}

std::optional<PaymentOrder> FindOrder(Tx& tx, const std::string& order_no) {
  Statement st = tx.Prep(
      "SELECT order_no, user_id, channel, external_id, account_no, amount_fen, method, status, "
      "created_at, paid_at FROM payment_orders WHERE order_no = ?");
  st.Bind(1, order_no);
  if (!st.Step()) {
    tx.Check(st);
    return std::nullopt;
  }
  return ReadOrder(st);
}

ConfirmResult ConfirmOrder(Tx& tx, const std::string& order_no, const std::string& gateway_ref,
                           UnixSeconds now, const std::string& month_limit) {
  ConfirmResult r;
  auto order = FindOrder(tx, order_no);
  if (!order) return r;
  r.order = *order;
  Statement paid = tx.Prep(
      "UPDATE payment_orders SET status = 'paid', paid_at = ?, gateway_ref = ? "
      "WHERE order_no = ? AND status = 'pending'");
  paid.Bind(1, now);
  if (gateway_ref.empty())
    paid.BindNull(2);
  else
    paid.Bind(2, gateway_ref);
  paid.Bind(3, order_no);
  tx.Check(paid.Run());
  if (!tx.ok() || tx.connection().Changes() != 1) {
    r.status = ConfirmStatus::kAlreadyPaid;
    return r;
  }
  r.status = ConfirmStatus::kConfirmed;
  r.money = CreditAndDescribe(tx, order->account_no, order->amount_fen,
                              PaymentMethodLabel(order->method), order_no, now, month_limit);
  return r;
}

}  // namespace gridbot::storage
