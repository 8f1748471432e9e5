#include "bot/server.h"

#include <sys/resource.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast.hpp>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <functional>
#include <thread>

#include "bot/outbox.h"
#include "common/log.h"
#include "storage/connection.h"

namespace gridbot::bot {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr auto kReadTimeout = std::chrono::seconds(30);
constexpr auto kWriteTimeout = std::chrono::seconds(30);
constexpr auto kOutboxInterval = std::chrono::seconds(5);
constexpr auto kPollInterval = std::chrono::milliseconds(300);
constexpr auto kStreamInterval = std::chrono::milliseconds(500);
constexpr auto kDeskInterval = std::chrono::seconds(5);

http::response<http::string_body> ToBeast(const HttpResponse& r, unsigned version, bool keep_alive,
                                          bool head) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "gridbot");
  res.set(http::field::content_type, r.content_type);
  for (const auto& [name, value] : r.headers) res.insert(name, value);
  res.keep_alive(keep_alive);
  res.body() = head ? "" : r.body;
  res.prepare_payload();
  return res;
}

HttpResponse ErrorFor(const beast::error_code& ec) {
  if (ec == http::error::body_limit)
    return HttpResponse{413, "application/json; charset=utf-8",
                        "{\"error\":\"request body too large\"}"};
  if (ec == http::error::header_limit)
    return HttpResponse{431, "application/json; charset=utf-8",
                        "{\"error\":\"request headers too large\"}"};
  return HttpResponse{400, "application/json; charset=utf-8",
                      "{\"error\":\"malformed HTTP request\"}"};
}

class Server {
 public:
  Server(App& app, HttpHandler& handler, int io_threads)
      : app_(app),
        handler_(handler),
        io_(io_threads),
        io_threads_(io_threads),
        workers_(std::max(4, io_threads * 4)) {}

  Status Run() {
    // Open connections at most: the configured cap, and always some way
    // below the descriptor limit (the database and files need theirs).
    max_connections_ = app_.config().max_connections;
    struct rlimit files {};
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY)
      max_connections_ = std::min<int>(max_connections_, std::max<int>(16, static_cast<int>(files.rlim_cur) - 64));
    const std::string& listen = app_.config().listen;
    const size_t colon = listen.rfind(':');
    if (colon == std::string::npos)
      return Status::Error("--listen expects HOST:PORT, got '" + listen + "'");
    std::string host = listen.substr(0, colon);
    if (host.size() > 1 && host.front() == '[') host = host.substr(1, host.size() - 2);
    const std::string port = listen.substr(colon + 1);
    beast::error_code ec;
    tcp::resolver resolver(io_);
    auto results = resolver.resolve(host, port, ec);
    if (ec || results.empty())
      return Status::Error("cannot resolve " + listen + ": " + ec.message());
    tcp::endpoint endpoint = results.begin()->endpoint();
    // On a strand: the accept loop and the shutdown's close run on any of
    // the I/O threads, and an acceptor is not safe to use from two at once.
    tcp::acceptor acceptor(asio::make_strand(io_));
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Status::Error("cannot listen on " + listen + ": " + ec.message());
    const tcp::endpoint bound = acceptor.local_endpoint();
    std::string shown = bound.address().to_string();
    if (bound.address().is_v6()) shown = "[" + shown + "]";

    asio::signal_set signals(io_, SIGINT, SIGTERM);
    asio::steady_timer grace(io_);
    signals.async_wait([&](const beast::error_code& ec, int) {
      if (ec) return;
      stopping_ = true;
      handler_.SetDraining();
      // The listening socket is closed before the I/O may stop.
      asio::post(acceptor.get_executor(), [this, &acceptor] {
        beast::error_code ignored;
        acceptor.close(ignored);
        MaybeStop();
      });
      // Idle keep-alive connections do not hold the shutdown up for long.
      grace.expires_after(std::chrono::seconds(3));
      grace.async_wait([this](const beast::error_code&) { io_.stop(); });
    });
    if (app_.config().public_url.empty()) {
      // Links point at the port actually bound (--listen HOST:0).
      dialogs::Settings settings = app_.engine().settings();
      settings.public_url = "http://" + shown + ":" + std::to_string(bound.port());
      app_.engine().SetSettings(std::move(settings));
    }
    asio::co_spawn(acceptor.get_executor(), Accept(acceptor), asio::detached);
    logging::Info("started", {{"version", GridbotVersion()},
                              {"db", storage::DescribeDatabase(app_.config().db)},
                              {"corpus", CorpusDir(app_.config())},
                              {"web", WebDir(app_.config())},
                              {"schema_version", std::to_string(app_.store().CheckReady().version), true}});
    logging::Listening("http://" + shown + ":" + std::to_string(bound.port()));

    // The outbox: messages sent outside a reply, delivered in the background
    // (blocking HTTP, so never on the I/O threads), for the channels that are
    // configured.
    auto delivery = OutboxDelivery::FromConfig(app_.config(), app_.store(), app_.shared_clock(),
                                               app_.engine().settings().sealer);
    std::thread outbox;
    if (!delivery->channels().empty()) {
      outbox = std::thread([this, &delivery] {
        std::unique_lock<std::mutex> lock(outbox_mu_);
        while (!stopping_) {
          lock.unlock();
          delivery->DeliverPending();
          lock.lock();
          outbox_cv_.wait_for(lock, kOutboxInterval, [this] { return stopping_.load(); });
        }
      });
    }

    // The desk's timers (long waits, idle holds, auto-assignment).
    std::thread desk_timers([this] {
      std::unique_lock<std::mutex> lock(outbox_mu_);
      while (!stopping_) {
        lock.unlock();
        try {
          app_.desk().Tick();
          app_.Housekeeping();
        } catch (const std::exception& e) {
          logging::Error("desk timers failed", {{"error", e.what()}});
        }
        lock.lock();
        outbox_cv_.wait_for(lock, kDeskInterval, [this] { return stopping_.load(); });
      }
    });

    std::vector<std::thread> threads;
    for (int i = 1; i < io_threads_; ++i) threads.emplace_back([this] { io_.run(); });
    io_.run();
    for (auto& t : threads) t.join();
    workers_.join();
    {
      std::lock_guard<std::mutex> lock(outbox_mu_);
      stopping_ = true;
    }
    outbox_cv_.notify_all();
    if (outbox.joinable()) outbox.join();
    desk_timers.join();
    return Status::Ok();
  }

 private:
  asio::awaitable<void> Accept(tcp::acceptor& acceptor) {
    asio::steady_timer pause(io_);
    for (;;) {
      // The connection's socket on the I/O context, not the acceptor's strand.
      auto [ec, socket] =
          co_await acceptor.async_accept(io_, asio::as_tuple(asio::use_awaitable));
      if (ec) {
        if (stopping_ || !acceptor.is_open()) co_return;
        // E.g. too many open files: back off instead of spinning, keep
        // serving the others.
        pause.expires_after(std::chrono::milliseconds(50));
        co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      if (active_ >= max_connections_) {
        // At the cap: a short 503 and the descriptor is free again at once
        // (the open connections keep being served; none runs out).
        static const std::string kBusy =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nRetry-After: 1\r\n"
            "Connection: close\r\nContent-Length: 22\r\n\r\ntoo many connections\r\n";
        beast::error_code ignored;
        socket.non_blocking(true, ignored);
        socket.write_some(asio::buffer(kBusy), ignored);
        socket.shutdown(tcp::socket::shutdown_both, ignored);
        socket.close(ignored);
        continue;
      }
      ++active_;
      asio::co_spawn(io_, Session(beast::tcp_stream(std::move(socket))),
                     [this](std::exception_ptr) {
                       --active_;
                       MaybeStop();
                     });
    }
  }

  asio::awaitable<void> Session(beast::tcp_stream stream) {
    beast::flat_buffer buffer;
    beast::error_code peer_ec;
    const auto remote = stream.socket().remote_endpoint(peer_ec);
    const std::string peer = peer_ec ? "" : remote.address().to_string();
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(app_.config().max_body_bytes);
      parser.header_limit(16 * 1024);
      stream.expires_after(kReadTimeout);
      auto [ec, n] =
          co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
      if (ec == http::error::end_of_stream || ec == asio::error::eof ||
          ec == beast::error::timeout || ec == asio::error::operation_aborted ||
          ec == asio::error::connection_reset)
        break;
      if (ec) {
        // Malformed or oversized: answer, then close (the stream is unusable).
        auto res = ToBeast(ErrorFor(ec), 11, false, false);
        stream.expires_after(kWriteTimeout);
        co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
        break;
      }
      auto& req = parser.get();
      HttpRequest r;
      r.method = std::string(req.method_string());
      r.target = std::string(req.target());
      r.content_type = std::string(req[http::field::content_type]);
      r.body = std::move(req.body());
      r.cookie = std::string(req[http::field::cookie]);
      r.authorization = std::string(req[http::field::authorization]);
      r.api_key = std::string(req["X-Api-Key"]);
      r.peer = peer;
      r.forwarded_for = std::string(req["X-Forwarded-For"]);
      r.request_id = logging::RequestIdFrom(req["X-Request-Id"]);
      const unsigned version = req.version();
      const bool keep_alive = req.keep_alive() && !stopping_;
      const bool head = req.method() == http::verb::head;

      // Take the conversation's place in line and queue the work on the
      // worker pool in one step (RunOnPool): the pool runs work in the order
      // it was queued, so the holder of a conversation's earliest ticket is
      // always already running — a worker waiting for its turn never waits
      // on work queued behind it.
      auto shared = std::make_shared<HttpRequest>(std::move(r));
      std::optional<Deadline> deadline = handler_.DeadlineFor(*shared);
      if (deadline) shared->race = std::make_shared<ReplyRace>();
      HttpResponse out = co_await RunOnPool(shared, std::move(deadline));
      if (out.poll_seconds > 0) {
        // A long poll: ask again every few hundred milliseconds (no worker
        // waits meanwhile), and once more, finally, when the wait is over.
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(out.poll_seconds);
        asio::steady_timer timer(co_await asio::this_coro::executor);
        while (out.poll_seconds > 0) {
          timer.expires_after(kPollInterval);
          co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
          shared->repeat = true;
          if (stopping_ || std::chrono::steady_clock::now() >= deadline) shared->final_try = true;
          out = co_await RunOnPool(shared);
        }
      }
      if (out.stream) {
        co_await StreamEvents(stream, out);
        break;
      }
      auto res = ToBeast(out, version, keep_alive, head);
      stream.expires_after(kWriteTimeout);
      auto [wec, wn] = co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
      if (wec || !keep_alive) break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  // A server-sent event stream: the head, then whatever the stream has
  // every half second (produced on the worker pool), until the client goes
  // away, the stream ends, or the server stops.
  asio::awaitable<void> StreamEvents(beast::tcp_stream& stream, HttpResponse out) {
    std::shared_ptr<EventStream> events = out.stream;
    std::string chunk = "HTTP/1.1 200 OK\r\nServer: gridbot\r\nContent-Type: " + out.content_type +
                        "\r\nCache-Control: no-cache\r\nConnection: close\r\n"
                        "X-Accel-Buffering: no\r\n\r\n";
    // Named, not temporaries of the co_await expression: GCC 12 mishandles
    // a lambda temporary's lifetime there (a crash seen under load).
    const std::function<std::string()> start = [events] { return events->Start(); };
    const std::function<std::string()> next = [events] { return events->Next(); };
    chunk += co_await OnPool(start);
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (;;) {
      if (!chunk.empty()) {
        stream.expires_after(kWriteTimeout);
        auto [ec, n] = co_await asio::async_write(stream, asio::buffer(chunk),
                                                  asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;
      }
      if (stopping_ || events->Done()) co_return;
      timer.expires_after(kStreamInterval);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      if (stopping_) co_return;
      chunk = co_await OnPool(next);
    }
  }

  // Runs `f` on the worker pool; completes on the caller's executor.
  asio::awaitable<std::string> OnPool(std::function<std::string()> f) {
    co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(std::string)>(
        [this](auto handler, std::function<std::string()> fn) {
          auto work = asio::make_work_guard(handler);
          asio::post(workers_, [fn = std::move(fn), handler = std::move(handler),
                                work = std::move(work)]() mutable {
            std::string out;
            try {
              out = fn();
            } catch (const std::exception& e) {
              logging::Error("event stream failed", {{"error", e.what()}});
            }
            auto executor = work.get_executor();
            asio::dispatch(executor, [handler = std::move(handler), out = std::move(out)]() mutable {
              std::move(handler)(std::move(out));
            });
          });
        },
        asio::use_awaitable, std::move(f));
  }

  // Admits `r` (its conversation's ticket) and queues its handling on the
  // worker pool atomically, under admit_mu_; completes on the caller's
  // executor with the response — or, with a deadline, with the deadline's
  // answer when the budget passes first and the handler's race lets it
  // (the handling then runs on and its response is dropped).
  asio::awaitable<HttpResponse> RunOnPool(std::shared_ptr<HttpRequest> r,
                                          std::optional<Deadline> deadline = std::nullopt) {
    co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(HttpResponse)>(
        [this](auto handler, std::shared_ptr<HttpRequest> req, std::optional<Deadline> deadline) {
          auto once = std::make_shared<Once<decltype(handler)>>(std::move(handler));
          std::shared_ptr<asio::steady_timer> timer;
          if (deadline) {
            // On a strand of its own: the timer's wait and the cancel
            // below never run at once.
            timer = std::make_shared<asio::steady_timer>(asio::make_strand(io_), deadline->budget);
            timer->async_wait(LateAnswer<decltype(once)>{
                once, timer, req->race, std::move(deadline->answer),
                std::chrono::steady_clock::now() + kLastLateAnswer});
          }
          std::lock_guard<std::mutex> lock(admit_mu_);
          auto ticket = handler_.Admit(*req);
          asio::post(workers_, [this, req = std::move(req), ticket = std::move(ticket), once,
                                timer]() mutable {
            once->Complete(handler_.Handle(*req, std::move(ticket)));
            if (timer) asio::post(timer->get_executor(), [timer] { timer->cancel(); });
          });
        },
        asio::use_awaitable, std::move(r), std::move(deadline));
  }

  // WeChat waits 5 s for a reply: the stand-in answer is tried until then.
  static constexpr std::chrono::milliseconds kLastLateAnswer{4800};

  // The deadline's timer: answers with the stand-in when the race lets it.
  // A race the handler has not armed yet (the request still waits for a
  // worker) is looked at again shortly, while WeChat still waits.
  template <typename OncePtr>
  struct LateAnswer {
    OncePtr once;
    std::shared_ptr<asio::steady_timer> timer;
    std::shared_ptr<ReplyRace> race;
    HttpResponse answer;
    std::chrono::steady_clock::time_point give_up;
    void operator()(beast::error_code ec) {
      if (ec) return;
      if (race->ClaimLate()) {
        once->Complete(std::move(answer));
      } else if (race->unarmed() && std::chrono::steady_clock::now() < give_up) {
        timer->expires_after(std::chrono::milliseconds(50));
        auto t = timer;
        t->async_wait(std::move(*this));
      }
    }
  };

  // A completion handler called once, by whichever of two callers comes
  // first (the other's result is dropped); resumed on its own executor.
  template <typename Handler>
  class Once {
   public:
    explicit Once(Handler h) : work_(asio::make_work_guard(h)), handler_(std::move(h)) {}
    void Complete(HttpResponse out) {
      std::optional<Handler> h;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (!handler_) return;
        h.emplace(std::move(*handler_));
        handler_.reset();
      }
      asio::post(work_.get_executor(), [h = std::move(*h), out = std::move(out)]() mutable {
        std::move(h)(std::move(out));
      });
      work_.reset();  // only the first caller gets here
    }

   private:
    std::mutex mu_;
    decltype(asio::make_work_guard(std::declval<Handler&>())) work_;
    std::optional<Handler> handler_;  // GUARDED_BY(mu_)
  };

  void MaybeStop() {
    if (stopping_ && active_ == 0) io_.stop();
  }

  App& app_;
  HttpHandler& handler_;
  asio::io_context io_;
  int io_threads_;
  asio::thread_pool workers_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> active_{0};
  int max_connections_ = 1000;
  std::mutex admit_mu_;  // makes "take a ticket, queue the work" one step
  std::mutex outbox_mu_;
  std::condition_variable outbox_cv_;
};

}  // namespace

Status Serve(App& app, HttpHandler& handler) {
  int threads = app.config().threads;
  if (threads <= 0) threads = std::max(1u, std::thread::hardware_concurrency());
  Server server(app, handler, threads);
  return server.Run();
}

}  // namespace gridbot::bot
