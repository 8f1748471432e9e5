// The outbox: delivery per channel (bot/outbox.h), the bill notices, and the
// `gridbot outbox` / `gridbot notify-bills` commands.
#include "bot/outbox.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast.hpp>
#include <boost/beast/ssl.hpp>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "bot/commands.h"
#include "bot/url.h"
#include "dialogs/flow_util.h"
#include "storage/fixtures.h"
#include "storage/subscriptions.h"
#include "storage/tokens.h"

namespace gridbot::bot {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using nlohmann::json;
using nlohmann::ordered_json;

constexpr size_t kMaxResponseBytes = 8 << 20;  // a customer's photo or voice message
constexpr const char* kDefaultWechatBase = "https://api.weixin.qq.com";

// --- a small blocking HTTP client ------------------------------------------

struct Url {
  bool tls = false;
  std::string host, port, target;
};

Result<Url> ParseUrl(const std::string& url) {
  Url u;
  std::string rest;
  if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
    u.port = "80";
  } else if (url.rfind("https://", 0) == 0) {
    rest = url.substr(8);
    u.tls = true;
    u.port = "443";
  } else {
    return Status::Error("not an http:// or https:// URL: " + url);
  }
  const size_t end = rest.find_first_of("/?");
  std::string authority = rest.substr(0, end);
  u.target = end == std::string::npos ? "/" : rest.substr(end);
  if (u.target[0] == '?') u.target = "/" + u.target;
  if (authority.find('@') != std::string::npos)
    return Status::Error("credentials in URLs are not supported: " + url);
  if (!authority.empty() && authority[0] == '[') {  // [::1]:8080
    const size_t close = authority.find(']');
    if (close == std::string::npos) return Status::Error("bad host in URL: " + url);
    u.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':')
      u.port = authority.substr(close + 2);
  } else {
    const size_t colon = authority.rfind(':');
    u.host = authority.substr(0, colon);
    if (colon != std::string::npos) u.port = authority.substr(colon + 1);
  }
  if (u.host.empty() || u.port.empty()) return Status::Error("bad host in URL: " + url);
  return u;
}

struct HttpResult {
  int status = 0;
  std::string body;
  std::string content_type;
};

struct Exchange {
  Url url;
  http::request<http::string_body> req;
  std::chrono::milliseconds timeout{};
  bool done = false;
  beast::error_code ec;
  std::string stage;  // where it failed
  HttpResult result;
};

template <class Stream>
asio::awaitable<void> WriteAndRead(Stream& stream, Exchange& x) {
  auto token = asio::redirect_error(asio::use_awaitable, x.ec);
  co_await http::async_write(stream, x.req, token);
  if (x.ec) {
    x.stage = "send";
    co_return;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxResponseBytes);
  co_await http::async_read(stream, buffer, parser, token);
  if (x.ec) {
    x.stage = "read the answer";
    co_return;
  }
  x.result.status = parser.get().result_int();
  x.result.body = parser.get().body();
  x.result.content_type = std::string(parser.get()[http::field::content_type]);
}

asio::awaitable<void> RunExchange(Exchange& x, ssl::context* tls) {
  auto executor = co_await asio::this_coro::executor;
  auto token = asio::redirect_error(asio::use_awaitable, x.ec);
  tcp::resolver resolver(executor);
  auto endpoints = co_await resolver.async_resolve(x.url.host, x.url.port, token);
  if (x.ec) {
    x.stage = "resolve " + x.url.host;
    co_return;
  }
  if (!tls) {
    beast::tcp_stream stream(executor);
    stream.expires_after(x.timeout);
    co_await stream.async_connect(endpoints, token);
    if (x.ec) {
      x.stage = "connect";
      co_return;
    }
    co_await WriteAndRead(stream, x);
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  } else {
    beast::ssl_stream<beast::tcp_stream> stream(executor, *tls);
    if (!SSL_set_tlsext_host_name(stream.native_handle(), x.url.host.c_str())) {
      x.stage = "set up TLS";
      x.ec =
          beast::error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category());
      co_return;
    }
    stream.set_verify_mode(ssl::verify_peer);
    stream.set_verify_callback(ssl::host_name_verification(x.url.host));
    beast::get_lowest_layer(stream).expires_after(x.timeout);
    co_await beast::get_lowest_layer(stream).async_connect(endpoints, token);
    if (x.ec) {
      x.stage = "connect";
      co_return;
    }
    co_await stream.async_handshake(ssl::stream_base::client, token);
    if (x.ec) {
      x.stage = "TLS handshake";
      co_return;
    }
    co_await WriteAndRead(stream, x);
  }
  x.done = !x.ec;
}

// One request, at most `timeout` in all (resolve, connect, send, read).
Result<HttpResult> HttpCall(http::verb method, const std::string& url, const std::string& body,
                            std::chrono::milliseconds timeout) {
  auto parsed = ParseUrl(url);
  if (!parsed.ok()) return parsed.status();
  Exchange x;  // outlives the io_context, which may still hold the coroutine
  x.url = *parsed;
  x.timeout = timeout;
  x.req = {method, x.url.target, 11};
  const bool default_port = x.url.port == (x.url.tls ? "443" : "80");
  x.req.set(http::field::host, x.url.host + (default_port ? "" : ":" + x.url.port));
  x.req.set(http::field::user_agent, "gridbot");
  x.req.keep_alive(false);
  if (method == http::verb::post) {
    x.req.set(http::field::content_type, "application/json; charset=utf-8");
    x.req.body() = body;
  }
  x.req.prepare_payload();

  std::optional<ssl::context> tls;
  if (x.url.tls) {
    tls.emplace(ssl::context::tls_client);
    beast::error_code ec;
    tls->set_default_verify_paths(ec);
    if (ec) return Status::Error("TLS set-up failed: " + ec.message());
  }
  bool finished = false;
  asio::io_context io;
  asio::co_spawn(io, RunExchange(x, tls ? &*tls : nullptr),
                 [&finished](std::exception_ptr) { finished = true; });
  io.run_for(timeout);
  const std::string where = x.url.host + ":" + x.url.port;
  if (!finished || x.ec == beast::error::timeout)
    return Status::Error("no answer from " + where + " within " + std::to_string(timeout.count()) +
                         " ms");
  if (!x.done)
    return Status::Error("cannot " + (x.stage.empty() ? std::string("reach") : x.stage) + " (" +
                         where + "): " + x.ec.message());
  return x.result;
}

std::string Shorten(const std::string& s, size_t max = 200) {
  if (s.size() <= max) return s;
  size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // UTF-8
  return s.substr(0, cut) + "…";
}

std::string Dump(const ordered_json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

// --- senders -----------------------------------------------------------------

Status WebhookSender::Send(const std::string& recipient, const std::string& body) {
  ordered_json j;
  j["to"] = recipient;
  j["body"] = body;
  auto r = HttpCall(http::verb::post, url_, Dump(j), timeout_);
  if (!r.ok()) return r.status();
  if (r->status < 200 || r->status > 299)
    return Status::Error("webhook answered HTTP " + std::to_string(r->status) + ": " +
                         Shorten(r->body));
  return Status::Ok();
}

WechatCustomSender::WechatCustomSender(std::string api_base, std::string appid, std::string secret,
                                       std::shared_ptr<Clock> clock,
                                       std::chrono::milliseconds timeout, Kind kind,
                                       storage::Store* shared)
    : kind_(kind),
      base_(std::move(api_base)),
      appid_(std::move(appid)),
      secret_(std::move(secret)),
      clock_(std::move(clock)),
      timeout_(timeout),
      shared_(shared) {
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  holder_ = std::string(host) + ":" + std::to_string(getpid()) + ":" +
            std::to_string(reinterpret_cast<std::uintptr_t>(this));
}

namespace {
std::string SharedTokenName(const std::string& appid) { return "wechat_access_token:" + appid; }
constexpr UnixSeconds kTokenLeaseSeconds = 30;
}  // namespace

std::optional<std::string> WechatCustomSender::SharedToken(UnixSeconds now, bool* leased) {
  *leased = false;
  const std::string name = SharedTokenName(appid_);
  // Another instance refreshing: wait for its token (a few seconds at most,
  // then fetch one here rather than not deliver).
  for (int i = 0; i < 20; ++i) {
    {
      storage::Tx tx = shared_->Begin();
      if (auto t = storage::ValidToken(tx, name, now)) {
        if (!tx.Commit().ok()) return std::nullopt;
        token_ = t->value;
        token_expires_ = t->expires_at;
        return token_;
      }
      const bool mine = storage::TakeTokenLease(tx, name, holder_, now, kTokenLeaseSeconds);
      if (!tx.Commit().ok()) return std::nullopt;
      if (mine) {
        *leased = true;
        return std::nullopt;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    now = clock_->Now();
  }
  return std::nullopt;
}

void WechatCustomSender::Forget(const std::string& token) {
  std::lock_guard<std::mutex> lock(mu_);
  if (token_ == token) token_.clear();
  if (shared_) {
    storage::Tx tx = shared_->Begin();
    storage::ForgetToken(tx, SharedTokenName(appid_), token);
    tx.Commit();
  }
}

Result<std::string> WechatCustomSender::Token() {
  std::lock_guard<std::mutex> lock(mu_);
  UnixSeconds now = clock_->Now();
  // Shared: the database's row is the truth (another sender or instance may
  // have had it refused, or renewed it); one small read per send.
  if (!shared_ && !token_.empty() && now < token_expires_) return token_;
  bool leased = false;
  if (shared_) {
    if (auto t = SharedToken(now, &leased)) return *t;
    now = clock_->Now();
  }
  auto r =
      HttpCall(http::verb::get,
               base_ + "/cgi-bin/token?grant_type=client_credential&appid=" + UrlEncode(appid_) +
                   "&secret=" + UrlEncode(secret_),
               "", timeout_);
  if (!r.ok()) return Status::Error("access token: " + r.error());
  json j = json::parse(r->body, nullptr, false);
  if (r->status != 200 || !j.is_object() || !j.contains("access_token") ||
      !j["access_token"].is_string() || j["access_token"].get<std::string>().empty())
    return Status::Error("access token: HTTP " + std::to_string(r->status) + ": " +
                         Shorten(r->body));
  token_ = j["access_token"].get<std::string>();
  const std::int64_t expires_in = j.contains("expires_in") && j["expires_in"].is_number_integer()
                                      ? j["expires_in"].get<std::int64_t>()
                                      : 7200;
  // Renewed a minute early, so a token never expires on its way.
  token_expires_ = now + std::max<std::int64_t>(0, expires_in - 60);
  if (shared_) {  // (also without the lease: the newest token is the valid one)
    storage::Tx tx = shared_->Begin();
    storage::StoreToken(tx, SharedTokenName(appid_), token_, token_expires_);
    tx.Commit();
  }
  return token_;
}

Status WechatCustomSender::Send(const std::string& recipient, const std::string& body) {
  auto token = Token();
  if (!token.ok()) return token.status();
  ordered_json j;
  j["touser"] = recipient;
  std::string path = "/cgi-bin/message/custom/send";
  if (kind_ == Kind::kTemplate) {
    ordered_json payload = ordered_json::parse(body, nullptr, false);
    if (!payload.is_object() || !payload.contains("template_id"))
      return Status::Error("not a template payload");  // retried, then failed: visible in outbox
    for (auto it = payload.begin(); it != payload.end(); ++it) j[it.key()] = it.value();
    path = "/cgi-bin/message/template/send";
  } else {
    j["msgtype"] = "text";
    j["text"]["content"] = body;
  }
  auto r = HttpCall(http::verb::post, base_ + path + "?access_token=" + UrlEncode(*token), Dump(j),
                    timeout_);
  if (!r.ok()) return r.status();
  json answer = json::parse(r->body, nullptr, false);
  if (r->status < 200 || r->status > 299 || !answer.is_object())
    return Status::Error("WeChat answered HTTP " + std::to_string(r->status) + ": " +
                         Shorten(r->body));
  const std::int64_t errcode = answer.contains("errcode") && answer["errcode"].is_number_integer()
                                   ? answer["errcode"].get<std::int64_t>()
                                   : 0;
  if (errcode == 0) return Status::Ok();
  // 40001 invalid credential, 40014 invalid token, 42001 token expired: get a
  // new one next time.
  if (errcode == 40001 || errcode == 40014 || errcode == 42001) Forget(*token);
  return Status::Error("WeChat errcode " + std::to_string(errcode) + ": " +
                       answer.value("errmsg", std::string()));
}

Result<WechatCustomSender::MediaFile> WechatCustomSender::FetchMedia(const std::string& media_id) {
  auto token = Token();
  if (!token.ok()) return token.status();
  auto r = HttpCall(http::verb::get,
                    base_ + "/cgi-bin/media/get?access_token=" + UrlEncode(*token) +
                        "&media_id=" + UrlEncode(media_id),
                    "", timeout_);
  if (!r.ok()) return r.status();
  // An error comes as JSON ({"errcode":40007,"errmsg":"invalid media_id"}).
  if (r->status != 200 || r->content_type.find("json") != std::string::npos ||
      r->content_type.find("text/plain") != std::string::npos) {
    json answer = json::parse(r->body, nullptr, false);
    if (answer.is_object() && answer.contains("errcode")) {
      const std::int64_t code = answer["errcode"].is_number_integer() ? answer["errcode"].get<std::int64_t>() : -1;
      if (code == 40001 || code == 40014 || code == 42001) Forget(*token);
      return Status::Error("WeChat errcode " + std::to_string(code) + ": " +
                           answer.value("errmsg", std::string()));
    }
    if (r->status != 200) return Status::Error("WeChat answered HTTP " + std::to_string(r->status));
  }
  return MediaFile{r->content_type.empty() ? "application/octet-stream" : r->content_type,
                   std::move(r->body)};
}

// --- delivery ------------------------------------------------------------------

std::unique_ptr<OutboxDelivery> OutboxDelivery::FromConfig(const Config& config,
                                                           storage::Store& store,
                                                           std::shared_ptr<Clock> clock,
                                                           std::shared_ptr<const privacy::Sealer> sealer) {
  auto d = std::make_unique<OutboxDelivery>(store, clock, std::move(sealer));
  if (!config.sms_webhook.empty())
    d->SetSender("sms", std::make_unique<WebhookSender>(config.sms_webhook));
  if (!config.email_webhook.empty())
    d->SetSender("email", std::make_unique<WebhookSender>(config.email_webhook));
  if (!config.wechat_appid.empty() && !config.wechat_appsecret.empty()) {
    const std::string base =
        config.wechat_api_base.empty() ? kDefaultWechatBase : config.wechat_api_base;
    // One access token for both (and the desk's media, and every instance):
    // through the database.
    d->SetSender("wechat", std::make_unique<WechatCustomSender>(
                               base, config.wechat_appid, config.wechat_appsecret, clock,
                               kDeliveryTimeout, WechatCustomSender::Kind::kCustomText, &store));
    d->SetSender("wechat_template", std::make_unique<WechatCustomSender>(
                                        base, config.wechat_appid, config.wechat_appsecret, clock,
                                        kDeliveryTimeout, WechatCustomSender::Kind::kTemplate,
                                        &store));
  }
  return d;
}

void OutboxDelivery::SetSender(const std::string& channel, std::unique_ptr<OutboxSender> sender) {
  if (channel == "web" || channel == "cli") return;  // shown in the chat, never sent
  senders_[channel] = std::move(sender);
}

std::vector<std::string> OutboxDelivery::channels() const {
  std::vector<std::string> out;
  for (const auto& [channel, sender] : senders_) out.push_back(channel);
  return out;
}

DeliveryReport OutboxDelivery::DeliverPending(size_t limit) {
  DeliveryReport report;
  std::vector<storage::OutboxMessage> pending;
  {
    storage::Tx tx = store_.Begin();
    // Claimed for longer than a delivery can take (each send times out).
    pending = storage::ClaimPendingOutbox(
        tx, channels(), limit, clock_->Now(),
        std::max<UnixSeconds>(600, static_cast<UnixSeconds>(limit) * kClaimSecondsPerMessage));
    if (!tx.Commit().ok()) return report;
  }
  for (const storage::OutboxMessage& m : pending) {
    DeliveryAttempt a{m.id, m.channel, m.recipient, "", ""};
    // A sealed body is opened only here, in memory, to be sent.
    std::optional<std::string> opened;
    if (privacy::Sealer::IsSealed(m.body) && sealer_) opened = sealer_->Open(m.body);
    const Status sent =
        privacy::Sealer::IsSealed(m.body) && !opened
            ? Status::Error("sealed with another secrets key (--secrets-key)")
            : senders_.at(m.channel)->Send(m.recipient, opened ? *opened : m.body);  // no lock held
    storage::Tx tx = store_.Begin();
    if (sent.ok()) {
      storage::MarkOutboxDelivered(tx, m.id, clock_->Now());
      a.status = "sent";
    } else {
      a.status = storage::MarkOutboxAttemptFailed(tx, m.id, kMaxAttempts);
      a.error = sent.message();
    }
    if (Status s = tx.Commit(); !s.ok()) {
      a.status = m.status;
      a.error += (a.error.empty() ? "" : "; ") + std::string("database: ") + s.message();
    }
    if (a.status == "sent")
      ++report.sent;
    else if (a.status == "failed")
      ++report.failed;
    else
      ++report.retry;
    report.attempts.push_back(std::move(a));
  }
  return report;
}

// --- bill notices ----------------------------------------------------------------

BillNoticeReport QueueBillNotices(storage::Tx& tx, const dialogs::Replies& replies,
                                  const std::string& month, UnixSeconds now,
                                  const std::string& wechat_template_id) {
  BillNoticeReport report;
  for (const storage::Subscription& s : storage::ActiveSubscriptions(tx)) {
    auto bill = storage::BillFor(tx, s.account_no, month);
    auto account = tx.FindAccount(s.account_no);
    if (!bill || !account) {
      ++report.no_bill;
      continue;
    }
    const std::string key = "subscription.notice." + s.channel + (bill->paid ? "_paid" : "");
    if (!replies.Has(key)) {
      ++report.no_bill;  // a channel without a notice text: nothing to send
      continue;
    }
    const std::string body =
        replies.Render(key, {{"account", s.account_no},
                             {"address", account->address},
                             {"month", dialogs::ChineseMonth(month)},
                             {"kwh", std::to_string(bill->kwh)},
                             {"amount", storage::FormatMoney(bill->amount_fen)},
                             {"due", dialogs::DueText(*bill)}});
    const std::string dedup =
        "bill:" + month + ":" + s.account_no + ":" + s.channel + ":" + s.target;
    std::string channel = s.channel, payload = body;
    if (s.channel == "wechat" && !wechat_template_id.empty()) {
      // Template fields are short values (WeChat truncates long ones).
      ordered_json t;
      t["template_id"] = wechat_template_id;
      t["client_msg_id"] = dedup;  // WeChat's own idempotency key
      t["data"]["keyword1"]["value"] = s.account_no;
      t["data"]["keyword2"]["value"] = dialogs::ChineseMonth(month);
      t["data"]["keyword3"]["value"] =
          storage::FormatMoney(bill->amount_fen) + "元" + (bill->paid ? "（已缴清）" : "");
      t["data"]["keyword4"]["value"] = dialogs::DueText(*bill);
      channel = "wechat_template";
      payload = Dump(t);
    }
    if (tx.QueueOutbox(channel, s.target, payload, dedup, now))
      ++report.queued;
    else
      ++report.duplicate;
  }
  return report;
}

// --- commands --------------------------------------------------------------------

namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "gridbot: %s\n", message.c_str());
  return 2;
}

bool WantsHelp(const std::vector<std::string>& args) {
  for (const auto& a : args)
    if (a == "--help" || a == "-h") return true;
  return false;
}

std::shared_ptr<Clock> ClockOf(const Config& config) {
  if (!config.now.empty()) return ClockStartingAt(*ParseNowFlag(config.now));
  return SystemClock();
}

Result<std::unique_ptr<storage::Store>> OpenExisting(const Config& config) {
  std::error_code ec;
  if (storage::IsDatabaseFile(config.db) && !std::filesystem::exists(config.db, ec))
    return Status::Error("no database at " + config.db + " (see --db)");
  return storage::Store::Open(config.db);
}

std::string LocalTime(UnixSeconds t) {
  const CivilTime c = ToCivil(t);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", c.day.year, c.day.month,
                c.day.day, c.hour, c.minute, c.second);
  return buf;
}

bool ValidMonth(const std::string& m) {
  if (m.size() != 7 || m[4] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6})
    if (m[i] < '0' || m[i] > '9') return false;
  const int month = std::stoi(m.substr(5, 2));
  return month >= 1 && month <= 12;
}

const char* kOutboxHelp =
    R"(gridbot outbox: the messages sent outside a reply (SMS codes, bill notices, …).

  --status S   pending, sent, failed or all (default all)
  --deliver    try each pending message once through the configured channels
               (sms-webhook, email-webhook; wechat-appid + wechat-appsecret with
               wechat-api-base) and print what happened
  --db, --now, --config and the delivery options as in `gridbot --help`
With --deliver, exits 1 if a message could not be delivered.
)";

const char* kNotifyHelp =
    R"(gridbot notify-bills: queue the monthly bill notices of the subscriptions.

  --month YYYY-MM   the month of the bills (required; a month that has ended)
  --db, --now, --corpus, --config   as in `gridbot --help`
Each subscription gets one notice per month: running it again queues nothing new.
)";

}  // namespace

int OutboxCommand(const std::vector<std::string>& args) {
  if (WantsHelp(args)) return std::printf("%s", kOutboxHelp), 0;
  std::string status = "all";
  bool deliver = false;
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--deliver") {
      deliver = true;
    } else if (args[i] == "--status" || args[i].rfind("--status=", 0) == 0) {
      if (args[i] == "--status") {
        if (i + 1 >= args.size()) return Fail("--status needs a value");
        status = args[++i];
      } else {
        status = args[i].substr(9);
      }
      if (status != "pending" && status != "sent" && status != "failed" && status != "all")
        return Fail("--status expects pending, sent, failed or all, got '" + status + "'");
    } else {
      rest.push_back(args[i]);
    }
  }
  Config config;
  if (Status s = ParseConfig(rest, &config); !s.ok()) return Fail(s.message());
  auto store = OpenExisting(config);
  if (!store.ok()) return Fail(store.error());

  if (deliver) {
    auto sealer = SealerFor(config);
    if (!sealer.ok()) return Fail(sealer.error());
    auto delivery = OutboxDelivery::FromConfig(config, **store, ClockOf(config), *sealer);
    if (delivery->channels().empty()) {
      std::printf(
          "no delivery configured (sms-webhook, email-webhook, wechat-appid + "
          "wechat-appsecret): pending messages stay in the outbox\n");
      return 0;
    }
    const DeliveryReport r = delivery->DeliverPending(1000);
    for (const DeliveryAttempt& a : r.attempts)
      std::printf("#%lld  %-6s %-20s %s%s%s\n", static_cast<long long>(a.id), a.channel.c_str(),
                  a.recipient.c_str(), a.status.c_str(), a.error.empty() ? "" : ": ",
                  a.error.c_str());
    std::string channels;
    for (const auto& c : delivery->channels()) channels += (channels.empty() ? "" : ", ") + c;
    std::printf("delivered %d, to retry %d, failed %d (channels: %s)\n", r.sent, r.retry, r.failed,
                channels.c_str());
    return r.retry + r.failed > 0 ? 1 : 0;
  }

  storage::Tx tx = (*store)->Begin();
  auto messages = storage::ListOutbox(tx, status == "all" ? "" : status, 100000);
  if (!tx.ok()) return Fail(tx.error());
  tx.Commit();
  for (const storage::OutboxMessage& m : messages) {
    std::printf("#%lld  %s  %-6s %-20s %-7s attempts %d\n", static_cast<long long>(m.id),
                LocalTime(m.created_at).c_str(), m.channel.c_str(), m.recipient.c_str(),
                m.status.c_str(), m.attempts);
    std::string body = "    ";
    for (char c : m.body) body += c == '\n' ? std::string("\n    ") : std::string(1, c);
    std::printf("%s\n", body.c_str());
  }
  std::printf("%zu message(s)%s\n", messages.size(),
              status == "all" ? "" : (" with status " + status).c_str());
  return 0;
}

int NotifyBillsCommand(const std::vector<std::string>& args) {
  if (WantsHelp(args)) return std::printf("%s", kNotifyHelp), 0;
  std::string month;
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--month") {
      if (i + 1 >= args.size()) return Fail("--month needs a value");
      month = args[++i];
    } else if (args[i].rfind("--month=", 0) == 0) {
      month = args[i].substr(8);
    } else {
      rest.push_back(args[i]);
    }
  }
  if (month.empty()) return Fail("notify-bills needs --month YYYY-MM");
  if (!ValidMonth(month)) return Fail("--month expects YYYY-MM, got '" + month + "'");
  Config config;
  if (Status s = ParseConfig(rest, &config); !s.ok()) return Fail(s.message());
  const UnixSeconds now = ClockOf(config)->Now();
  const CivilDay today = ToCivilDay(now);
  if (month >= FormatYearMonth(today.year, today.month))
    return Fail("the bills of " + month + " are issued after the month ends (today is " +
                LocalTime(now).substr(0, 10) + "; see --now)");
  auto replies = dialogs::Replies::Load(CorpusDir(config) + "/replies");
  if (!replies.ok()) return Fail(replies.error());
  for (const char* c : {"sms", "email", "wechat", "wechat_template"})
    for (const char* paid : {"", "_paid"})
      if (!(*replies)->Has(std::string("subscription.notice.") + c + paid))
        return Fail("corpus/replies: missing reply [subscription.notice." + std::string(c) + paid +
                    "]");
  auto store = OpenExisting(config);
  if (!store.ok()) return Fail(store.error());

  storage::Tx tx = (*store)->Begin();
  const BillNoticeReport r =
      QueueBillNotices(tx, **replies, month, now, config.wechat_bill_template);
  if (Status s = tx.Commit(); !s.ok()) return Fail("database: " + s.message());
  std::printf(
      "bill notices for %s: queued %d, skipped %d already queued, %d subscription(s) without a "
      "bill that month\n",
      month.c_str(), r.queued, r.duplicate, r.no_bill);
  return 0;
}

}  // namespace gridbot::bot
