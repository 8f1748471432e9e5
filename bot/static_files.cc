#include "bot/static_files.h"

#include <fstream>
#include <sstream>

#include "desk/auth.h"

namespace gridbot::bot {
namespace {

std::string TypeOf(const std::string& name) {
  auto ends = [&name](const char* ext) {
    const std::string e(ext);
    return name.size() >= e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".js") || ends(".mjs")) return "text/javascript; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  if (ends(".ico")) return "image/x-icon";
  if (ends(".json")) return "application/json; charset=utf-8";
  return "application/octet-stream";
}

bool SafeName(const std::string& name) {
  if (name.empty() || name[0] == '.' || name.size() > 100) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_'))
      return false;
  return name.find("..") == std::string::npos;
}

std::optional<std::string> Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::optional<HttpResponse> StaticFiles::Serve(const HttpRequest& req) const {
  const std::string path = PathOf(req.target);
  std::string file;
  bool page = false;
  if (path == "/" || path == "/index.html") {
    file = "chat/index.html";
    page = true;
  } else if (path == "/agent" || path == "/agent/") {
    file = "agent/index.html";
    page = true;
  } else if (path == "/analytics" || path == "/analytics/") {
    file = "analytics/index.html";
    page = true;
  } else if (path.rfind("/assets/", 0) == 0 && SafeName(path.substr(8))) {
    file = "assets/" + path.substr(8);
  } else {
    return std::nullopt;
  }
  if (req.method != "GET" && req.method != "HEAD")
    return JsonError(405, "use GET");
  auto body = Read(dir_ + "/" + file);
  if (!body) return JsonError(404, "no such page");
  HttpResponse r{200, TypeOf(file), std::move(*body)};
  r.headers.emplace_back("Cache-Control", page ? "no-cache" : "max-age=300");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (page) {
    r.headers.emplace_back("Content-Security-Policy",
                           "default-src 'self'; img-src 'self' data: https: http:; "
                           "media-src 'self' https: http:; frame-ancestors 'none'");
    r.headers.emplace_back("X-Frame-Options", "DENY");
  }
  if (file == "chat/index.html" && CookieValue(req.cookie, "gb_sid").size() != 64) {
    // The page's customer: a random session the server issues (never a name
    // the page makes up); HttpOnly, so scripts cannot read it.
    r.headers.emplace_back("Set-Cookie", "gb_sid=" + desk::NewToken() +
                                             "; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax");
  }
  return r;
}

}  // namespace gridbot::bot
