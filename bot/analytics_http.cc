#include "bot/analytics_http.h"

#include "analytics/export.h"
#include "analytics/summary.h"
#include "analytics/turns.h"

namespace gridbot::bot {
namespace {

using nlohmann::json;

// An export is built in memory: at most this many rows from the API (the
// CLI streams any number).
constexpr std::int64_t kMaxExportRows = 50000;

}  // namespace

AnalyticsEndpoints::AnalyticsEndpoints(App& app) : app_(app) {
  auto titles = analytics::LoadIntentTitles(CorpusDir(app.config()) + "/nlu/intent_titles.tsv");
  if (titles.ok())
    titles_ = std::move(*titles);
  else
    titles_error_ = titles.error();
}

HttpResponse AnalyticsEndpoints::Handle(const HttpRequest& req, const desk::AgentIdentity& who) {
  const std::string path = PathOf(req.target);
  const std::string tail = path.substr(std::string("/api/analytics/").size());
  auto q = ParseQuery(req.target);
  const UnixSeconds now = app_.clock().Now();
  auto period = [&] { return analytics::Period::Parse(q["from"], q["to"], ToCivilDay(now)); };

  // POST /api/analytics/unrecognised/ID/label
  const std::string unrecognised = "unrecognised/";
  if (tail.rfind(unrecognised, 0) == 0 && tail.size() > unrecognised.size() + 6 &&
      tail.compare(tail.size() - 6, 6, "/label") == 0) {
    if (req.method != "POST") return JsonError(405, "use POST");
    if (titles_.empty()) return JsonError(503, "labelling is unavailable: " + titles_error_);
    const std::string id = tail.substr(unrecognised.size(), tail.size() - unrecognised.size() - 6);
    const json body = json::parse(req.body, nullptr, false);
    if (!body.is_object() || !body.contains("intent") || !body["intent"].is_string())
      return JsonError(400, "the body must be {\"intent\": INTENT}");
    auto r = analytics::LabelGroup(app_.store(), app_.nlu(), titles_, id,
                                   body["intent"].get<std::string>(), who.name, now);
    if (!r.ok()) return JsonError(r.error() == "no such group" ? 404 : 400, r.error());
    return JsonResponse(200, r->dump());
  }
  if (req.method != "GET" && req.method != "HEAD") return JsonError(405, "use GET");

  if (tail == "summary") {
    auto p = period();
    if (!p.ok()) return JsonError(400, p.error());
    return JsonResponse(200, analytics::Summarize(app_.store(), *p, now).dump());
  }
  if (tail == "turns") {
    auto page = analytics::SearchTurns(app_.store(), q, ToCivilDay(now));
    if (!page.ok()) return JsonError(400, page.error());
    return JsonResponse(200, page->dump());
  }
  const std::string conversations = "conversations/";
  if (tail.rfind(conversations, 0) == 0) {
    auto t = analytics::ConversationTranscript(app_.store(), tail.substr(conversations.size()),
                                               who.Supervises());
    if (!t.ok()) return JsonError(404, "no such conversation");
    return JsonResponse(200, t->dump());
  }
  if (tail == "runs") {
    auto p = period();
    if (!p.ok()) return JsonError(400, p.error());
    auto r = analytics::RunsOf(app_.store(), *p, now, q["flow"], q["ended"], q["step"]);
    if (!r.ok()) return JsonError(400, r.error());
    return JsonResponse(200, r->dump());
  }
  if (tail == "unrecognised") {
    auto p = period();
    if (!p.ok()) return JsonError(400, p.error());
    return JsonResponse(200, analytics::UnrecognisedGroups(app_.store(), app_.nlu(), *p, now).dump());
  }
  if (tail == "labelled") {
    HttpResponse r{200, "application/x-ndjson; charset=utf-8", analytics::LabelledLines(app_.store())};
    r.headers.emplace_back("Content-Disposition", "attachment; filename=\"labelled.jsonl\"");
    return r;
  }
  if (tail == "intents") {
    if (titles_.empty()) return JsonError(503, "the intents' titles are unavailable: " + titles_error_);
    json list = json::array();
    for (const auto& t : titles_) list.push_back({{"intent", t.intent}, {"title", t.title}});
    return JsonResponse(200, json{{"intents", list}}.dump());
  }
  if (tail == "export") {
    auto p = period();
    if (!p.ok()) return JsonError(400, p.error());
    analytics::ExportRequest r{*p, q.count("format") ? q["format"] : "jsonl", q["channel"], "", q["intent"]};
    r.max_rows = kMaxExportRows;
    std::string body;
    Status s = analytics::ExportTurns(app_.store(), r, [&body](std::string_view c) { body.append(c); });
    if (!s.ok()) return JsonError(s.message().rfind("more than", 0) == 0 ? 413 : 400, s.message());
    const bool csv = r.format == "csv";
    HttpResponse out{200, csv ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8",
                     std::move(body)};
    out.headers.emplace_back("Content-Disposition",
                             "attachment; filename=\"gridbot-turns-" + analytics::DayName(p->begin) + "_" +
                                 analytics::DayName(p->end - 1) + (csv ? ".csv\"" : ".jsonl\""));
    return out;
  }
  return JsonError(404, "no such analytics endpoint");
}

}  // namespace gridbot::bot
