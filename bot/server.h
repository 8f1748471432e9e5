// Server: the HTTP listener (Boost.Beast, C++20 coroutines) around
// HttpHandler. I/O runs on a thread per core; each request's work (NLU,
// SQLite, waiting for the conversation's turn) runs on a separate worker
// pool, so a slow turn never stalls the sockets.
//
// Every read has a timeout and a body limit; oversized bodies get 413 and
// malformed requests 400; end of stream is a normal close.
#pragma once

#include <functional>
#include <string>

#include "bot/app.h"
#include "bot/http_handler.h"

namespace gridbot::bot {

// Serves until SIGINT/SIGTERM: then stops accepting, finishes the requests in
// flight and returns. Prints "listening on http://HOST:PORT" once it accepts.
Status Serve(App& app, HttpHandler& handler);

}  // namespace gridbot::bot
