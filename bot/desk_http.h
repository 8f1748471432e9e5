// DeskEndpoints: /api/agent/* (desk.md, web/API.md) as thin handlers over
// desk::Desk — authentication (Bearer token or the console's cookie), the
// JSON bodies, and the one place where the desk's errors become HTTP
// statuses.
//
// Thread safety: as desk::Desk; Handle() from any thread.
#pragma once

#include "bot/app.h"
#include "bot/http_handler.h"
#include "bot/outbox.h"

namespace gridbot::bot {

class DeskEndpoints {
 public:
  explicit DeskEndpoints(App& app);
  ~DeskEndpoints();
  // REQUIRES: the path starts with /api/agent/.
  HttpResponse Handle(const HttpRequest& req);
  // The caller's identity from a Bearer token or the console's cookie.
  std::optional<desk::AgentIdentity> Caller(const HttpRequest& req, std::string* token = nullptr);

 private:
  App& app_;
  std::unique_ptr<WechatCustomSender> media_;  // set when the WeChat API is configured
};

// The HTTP status of a desk error (the one mapping).
int StatusOf(desk::ErrorKind kind);
HttpResponse FromAnswer(const desk::Answer& a);

}  // namespace gridbot::bot
