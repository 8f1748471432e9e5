#include "bot/http_handler.h"

#include <openssl/crypto.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <nlohmann/json.hpp>

#include "bot/analytics_http.h"
#include "bot/desk_http.h"
#include "bot/static_files.h"
#include "bot/wechat_crypto.h"
#include "bot/wechat_protocol.h"
#include "common/log.h"
#include "desk/auth.h"
#include "nlu/normalizer.h"
#include "storage/desk.h"
#include "storage/limits.h"

namespace gridbot::bot {
namespace {

using nlohmann::json;

constexpr size_t kMaxTextChars = 1000;

HttpResponse Plain(int status, std::string body) {
  return HttpResponse{status, "text/plain; charset=utf-8", std::move(body)};
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else if (s[i] == '+') {
      // WeChat's echostr and Encrypt are base64: '+' is a '+', not a space.
      out += '+';
    } else {
      out += s[i];
    }
  }
  return out;
}

size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

// `user` is 1 to 64 printable characters (service.md).
bool ValidUser(const std::string& user) {
  if (user.empty() || !nlu::IsValidUtf8(user) || CodePoints(user) > 64) return false;
  for (unsigned char c : user)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}

std::string JoinReplies(const std::vector<dialogs::Reply>& replies) {
  std::string text;
  for (const auto& r : replies) {
    if (!text.empty()) text += "\n\n";
    text += r.text;
  }
  return text;
}

// Quick replies: every 回复“X” the bot's text offers, as a button that sends X.
json Buttons(const std::string& text) {
  json out = json::array();
  const std::string open = "回复“", close = "”";
  for (size_t p = text.find(open); p != std::string::npos && out.size() < 4;
       p = text.find(open, p + 1)) {
    const size_t start = p + open.size(), end = text.find(close, start);
    if (end == std::string::npos || end - start > 30) continue;
    const std::string label = text.substr(start, end - start);
    if (label.empty() || label.find('{') != std::string::npos) continue;
    bool seen = false;
    for (const json& b : out) seen = seen || b["text"] == label;
    if (!seen) out.push_back({{"label", label}, {"text", label}});
  }
  return out;
}

json ReplyJson(const dialogs::Reply& r) {
  json j = {{"type", r.type}, {"text", r.text}};
  if (r.seq) {
    j["seq"] = r.seq;
    j["from"] = r.from;
  }
  if (r.type == "text") {
    json b = Buttons(r.text);
    if (!b.empty()) j["buttons"] = b;
  }
  return j;
}

// A handoff started by this turn (not a message to the desk).
bool NewHandoff(const dialogs::Outcome& out) {
  return out.handoff == "asked" || out.handoff == "not_understood" || out.handoff == "gave_up";
}

}  // namespace

HttpResponse JsonError(int status, const std::string& message) {
  return HttpResponse{status, "application/json; charset=utf-8", json{{"error", message}}.dump()};
}

HttpResponse JsonResponse(int status, const std::string& json_text) {
  return HttpResponse{status, "application/json; charset=utf-8", json_text};
}

std::string CookieValue(const std::string& header, const std::string& name) {
  size_t p = 0;
  while (p < header.size()) {
    while (p < header.size() && (header[p] == ' ' || header[p] == ';')) ++p;
    const size_t end = header.find(';', p);
    const std::string pair =
        header.substr(p, end == std::string::npos ? std::string::npos : end - p);
    const size_t eq = pair.find('=');
    if (eq != std::string::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
    if (end == std::string::npos) break;
    p = end + 1;
  }
  return "";
}

HttpHandler::HttpHandler(App& app)
    : app_(app),
      payments_(app),
      desk_(std::make_unique<DeskEndpoints>(app)),
      per_address_(storage::NewRequestLimit(app.store(), app.config().rate_per_address)),
      per_customer_(storage::NewRequestLimit(app.store(), app.config().rate_per_customer)),
      pages_(std::make_unique<StaticFiles>(WebDir(app.config()))) {
  analytics_ = std::make_unique<AnalyticsEndpoints>(app);
}

namespace {
std::string TrimmedAddress(std::string a) {
  while (!a.empty() && (a.front() == ' ' || a.front() == '\t')) a.erase(a.begin());
  while (!a.empty() && (a.back() == ' ' || a.back() == '\t')) a.pop_back();
  return a;
}
bool Listed(const std::string& list, const std::string& address) {
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = list.find(',', start);
    if (TrimmedAddress(list.substr(start, comma - start)) == address) return true;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return false;
}
bool LoopbackAddress(const std::string& a) {
  return a == "::1" || a.rfind("127.", 0) == 0 || a.rfind("::ffff:127.", 0) == 0;
}
}  // namespace

std::string HttpHandler::ClientAddress(const HttpRequest& req) const {
  std::string address = req.peer;
  const std::string& proxies = app_.config().trusted_proxies;
  if (!proxies.empty() && Listed(proxies, address)) {
    // From the right: the first address that is not one of our proxies.
    std::string xff = req.forwarded_for;
    while (!xff.empty()) {
      const size_t comma = xff.rfind(',');
      const std::string hop =
          TrimmedAddress(comma == std::string::npos ? xff : xff.substr(comma + 1));
      xff = comma == std::string::npos ? "" : xff.substr(0, comma);
      if (hop.empty()) continue;
      address = hop;
      if (!Listed(proxies, hop)) break;
    }
    return address == req.peer && LoopbackAddress(address) ? "" : AddressForLimits(address);
  }
  return LoopbackAddress(address) ? "" : AddressForLimits(address);
}

bool HttpHandler::CustomerMayTalk(const std::string& key) {
  return per_customer_->Take(key) == 0;
}

bool HttpHandler::TrustsGivenUser(const HttpRequest& req) const {
  const std::string& key = app_.config().api_key;
  if (key.empty()) return IsLoopbackListen(app_.config().listen);
  return req.api_key.size() == key.size() &&
         CRYPTO_memcmp(req.api_key.data(), key.data(), key.size()) == 0;
}

std::string HttpHandler::WebUser(const HttpRequest& req, const std::string& given) const {
  if (!given.empty()) {
    // A customer named by the caller: only a trusted caller may (the app
    // channel with the API key, or anything on a loopback-only server).
    if (!TrustsGivenUser(req)) return "";
    // The page's customers are "s" + a hash of their session: a name of
    // that shape is theirs only, never taken from a body.
    if (given.size() == 25 && given[0] == 's' &&
        given.find_first_not_of("0123456789abcdef", 1) == std::string::npos)
      return "";
    return given;
  }
  const std::string sid = CookieValue(req.cookie, "gb_sid");
  if (sid.size() != 64) return "";
  // The session itself is a secret: the conversation is named by its hash.
  return "s" + desk::TokenHash(sid).substr(0, 24);
}

std::string PathOf(const std::string& target) { return target.substr(0, target.find('?')); }

std::map<std::string, std::string> ParseQuery(const std::string& target) {
  std::map<std::string, std::string> q;
  const size_t qm = target.find('?');
  if (qm == std::string::npos) return q;
  std::string_view rest(target);
  rest.remove_prefix(qm + 1);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    const size_t eq = pair.find('=');
    if (!pair.empty())
      q[PercentDecode(pair.substr(0, eq))] =
          eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return q;
}

Result<std::unique_ptr<HttpHandler>> HttpHandler::Create(App& app) {
  std::unique_ptr<HttpHandler> h(new HttpHandler(app));
  const Config& c = app.config();
  if (!c.wechat_aes_key.empty()) {
    if (c.wechat_token.empty() || c.wechat_appid.empty())
      return Status::Error("--wechat-aes-key needs --wechat-token and --wechat-appid");
    auto cryptor = wechat::Cryptor::Create(c.wechat_token, c.wechat_aes_key, c.wechat_appid,
                                           c.wechat_previous_aes_key);
    if (!cryptor.ok()) return Status::Error("WeChat secure mode: " + cryptor.error());
    h->cryptor_ = std::make_unique<wechat::Cryptor>(std::move(*cryptor));
  }
  return h;
}

HttpHandler::~HttpHandler() = default;

std::optional<KeyedSequencer::Ticket> HttpHandler::Admit(const HttpRequest& req) {
  if (req.method != "POST") return std::nullopt;
  const std::string path = PathOf(req.target);
  if (path == "/api/chat") {
    json j = json::parse(req.body, nullptr, false);
    if (j.is_object()) {
      const std::string user = WebUser(
          req, j.contains("user") && j["user"].is_string() ? j["user"].get<std::string>() : "");
      if (!user.empty()) return app_.sequencer().Take("web|" + user);
    }
  } else if (path == "/wechat") {
    // The conversation is the message's own sender; in secure mode the
    // envelope has none, and the openid WeChat puts in the URL stands in.
    auto msg = wechat::ParseMessage(req.body);
    if (msg.ok() && !msg->from_user.empty())
      return app_.sequencer().Take("wechat|" + msg->from_user);
    auto q = ParseQuery(req.target);
    if (!q["openid"].empty()) return app_.sequencer().Take("wechat|" + q["openid"]);
  }
  return std::nullopt;
}

std::optional<Deadline> HttpHandler::DeadlineFor(const HttpRequest& req) const {
  // Without a customer-service sender a late reply could not reach anyone:
  // then the turn answers in the reply however long it takes (WeChat's
  // retry gets it from the dedup record).
  const Config& c = app_.config();
  if (req.method != "POST" || c.wechat_token.empty() || c.wechat_appid.empty() ||
      c.wechat_appsecret.empty())
    return std::nullopt;
  if (req.target != "/wechat" && req.target.rfind("/wechat?", 0) != 0) return std::nullopt;
  return Deadline{std::chrono::milliseconds(app_.config().wechat_reply_budget_ms),
                  Plain(200, "success")};
}

HttpResponse HttpHandler::Handle(const HttpRequest& req,
                                 std::optional<KeyedSequencer::Ticket> ticket) {
  const auto started = std::chrono::steady_clock::now();
  HttpResponse resp;
  try {
    resp = Route(req, ticket);
  } catch (const std::exception& e) {
    // A bug, not the request's fault: nothing was committed (the turn's
    // transaction rolled back), the server stays up, and the client may retry.
    logging::Error("internal error", {{"request_id", req.request_id},
                                      {"method", req.method},
                                      {"path", PathOf(req.target)},
                                      {"error", e.what()}});
    resp = JsonError(503, "the message could not be processed; please try again");
  }
  if (ticket) app_.sequencer().Wait(std::move(*ticket));  // never skip a place in line
  std::string endpoint = PathOf(req.target);
  if (endpoint.rfind("/pay/", 0) == 0) endpoint = "/pay";
  if (endpoint.rfind("/api/agent/", 0) == 0) endpoint = "/api/agent";
  if (endpoint != "/api/chat" && endpoint != "/wechat" && endpoint != "/healthz" && endpoint != "/readyz" &&
      endpoint != "/metrics" && endpoint != "/pay" && endpoint != "/api/agent" &&
      endpoint != "/api/chat/updates")
    endpoint = "other";
  if (!req.request_id.empty()) resp.headers.emplace_back("X-Request-Id", req.request_id);
  if (resp.poll_seconds > 0) return resp;  // a long poll: counted once, when it answers
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  app_.metrics().Request(endpoint, resp.status, seconds);
  if (logging::access_log())
    logging::Request(req.request_id, req.method, PathOf(req.target), resp.status, seconds * 1000,
                     req.peer, ClientAddress(req));
  return resp;
}

HttpResponse HttpHandler::Route(const HttpRequest& req,
                                std::optional<KeyedSequencer::Ticket>& ticket) {
  const std::string path = PathOf(req.target);
  if (path != "/healthz" && path != "/readyz" && path != "/metrics" && !req.final_try && !req.repeat) {
    // Requests per client address (a long poll asked again is not a new one).
    const std::string client = ClientAddress(req);
    if (const int wait = client.empty() ? 0 : per_address_->Take("ip|" + client)) {
      HttpResponse r = JsonError(429, "请求过于频繁，请稍后再试。");
      r.headers.emplace_back("Retry-After", std::to_string(wait));
      return r;
    }
  }
  if (path == "/healthz") {
    if (req.method != "GET" && req.method != "HEAD") return Plain(405, "method not allowed\n");
    return app_.store().Healthy() ? Plain(200, "ok") : Plain(503, "database unavailable\n");
  }
  if (path == "/readyz") {
    // Ready to take turns: the database answers and its schema is the one
    // this binary migrates to (a load balancer's health check).
    if (req.method != "GET" && req.method != "HEAD") return Plain(405, "method not allowed\n");
    if (draining_) return HttpResponse{503, "application/json; charset=utf-8",
                                       R"({"status":"draining","reason":"the server is stopping"})"};
    const storage::Readiness r = app_.store().CheckReady();
    nlohmann::json body = {{"status", r.ready() ? "ready" : "not_ready"},
                           {"database", r.reachable ? "reachable" : "unreachable"},
                           {"schema_version", r.version},
                           {"schema_latest", r.latest}};
    if (!r.reachable) body["reason"] = "the database does not answer";
    else if (r.version != r.latest) body["reason"] = "the database schema is not current";
    return HttpResponse{r.ready() ? 200 : 503, "application/json; charset=utf-8", body.dump()};
  }
  if (path == "/metrics") {
    if (req.method != "GET") return Plain(405, "method not allowed\n");
    return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", app_.metrics().Render()};
  }
  if (path == "/api/chat") {
    if (req.method != "POST") return JsonError(405, "use POST with a JSON body");
    return Chat(req, ticket);
  }
  if (path == "/wechat") {
    if (req.method != "GET" && req.method != "POST") return Plain(405, "method not allowed\n");
    return Wechat(req, ticket);
  }
  if (path.rfind("/pay/", 0) == 0) return payments_.Handle(req);
  if (path.rfind("/api/agent/", 0) == 0) return desk_->Handle(req);
  if (path.rfind("/api/analytics/", 0) == 0) {
    // analytics.md's endpoints take the desk's authentication: 401 without
    // any, 403 for a role that may not or a customer's own session.
    auto who = desk_->Caller(req);
    if (!who && CookieValue(req.cookie, "gb_sid").empty()) return JsonError(401, "请先登录");
    if (!who || !who->Analyses()) return JsonError(403, "您的账号没有查看分析数据的权限");
    return analytics_->Handle(req, *who);
  }
  if (path == "/api/chat/updates") {
    if (req.method != "GET") return JsonError(405, "use GET");
    return ChatUpdates(req);
  }
  if (path == "/api/chat/history") {
    if (req.method != "GET") return JsonError(405, "use GET");
    return ChatHistory(req);
  }
  if (path == "/api/menu") {
    if (req.method != "GET") return JsonError(405, "use GET");
    return JsonResponse(200, app_.menu_body());
  }
  if (auto page = pages_->Serve(req)) return *page;
  return JsonError(404, "no such endpoint");
}

HttpResponse HttpHandler::Chat(const HttpRequest& req,
                               std::optional<KeyedSequencer::Ticket>& ticket) {
  if (!nlu::IsValidUtf8(req.body)) return JsonError(400, "body is not valid UTF-8");
  json j = json::parse(req.body, nullptr, false);
  if (j.is_discarded()) return JsonError(400, "body is not valid JSON");
  if (!j.is_object()) return JsonError(400, "body must be a JSON object");
  if (j.contains("user") && !j["user"].is_string())
    return JsonError(400, "\"user\" must be a string of 1 to 64 printable characters");
  const std::string given = j.contains("user") ? j["user"].get<std::string>() : std::string();
  if (!given.empty() && !TrustsGivenUser(req))
    return JsonError(403,
                     "\"user\" is accepted only with the API key (X-Api-Key); the page's own "
                     "customers are known by their session");
  const std::string user = WebUser(req, given);
  if (user.empty())
    return JsonError(400, "\"user\" is required: a string of 1 to 64 printable characters");
  if (!ValidUser(user)) return JsonError(400, "\"user\" must be 1 to 64 printable characters");

  dialogs::Inbound in;
  in.channel = "web";
  in.user = user;
  // Wrong secrets count per client address too, for the page's customers
  // (a caller with the API key speaks for many).
  if (given.empty()) in.source = ClientAddress(req);
  // A client's own message id: a retry with the same id (the connection
  // dropped, the server restarted) gets the same replies and runs nothing.
  if (j.contains("id")) {
    if (!j["id"].is_string() || !ValidUser(j["id"].get<std::string>()))
      return JsonError(400, "\"id\" must be a string of 1 to 64 printable characters");
    in.dedup_key = "id:" + user + "|" + j["id"].get<std::string>();
  }
  const bool has_text = j.contains("text") && !j["text"].is_null();
  const bool has_event = j.contains("event") && !j["event"].is_null();
  if (has_text == has_event) return JsonError(400, "send either \"text\" or \"event\"");
  if (has_text) {
    if (!j["text"].is_string()) return JsonError(400, "\"text\" must be a string");
    in.text = j["text"].get<std::string>();
    if (in.text.find_first_not_of(" \t\r\n") == std::string::npos)
      return JsonError(400, "\"text\" is empty");
    if (CodePoints(in.text) > kMaxTextChars)
      return JsonError(413,
                       "\"text\" is longer than " + std::to_string(kMaxTextChars) + " characters");
  } else {
    const json& e = j["event"];
    if (!e.is_object() || !e.contains("type") || !e["type"].is_string())
      return JsonError(400, "\"event\" must be an object with a \"type\"");
    dialogs::Event ev;
    ev.type = e["type"].get<std::string>();
    if (ev.type == "location") {
      if (!e.contains("lat") || !e["lat"].is_number() || !e.contains("lng") ||
          !e["lng"].is_number())
        return JsonError(400, "a location event needs numeric \"lat\" and \"lng\"");
      ev.lat = e["lat"].get<double>();
      ev.lng = e["lng"].get<double>();
      if (ev.lat < -90 || ev.lat > 90 || ev.lng < -180 || ev.lng > 180)
        return JsonError(400, "\"lat\"/\"lng\" out of range");
      if (e.contains("label") && e["label"].is_string()) ev.label = e["label"].get<std::string>();
    } else if (ev.type == "click") {
      if (!e.contains("key") || !e["key"].is_string() || e["key"].get<std::string>().empty())
        return JsonError(400, "a click event needs a \"key\"");
      ev.key = e["key"].get<std::string>();
    } else if (ev.type != "subscribe") {
      return JsonError(400, "unknown event type \"" + ev.type + "\"");
    }
    in.event = ev;
  }
  // A resend of an answered message (same "id") runs nothing: it is not
  // charged to the customer's limit, nor counted again in /metrics.
  const bool resend = app_.engine().Answered(in);
  if (!resend && !CustomerMayTalk("web|" + user)) {
    // Too many messages from one customer: told politely, nothing run.
    const std::string text = app_.replies()->Render("rate_limited", {});
    return JsonResponse(
        429, json{{"error", text}, {"replies", json::array({{{"type", "text"}, {"text", text}}})}}
                 .dump());
  }
  if (!ticket) ticket = app_.sequencer().Take("web|" + user);
  dialogs::Outcome out;
  {
    auto turn = app_.sequencer().Wait(std::move(*ticket));
    ticket.reset();
    out = app_.engine().Handle(in);
  }
  if (!out.duplicate) app_.metrics().Turn(out.intent, out.fallback);
  if (!out.ok) return JsonError(503, out.replies.empty() ? "busy" : out.replies[0].text);
  if (!out.duplicate && NewHandoff(out)) {
    app_.metrics().Handoff();
    app_.desk().AssignWaiting();  // an agent who takes them automatically
  }
  json replies = json::array();
  for (const auto& r : out.replies) replies.push_back(ReplyJson(r));
  return HttpResponse{200, "application/json; charset=utf-8",
                      json{{"replies", replies}, {"intent", out.intent}}.dump()};
}

HttpResponse HttpHandler::ChatUpdates(const HttpRequest& req) {
  auto q = ParseQuery(req.target);
  if (!q["user"].empty() && !TrustsGivenUser(req))
    return JsonError(403, "\"user\" is accepted only with the API key (X-Api-Key)");
  const std::string user = WebUser(req, q["user"]);
  if (user.empty()) return JsonError(400, "\"user\" is required (or the page's session cookie)");
  if (!ValidUser(user)) return JsonError(400, "\"user\" must be 1 to 64 printable characters");
  std::int64_t after = 0;
  if (!q["after"].empty()) {
    char* end = nullptr;
    after = std::strtoll(q["after"].c_str(), &end, 10);
    if (*end != '\0' || after < 0) return JsonError(400, "\"after\" must be a sequence number");
  }
  int wait = 0;
  if (!q["wait"].empty()) {
    char* end = nullptr;
    const long w = std::strtol(q["wait"].c_str(), &end, 10);
    if (*end != '\0' || w < 0) return JsonError(400, "\"wait\" must be seconds from 0 to 30");
    wait = static_cast<int>(std::min(30L, w));
  }
  const std::string channel = q["channel"] == "cli" ? "cli" : "web";
  std::vector<storage::CustomerUpdate> updates;
  {
    storage::Tx tx = app_.store().Begin();
    updates = storage::CustomerUpdatesAfter(tx, channel, user, after, app_.clock().Now());
    if (!tx.Commit().ok()) return JsonError(503, "database busy, try again");
  }
  if (updates.empty() && wait > 0 && !req.final_try) {
    HttpResponse r;
    r.poll_seconds = wait;  // the server asks again until one arrives
    return r;
  }
  json messages = json::array();
  for (const auto& u : updates)
    messages.push_back({{"seq", u.seq}, {"at", u.at}, {"from", u.from}, {"text", u.text}});
  return JsonResponse(200, json{{"messages", messages}}.dump());
}

HttpResponse HttpHandler::ChatHistory(const HttpRequest& req) {
  auto q = ParseQuery(req.target);
  if (!q["user"].empty() && !TrustsGivenUser(req))
    return JsonError(403, "\"user\" is accepted only with the API key (X-Api-Key)");
  const std::string user = WebUser(req, q["user"]);
  if (user.empty()) return JsonError(400, "\"user\" is required (or the page's session cookie)");
  if (!ValidUser(user)) return JsonError(400, "\"user\" must be 1 to 64 printable characters");
  storage::Tx tx = app_.store().Begin();
  json messages = json::array();
  struct Line {
    UnixSeconds at;
    int order;
    std::string from, text;
    std::int64_t seq = 0;
  };
  std::vector<Line> lines;
  int order = 0;
  for (const auto& t : storage::RecentTurns(tx, "web", user, 40)) {
    lines.push_back({t.at, order++, "customer", t.text});
    const json replies = json::parse(t.replies_json, nullptr, false);
    if (replies.is_array())
      for (const json& r : replies)
        if (r.is_string()) lines.push_back({t.at, order++, "bot", r.get<std::string>()});
  }
  for (const auto& u : storage::RecentCustomerUpdates(tx, "web", user, 40))
    lines.push_back({u.at, order++, u.from, u.text, u.seq});
  std::stable_sort(lines.begin(), lines.end(),
                   [](const Line& a, const Line& b) { return a.at < b.at; });
  for (const auto& l : lines) {
    json m = {{"from", l.from}, {"text", l.text}, {"at", l.at}};
    if (l.seq) m["seq"] = l.seq;
    messages.push_back(std::move(m));
  }
  const std::int64_t last = storage::LatestCustomerUpdate(tx, "web", user);
  return JsonResponse(200, json{{"messages", messages}, {"last_seq", last}}.dump());
}

HttpResponse HttpHandler::Wechat(const HttpRequest& req,
                                 std::optional<KeyedSequencer::Ticket>& ticket) {
  const Config& c = app_.config();
  if (c.wechat_token.empty()) return Plain(404, "WeChat channel is not configured\n");
  auto q = ParseQuery(req.target);
  if (!wechat::VerifySignature(c.wechat_token, q["timestamp"], q["nonce"], q["signature"]))
    return Plain(403, "invalid signature\n");
  // A signed query is good for a few minutes of the real clock (not --now's):
  // one captured later is refused.
  const std::int64_t real_now = static_cast<std::int64_t>(std::time(nullptr));
  {
    char* end = nullptr;
    const long long ts = std::strtoll(q["timestamp"].c_str(), &end, 10);
    if (q["timestamp"].empty() || *end != '\0' || std::llabs(real_now - ts) > c.wechat_max_skew)
      return Plain(403, "timestamp outside the allowed window\n");
  }
  if (req.method == "GET") {
    if (!q["msg_signature"].empty() && cryptor_) {
      auto echo =
          cryptor_->DecryptEchostr(q["timestamp"], q["nonce"], q["echostr"], q["msg_signature"]);
      if (!echo.ok()) return Plain(403, "invalid echostr\n");
      return Plain(200, *echo);
    }
    return Plain(200, q["echostr"]);
  }

  const bool secure = q["encrypt_type"] == "aes";
  auto parsed = wechat::ParseMessage(req.body);
  if (!parsed.ok()) return Plain(400, "bad message: " + parsed.error() + "\n");
  wechat::InboundMessage msg = std::move(*parsed);
  if (secure) {
    if (!cryptor_) return Plain(400, "secure mode is not configured on this server\n");
    if (msg.encrypt.empty()) return Plain(400, "bad message: no Encrypt element\n");
    if (!cryptor_->VerifyMsgSignature(q["timestamp"], q["nonce"], msg.encrypt, q["msg_signature"]))
      return Plain(403, "invalid msg_signature\n");
    auto plain = cryptor_->Decrypt(msg.encrypt);
    if (!plain.ok()) return Plain(400, "cannot decrypt: " + plain.error() + "\n");
    auto inner = wechat::ParseMessage(*plain);
    if (!inner.ok()) return Plain(400, "bad message: " + inner.error() + "\n");
    msg = std::move(*inner);
  }
  if (msg.from_user.empty() || msg.msg_type.empty())
    return Plain(400, "bad message: FromUserName and MsgType are required\n");
  if (msg.from_user.size() > 64 || !ValidUser(msg.from_user))
    return Plain(400, "bad message: FromUserName is not a valid OpenID\n");
  // Secure mode configured: only encrypted pushes (a plaintext one's
  // signature does not cover its body).
  if (cryptor_ && !secure) return Plain(403, "plaintext pushes are refused in secure mode\n");
  storage::Tx::NonceUse nonce_use;
  {
    // The nonce is bound to the first message it came with: WeChat's retries
    // send the same again; anything else under it is a replay.
    storage::Tx tx = app_.store().Begin();
    nonce_use = tx.RememberNonce(q["nonce"], q["timestamp"], wechat::DedupKey(msg), real_now);
    // Durable with the turn that follows (its commit waits for this one's
    // batch); a crash before then loses both, and nothing was answered.
    if (!tx.CommitWithNext().ok()) return Plain(503, "database busy\n");
    if (nonce_use == storage::Tx::NonceUse::kReused) return Plain(403, "nonce already used\n");
  }

  dialogs::Inbound in;
  in.channel = "wechat";
  in.user = msg.from_user;
  in.dedup_key = wechat::DedupKey(msg);
  // From here the push may outlive WeChat's patience: past the budget the
  // server answers "success" and the turn sends its replies by the outbox.
  if (req.race) {
    req.race->Arm();
    in.may_reply = [race = req.race] { return race->ClaimReply(); };
  }
  bool answer = true;
  if (msg.msg_type == "text") {
    in.text = msg.content;
  } else if (msg.msg_type == "voice" && !msg.recognition.empty()) {
    in.text = msg.recognition;
  } else if (msg.msg_type == "image" || msg.msg_type == "voice" || msg.msg_type == "video" ||
             msg.msg_type == "shortvideo") {
    in.media = dialogs::Media{msg.msg_type == "shortvideo" ? "video" : msg.msg_type, msg.pic_url,
                              msg.media_id, msg.format};
  } else if (msg.msg_type == "location") {
    in.event = dialogs::Event{"location", "", msg.latitude, msg.longitude, msg.label};
  } else if (msg.msg_type == "event") {
    if (msg.event == "subscribe") {
      in.event = dialogs::Event{.type = "subscribe"};
    } else if (msg.event == "click") {
      in.event = dialogs::Event{.type = "click", .key = msg.event_key};
    } else if (msg.event == "location" && msg.has_location) {
      in.event = dialogs::Event{
          .type = "location_report", .lat = msg.latitude, .lng = msg.longitude};
      in.dedup_key.clear();  // nothing to answer twice
      if (!ticket) ticket = app_.sequencer().Take("wechat|" + msg.from_user);
      auto turn = app_.sequencer().Wait(std::move(*ticket));
      ticket.reset();
      app_.engine().Handle(in);
      return Plain(200, "success");
    } else {
      answer = false;  // unsubscribe, LOCATION reports, VIEW, SCAN, template reports
    }
  } else {
    // Pictures, stickers, video: we can only read text.
    in.text = "";
    in.event = std::nullopt;
  }
  if (!answer) return Plain(200, "success");

  dialogs::Outcome out;
  // (A retry of a message already let through is not another message.)
  if (nonce_use != storage::Tx::NonceUse::kRetry && !CustomerMayTalk("wechat|" + msg.from_user)) {
    // Too many messages from one follower: a polite text, nothing run (a
    // 429 would only make WeChat retry).
    const std::int64_t now = app_.clock().Now();
    std::string reply = wechat::TextReply(msg, now, app_.replies()->Render("rate_limited", {}));
    if (secure) reply = cryptor_->EncryptedReply(reply, std::to_string(now), q["nonce"]);
    if (reply.empty()) return Plain(503, "busy\n");
    return HttpResponse{200, "application/xml; charset=utf-8", reply};
  }
  if (!ticket) ticket = app_.sequencer().Take("wechat|" + msg.from_user);
  {
    auto turn = app_.sequencer().Wait(std::move(*ticket));
    ticket.reset();
    if (in.text.empty() && !in.event && !in.media && msg.msg_type != "text") {
      in.text = "[" + msg.msg_type + "]";  // answered by the fallback reply
    }
    if (msg.msg_type == "text" && CodePoints(in.text) > kMaxTextChars) {
      // Keep the first kMaxTextChars characters, cut on a character boundary.
      size_t chars = 0, cut = 0;
      while (cut < in.text.size()) {
        if ((static_cast<unsigned char>(in.text[cut]) & 0xC0) != 0x80 && chars++ == kMaxTextChars)
          break;
        ++cut;
      }
      in.text.resize(cut);
    }
    out = app_.engine().Handle(in);
  }
  if (!out.duplicate) app_.metrics().Turn(out.intent, out.fallback);
  // A database failure: ask WeChat to retry rather than answer wrongly.
  if (!out.ok) return Plain(503, "busy\n");
  if (!out.duplicate && NewHandoff(out)) {
    app_.metrics().Handoff();
    app_.desk().AssignWaiting();
  }
  // Held by an agent: nothing to say now (WeChat's "success": no reply).
  if (out.replies.empty()) return Plain(200, "success");
  const std::int64_t now = app_.clock().Now();
  std::string reply = wechat::TextReply(msg, now, JoinReplies(out.replies));
  if (secure) {
    reply = cryptor_->EncryptedReply(reply, std::to_string(now), q["nonce"]);
    if (reply.empty()) return Plain(503, "busy\n");
  }
  return HttpResponse{200, "application/xml; charset=utf-8", reply};
}

}  // namespace gridbot::bot
