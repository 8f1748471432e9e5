// PaymentGateway: payment orders' way out and back (issue 3, flow 7).
//
// Routes under /pay/:
//
//   GET  /pay/<order_no>          the order's page (UTF-8 HTML, Chinese): its
//                                 account, amount, method and status. With no
//                                 --pay-gateway it is the built-in simulator,
//                                 with a "确认支付" button; with one, a link
//                                 that hands the order to that gateway.
//   POST /pay/<order_no>/confirm  the simulator's button: settles the order as
//                                 a notify would. Only without --pay-gateway
//                                 (404 otherwise): it needs no signature.
//   POST /pay/notify              the gateway's callback, authenticated by an
//                                 HMAC with --pay-secret.
//
// The notify body is a form (application/x-www-form-urlencoded) or a JSON
// object with the string fields order_no, amount (yuan with two decimals,
// "129.80"), status ("success" settles the order; any other status is
// acknowledged and changes nothing) and sign:
//
//   sign = lower-case hex of HMAC-SHA256(pay_secret,
//                                        "order_no=<order_no>&amount=<amount>&status=<status>")
//
// with the three values exactly as sent. Answers: 200 "success" once the
// order is paid (the first time, or any time after: it is credited once); 403
// for a missing or wrong sign; 404 for an unknown order; 400 for a malformed
// body or an amount that is not the order's; 503 if the database is busy (the
// gateway retries). Never a 500.
//
// Settling a pending order is one storage transaction: the order is marked
// paid (only if still pending), its account credited (ledger.h), and a
// message queued in the outbox for the customer on the order's channel (web
// and cli users see it at their next turn; WeChat users get it through the
// outbox delivery).
//
// The link handed to an external gateway is
//   <pay_gateway>?order_no=…&amount=…&method=…&notify_url=<public_url>/pay/notify&sign=…
// with sign = hex HMAC-SHA256(pay_secret, "order_no=<o>&amount=<a>&notify_url=<u>").
//
// Thread safety: Handle() may be called from many threads.
#pragma once

#include <memory>
#include <string>

#include "bot/app.h"
#include "dialogs/replies.h"

namespace gridbot::bot {

struct HttpRequest;
struct HttpResponse;

class PaymentGateway {
 public:
  explicit PaymentGateway(App& app);
  // REQUIRES: the request's path starts with "/pay/".
  HttpResponse Handle(const HttpRequest& req);

  // The notify signature of (order_no, amount, status) under `secret`.
  static std::string Sign(const std::string& secret, const std::string& order_no,
                          const std::string& amount, const std::string& status);

 private:
  struct Settled;
  HttpResponse Page(const std::string& order_no);
  HttpResponse Confirm(const std::string& order_no);
  HttpResponse Notify(const HttpRequest& req);
  // Pays the order if pending, in one transaction (see above).
  Settled Settle(const std::string& order_no, const std::string& amount,
                 const std::string& gateway_ref);
  std::string Html(const std::string& body) const;
  std::string Text(const std::string& key, const dialogs::Vars& vars = {}) const;

  App& app_;
  std::shared_ptr<const dialogs::Replies> replies_;  // the App's (corpus/replies)
};

}  // namespace gridbot::bot
