// PaymentGateway: payment orders' way out and back (issue 3, flow 7).
//
// Routes under /pay/: the built-in page that simulates the gateway (the
// embedded default when no --pay-gateway is configured) and the notify
// endpoint through which a gateway confirms a payment, authenticated by an
// HMAC with --pay-secret. A confirmed order credits its account exactly
// once, however often the notify arrives, and the customer is told in chat.
//
// Thread safety: Handle() may be called from many threads.
#pragma once

#include "bot/app.h"

namespace gridbot::bot {

struct HttpRequest;
struct HttpResponse;

class PaymentGateway {
 public:
  explicit PaymentGateway(App& app);
  // REQUIRES: the request's path starts with "/pay/".
  HttpResponse Handle(const HttpRequest& req);

 private:
  App& app_;
};

}  // namespace gridbot::bot
