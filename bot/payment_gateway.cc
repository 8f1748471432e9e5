#include "bot/payment_gateway.h"

#include "privacy/mask.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cctype>
#include <map>
#include <nlohmann/json.hpp>

#include "bot/http_handler.h"
#include "bot/url.h"
#include "dialogs/flow.h"
#include "storage/fixtures.h"
#include "storage/money.h"

namespace gridbot::bot {
namespace {

using nlohmann::json;
using storage::FormatMoney;

constexpr char kPrefix[] = "/pay/";
constexpr size_t kMaxOrderNoChars = 40;
// A pending order's page and the simulator take payment for this long; a
// gateway's notify for money it did take is still credited after.
constexpr UnixSeconds kOrderValidSeconds = 2 * 3600;

HttpResponse Plain(int status, std::string body) {
  return HttpResponse{status, "text/plain; charset=utf-8", std::move(body)};
}

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Lines of plain text as HTML paragraphs.
std::string Paragraphs(const std::string& text, const char* cls = nullptr) {
  std::string out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    if (!line.empty())
      out += std::string("<p") + (cls ? std::string(" class=\"") + cls + "\"" : "") + ">" +
             Escape(line) + "</p>\n";
    start = end + 1;
  }
  return out;
}

std::string HmacHex(const std::string& key, const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[mac[i] >> 4];
    hex += kHex[mac[i] & 15];
  }
  return hex;
}

bool SameSignature(std::string given, const std::string& expected) {
  for (char& c : given) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return given.size() == expected.size() &&
         CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0;
}

// Order numbers are letters and digits ("PO20240804123456").
bool PlausibleOrderNo(const std::string& s) {
  if (s.empty() || s.size() > kMaxOrderNoChars) return false;
  for (unsigned char c : s)
    if (!std::isalnum(c)) return false;
  return true;
}

std::string LastBilledMonth(UnixSeconds now) {
  const CivilDay d = ToCivilDay(now);
  return d.month == 1 ? FormatYearMonth(d.year - 1, 12) : FormatYearMonth(d.year, d.month - 1);
}

}  // namespace

struct PaymentGateway::Settled {
  int status = 200;
  std::string message;  // why not, for the gateway (status != 200)
  storage::ConfirmResult result;
};

PaymentGateway::PaymentGateway(App& app) : app_(app), replies_(app.replies()) {}

std::string PaymentGateway::Sign(const std::string& secret, const std::string& order_no,
                                 const std::string& amount, const std::string& status) {
  return HmacHex(secret, "order_no=" + order_no + "&amount=" + amount + "&status=" + status);
}

std::string PaymentGateway::Text(const std::string& key, const dialogs::Vars& vars) const {
  return replies_->Render(key, vars);
}

HttpResponse PaymentGateway::Handle(const HttpRequest& req) {
  const std::string path = PathOf(req.target);
  std::string rest = path.substr(sizeof kPrefix - 1);
  if (rest == "notify") {
    if (req.method != "POST") return Plain(405, "use POST for the payment notification\n");
    return Notify(req);
  }
  const size_t slash = rest.find('/');
  const std::string order_no = rest.substr(0, slash);
  const std::string action = slash == std::string::npos ? "" : rest.substr(slash + 1);
  if (!PlausibleOrderNo(order_no) || (action != "" && action != "confirm"))
    return Plain(404, "no such payment page\n");
  if (action.empty()) {
    if (req.method != "GET" && req.method != "HEAD") return Plain(405, "use GET\n");
    return Page(order_no);
  }
  if (req.method != "POST") return Plain(405, "use POST to confirm a payment\n");
  if (!app_.config().pay_simulator)
    return Plain(404, "the built-in payment simulator is off (--pay-simulator)\n");
  return Confirm(order_no);
}

std::string PaymentGateway::Html(const std::string& body) const {
  return "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
         "<title>" +
         Escape(Text("pay.page.title")) +
         "</title>"
         "<style>body{font-family:sans-serif;max-width:28em;margin:2em auto;padding:0 1em;"
         "color:#222}h1{font-size:1.3em;color:#0b6e4f}.note{color:#777;font-size:.9em}"
         "button,a.button{display:inline-block;background:#0b6e4f;color:#fff;border:0;"
         "padding:.7em 2em;font-size:1em;border-radius:4px;text-decoration:none}</style>"
         "</head><body>\n<h1>" +
         Escape(Text("pay.page.title")) + "</h1>\n" + body + "</body></html>\n";
}

HttpResponse PaymentGateway::Page(const std::string& order_no) {
  std::optional<storage::PaymentOrder> order;
  {
    storage::Tx tx = app_.store().Begin();
    order = storage::FindOrder(tx, order_no);
    if (!tx.ok()) return Plain(503, "database busy, please retry\n");
  }
  if (!order) {
    return HttpResponse{404, "text/html; charset=utf-8",
                        Html(Paragraphs(Text("pay.page.not_found", {{"order", order_no}})))};
  }
  const bool paid = order->status == "paid";
  const bool expired = !paid && app_.clock().Now() - order->created_at > kOrderValidSeconds;
  const std::string method = Text("pay.method." + order->method);
  std::string body = Paragraphs(Text(
      "pay.page.details", {{"order", order->order_no},
                           {"account", privacy::MaskAccountNo(order->account_no)},
                           {"amount", FormatMoney(order->amount_fen)},
                           {"method", method},
                           {"status", Text(paid ? "pay.status.paid" : "pay.status.pending")}}));
  const std::string& gateway = app_.config().pay_gateway;
  if (paid) {
    body += Paragraphs(Text("pay.page.already"));
  } else if (expired) {
    body += Paragraphs(Text("pay.page.expired"), "note");
  } else if (gateway.empty() && !app_.config().pay_simulator) {
    body += Paragraphs(Text("pay.page.unavailable"), "note");
  } else if (gateway.empty()) {
    body += "<form method=\"post\" action=\"/pay/" + Escape(order->order_no) +
            "/confirm\"><button type=\"submit\">" + Escape(Text("pay.page.button")) +
            "</button></form>\n" + Paragraphs(Text("pay.page.note"), "note");
  } else {
    const std::string amount = FormatMoney(order->amount_fen);
    const std::string notify = app_.engine().settings().public_url + "/pay/notify";
    const std::string sign =
        HmacHex(app_.config().pay_secret,
                "order_no=" + order->order_no + "&amount=" + amount + "&notify_url=" + notify);
    const std::string url = gateway + (gateway.find('?') == std::string::npos ? "?" : "&") +
                            "order_no=" + UrlEncode(order->order_no) +
                            "&amount=" + UrlEncode(amount) + "&method=" + UrlEncode(order->method) +
                            "&notify_url=" + UrlEncode(notify) + "&sign=" + sign;
    body += "<p><a class=\"button\" href=\"" + Escape(url) + "\">" +
            Escape(Text("pay.page.gateway", {{"method", method}})) + "</a></p>\n";
  }
  return HttpResponse{200, "text/html; charset=utf-8", Html(body)};
}

HttpResponse PaymentGateway::Confirm(const std::string& order_no) {
  // The simulated gateway pays exactly the order's amount.
  std::optional<storage::PaymentOrder> order;
  {
    storage::Tx tx = app_.store().Begin();
    order = storage::FindOrder(tx, order_no);
    if (!tx.ok()) return Plain(503, "database busy, please retry\n");
  }
  if (!order) {
    return HttpResponse{404, "text/html; charset=utf-8",
                        Html(Paragraphs(Text("pay.page.not_found", {{"order", order_no}})))};
  }
  if (order->status != "paid" && app_.clock().Now() - order->created_at > kOrderValidSeconds)
    return HttpResponse{410, "text/html; charset=utf-8", Html(Paragraphs(Text("pay.page.expired")))};
  Settled s = Settle(order_no, FormatMoney(order->amount_fen), "simulator");
  if (s.status != 200) return Plain(s.status, s.message);
  std::string body;
  if (s.result.status == storage::ConfirmStatus::kConfirmed) {
    body = Paragraphs(
        Text("pay.page.done", {{"amount", FormatMoney(s.result.money.amount_fen)},
                               {"account", privacy::MaskAccountNo(s.result.order.account_no)},
                               {"balance", FormatMoney(s.result.money.credit.balance_fen)}}));
  } else {
    body = Paragraphs(Text("pay.page.already"));
  }
  return HttpResponse{200, "text/html; charset=utf-8", Html(body)};
}

HttpResponse PaymentGateway::Notify(const HttpRequest& req) {
  std::map<std::string, std::string> fields;
  const bool is_json = req.content_type.find("json") != std::string::npos ||
                       (!req.body.empty() && req.body.front() == '{');
  if (is_json) {
    json j = json::parse(req.body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return Plain(400, "body is not a JSON object\n");
    for (const char* k : {"order_no", "amount", "status", "sign"}) {
      if (!j.contains(k)) continue;
      if (!j[k].is_string())
        return Plain(400, std::string("\"") + k + "\" must be a string (amount as \"129.80\")\n");
      fields[k] = j[k].get<std::string>();
    }
  } else {
    fields = ParseQuery("?" + req.body);
  }
  // The default secret is public: a notify is only believed under one set
  // for this deployment.
  if (app_.config().pay_secret == Config().pay_secret)
    return Plain(403, "payment notifications need a configured --pay-secret\n");
  if (fields["sign"].empty()) return Plain(403, "missing sign\n");
  const std::string order_no = fields["order_no"], amount = fields["amount"],
                    status = fields["status"];
  if (order_no.empty() || amount.empty() || status.empty())
    return Plain(400, "order_no, amount and status are required\n");
  if (!SameSignature(fields["sign"], Sign(app_.config().pay_secret, order_no, amount, status)))
    return Plain(403, "invalid sign\n");
  if (status != "success") return Plain(200, "success");  // acknowledged; nothing to do
  Settled s = Settle(order_no, amount, "notify");
  if (s.status != 200) return Plain(s.status, s.message);
  return Plain(200, "success");
}

PaymentGateway::Settled PaymentGateway::Settle(const std::string& order_no,
                                               const std::string& amount,
                                               const std::string& gateway_ref) {
  Settled s;
  const UnixSeconds now = app_.clock().Now();
  storage::Tx tx = app_.store().Begin();
  auto order = storage::FindOrder(tx, order_no);
  if (!tx.ok()) return {503, "database busy, please retry\n", {}};
  if (!order) return {404, "unknown order " + order_no + "\n", {}};
  auto fen = storage::ParseMoney(amount);
  if (!fen || *fen != order->amount_fen)
    return {
        400,
        "amount " + amount + " does not match the order's " + FormatMoney(order->amount_fen) + "\n",
        {}};
  s.result = storage::ConfirmOrder(tx, order_no, gateway_ref, now, LastBilledMonth(now));
  if (s.result.status == storage::ConfirmStatus::kConfirmed && !order->channel.empty()) {
    const storage::MoneyResult& m = s.result.money;
    std::string months;
    for (const auto& b : m.bills_paid)
      months += (months.empty() ? "" : "、") + dialogs::ChineseMonth(b.month);
    const std::string text = Text(
        "pay.notice_paid",
        {{"method", Text("pay.method." + order->method)},
         {"account", order->account_no},
         {"amount", FormatMoney(m.amount_fen)},
         {"order", order_no},
         {"bills", months.empty() ? "" : Text("pay.notice_bills", {{"months", months}})},
         {"owed", Text(m.arrears_fen > 0 ? "pay.notice_arrears_some" : "pay.notice_arrears_none",
                       {{"arrears", FormatMoney(m.arrears_fen)}})},
         {"balance", FormatMoney(m.credit.balance_fen)}});
    tx.QueueOutbox(order->channel, order->external_id, text, "pay:" + order_no, now);
  }
  Status committed = tx.Commit();
  if (!committed.ok()) return {503, "database busy, please retry\n", {}};
  return s;
}

}  // namespace gridbot::bot
