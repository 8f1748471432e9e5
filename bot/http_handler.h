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

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bot/app.h"
#include "bot/payment_gateway.h"
#include "bot/sequencer.h"
#include "bot/wechat_crypto.h"
#include "common/rate_limiter.h"
#include "common/reply_race.h"

namespace gridbot::bot {

class AnalyticsEndpoints;
class DeskEndpoints;
class StaticFiles;

struct HttpRequest {
  std::string method;  // "GET", "POST", …
  std::string target;  // path and query, as received
  std::string content_type;
  std::string body;
  std::string cookie;         // the Cookie header
  std::string authorization;  // the Authorization header
  std::string api_key;        // the X-Api-Key header
  std::string peer;           // the TCP peer's address ("" if unknown)
  std::string forwarded_for;  // the X-Forwarded-For header
  // The client's X-Request-Id if usable, else a new one (common/log.h);
  // echoed in the response and written in every log line of the request.
  std::string request_id;
  // A long poll asked again after its wait ran out: answer now, even if
  // there is nothing new.
  bool final_try = false;
  bool repeat = false;  // a long poll asked again (counted once in /metrics)
  // Set by the server for a request with a deadline (DeadlineFor): who
  // answers, the turn or the server's stand-in (common/reply_race.h).
  std::shared_ptr<ReplyRace> race;
};

// A server-sent event stream (GET /api/agent/events): the server writes
// Start() once, then calls Next() every half second or so off the I/O
// threads, writing what it returns ("" = nothing now) until the client goes.
class EventStream {
 public:
  virtual ~EventStream() = default;
  virtual std::string Start() = 0;
  virtual std::string Next() = 0;
  // True once the stream should end (the login ended).
  virtual bool Done() const { return false; }
};

struct HttpResponse {
  HttpResponse() = default;
  HttpResponse(int s, std::string type, std::string b)
      : status(s), content_type(std::move(type)), body(std::move(b)) {}
  int status = 200;
  std::string content_type = "application/json; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra (Set-Cookie, …)
  // A long poll with nothing to answer yet: the server asks again (the same
  // request) every few hundred milliseconds for up to this many seconds,
  // then once more with final_try. No worker thread waits meanwhile.
  int poll_seconds = 0;
  std::shared_ptr<EventStream> stream;  // set: an event stream, not a body
};

// A request the server answers with `answer` when its handling has not
// produced a response within `budget` (and the handler armed the race).
struct Deadline {
  std::chrono::milliseconds budget;
  HttpResponse answer;
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
  // The deadline of `req`, if it has one (WeChat pushes: answered "success"
  // at --wechat-reply-budget-ms, the replies then sent through the outbox).
  std::optional<Deadline> DeadlineFor(const HttpRequest& req) const;

  // Produces the response; may block (database, waiting for the
  // conversation's earlier messages): call it off the I/O threads.
  HttpResponse Handle(const HttpRequest& req, std::optional<KeyedSequencer::Ticket> ticket);

  // The server is stopping (SIGTERM): /readyz answers 503 from now on, so a
  // load balancer stops sending new customers here while the turns in
  // flight finish.
  void SetDraining() { draining_ = true; }

 private:
  explicit HttpHandler(App& app);
  HttpResponse Chat(const HttpRequest& req, std::optional<KeyedSequencer::Ticket>& ticket);
  HttpResponse Wechat(const HttpRequest& req, std::optional<KeyedSequencer::Ticket>& ticket);
  HttpResponse Route(const HttpRequest& req, std::optional<KeyedSequencer::Ticket>& ticket);

  HttpResponse ChatUpdates(const HttpRequest& req);
  HttpResponse ChatHistory(const HttpRequest& req);
  // The web customer of a request: `user` (body or query) if given, else
  // the page's session cookie; "" if neither.
  // The client's address as limits count it (AddressForLimits: an IPv6
  // client by its /64): the peer's, or, when the peer is a configured
  // trusted proxy, the last address X-Forwarded-For names before it. ""
  // when it is not limited (a loopback peer: a local proxy, the tests).
  std::string ClientAddress(const HttpRequest& req) const;
  // Whether customer `key` ("web|…", "wechat|…") may send another message now.
  bool CustomerMayTalk(const std::string& key);
  // Whether the request may name its customer ("user"): it holds the
  // configured API key, or no key is configured and the server listens on
  // loopback only.
  bool TrustsGivenUser(const HttpRequest& req) const;
  std::string WebUser(const HttpRequest& req, const std::string& given) const;

  App& app_;
  std::unique_ptr<wechat::Cryptor> cryptor_;  // secure mode, if configured
  PaymentGateway payments_;
  std::unique_ptr<DeskEndpoints> desk_;
  std::unique_ptr<AnalyticsEndpoints> analytics_;
  // Requests per client address and messages per customer, counted for
  // the whole service (storage/limits.h).
  std::unique_ptr<RequestLimit> per_address_, per_customer_;
  std::unique_ptr<StaticFiles> pages_;
  std::atomic<bool> draining_{false};
};

// Query parameters of a target ("/p?a=1&b=x%20y"), percent-decoded.
std::map<std::string, std::string> ParseQuery(const std::string& target);
std::string PathOf(const std::string& target);
// The value of cookie `name` in a Cookie header, "" if absent.
std::string CookieValue(const std::string& header, const std::string& name);
HttpResponse JsonResponse(int status, const std::string& json_text);
HttpResponse JsonError(int status, const std::string& message);

}  // namespace gridbot::bot
