#include "bot/desk_http.h"

#include <nlohmann/json.hpp>

#include "nlu/normalizer.h"

namespace gridbot::bot {
namespace {

using nlohmann::json;

constexpr const char* kCookie = "gb_agent";

// Events for the console: a change of the queue or of a conversation.
class DeskEventStream : public EventStream {
 public:
  DeskEventStream(App& app, DeskEndpoints& endpoints, desk::AgentIdentity who, std::string token)
      : app_(app), endpoints_(endpoints), who_(std::move(who)), token_(std::move(token)) {}

  std::string Start() override {
    last_ = app_.desk().LatestEvent();
    last_write_ = app_.clock().Now();
    return "retry: 2000\n: connected\n\n";
  }

  std::string Next() override {
    const UnixSeconds now = app_.clock().Now();
    if (now - checked_ >= 30) {
      // A logout or an expired token ends the stream (and keeps the agent
      // "online" while it is open).
      checked_ = now;
      if (!app_.desk().Authenticate(token_)) {
        done_ = true;
        return "event: logout\ndata: {}\n\n";
      }
    }
    desk::Answer a = app_.desk().Events(who_, last_);
    std::string out;
    if (a.ok()) {
      last_ = a.body.value("last", last_);
      for (const json& e : a.body["events"])
        out += "event: change\ndata: " + json{{"conversation", e["conversation"]}, {"kind", e["kind"]}}.dump() + "\n\n";
    }
    if (out.empty() && now - last_write_ >= 15) out = ": keep-alive\n\n";
    if (!out.empty()) last_write_ = now;
    return out;
  }
  bool Done() const override { return done_; }

 private:
  App& app_;
  DeskEndpoints& endpoints_;
  desk::AgentIdentity who_;
  std::string token_;
  std::int64_t last_ = 0;
  UnixSeconds last_write_ = 0, checked_ = 0;
  bool done_ = false;
};

std::string Bearer(const std::string& header) {
  const std::string p = "Bearer ";
  if (header.size() > p.size() && header.compare(0, p.size(), p) == 0) return header.substr(p.size());
  return "";
}

// The body's JSON object, or an error response.
std::optional<HttpResponse> ParseBody(const HttpRequest& req, json* out) {
  if (req.body.empty()) {
    *out = json::object();
    return std::nullopt;
  }
  if (!nlu::IsValidUtf8(req.body)) return JsonError(400, "body is not valid UTF-8");
  *out = json::parse(req.body, nullptr, false);
  if (out->is_discarded() || !out->is_object()) return JsonError(400, "body must be a JSON object");
  return std::nullopt;
}

std::optional<std::string> StringField(const json& j, const char* name) {
  if (!j.contains(name) || !j[name].is_string()) return std::nullopt;
  return j[name].get<std::string>();
}

}  // namespace

int StatusOf(desk::ErrorKind kind) {
  switch (kind) {
    case desk::ErrorKind::kNone: return 200;
    case desk::ErrorKind::kBadRequest: return 400;
    case desk::ErrorKind::kUnauthorized: return 401;
    case desk::ErrorKind::kForbidden: return 403;
    case desk::ErrorKind::kNotFound: return 404;
    case desk::ErrorKind::kConflict: return 409;
    case desk::ErrorKind::kUnprocessable: return 422;
    case desk::ErrorKind::kLocked: return 429;
  }
  return 400;
}

HttpResponse FromAnswer(const desk::Answer& a) {
  if (!a.ok()) return JsonError(StatusOf(a.error), a.message);
  return JsonResponse(200, a.body.dump());
}

DeskEndpoints::DeskEndpoints(App& app) : app_(app) {
  const Config& c = app.config();
  if (!c.wechat_appid.empty() && !c.wechat_appsecret.empty())
    media_ = std::make_unique<WechatCustomSender>(
        c.wechat_api_base.empty() ? "https://api.weixin.qq.com" : c.wechat_api_base,
        c.wechat_appid, c.wechat_appsecret, app.shared_clock(), kDeliveryTimeout,
        WechatCustomSender::Kind::kCustomText, &app.store());
}

DeskEndpoints::~DeskEndpoints() = default;

std::optional<desk::AgentIdentity> DeskEndpoints::Caller(const HttpRequest& req,
                                                         std::string* token) {
  std::string t = Bearer(req.authorization);
  if (t.empty()) t = CookieValue(req.cookie, kCookie);
  if (t.empty()) return std::nullopt;
  if (token) *token = t;
  return app_.desk().Authenticate(t);
}

HttpResponse DeskEndpoints::Handle(const HttpRequest& req) {
  const std::string path = PathOf(req.target);
  desk::Desk& desk = app_.desk();
  if (path == "/api/agent/login") {
    if (req.method != "POST") return JsonError(405, "use POST");
    json body;
    if (auto bad = ParseBody(req, &body)) return *bad;
    auto name = StringField(body, "name");
    auto password = StringField(body, "password");
    if (!name || !password) return JsonError(400, "\"name\" and \"password\" are required");
    desk::Answer a = desk.Login(*name, *password);
    HttpResponse r = FromAnswer(a);
    if (a.ok()) {
      r.headers.emplace_back(
          "Set-Cookie", std::string(kCookie) + "=" + a.body["token"].get<std::string>() +
                            "; Path=/; Max-Age=" + std::to_string(desk.config().token_hours * 3600) +
                            "; HttpOnly; SameSite=Strict");
    }
    return r;
  }

  std::string token;
  auto who = Caller(req, &token);
  if (!who) return JsonError(401, "请先登录");

  if (path == "/api/agent/logout") {
    if (req.method != "POST") return JsonError(405, "use POST");
    desk.Logout(token);
    HttpResponse r = JsonResponse(200, "{}");
    r.headers.emplace_back("Set-Cookie", std::string(kCookie) +
                                             "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
    return r;
  }
  if (path == "/api/agent/me") {
    if (req.method == "GET") return FromAnswer(desk.Me(*who));
    if (req.method != "POST") return JsonError(405, "use GET or POST");
    json body;
    if (auto bad = ParseBody(req, &body)) return *bad;
    if (!body.contains("auto_assign") || !body["auto_assign"].is_boolean())
      return JsonError(400, "\"auto_assign\" must be true or false");
    return FromAnswer(desk.SetAutoAssign(*who, body["auto_assign"].get<bool>()));
  }
  if (!who->Answers()) return JsonError(403, "您的角色不能使用客服工作台");

  if (path == "/api/agent/queue") {
    if (req.method != "GET") return JsonError(405, "use GET");
    return FromAnswer(desk.Queue(*who));
  }
  if (path == "/api/agent/canned") {
    if (req.method != "GET") return JsonError(405, "use GET");
    return FromAnswer(desk.Canned(*who));
  }
  if (path == "/api/agent/agents") {
    if (req.method != "GET") return JsonError(405, "use GET");
    return FromAnswer(desk.Agents(*who));
  }
  if (path == "/api/agent/events") {
    if (req.method != "GET") return JsonError(405, "use GET");
    HttpResponse r;
    r.content_type = "text/event-stream; charset=utf-8";
    r.stream = std::make_shared<DeskEventStream>(app_, *this, *who, token);
    return r;
  }
  if (path.rfind("/api/agent/media/", 0) == 0) {
    if (req.method != "GET") return JsonError(405, "use GET");
    const std::string media_id = path.substr(std::string("/api/agent/media/").size());
    if (media_id.empty() || media_id.size() > 128 ||
        media_id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") !=
            std::string::npos)
      return JsonError(404, "没有这个文件");
    if (desk::Answer a = desk.MayFetchMedia(*who, media_id); !a.ok()) return FromAnswer(a);
    if (!media_) return JsonError(404, "未配置微信接口（wechat-appid / wechat-appsecret），无法获取语音或图片");
    auto file = media_->FetchMedia(media_id);
    if (!file.ok()) return JsonError(404, "微信素材获取失败：" + file.error());
    // Only pictures, sound and video are shown as such; anything else is a
    // download (never a page of ours).
    const std::string& type = file->content_type;
    const bool media = type.rfind("image/", 0) == 0 || type.rfind("audio/", 0) == 0 ||
                       type.rfind("video/", 0) == 0;
    HttpResponse r(200, media ? type : "application/octet-stream", std::move(file->body));
    if (!media) r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + media_id + "\"");
    r.headers.emplace_back("Cache-Control", "private, max-age=3600");
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    return r;
  }
  const std::string prefix = "/api/agent/conversations/";
  if (path.rfind(prefix, 0) == 0) {
    std::string rest = path.substr(prefix.size());
    const size_t slash = rest.find('/');
    const std::string id = rest.substr(0, slash);
    const std::string action = slash == std::string::npos ? "" : rest.substr(slash + 1);
    if (id.empty() || id.size() > 64) return JsonError(404, "没有这个会话");
    if (action.empty()) {
      if (req.method != "GET") return JsonError(405, "use GET");
      return FromAnswer(desk.Conversation(*who, id));
    }
    if (action == "assist") {
      if (req.method != "GET") return JsonError(405, "use GET");
      return FromAnswer(desk.Assist(*who, id));
    }
    if (req.method != "POST") return JsonError(405, "use POST");
    json body;
    if (auto bad = ParseBody(req, &body)) return *bad;
    if (action == "claim") return FromAnswer(desk.Claim(*who, id));
    if (action == "release") return FromAnswer(desk.Release(*who, id));
    if (action == "close") return FromAnswer(desk.Close(*who, id));
    if (action == "typing") return FromAnswer(desk.Typing(*who, id));
    if (action == "reply" || action == "note") {
      auto text = StringField(body, "text");
      if (!text) return JsonError(400, "\"text\" is required");
      return FromAnswer(action == "reply" ? desk.Reply(*who, id, *text) : desk.Note(*who, id, *text));
    }
    if (action == "transfer") {
      std::string to;
      if (body.contains("agent") && !body["agent"].is_null()) {
        if (!body["agent"].is_string()) return JsonError(400, "\"agent\" must be a name");
        to = body["agent"].get<std::string>();
      }
      return FromAnswer(desk.Transfer(*who, id, to));
    }
    return JsonError(404, "no such endpoint");
  }
  return JsonError(404, "no such endpoint");
}

}  // namespace gridbot::bot
