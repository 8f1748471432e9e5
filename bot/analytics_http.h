// AnalyticsEndpoints: /api/analytics/* (../shared/spec/analytics.md,
// web/API.md) as thin handlers over analytics/ — the query strings, the JSON
// bodies and the statuses. Authentication is the desk's (the caller is
// passed in); analysts, supervisors and admins only.
//
// Thread safety: Handle() from any thread (analytics/ functions each run
// their own transactions).
#pragma once

#include <vector>

#include "analytics/unrecognised.h"
#include "bot/app.h"
#include "bot/http_handler.h"

namespace gridbot::bot {

class AnalyticsEndpoints {
 public:
  // Reads corpus/nlu/intent_titles.tsv; if it is missing or does not match
  // nlu.md, labelling and the intents list answer 503 saying why (the rest
  // works).
  explicit AnalyticsEndpoints(App& app);
  // REQUIRES: the path starts with /api/analytics/ and `who` may analyse.
  HttpResponse Handle(const HttpRequest& req, const desk::AgentIdentity& who);

 private:
  App& app_;
  std::vector<analytics::IntentTitle> titles_;
  std::string titles_error_;
};

}  // namespace gridbot::bot
