#include "bot/app.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "bot/menu.h"
#include "common/log.h"
#include "storage/fixtures.h"
#include "storage/limits.h"

namespace gridbot::bot {
namespace {

// flag name -> setter; the names are also the config-file keys.
using Setter = Status (*)(Config&, const std::string&);

// An on/off option: on|off, true|false, 1|0.
Status SetSwitch(bool& field, const std::string& name, const std::string& v) {
  if (v != "on" && v != "off" && v != "true" && v != "false" && v != "1" && v != "0")
    return Status::Error("--" + name + " is on or off");
  field = v == "on" || v == "true" || v == "1";
  return Status::Ok();
}

Status SetMinutes(int& field, const std::string& name, const std::string& v) {
  char* end = nullptr;
  const long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || n < 1 || n > 24 * 60)
    return Status::Error("--" + name + " expects a number from 1 to 1440, got '" + v + "'");
  field = static_cast<int>(n);
  return Status::Ok();
}

// An integer flag in [min, max]; the error names the flag and the range.
Status SetInt(int& field, const std::string& name, const std::string& v, long min = 0,
              long max = 256) {
  char* end = nullptr;
  errno = 0;
  const long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno != 0 || n < min || n > max)
    return Status::Error("--" + name + " expects a number from " + std::to_string(min) + " to " +
                         std::to_string(max) + ", got '" + v + "'");
  field = static_cast<int>(n);
  return Status::Ok();
}

const std::map<std::string, Setter>& Setters() {
  static const std::map<std::string, Setter> kSetters = {
      {"db",
       [](Config& c, const std::string& v) {
         c.db = v;
         return Status::Ok();
       }},
      {"listen",
       [](Config& c, const std::string& v) {
         c.listen = v;
         return Status::Ok();
       }},
      {"fixtures",
       [](Config& c, const std::string& v) {
         c.fixtures = v;
         return Status::Ok();
       }},
      {"now",
       [](Config& c, const std::string& v) {
         if (!ParseNowFlag(v))
           return Status::Error("--now expects YYYY-MM-DD or YYYY-MM-DDTHH:MM, got '" + v + "'");
         c.now = v;
         return Status::Ok();
       }},
      {"corpus",
       [](Config& c, const std::string& v) {
         c.corpus = v;
         return Status::Ok();
       }},
      {"user",
       [](Config& c, const std::string& v) {
         if (v.empty() || v.size() > 64) return Status::Error("--user expects 1 to 64 characters");
         c.user = v;
         return Status::Ok();
       }},
      {"max-connections",
       [](Config& c, const std::string& v) {
         return SetInt(c.max_connections, "max-connections", v, 1, 1000000);
       }},
      {"rate-per-address",
       [](Config& c, const std::string& v) {
         return SetInt(c.rate_per_address, "rate-per-address", v, 0, 1000000);
       }},
      {"rate-per-customer",
       [](Config& c, const std::string& v) {
         return SetInt(c.rate_per_customer, "rate-per-customer", v, 0, 1000000);
       }},
      {"trusted-proxies",
       [](Config& c, const std::string& v) {
         c.trusted_proxies = v;
         return Status::Ok();
       }},
      {"api-key",
       [](Config& c, const std::string& v) {
         if (v.size() < 16) return Status::Error("--api-key needs at least 16 characters");
         c.api_key = v;
         return Status::Ok();
       }},
      {"secrets-key",
       [](Config& c, const std::string& v) {
         c.secrets_key = v;
         return Status::Ok();
       }},
      {"wechat-max-skew",
       [](Config& c, const std::string& v) {
         return SetInt(c.wechat_max_skew, "wechat-max-skew", v, 30, 3600);
       }},
      {"wechat-reply-budget-ms",
       [](Config& c, const std::string& v) {
         return SetInt(c.wechat_reply_budget_ms, "wechat-reply-budget-ms", v, 100, 4500);
       }},
      {"inject-slow-backend-ms",
       [](Config& c, const std::string& v) {
         return SetInt(c.inject_slow_backend_ms, "inject-slow-backend-ms", v, 0, 60000);
       }},
      {"inject-kill-before-commit",
       [](Config& c, const std::string& v) {
         return SetInt(c.inject_kill_before_commit, "inject-kill-before-commit", v, 0, 1000000);
       }},
      {"wechat-token",
       [](Config& c, const std::string& v) {
         c.wechat_token = v;
         return Status::Ok();
       }},
      {"wechat-appid",
       [](Config& c, const std::string& v) {
         c.wechat_appid = v;
         return Status::Ok();
       }},
      {"wechat-aes-key",
       [](Config& c, const std::string& v) {
         c.wechat_aes_key = v;
         return Status::Ok();
       }},
      {"wechat-previous-aes-key",
       [](Config& c, const std::string& v) {
         c.wechat_previous_aes_key = v;
         return Status::Ok();
       }},
      {"threads", [](Config& c, const std::string& v) { return SetInt(c.threads, "threads", v); }},
      {"desk-hours",
       [](Config& c, const std::string& v) {
         auto h = ServiceHours::Parse(v);
         if (!h.ok()) return Status::Error("--desk-hours: " + h.error());
         c.desk_hours = v;
         return Status::Ok();
       }},
      {"desk-capacity",
       [](Config& c, const std::string& v) {
         Status s = SetInt(c.desk_capacity, "desk-capacity", v);
         if (s.ok() && c.desk_capacity == 0)
           return Status::Error("--desk-capacity must be at least 1");
         return s;
       }},
      {"desk-wait-minutes",
       [](Config& c, const std::string& v) {
         return SetMinutes(c.desk_wait_minutes, "desk-wait-minutes", v);
       }},
      {"desk-idle-minutes",
       [](Config& c, const std::string& v) {
         return SetMinutes(c.desk_idle_minutes, "desk-idle-minutes", v);
       }},
      {"web",
       [](Config& c, const std::string& v) {
         c.web = v;
         return Status::Ok();
       }},
      {"pay-gateway",
       [](Config& c, const std::string& v) {
         c.pay_gateway = v;
         return Status::Ok();
       }},
      {"log-format",
       [](Config& c, const std::string& v) {
         if (v != "text" && v != "json") return Status::Error("--log-format is text or json");
         c.log_format = v;
         return Status::Ok();
       }},
      {"access-log",
       [](Config& c, const std::string& v) { return SetSwitch(c.access_log, "access-log", v); }},
      {"pay-simulator",
       [](Config& c, const std::string& v) { return SetSwitch(c.pay_simulator, "pay-simulator", v); }},
      {"pay-secret",
       [](Config& c, const std::string& v) {
         if (v.size() < 8) return Status::Error("--pay-secret needs at least 8 characters");
         c.pay_secret = v;
         return Status::Ok();
       }},
      {"public-url",
       [](Config& c, const std::string& v) {
         c.public_url = v;
         return Status::Ok();
       }},
      {"sms-webhook",
       [](Config& c, const std::string& v) {
         c.sms_webhook = v;
         return Status::Ok();
       }},
      {"email-webhook",
       [](Config& c, const std::string& v) {
         c.email_webhook = v;
         return Status::Ok();
       }},
      {"wechat-api-base",
       [](Config& c, const std::string& v) {
         c.wechat_api_base = v;
         return Status::Ok();
       }},
      {"wechat-bill-template",
       [](Config& c, const std::string& v) {
         c.wechat_bill_template = v;
         return Status::Ok();
       }},
      {"wechat-appsecret",
       [](Config& c, const std::string& v) {
         c.wechat_appsecret = v;
         return Status::Ok();
       }},
  };
  return kSetters;
}

std::string EnvName(const std::string& flag) {
  std::string e = "GRIDBOT_";
  for (char ch : flag) e += ch == '-' ? '_' : static_cast<char>(std::toupper(ch));
  return e;
}

std::string Trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\r");
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(" \t\r") - a + 1);
}

}  // namespace

Status ParseConfig(const std::vector<std::string>& args, Config* config) {
  // 1. The config file.
  std::string file;
  if (const char* f = std::getenv("GRIDBOT_CONFIG")) file = f;
  for (size_t i = 0; i + 1 < args.size(); ++i)
    if (args[i] == "--config") file = args[i + 1];
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) return Status::Error("cannot read config file " + file);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      ++n;
      line = Trim(line);
      if (line.empty() || line[0] == '#') continue;
      const size_t eq = line.find('=');
      if (eq == std::string::npos)
        return Status::Error(file + ":" + std::to_string(n) + ": expected key = value");
      const std::string key = Trim(line.substr(0, eq)), value = Trim(line.substr(eq + 1));
      auto it = Setters().find(key);
      if (it == Setters().end())
        return Status::Error(file + ":" + std::to_string(n) + ": unknown key '" + key + "'");
      Status s = it->second(*config, value);
      if (!s.ok()) return Status::Error(file + ":" + std::to_string(n) + ": " + s.message());
    }
  }
  // 2. The environment.
  for (const auto& [flag, set] : Setters()) {
    if (const char* v = std::getenv(EnvName(flag).c_str())) {
      Status s = set(*config, v);
      if (!s.ok()) return Status::Error(EnvName(flag) + ": " + s.message());
    }
  }
  // 3. The flags.
  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    if (a.rfind("--", 0) != 0) return Status::Error("unexpected argument '" + a + "'");
    std::string name = a.substr(2), value;
    const size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else if ((name == "pay-simulator" || name == "access-log") &&
               (i + 1 >= args.size() || args[i + 1].rfind("--", 0) == 0)) {
      value = "on";  // a switch: given alone, it is on
    } else {
      if (i + 1 >= args.size()) return Status::Error("--" + name + " needs a value");
      value = args[++i];
    }
    if (name == "config") continue;
    auto it = Setters().find(name);
    if (it == Setters().end()) return Status::Error("unknown option --" + name);
    Status s = it->second(*config, value);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

void App::Housekeeping() {
  storage::Tx tx = store_->Begin();
  tx.PurgeDedup(clock_->Now() - 3600);
  tx.PurgeDeliveredOutbox(clock_->Now() - 7 * 24 * 3600);
  tx.PurgeNonces(static_cast<UnixSeconds>(std::time(nullptr)) - 2 * config_.wechat_max_skew);
  // Wrong-secret counts quiet for a week (a day already starts them afresh).
  tx.PurgeAttempts(clock_->Now() - 7 * 24 * 3600, clock_->Now());
  // Request buckets a minute quiet are full again: a missing one is the same.
  storage::PurgeRequestBuckets(
      tx, std::chrono::duration_cast<std::chrono::milliseconds>(
              std::chrono::system_clock::now().time_since_epoch())
                  .count() -
              120000);
  tx.Commit();
}

Result<std::shared_ptr<const privacy::Sealer>> SealerFor(const Config& config) {
  if (config.secrets_key.empty() && storage::IsPostgresSpec(config.db))
    return Status::Error(
        "--db on PostgreSQL needs --secrets-key FILE (the same key for every instance)");
  if (config.secrets_key.empty() && !storage::IsDatabaseFile(config.db))
    return std::make_shared<const privacy::Sealer>(privacy::Sealer::Random());
  auto sealer = privacy::Sealer::FromKeyFile(config.secrets_key.empty() ? config.db + ".key"
                                                                        : config.secrets_key);
  if (!sealer.ok()) return sealer.status();
  return std::make_shared<const privacy::Sealer>(std::move(*sealer));
}

bool IsLoopbackListen(const std::string& listen) {
  std::string host = listen.substr(0, listen.rfind(':'));
  if (host.size() > 1 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

const char* GridbotVersion() { return GRIDBOT_VERSION; }

static std::string InstalledDataDir() {
  // The binary's own directory, then the data directory relative to it
  // (bin/../share/gridbot): an installed tree, wherever its root is.
  static const std::string dir = []() -> std::string {
    std::error_code ec;
    const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) return "";
    const std::filesystem::path data = exe.parent_path() / GRIDBOT_DATA_FROM_BIN;
    if (!std::filesystem::is_directory(data / "corpus", ec)) return "";
    return std::filesystem::weakly_canonical(data, ec).string();
  }();
  return dir;
}

std::string CorpusDir(const Config& config) {
  if (!config.corpus.empty()) return config.corpus;
  if (const char* c = std::getenv("GRIDBOT_CORPUS")) return c;
  if (const std::string d = InstalledDataDir(); !d.empty()) return d + "/corpus";
  return std::string(GRIDBOT_SOURCE_DIR) + "/corpus";
}

std::string WebDir(const Config& config) {
  if (!config.web.empty()) return config.web;
  if (const char* w = std::getenv("GRIDBOT_WEB")) return w;
  if (const std::string d = InstalledDataDir(); !d.empty()) return d + "/web";
  return std::string(GRIDBOT_SOURCE_DIR) + "/web";
}

Result<std::unique_ptr<App>> App::Create(const Config& config) {
  std::unique_ptr<App> app(new App);
  app->config_ = config;
  if (!config.now.empty()) {
    app->clock_ = ClockStartingAt(*ParseNowFlag(config.now));
  } else {
    app->clock_ = SystemClock();
  }
  const std::string corpus = CorpusDir(config);
  auto model = nlu::Model::Load(corpus);
  if (!model.ok()) return model.status();
  app->nlu_ = *model;
  auto replies = dialogs::Replies::Load(corpus + "/replies");
  if (!replies.ok()) return replies.status();
  app->replies_ = *replies;

  if (storage::IsDatabaseFile(config.db)) {
    std::error_code ec;
    const auto parent = std::filesystem::path(config.db).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) return Status::Error("cannot create " + parent.string() + ": " + ec.message());
  }
  auto store = storage::Store::Open(config.db);
  // PostgreSQL restarting (or not up yet at boot): wait for it a while
  // before giving up.
  for (int i = 0; i < 60 && !store.ok() && storage::IsPostgresSpec(config.db) &&
                  store.error().find("cannot connect to PostgreSQL") != std::string::npos;
       ++i) {
    if (i == 0) logging::Info("waiting for the database", {{"error", store.error()}});
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    store = storage::Store::Open(config.db);
  }
  if (!store.ok()) return store.status();
  app->store_ = std::move(*store);
  if (config.inject_kill_before_commit > 0) {
    // A kill between a batch's last turn and its COMMIT: the test then
    // finds that no reply went out for a turn that is not in the database.
    app->store_->SetBeforeCommitHook([n = config.inject_kill_before_commit](int txs) mutable {
      if (txs < 2 || --n > 0) return;
      std::fprintf(stderr, "gridbot: killed before the commit of a batch of %d transactions\n", txs);
      std::raise(SIGKILL);
    });
  }

  // Back-end data: the given fixtures, else the demo data into an empty one.
  {
    storage::Tx tx = app->store_->Begin();
    std::string fixtures = config.fixtures;
    if (fixtures.empty() && tx.BackendEmpty()) fixtures = corpus + "/demo/fixtures.json";
    if (!fixtures.empty()) {
      auto data = storage::ReadFixtureFile(fixtures);
      if (!data.ok()) return data.status();
      Status s = tx.ReplaceBackend(*data);
      if (!s.ok()) return Status::Error("loading " + fixtures + ": " + s.message());
    }
    Status s = tx.Commit();
    if (!s.ok())
      return Status::Error("database " + storage::DescribeDatabase(config.db) + ": " + s.message());
  }

  if (!config.pay_gateway.empty() && config.pay_secret == Config().pay_secret)
    return Status::Error("--pay-gateway needs its own --pay-secret (the default is public)");
  if (!config.pay_gateway.empty() && config.pay_simulator)
    return Status::Error("--pay-simulator is never on with a real --pay-gateway");
  auto commands = dialogs::CommandRules::Load(corpus + "/dialog/commands.rules");
  if (!commands.ok()) return commands.status();
  app->engine_ =
      std::make_unique<dialogs::Engine>(app->nlu_, *replies, *commands, *app->store_, app->clock_);
  if (Status s = app->engine_->CheckReplies(); !s.ok()) return s;
  dialogs::Settings settings;
  auto sealer = SealerFor(config);
  if (!sealer.ok()) return sealer.status();
  settings.sealer = *sealer;
  settings.slow_backend_ms = config.inject_slow_backend_ms;
  settings.public_url = config.public_url.empty() ? "http://" + config.listen : config.public_url;
  while (!settings.public_url.empty() && settings.public_url.back() == '/')
    settings.public_url.pop_back();
  settings.pay_gateway = config.pay_gateway;
  settings.online_payment = !config.pay_gateway.empty() || config.pay_simulator;
  auto hours = ServiceHours::Parse(config.desk_hours);
  if (!hours.ok()) return Status::Error("desk_hours: " + hours.error());
  settings.desk_hours = *hours;
  app->engine_->SetSettings(std::move(settings));
  desk::DeskConfig desk_config;
  desk_config.hours = *hours;
  desk_config.capacity = config.desk_capacity;
  desk_config.wait_minutes = config.desk_wait_minutes;
  desk_config.idle_minutes = config.desk_idle_minutes;
  desk_config.wechat_delivery = !config.wechat_appid.empty() && !config.wechat_appsecret.empty();
  auto canned = desk::LoadCanned(corpus + "/desk/canned.txt");
  if (!canned.ok()) return canned.status();
  app->desk_ = std::make_unique<desk::Desk>(*app->store_, *app->engine_, app->clock_, desk_config,
                                            *replies, std::move(*canned));
  App* raw = app.get();
  app->desk_->SetObserver(
      [raw](const std::string& which, double seconds) { raw->metrics_.DeskTime(which, seconds); });
  app->metrics_.SetDeskGauges([raw] {
    const desk::Desk::Figures f = raw->desk_->Count();
    return Metrics::DeskGauges{f.queued, f.held, f.overdue};
  });
  app->metrics_.SetStoreCounters([raw] {
    const storage::Store::BatchStats b = raw->store_->batch_stats();
    return Metrics::StoreCounters{b.batches, b.txs, b.failed};
  });
  // Menu keys -> intents.
  auto menu = LoadMenu(corpus + "/menu.json");
  if (!menu.ok()) return menu.status();
  for (const auto& [key, intent] : menu->intents) {
    const auto& known = nlu::KnownIntents();
    if (std::find(known.begin(), known.end(), intent) == known.end())
      return Status::Error(corpus + "/menu.json: key " + key + " names unknown intent " + intent);
  }
  app->engine_->SetClickIntents(menu->intents);
  app->menu_body_ = menu->create_body;
  return app;
}

}  // namespace gridbot::bot
