// App: everything a running gridbot holds — configuration, the NLU model,
// reply texts, the database, the dialog engine — built once from a Config.
// Both `gridbot serve` and `gridbot chat` run on an App.
//
// Thread safety: after Create(), an App is shared by all threads; its parts
// document their own guarantees.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "bot/metrics.h"
#include "bot/sequencer.h"
#include "common/status.h"
#include "common/time.h"
#include "desk/desk.h"
#include "dialogs/engine.h"
#include "nlu/nlu.h"
#include "privacy/sealer.h"
#include "storage/store.h"

namespace gridbot::bot {

struct Config {
  std::string db = "var/gridbot.db";
  std::string listen = "127.0.0.1:8080";
  std::string fixtures;      // load these back-end data (replacing it)
  std::string now;           // start the clock here ("YYYY-MM-DD[THH:MM]")
  std::string corpus;        // corpus/ directory; default: the source tree's
  std::string user = "cli";  // `chat` only
  std::string wechat_token, wechat_appid, wechat_aes_key, wechat_previous_aes_key;
  int threads = 0;  // I/O threads; 0 = one per core
  // Payments: the gateway's base URL ("" = the built-in simulator under
  // /pay/), the shared secret of its notify HMAC, and this service's public
  // base URL (for links and the gateway's notify callback).
  std::string pay_gateway, pay_secret = "gridbot-demo-secret", public_url;
  // Outbox delivery: HTTP webhooks for SMS and e-mail; the WeChat API base
  // URL and app secret for customer-service and template messages. Unset:
  // messages stay in the outbox (`gridbot outbox` lists them).
  std::string sms_webhook, email_webhook, wechat_api_base, wechat_appsecret;
  // The template id (from the WeChat console) of monthly bill notices; unset:
  // WeChat subscribers get them as customer-service texts.
  std::string wechat_bill_template;
  size_t max_body_bytes = 64 * 1024;
  // Open connections at most (also kept below the descriptor limit); more
  // wait in the listen backlog.
  int max_connections = 10000;
  // Requests per minute from one client address (not for loopback peers
  // unless they are a trusted proxy forwarding for someone), and messages
  // per minute from one customer; 0 = no limit.
  int rate_per_address = 600, rate_per_customer = 30;
  // Proxies whose X-Forwarded-For is believed (comma-separated addresses).
  std::string trusted_proxies;
  // The desk (desk.md): service hours ("08:00-12:00,14:00-20:00"), what an
  // agent holds at once, minutes before a long wait is told, minutes a held
  // conversation may stay idle.
  std::string desk_hours = "08:00-20:00";
  int desk_capacity = 5, desk_wait_minutes = 10, desk_idle_minutes = 30;
  std::string web;  // web/ directory (pages); default: the source tree's
  // The service's log lines (common/log.h): "text" on stderr, or "json",
  // one object per line on stdout (journald); and a line per request.
  std::string log_format = "text";
  bool access_log = false;
  // /api/chat's "user" field (a customer named by the caller, not by the
  // page's session) is trusted only with this key in X-Api-Key; with no
  // key, only on a loopback listen address, and `serve` refuses others.
  std::string api_key;
  // A signed WeChat push whose timestamp is further than this from the real
  // clock (not --now's) is refused, and so is a nonce seen within it.
  int wechat_max_skew = 300;
  // The built-in payment simulator (/pay/<order>/confirm settles an order
  // without paying): only when asked for, never with --pay-gateway.
  bool pay_simulator = false;
  // The key file sealing secrets that wait in the outbox (SMS codes); every
  // instance of one database needs the same. Default: the database's path
  // + ".key" (created on first start); an in-memory database gets a key of
  // the process.
  std::string secrets_key;
  // A WeChat push whose turn has not answered within this budget is
  // answered "success" at once and its replies are sent through the outbox
  // (WeChat gives up on a reply after 5 seconds, then retries the push).
  int wechat_reply_budget_ms = 4000;
  // Testing only: every turn first waits this long, as behind a slow back end.
  int inject_slow_backend_ms = 0;
  // Testing only: the process SIGKILLs itself just before the COMMIT of the
  // Nth batch that holds two transactions or more (0: never).
  int inject_kill_before_commit = 0;
};

// The sealer of `config`'s secrets key (privacy/sealer.h).
Result<std::shared_ptr<const privacy::Sealer>> SealerFor(const Config& config);

// Whether HOST:PORT (or [v6]:PORT) names a loopback address.
bool IsLoopbackListen(const std::string& listen);

// Fills `config` from, in increasing precedence: a config file (`--config
// FILE` or GRIDBOT_CONFIG; lines `key = value`, keys as the flags without
// "--"), environment variables (GRIDBOT_DB, GRIDBOT_LISTEN, … the flag
// upper-cased with '-' → '_'), and the flags in `args`. Unknown flags, flags
// without a value and bad values are errors naming the flag.
Status ParseConfig(const std::vector<std::string>& args, Config* config);

class App {
 public:
  static Result<std::unique_ptr<App>> Create(const Config& config);

  const Config& config() const { return config_; }
  Clock& clock() { return *clock_; }
  std::shared_ptr<Clock> shared_clock() { return clock_; }
  storage::Store& store() { return *store_; }
  const nlu::Model& nlu() const { return *nlu_; }
  // The reply texts the engine speaks with (corpus/replies).
  std::shared_ptr<const dialogs::Replies> replies() const { return replies_; }
  dialogs::Engine& engine() { return *engine_; }
  Metrics& metrics() { return metrics_; }
  KeyedSequencer& sequencer() { return sequencer_; }
  desk::Desk& desk() { return *desk_; }
  // What is kept only for a while is forgotten: retry answers after an
  // hour, WeChat nonces after twice their window, delivered SMS and e-mail
  // and wrong-secret counts quiet for a week (a count whose wait still runs
  // stays). Called every few seconds by the server's timer thread; cheap
  // (indexed deletes).
  void Housekeeping();
  // corpus/menu.json as WeChat's menu-create body (GET /api/menu).
  const std::string& menu_body() const { return menu_body_; }

 private:
  App() = default;
  Config config_;
  std::shared_ptr<Clock> clock_;
  std::shared_ptr<const nlu::Model> nlu_;
  std::shared_ptr<const dialogs::Replies> replies_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<dialogs::Engine> engine_;
  std::unique_ptr<desk::Desk> desk_;
  std::string menu_body_;
  Metrics metrics_;
  KeyedSequencer sequencer_;
};

// The corpus directory: config.corpus, else GRIDBOT_CORPUS, else the
// installed one next to the binary (BIN/../share/gridbot/corpus, when the
// binary runs from an installed tree), else the source tree's corpus/.
// WebDir likewise for web/.
std::string CorpusDir(const Config& config);
// This build's version (CMake's PROJECT_VERSION).
const char* GridbotVersion();
// The pages' directory: config.web, else GRIDBOT_WEB, else the source tree's web/.
std::string WebDir(const Config& config);

}  // namespace gridbot::bot
