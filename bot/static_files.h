// StaticFiles: the pages under web/ (the customer's web chat at "/", the
// agent console at "/agent", their CSS/JS under "/assets/"), read from disk
// and served as they are: no build step, no CDN.
//
// Thread safety: stateless after construction; Serve() from any thread.
#pragma once

#include <optional>
#include <string>

#include "bot/http_handler.h"

namespace gridbot::bot {

class StaticFiles {
 public:
  explicit StaticFiles(std::string dir) : dir_(std::move(dir)) {}
  // The page or asset of `req`, nullopt if the path is not one of them.
  std::optional<HttpResponse> Serve(const HttpRequest& req) const;

 private:
  std::string dir_;
};

}  // namespace gridbot::bot
