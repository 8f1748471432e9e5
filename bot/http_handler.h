// HttpHandler: the service's endpoints (../shared/spec/service.md) as a
// function from a request to a response, free of sockets, so it can be tested
// without a server. bot/server.h puts it behind Beast.
//
//   POST /api/chat   the web channel (JSON)
//   GET  /wechat     URL verification;  POST /wechat  pushes (XML)
//   GET  /healthz    200 "ok" while the database answers
//   GET  /metrics    Prometheus text
//
// Malformed input of any kind gets a 4xx with a clear message (JSON
// `{"error": …}` on /api, plain text on /wechat), never a 500.
//
// Thread safety: Handle() may be called from many threads at once; messages
// of one conversation are processed in the order of their Admit() tickets.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "bot/app.h"
#include "bot/payment_gateway.h"
#include "bot/sequencer.h"
#include "bot/wechat_crypto.h"

namespace gridbot::bot {

struct HttpRequest {
  std::string method;  // "GET", "POST", …
  std::string target;  // path and query, as received
  std::string content_type;
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json; charset=utf-8";
  std::string body;
};

class HttpHandler {
 public:
  // Returns an error if the WeChat settings are inconsistent (a bad AES key).
  static Result<std::unique_ptr<HttpHandler>> Create(App& app);
  ~HttpHandler();

  // Called on arrival, in arrival order (on the I/O thread): reserves the
  // request's place in its conversation's line. nullopt when the request
  // does not belong to a conversation (or is malformed: Handle() says why).
  std::optional<KeyedSequencer::Ticket> Admit(const HttpRequest& req);

  // Produces the response; may block (database, waiting for the
  // conversation's earlier messages): call it off the I/O threads.
  HttpResponse Handle(const HttpRequest& req, std::optional<KeyedSequencer::Ticket> ticket);

 private:
  explicit HttpHandler(App& app) : app_(app), payments_(app) {}
  HttpResponse Chat(const HttpRequest& req, std::optional<KeyedSequencer::Ticket>& ticket);
  HttpResponse Wechat(const HttpRequest& req, std::optional<KeyedSequencer::Ticket>& ticket);
  HttpResponse Route(const HttpRequest& req, std::optional<KeyedSequencer::Ticket>& ticket);

  App& app_;
  std::unique_ptr<wechat::Cryptor> cryptor_;  // secure mode, if configured
  PaymentGateway payments_;
};

// Query parameters of a target ("/p?a=1&b=x%20y"), percent-decoded.
std::map<std::string, std::string> ParseQuery(const std::string& target);
std::string PathOf(const std::string& target);

}  // namespace gridbot::bot
