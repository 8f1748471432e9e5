// gridbot: the command line. `gridbot --help` lists the commands.
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <limits>
#include <map>
#include <set>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analytics/export.h"
#include "analytics/replay.h"
#include "analytics/summary.h"
#include "privacy/mask.h"
#include "bot/app.h"
#include "bot/commands.h"
#include "bot/http_handler.h"
#include "bot/server.h"
#include "common/log.h"
#include "dialogs/script.h"
#include "nlu/eval.h"
#include "storage/fixtures.h"
#include "storage/schema.h"
#include "storage/store.h"
#include "storage/synthetic.h"

namespace {

using namespace gridbot;

const char* kUsage = R"(gridbot — the Guangxi Power Grid 95598 customer-service bot

Usage:
  gridbot serve [--db PATH] [--listen HOST:PORT] [--fixtures FILE] [--now DATE]
                [--wechat-token T] [--wechat-appid ID] [--wechat-aes-key KEY]
  gridbot migrate [--db PATH]   (the schema to this binary's version; serve does it too)
  gridbot chat  [--db PATH] [--fixtures FILE] [--now DATE] [--user ID]
  gridbot nlu   [--now YYYY-MM-DD]
  gridbot nlu eval FILE [--now YYYY-MM-DD] [--json] [--predictions PRED]
  gridbot dialog eval FILE… [--verbose] [--only ID]
                (scripted conversations, tests/dialogs/scripts/README.md: passed per category)
  gridbot outbox [--db PATH] [--status pending|sent|failed|all] [--deliver]
  gridbot notify-bills --month YYYY-MM [--db PATH] [--now DATE] [--corpus DIR]
  gridbot menu
  gridbot gen-data --db PATH --accounts N [--customers M] [--months K] [--now DATE] [--seed S]
                (synthetic back end for benchmarks: N accounts with K months of bills
                 (default 24), outages, outlets; M WeChat and web users bound to them)
  gridbot agent add NAME --role agent|supervisor|analyst|admin   (password: first line of stdin)
  gridbot agent list | passwd NAME | disable NAME   [--db PATH]
                (customer-service staff: desk.md; the console is at /agent)
  gridbot logs export --db PATH --format jsonl|csv [--from D] [--to D] [--channel C]
                [--user ID] [--intent I] [--unmasked]
                (phones, 户号, cards, e-mails, names, customer ids masked unless --unmasked)
  gridbot logs stats --db PATH [--from D] [--to D] [--now DATE]
                (analytics.md's summary as JSON: per day, totals, intents, funnels)
  gridbot logs prune --db PATH --older-than DAYS [--now DATE]
                (deletes the turns of older days; their daily figures are kept)
  gridbot logs replay --db PATH [--from D] [--to D] [--corpus DIR] [--format text|json]
                (the period's messages read by this corpus: what would change;
                 exit status 1 if anything does)

Common options:
  --db PATH          SQLite database file (default var/gridbot.db; created)
  --fixtures FILE    load this back-end data (fixtures.md), replacing the old;
                     an empty database gets the demo data of corpus/demo
  --now DATE         start the clock at YYYY-MM-DD[THH:MM] (Asia/Shanghai)
  --corpus DIR       the corpus directory (default: the installed one, else the source tree's)
  --config FILE      read options from FILE (lines "key = value")
Every option can also be set as GRIDBOT_<NAME> in the environment
(GRIDBOT_DB, GRIDBOT_LISTEN, GRIDBOT_WECHAT_TOKEN, …); flags win over the
environment, which wins over the config file.
)";

const char* kServeHelp = R"(gridbot serve: the HTTP service (service.md).

  --listen HOST:PORT   where to listen (default 127.0.0.1:8080; port 0 = any free)
  --db, --fixtures, --now, --corpus, --config   as in `gridbot --help`
  --wechat-token T     the token of the WeChat server configuration (enables /wechat)
  --wechat-appid ID    the official account's AppID (secure mode)
  --wechat-aes-key K   the EncodingAESKey (43 characters; enables secure mode)
  --wechat-previous-aes-key K   the key before the last change, still accepted
  --threads N          I/O threads (default: one per core)
  --public-url URL     this service's public base URL, for links (default http://LISTEN)
  --pay-gateway URL    the payment gateway's base URL (default: none; no online payment)
  --pay-secret S       the shared secret of the gateway's notify HMAC (POST /pay/notify;
                       notifications are refused until one is set)
  --pay-simulator      the built-in payment simulator under /pay/ (demo only; never with a gateway)
  --api-key K          callers naming a customer in /api/chat send X-Api-Key: K (required
                       to listen on anything but loopback)
  --secrets-key FILE   the key sealing SMS codes in the outbox (default: DB path + ".key";
                       instances sharing a database share it)
  --wechat-reply-budget-ms N  past this a push is answered "success" and its reply sent as a
                       customer-service message (4000)
  --inject-slow-backend-ms N  testing only: every turn first waits N ms
  --inject-kill-before-commit N  testing only: SIGKILL just before the commit of the
                       Nth batch of two transactions or more
  --wechat-max-skew S  signed pushes older or newer than S seconds of the real clock are refused (300)
  --rate-per-address N requests a minute from one client address (600; 0 = no limit)
  --rate-per-customer N  messages a minute from one customer (30; 0 = no limit)
  --trusted-proxies A,B  proxies whose X-Forwarded-For is believed
  --max-connections N  open connections at most (10000; also kept below the descriptor limit)
  --sms-webhook URL    deliver SMS from the outbox by POSTing {"to","body"} here
  --email-webhook URL  the same for e-mail
  --wechat-appsecret S the AppSecret, to send WeChat customer-service and template messages
  --wechat-api-base URL  the WeChat API base (default https://api.weixin.qq.com)
  --wechat-bill-template ID  the template of monthly bill notices (else customer-service texts)
  --desk-hours H       when people answer (default 08:00-20:00; a break: 08:00-12:00,14:00-20:00)
  --desk-capacity N    conversations an agent holds at once (default 5)
  --desk-wait-minutes N   a wait past this is told to the customer and shown red (default 10)
  --desk-idle-minutes N   a held conversation idle this long goes back to the queue (default 30)
  --web DIR            the pages (default: the installed ones, else the source tree's web/)
  --log-format F       text (default: "gridbot: …" on stderr) or json (one object per line
                       on stdout, for journald; the listening line too)
  --access-log on|off  a log line per answered request, with its X-Request-Id (off)

Endpoints: POST /api/chat, GET|POST /wechat, GET /healthz (alive), GET /readyz
(database reachable, schema current; 503 otherwise), GET /metrics,
GET /pay/ORDER (payment page), POST /pay/notify (gateway confirmation),
GET / (the customer's web chat), GET /agent (the staff console), /api/agent/…
(desk.md), GET /api/chat/updates.
Outbox messages of configured channels are delivered in the background.
Prints "listening on http://HOST:PORT" once it accepts connections; SIGINT or
SIGTERM stop it cleanly.
)";

const char* kMigrateHelp = R"(gridbot migrate: brings the database to this gridbot's schema.

  gridbot migrate [--db PATH] [--config FILE]
Migrations are versioned and run one transaction each, in order; `serve`
runs them at start-up too. Prints the version before and after.
)";

const char* kChatHelp = R"(gridbot chat: talk to the bot in the terminal.

One message per line; the bot's replies follow. Works with a pipe too:
  printf '绑定户号\n南宁\n0301000001234\n246810\n上个月电费多少\n' | gridbot chat --now 2024-08-04

  --user ID   who you are (default cli); the conversation is kept per user
  --db, --fixtures, --now, --corpus, --config   as in `gridbot --help`
)";

const char* kNluHelp = R"(gridbot nlu: classify messages, one per line on standard input.

Prints one JSON object per line: {"text","intent","confidence","slots"}.
  --now YYYY-MM-DD   "today" for relative dates (default: the real date)

gridbot nlu eval FILE [--now YYYY-MM-DD] [--max-lines N] [--json]
                 [--predictions PRED]
  scores the NLU on a labelled JSONL file ({"text","intent","slots"} per line):
  accuracy, per-intent and per-slot precision/recall/F1, confusions,
  out-of-domain rejection, the misclassified lines, and messages/s.
  --predictions PRED scores another system's output (same JSONL shape, same
  order) with exactly the same scoring; --json prints the headline figures.
)";

bool WantsHelp(const std::vector<std::string>& args) {
  for (const auto& a : args)
    if (a == "--help" || a == "-h") return true;
  return false;
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "gridbot: %s\n", message.c_str());
  return 2;
}

CivilDay TodayFrom(const std::string& now_flag) {
  if (!now_flag.empty()) return ToCivilDay(*ParseNowFlag(now_flag));
  return ToCivilDay(SystemClock()->Now());
}

int Serve(const std::vector<std::string>& args) {
  if (WantsHelp(args)) return std::printf("%s", kServeHelp), 0;
  bot::Config config;
  Status s = bot::ParseConfig(args, &config);
  if (!s.ok()) return Fail(s.message());
  logging::Configure(config.log_format == "json" ? logging::Format::kJson : logging::Format::kText,
                     config.access_log);
  // Under systemd the reason a start failed is a log line like the others.
  auto Fail = [](const std::string& message) {
    logging::Error(message);
    return 2;
  };
  if (config.api_key.empty() && !bot::IsLoopbackListen(config.listen))
    return Fail("--listen " + config.listen +
                " is not a loopback address: set --api-key (callers naming a customer in /api/chat "
                "must send it as X-Api-Key), or listen on 127.0.0.1 behind a proxy");
  auto app = bot::App::Create(config);
  // A database server that cannot be reached is not a bad configuration:
  // exit 1, which systemd restarts (2 it does not: RestartPreventExitStatus).
  if (!app.ok() && app.error().find("cannot connect to PostgreSQL") != std::string::npos)
    return Fail(app.error()), 1;
  if (!app.ok()) return Fail(app.error());
  auto handler = bot::HttpHandler::Create(**app);
  if (!handler.ok()) return Fail(handler.error());
  s = bot::Serve(**app, **handler);
  if (!s.ok()) return Fail(s.message());
  return 0;
}

// gridbot migrate: brings the database to this binary's schema and says
// from which version (serve does the same at start-up).
int Migrate(const std::vector<std::string>& args) {
  if (WantsHelp(args)) return std::printf("%s", kMigrateHelp), 0;
  bot::Config config;
  Status s = bot::ParseConfig(args, &config);
  if (!s.ok()) return Fail(s.message());
  std::error_code ec;
  const bool file = storage::IsDatabaseFile(config.db);
  const bool existed = !file || std::filesystem::exists(config.db, ec);
  const std::filesystem::path parent = std::filesystem::path(config.db).parent_path();
  if (file && !existed && !parent.empty()) std::filesystem::create_directories(parent, ec);
  auto store = storage::Store::Open(config.db);
  if (!store.ok()) return Fail(store.error());
  const int from = (*store)->migrated_from(), to = storage::LatestSchemaVersion();
  const std::string name = storage::DescribeDatabase(config.db);
  if (!existed || from == 0)
    std::printf("%s: a new database, schema version %d\n", name.c_str(), to);
  else if (from == to)
    std::printf("%s: schema version %d, current\n", name.c_str(), to);
  else
    std::printf("%s: schema version %d -> %d\n", name.c_str(), from, to);
  return 0;
}

int Chat(const std::vector<std::string>& args) {
  if (WantsHelp(args)) return std::printf("%s", kChatHelp), 0;
  bot::Config config;
  Status s = bot::ParseConfig(args, &config);
  if (!s.ok()) return Fail(s.message());
  auto app = bot::App::Create(config);
  // A database server that cannot be reached is not a bad configuration:
  // exit 1, which systemd restarts (2 it does not: RestartPreventExitStatus).
  if (!app.ok() && app.error().find("cannot connect to PostgreSQL") != std::string::npos)
    return Fail(app.error()), 1;
  if (!app.ok()) return Fail(app.error());
  const bool tty = isatty(STDIN_FILENO);
  if (tty) std::printf("gridbot 智能客服（输入消息后回车；Ctrl-D 退出）\n\n");
  std::string line;
  while (true) {
    if (tty) std::printf("你：");
    std::fflush(stdout);
    if (!std::getline(std::cin, line)) break;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    if (!tty) std::printf("你：%s\n", line.c_str());
    dialogs::Inbound in;
    in.channel = "cli";
    in.user = config.user;
    in.text = line;
    dialogs::Outcome out;
    try {
      out = (*app)->engine().Handle(in);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "gridbot: internal error: %s\n", e.what());
      out.replies = {dialogs::Reply{"text", (*app)->replies()->Render("storage_error")}};
    }
    for (const auto& r : out.replies) std::printf("小南：%s\n", r.text.c_str());
    std::printf("\n");
    std::fflush(stdout);
  }
  if (tty) std::printf("\n再见！\n");
  return 0;
}

int NluEval(const std::vector<std::string>& args) {
  std::string file, now, predictions;
  size_t max_lines = 200;
  bool as_json = false;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--now" && i + 1 < args.size()) {
      now = args[++i];
    } else if (args[i] == "--max-lines" && i + 1 < args.size()) {
      max_lines = std::strtoul(args[++i].c_str(), nullptr, 10);
    } else if (args[i] == "--predictions" && i + 1 < args.size()) {
      predictions = args[++i];
    } else if (args[i] == "--json") {
      as_json = true;
    } else if (args[i].rfind("--", 0) == 0) {
      return Fail("unknown option " + args[i] + " (see gridbot nlu --help)");
    } else {
      file = args[i];
    }
  }
  if (file.empty()) return Fail("nlu eval needs a FILE");
  if (!now.empty() && !ParseNowFlag(now)) return Fail("--now expects YYYY-MM-DD");
  auto examples = nlu::ReadExamples(file);
  if (!examples.ok()) return Fail(examples.error());
  nlu::EvalReport report;
  double seconds = 0, intent_seconds = 0;
  if (!predictions.empty()) {
    // Score another system's output with exactly the same scoring.
    auto pred = nlu::ReadExamples(predictions);
    if (!pred.ok()) return Fail(pred.error());
    if (pred->size() != examples->size())
      return Fail(predictions + " has " + std::to_string(pred->size()) + " lines, " + file +
                  " has " + std::to_string(examples->size()));
    report = nlu::Score(*examples, *pred);
  } else {
    auto model = nlu::Model::Load(bot::CorpusDir(bot::Config{}));
    if (!model.ok()) return Fail(model.error());
    const CivilDay today = TodayFrom(now);
    // Classify once untimed (warm-up), then time a pass: single thread,
    // after loading, as the NLP.js comparison measures its peer.
    report = nlu::Evaluate(**model, *examples, today);
    const auto start = std::chrono::steady_clock::now();
    size_t sink = 0;
    int passes = 0;
    do {
      for (const auto& e : *examples) sink += (*model)->Parse(e.text, today).slots.size();
      ++passes;
      seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    } while (seconds < 1.0);
    seconds /= passes;
    // Intent alone (normalise, classify), as a peer without slots is
    // measured.
    const auto intent_start = std::chrono::steady_clock::now();
    passes = 0;
    do {
      for (const auto& e : *examples)
        sink += (*model)->Parse(e.text, today, /*intent_only=*/true).intent.size();
      ++passes;
      intent_seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - intent_start).count();
    } while (intent_seconds < 1.0);
    intent_seconds /= passes;
    if (sink == 0xFFFFFFFF) std::printf(" ");
  }
  if (as_json) {
    nlohmann::json j = {{"examples", report.total},
                        {"intent_accuracy", report.accuracy()},
                        {"ood_rejection", report.ood_rejection()},
                        {"in_domain_accuracy", report.in_domain_accuracy()},
                        {"slot_precision", report.slots_all.precision()},
                        {"slot_recall", report.slots_all.recall()},
                        {"slot_f1", report.slots_all.f1()}};
    if (seconds > 0) j["messages_per_second"] = report.total / seconds;
    if (intent_seconds > 0) j["intent_messages_per_second"] = report.total / intent_seconds;
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::printf("%s", report.ToText(max_lines).c_str());
  if (seconds > 0)
    std::printf(
        "\nspeed: %.0f messages/s with slots, %.0f intent only (single thread, after loading)\n",
        report.total / seconds, report.total / intent_seconds);
  return 0;
}

int Nlu(const std::vector<std::string>& args) {
  if (WantsHelp(args)) return std::printf("%s", kNluHelp), 0;
  if (!args.empty() && args[0] == "eval")
    return NluEval(std::vector<std::string>(args.begin() + 1, args.end()));
  std::string now;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--now" && i + 1 < args.size()) {
      now = args[++i];
      if (!ParseNowFlag(now)) return Fail("--now expects YYYY-MM-DD, got '" + now + "'");
    } else if (args[i] == "--corpus" && i + 1 < args.size()) {
      ++i;
    } else {
      return Fail("unknown argument " + args[i] + " (see gridbot nlu --help)");
    }
  }
  auto model = nlu::Model::Load(bot::CorpusDir(bot::Config{}));
  if (!model.ok()) return Fail(model.error());
  const CivilDay today = TodayFrom(now);
  std::string line;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::string out = nlu::ToJsonLine((*model)->Parse(line, today));
    out += '\n';
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
  }
  return 0;
}

// The flags of a `gridbot logs` command: --name value pairs, and the
// boolean ones given in `flags`. Error: an unknown name or a missing value.
Result<std::map<std::string, std::string>> LogsArgs(const std::vector<std::string>& args,
                                                    const std::set<std::string>& names,
                                                    const std::set<std::string>& flags) {
  std::map<std::string, std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--", 0) != 0) return Status::Error("unexpected argument " + a);
    const std::string name = a.substr(2);
    if (flags.count(name)) {
      out[name] = "1";
    } else if (names.count(name)) {
      if (i + 1 >= args.size()) return Status::Error(a + " needs a value");
      out[name] = args[++i];
    } else {
      return Status::Error("unknown option " + a + " (see gridbot --help)");
    }
  }
  if (!out.count("db")) return Status::Error("needs --db PATH");
  if (out.count("now") && !ParseNowFlag(out["now"])) return Status::Error("--now expects YYYY-MM-DD[THH:MM]");
  return out;
}

// The store of an existing database (a `logs` command never creates one).
Result<std::unique_ptr<storage::Store>> ExistingStore(const std::string& db) {
  if (storage::IsDatabaseFile(db) && !std::filesystem::exists(db))
    return Status::Error("no database at " + db);
  return storage::Store::Open(db);
}

UnixSeconds NowOf(std::map<std::string, std::string>& a) {
  return a.count("now") ? *ParseNowFlag(a["now"]) : SystemClock()->Now();
}

// gridbot logs stats: analytics.md's summary as JSON.
int LogsStats(const std::vector<std::string>& args) {
  auto a = LogsArgs(args, {"db", "from", "to", "now"}, {});
  if (!a.ok()) return Fail("logs stats " + a.error());
  const UnixSeconds now = NowOf(*a);
  auto period = analytics::Period::Parse((*a)["from"], (*a)["to"], ToCivilDay(now));
  if (!period.ok()) return Fail(period.error());
  auto store = ExistingStore((*a)["db"]);
  if (!store.ok()) return Fail(store.error());
  std::printf("%s\n", analytics::Summarize(**store, *period, now).dump(2).c_str());
  return 0;
}

// gridbot logs export: the log as JSONL or CSV (analytics/export.h). A
// period without --from starts at the first turn ever logged.
int LogsExport(const std::vector<std::string>& args) {
  auto a = LogsArgs(args, {"db", "format", "from", "to", "since", "until", "channel", "user", "intent", "now"},
                    {"unmasked"});
  if (!a.ok()) return Fail("logs export " + a.error());
  auto& m = *a;
  // --since/--until: the names before analytics.md's --from/--to.
  if (!m.count("from") && m.count("since")) m["from"] = m["since"];
  if (!m.count("to") && m.count("until")) m["to"] = m["until"];
  const UnixSeconds now = NowOf(m);
  // Dates; a date-time (the old --since's form) counts by its day.
  for (const char* k : {"from", "to"})
    if (m.count(k) && m[k].size() > 10 && m[k][10] == 'T') m[k] = m[k].substr(0, 10);
  const bool from_start = !m.count("from");
  if (from_start) m["from"] = m.count("to") ? m["to"] : "";  // checked below, then widened
  auto period = analytics::Period::Parse(m["from"], m["to"], ToCivilDay(now));
  if (!period.ok()) return Fail(period.error());
  if (from_start) period->begin = 0;  // no --from: from the first turn ever logged
  if (!m.count("to")) period->end = std::numeric_limits<UnixSeconds>::max();  // …to the last
  auto store = ExistingStore(m["db"]);
  if (!store.ok()) return Fail(store.error());
  analytics::ExportRequest r{*period, m.count("format") ? m["format"] : "jsonl", m["channel"],
                             m["user"], m["intent"], m.count("unmasked") > 0};
  Status s = analytics::ExportTurns(**store, r, [](std::string_view chunk) {
    std::fwrite(chunk.data(), 1, chunk.size(), stdout);
  });
  if (!s.ok()) return Fail(s.message());
  return 0;
}

// gridbot logs prune: deletes the turns of days older than N, keeping their
// figures (analytics::Prune).
int LogsPrune(const std::vector<std::string>& args) {
  auto a = LogsArgs(args, {"db", "older-than", "now"}, {});
  if (!a.ok()) return Fail("logs prune " + a.error());
  char* end = nullptr;
  const std::string days = (*a)["older-than"];
  errno = 0;
  const long n = std::strtol(days.c_str(), &end, 10);
  if (days.empty() || *end != '\0' || errno == ERANGE || n < 1 || n > 36600)
    return Fail("logs prune needs --older-than DAYS (1 to 36600)");
  auto store = ExistingStore((*a)["db"]);
  if (!store.ok()) return Fail(store.error());
  auto r = analytics::Prune(**store, static_cast<int>(n), NowOf(*a));
  if (!r.ok()) return Fail(r.error());
  std::printf("%s\n", r->dump(2).c_str());
  return 0;
}

// gridbot logs replay: the period's messages read by the current corpus;
// lists what would change. Exit status 1 when something changes (a CI gate
// for rule changes), 0 when nothing does.
int LogsReplay(const std::vector<std::string>& args) {
  auto a = LogsArgs(args, {"db", "from", "to", "now", "corpus", "format", "limit"}, {});
  if (!a.ok()) return Fail("logs replay " + a.error());
  auto& m = *a;
  const UnixSeconds now = NowOf(m);
  auto period = analytics::Period::Parse(m["from"], m["to"], ToCivilDay(now));
  if (!period.ok()) return Fail(period.error());
  const std::string format = m.count("format") ? m["format"] : "text";
  if (format != "text" && format != "json") return Fail("--format is text or json");
  size_t limit = 1000;
  if (m.count("limit")) {
    char* end = nullptr;
    const long n = std::strtol(m["limit"].c_str(), &end, 10);
    if (*end != '\0' || n < 0) return Fail("--limit expects a number");
    limit = static_cast<size_t>(n);
  }
  bot::Config config;
  config.corpus = m["corpus"];
  auto model = nlu::Model::Load(bot::CorpusDir(config));
  if (!model.ok()) return Fail(model.error());
  auto store = ExistingStore(m["db"]);
  if (!store.ok()) return Fail(store.error());
  const nlohmann::json r = analytics::Replay(**store, **model, *period, limit);
  if (format == "json") {
    std::printf("%s\n", r.dump(2).c_str());
  } else {
    for (const auto& c : r["changed"]) {
      std::printf("%s  %s\n    before: %s %s\n    after:  %s %s\n", c["at"].get<std::string>().c_str(),
                  c["text"].get<std::string>().c_str(),
                  c["before"]["intent"].get<std::string>().c_str(), c["before"]["slots"].dump().c_str(),
                  c["after"]["intent"].get<std::string>().c_str(), c["after"]["slots"].dump().c_str());
    }
    for (const auto& m2 : r["changes_by_intent"])
      std::printf("%6lld  %s\n", static_cast<long long>(m2["turns"].get<std::int64_t>()),
                  m2["change"].get<std::string>().c_str());
    std::printf("%lld of %lld messages would be read differently", 
                static_cast<long long>(r["changed_total"].get<std::int64_t>()),
                static_cast<long long>(r["checked"].get<std::int64_t>()));
    if (r["skipped"].get<std::int64_t>() > 0)
      std::printf(" (%lld logged before replay data was kept: not checked)",
                  static_cast<long long>(r["skipped"].get<std::int64_t>()));
    std::printf("\n");
  }
  return r["changed_total"].get<std::int64_t>() > 0 ? 1 : 0;
}

int DialogEval(const std::vector<std::string>& args) {
  std::vector<std::string> files;
  std::string only, corpus;
  bool verbose = false;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--verbose" || args[i] == "-v") {
      verbose = true;
    } else if (args[i] == "--only" && i + 1 < args.size()) {
      only = args[++i];
    } else if (args[i] == "--corpus" && i + 1 < args.size()) {
      corpus = args[++i];
    } else if (args[i].rfind("--", 0) == 0) {
      return Fail("unknown option " + args[i] + " (see gridbot --help)");
    } else {
      files.push_back(args[i]);
    }
  }
  if (files.empty()) return Fail("dialog eval needs a FILE (tests/dialogs/scripts/*.dlg)");
  bot::Config config;
  config.corpus = corpus;
  const std::string dir = bot::CorpusDir(config);
  auto model = nlu::Model::Load(dir);
  if (!model.ok()) return Fail(model.error());
  auto replies = dialogs::Replies::Load(dir + "/replies");
  if (!replies.ok()) return Fail(replies.error());
  auto rules = dialogs::CommandRules::Load(dir + "/dialog/commands.rules");
  if (!rules.ok()) return Fail(rules.error());
  auto fixtures = storage::ReadFixtureFile(dir + "/demo/fixtures.json");
  if (!fixtures.ok()) return Fail(fixtures.error());
  std::vector<dialogs::Script> scripts;
  for (const std::string& f : files) {
    auto s = dialogs::ReadScripts(f);
    if (!s.ok()) return Fail(s.error());
    for (auto& script : *s)
      if (only.empty() || script.id == only) scripts.push_back(std::move(script));
  }
  dialogs::ScriptRunner runner(*model, *replies, *rules, *fixtures);
  std::vector<dialogs::ScriptResult> results;
  bool all = true;
  for (const auto& script : scripts) {
    results.push_back(runner.Run(script));
    all = all && results.back().passed;
  }
  std::printf("%s", dialogs::ScriptReport(scripts, results, verbose).c_str());
  return all ? 0 : 1;
}

const char* kAgentHelp = R"(gridbot agent: customer-service staff (desk.md).

  gridbot agent add NAME --role agent|supervisor|analyst|admin [--db PATH]
      the password is the first line of standard input (at least 8 characters):
      echo 'a-long-password' | gridbot agent add xiaowang --role agent
  gridbot agent list [--db PATH]
  gridbot agent passwd NAME [--db PATH]     (the new password from standard input;
                                             ends the agent's logins)
  gridbot agent disable NAME [--db PATH]    (ends their logins; what they held
                                             goes back to the queue)
Staff log in at http://HOST:PORT/agent.
)";

int Agent(const std::vector<std::string>& args) {
  if (args.empty() || WantsHelp(args)) return std::printf("%s", kAgentHelp), args.empty() ? 2 : 0;
  const std::string sub = args[0];
  std::string name, role;
  std::vector<std::string> rest;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--role") {
      if (i + 1 >= args.size()) return Fail("--role needs a value");
      role = args[++i];
    } else if (args[i].rfind("--", 0) != 0 && name.empty()) {
      name = args[i];
    } else {
      rest.push_back(args[i]);
      if (args[i].rfind("--", 0) == 0 && args[i].find('=') == std::string::npos &&
          i + 1 < args.size())
        rest.push_back(args[++i]);
    }
  }
  bot::Config config;
  if (Status s = bot::ParseConfig(rest, &config); !s.ok()) return Fail(s.message());
  auto app = bot::App::Create(config);
  // A database server that cannot be reached is not a bad configuration:
  // exit 1, which systemd restarts (2 it does not: RestartPreventExitStatus).
  if (!app.ok() && app.error().find("cannot connect to PostgreSQL") != std::string::npos)
    return Fail(app.error()), 1;
  if (!app.ok()) return Fail(app.error());
  desk::Desk& desk = (*app)->desk();
  auto password = [] {
    std::string line;
    std::getline(std::cin, line);
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
    return line;
  };
  if (sub == "list") {
    for (const auto& a : desk.ListAgents())
      std::printf("%-20s %-11s %s%s\n", a.name.c_str(), a.role.c_str(),
                  a.disabled ? "disabled" : "active", a.auto_assign ? ", auto-assign" : "");
    return 0;
  }
  if (name.empty()) return Fail("agent " + sub + " needs a NAME");
  Status s;
  if (sub == "add") {
    if (role.empty()) return Fail("agent add needs --role agent|supervisor|analyst|admin");
    s = desk.AddAgent(name, role, password());
  } else if (sub == "passwd") {
    s = desk.SetPassword(name, password());
  } else if (sub == "disable") {
    s = desk.DisableAgent(name);
  } else {
    return Fail("unknown agent command '" + sub + "'; see gridbot agent --help");
  }
  if (!s.ok()) return Fail(s.message());
  std::printf("%s: %s\n", name.c_str(), sub == "add" ? "added" : sub == "passwd" ? "password changed" : "disabled");
  return 0;
}

// gridbot gen-data: a synthetic back end (storage/synthetic.h) into a new
// or empty database, in batches.
int GenData(const std::vector<std::string>& args) {
  std::map<std::string, std::string> a;
  for (size_t i = 0; i < args.size(); ++i) {
    static const std::set<std::string> kNames = {"db", "accounts", "customers", "months", "now",
                                                 "seed"};
    if (args[i].rfind("--", 0) != 0 || !kNames.count(args[i].substr(2)))
      return Fail("gen-data: unknown argument " + args[i] + " (see gridbot --help)");
    if (i + 1 >= args.size()) return Fail("gen-data: " + args[i] + " needs a value");
    a[args[i].substr(2)] = args[i + 1];
    ++i;
  }
  if (!a.count("db") || !a.count("accounts")) return Fail("gen-data needs --db PATH and --accounts N");
  storage::SyntheticSpec spec;
  auto number = [&](const char* name, std::int64_t min, std::int64_t max, std::int64_t& out) {
    if (!a.count(name)) return true;
    char* end = nullptr;
    const long long v = std::strtoll(a[name].c_str(), &end, 10);
    if (a[name].empty() || *end != '\0' || v < min || v > max) {
      Fail(std::string("gen-data: --") + name + " expects a number from " + std::to_string(min) +
           " to " + std::to_string(max));
      return false;
    }
    out = v;
    return true;
  };
  std::int64_t months = spec.months, seed = 1;
  if (!number("accounts", 1, 100000000, spec.accounts) ||
      !number("customers", 0, 100000000, spec.customers) || !number("months", 1, 120, months) ||
      !number("seed", 0, 1LL << 62, seed))
    return 2;
  spec.months = static_cast<int>(months);
  spec.seed = static_cast<std::uint64_t>(seed);
  UnixSeconds now = SystemClock()->Now();
  if (a.count("now")) {
    auto t = ParseNowFlag(a["now"]);
    if (!t) return Fail("gen-data: --now expects YYYY-MM-DD[THH:MM]");
    now = *t;
  }
  auto store = storage::Store::Open(a["db"]);
  if (!store.ok()) return Fail(store.status().message());
  const auto started = std::chrono::steady_clock::now();
  std::int64_t shown = 0;
  Status s = storage::WriteSynthetic(**store, spec, now, [&](std::int64_t done) {
    if (done - shown >= 100000 || done == spec.accounts) {
      shown = done;
      std::fprintf(stderr, "gen-data: %lld of %lld accounts\n", static_cast<long long>(done),
                   static_cast<long long>(spec.accounts));
    }
  });
  if (!s.ok()) return Fail("gen-data: " + s.message());
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("%lld accounts, %lld bills, %lld customers written to %s in %.1f s\n",
              static_cast<long long>(spec.accounts),
              static_cast<long long>(spec.accounts * spec.months),
              static_cast<long long>(spec.customers), a["db"].c_str(), secs);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // A log reader that goes away (a closed pipe) costs its lines, never the
  // process; Asio's sockets already send with MSG_NOSIGNAL.
  std::signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::printf("%s", kUsage);
    return args.empty() ? 2 : 0;
  }
  const std::string cmd = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (cmd == "serve") return Serve(rest);
  if (cmd == "migrate") return Migrate(rest);
  if (cmd == "chat") return Chat(rest);
  if (cmd == "nlu") return Nlu(rest);
  if (cmd == "dialog") {
    if (rest.empty() || rest[0] != "eval" || WantsHelp(rest))
      return std::printf("%s", kUsage), rest.empty() ? 2 : 0;
    return DialogEval(std::vector<std::string>(rest.begin() + 1, rest.end()));
  }
  if (cmd == "outbox") return bot::OutboxCommand(rest);
  if (cmd == "notify-bills") return bot::NotifyBillsCommand(rest);
  if (cmd == "menu") return bot::MenuCommand(rest);
  if (cmd == "agent") return Agent(rest);
  if (cmd == "gen-data") return GenData(rest);
  if (cmd == "logs") {
    static const std::map<std::string, int (*)(const std::vector<std::string>&)> kLogs = {
        {"export", LogsExport}, {"stats", LogsStats}, {"prune", LogsPrune}, {"replay", LogsReplay}};
    auto it = rest.empty() ? kLogs.end() : kLogs.find(rest[0]);
    if (it == kLogs.end() || WantsHelp(rest)) return std::printf("%s", kUsage), rest.empty() ? 2 : 0;
    return it->second(std::vector<std::string>(rest.begin() + 1, rest.end()));
  }
  return Fail("unknown command '" + cmd + "'; see gridbot --help");
}
