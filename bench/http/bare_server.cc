// The limit of the HTTP benchmark (make bench-http): a minimal Boost.Beast
// server, the same I/O model as gridbot's (C++20 coroutines, a thread per
// core, keep-alive), answering every POST with one fixed WeChat text reply.
// It reads the request (headers and body) and does nothing else: no
// signature, no XML, no dialog, no database.
//
//   bare_server 127.0.0.1:18081 [threads]
#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

const std::string kReply =
    "<xml><ToUserName><![CDATA[o-bench]]></ToUserName><FromUserName><![CDATA[gh_bench]]>"
    "</FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
    "<Content><![CDATA[您好，我是广西电网95598智能客服，请问有什么可以帮您？]]></Content></xml>";

asio::awaitable<void> Session(beast::tcp_stream stream) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request<http::string_body> req;
    stream.expires_after(std::chrono::seconds(30));
    auto [ec, n] = co_await http::async_read(stream, buffer, req, asio::as_tuple(asio::use_awaitable));
    if (ec) break;
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::server, "bare");
    res.set(http::field::content_type, "application/xml; charset=utf-8");
    res.keep_alive(req.keep_alive());
    res.body() = kReply;
    res.prepare_payload();
    auto [wec, wn] = co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
    if (wec || !req.keep_alive()) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> Accept(asio::io_context& io, tcp::acceptor& acceptor) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(io, asio::as_tuple(asio::use_awaitable));
    if (ec) continue;
    asio::co_spawn(io, Session(beast::tcp_stream(std::move(socket))), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bare_server HOST:PORT [threads]\n");
    return 2;
  }
  const std::string listen = argv[1];
  const auto colon = listen.rfind(':');
  const int threads = argc > 2 ? std::atoi(argv[2]) : static_cast<int>(std::thread::hardware_concurrency());
  asio::io_context io(threads);
  tcp::endpoint ep(asio::ip::make_address(listen.substr(0, colon)),
                   static_cast<unsigned short>(std::stoi(listen.substr(colon + 1))));
  tcp::acceptor acceptor(asio::make_strand(io), ep);
  asio::co_spawn(acceptor.get_executor(), Accept(io, acceptor), asio::detached);
  std::printf("listening on http://%s\n", listen.c_str());
  std::fflush(stdout);
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : pool) t.join();
}
