// libFuzzer: the JSON (and form) request bodies of every endpoint that takes
// one, through the real handler on an in-memory database — so a body that
// parses runs a whole turn (NLU, dialog, storage). The first byte picks the
// endpoint. No input may crash the handler or make it answer 500.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "bot/app.h"
#include "bot/http_handler.h"

using namespace gridbot;
using namespace gridbot::bot;

namespace {

struct Fixture {
  std::unique_ptr<App> app;
  std::unique_ptr<HttpHandler> handler;
};

Fixture& Get() {
  static Fixture* f = [] {
    auto* out = new Fixture;
    Config c;
    c.db = ":memory:";
    c.now = "2024-08-04";
    c.wechat_token = "gridbottoken";
    c.pay_simulator = true;
    c.pay_secret = "fuzz-pay-secret-0123456789";
    c.rate_per_customer = 0;
    auto app = App::Create(c);
    if (!app.ok()) {
      std::fprintf(stderr, "%s\n", app.error().c_str());
      __builtin_trap();
    }
    out->app = std::move(*app);
    auto handler = HttpHandler::Create(*out->app);
    if (!handler.ok()) __builtin_trap();
    out->handler = std::move(*handler);
    return out;
  }();
  return *f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > 8192) return 0;
  static const char* const kTargets[] = {
      "/api/chat", "/api/chat", "/api/chat", "/api/agent/login", "/api/analytics/label",
      "/pay/notify", "/api/agent/conversations/x/reply"};
  HttpRequest req;
  req.method = "POST";
  req.target = kTargets[data[0] % (sizeof kTargets / sizeof *kTargets)];
  req.content_type = "application/json";
  req.peer = "127.0.0.1";
  req.body.assign(reinterpret_cast<const char*>(data) + 1, size - 1);
  Fixture& f = Get();
  auto ticket = f.handler->Admit(req);
  HttpResponse res = f.handler->Handle(req, std::move(ticket));
  if (res.status >= 500 && res.status != 503) __builtin_trap();
  return 0;
}
