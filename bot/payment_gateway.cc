// Placeholder until the payment flow lands.
#include "bot/payment_gateway.h"

#include "bot/http_handler.h"

namespace gridbot::bot {

PaymentGateway::PaymentGateway(App& app) : app_(app) {}

HttpResponse PaymentGateway::Handle(const HttpRequest&) {
  return HttpResponse{404, "application/json; charset=utf-8", "{\"error\":\"no such endpoint\"}"};
}

}  // namespace gridbot::bot
