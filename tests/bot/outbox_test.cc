// The outbox's delivery (bot/outbox.h) against a tiny Beast HTTP server on
// 127.0.0.1:0 standing in for the SMS / e-mail webhooks and the WeChat API:
// the JSON each receives, 2xx vs errors, attempts and the failed status,
// the access token's cache, timeouts, and channels left pending.
#include "bot/outbox.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "tests/test_db.h"

#include "storage/subscriptions.h"

namespace gridbot::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct Received {
  std::string method, target, content_type, body;
};

struct Answer {
  int status = 200;
  std::string body = "{}";
  std::string content_type = "application/json";
};

// Answers each request with `handler`, one connection at a time, and keeps
// what it received.
class FakeHttpServer {
 public:
  using Handler = std::function<Answer(const Received&)>;

  explicit FakeHttpServer(Handler handler)
      : handler_(std::move(handler)), acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { Loop(); });
  }
  ~FakeHttpServer() {
    stop_ = true;
    // Wakes the blocking accept.
    asio::io_context io;
    tcp::socket s(io);
    beast::error_code ec;
    s.connect({asio::ip::make_address("127.0.0.1"), port_}, ec);
    thread_.join();
  }

  std::string url(const std::string& path = "") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<Received> received() {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }

 private:
  void Loop() {
    while (!stop_) {
      tcp::socket socket(io_);
      beast::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec || stop_) return;
      beast::flat_buffer buffer;
      http::request<http::string_body> req;
      http::read(socket, buffer, req, ec);
      if (ec) continue;
      Received r{std::string(req.method_string()), std::string(req.target()),
                 std::string(req[http::field::content_type]), req.body()};
      {
        std::lock_guard<std::mutex> lock(mu_);
        received_.push_back(r);
      }
      const Answer a = handler_(r);
      http::response<http::string_body> res{static_cast<http::status>(a.status), 11};
      res.set(http::field::content_type, a.content_type);
      res.body() = a.body;
      res.keep_alive(false);
      res.prepare_payload();
      http::write(socket, res, ec);
      socket.shutdown(tcp::socket::shutdown_both, ec);
    }
  }

  Handler handler_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<Received> received_;  // GUARDED_BY(mu_)
};

class OutboxDeliveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = storage::Store::Open(testing::TestDb());
    ASSERT_TRUE(store.ok()) << store.error();
    store_ = std::move(*store);
  }

  void Queue(const std::string& channel, const std::string& to, const std::string& body) {
    storage::Tx tx = store_->Begin();
    ASSERT_TRUE(tx.QueueOutbox(channel, to, body, "", clock_->Now()));
    ASSERT_TRUE(tx.Commit().ok());
  }

  // "channel|recipient|status|attempts" per message.
  std::vector<std::string> Rows() {
    storage::Tx tx = store_->Begin();
    std::vector<std::string> out;
    for (const auto& m : storage::ListOutbox(tx, ""))
      out.push_back(m.channel + "|" + m.recipient + "|" + m.status + "|" +
                    std::to_string(m.attempts));
    EXPECT_TRUE(tx.Commit().ok());
    return out;
  }

  std::shared_ptr<FakeClock> clock_ =
      std::make_shared<FakeClock>(FromCivil(CivilTime{{2024, 8, 4}, 10, 0, 0}));
  std::unique_ptr<storage::Store> store_;
  std::shared_ptr<const privacy::Sealer> sealer_ =
      std::make_shared<const privacy::Sealer>(privacy::Sealer::Random());
};

TEST_F(OutboxDeliveryTest, WebhooksGetToAndBodyAsJson) {
  FakeHttpServer server([](const Received&) { return Answer{204, ""}; });
  Queue("sms", "13800138000", "您的验证码是 482913，5分钟内有效。");
  Queue("email", "zhangsan@example.com", "第一行\n第二行 \"引号\"");
  Queue("web", "u1", "shown in the chat, never sent");
  bot::OutboxDelivery delivery(*store_, clock_, sealer_);
  delivery.SetSender("sms", std::make_unique<bot::WebhookSender>(server.url("/sms")));
  delivery.SetSender("email", std::make_unique<bot::WebhookSender>(server.url("/mail?k=1")));

  const bot::DeliveryReport r = delivery.DeliverPending();
  EXPECT_EQ(r.sent, 2);
  EXPECT_EQ(r.retry + r.failed, 0);
  const auto got = server.received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].method, "POST");
  EXPECT_EQ(got[0].target, "/sms");
  EXPECT_THAT(got[0].content_type, HasSubstr("application/json"));
  EXPECT_EQ(got[0].body, R"({"to":"13800138000","body":"您的验证码是 482913，5分钟内有效。"})");
  EXPECT_EQ(got[1].target, "/mail?k=1");
  EXPECT_EQ(got[1].body, R"({"to":"zhangsan@example.com","body":"第一行\n第二行 \"引号\""})");
  EXPECT_THAT(Rows(), ElementsAre("sms|13800138000|sent|1", "email|zhangsan@example.com|sent|1",
                                  "web|u1|pending|0"));
  {
    storage::Tx tx = store_->Begin();
    auto sent = storage::ListOutbox(tx, "sent");
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(sent[0].sent_at, clock_->Now());
  }
  // Nothing left to send.
  EXPECT_EQ(delivery.DeliverPending().attempts.size(), 0u);
  EXPECT_EQ(server.received().size(), 2u);
}

// An SMS with a code waits sealed; delivery sends the text, and a body
// sealed with another key (another instance's --secrets-key) is never sent.
TEST_F(OutboxDeliveryTest, SealedBodiesAreOpenedOnlyToBeSent) {
  FakeHttpServer server([](const Received&) { return Answer{204, ""}; });
  Queue("sms", "13800138000", sealer_->Seal("您的验证码是 482913。"));
  Queue("sms", "13900139000", privacy::Sealer::Random().Seal("您的验证码是 111111。"));
  bot::OutboxDelivery delivery(*store_, clock_, sealer_);
  delivery.SetSender("sms", std::make_unique<bot::WebhookSender>(server.url("/sms")));
  const bot::DeliveryReport r = delivery.DeliverPending();
  EXPECT_EQ(r.sent, 1);
  const auto got = server.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, R"({"to":"13800138000","body":"您的验证码是 482913。"})");
  ASSERT_EQ(r.attempts.size(), 2u);
  EXPECT_THAT(r.attempts[1].error, HasSubstr("another secrets key"));
}

TEST_F(OutboxDeliveryTest, ErrorsCountAttemptsAndTheFifthFails) {
  FakeHttpServer server([](const Received&) { return Answer{500, "{\"error\":\"down\"}"}; });
  Queue("sms", "13800138000", "hello");
  bot::OutboxDelivery delivery(*store_, clock_, sealer_);
  delivery.SetSender("sms", std::make_unique<bot::WebhookSender>(server.url("/sms")));
  for (int i = 1; i < bot::OutboxDelivery::kMaxAttempts; ++i) {
    const bot::DeliveryReport r = delivery.DeliverPending();
    ASSERT_EQ(r.attempts.size(), 1u);
    EXPECT_EQ(r.attempts[0].status, "pending");
    EXPECT_THAT(r.attempts[0].error, HasSubstr("HTTP 500"));
    EXPECT_THAT(Rows(), ElementsAre("sms|13800138000|pending|" + std::to_string(i)));
  }
  const bot::DeliveryReport last = delivery.DeliverPending();
  EXPECT_EQ(last.failed, 1);
  EXPECT_THAT(Rows(), ElementsAre("sms|13800138000|failed|5"));
  EXPECT_EQ(delivery.DeliverPending().attempts.size(), 0u);  // never tried again
  EXPECT_EQ(server.received().size(), 5u);
}

TEST_F(OutboxDeliveryTest, ChannelWithoutSenderStaysPending) {
  Queue("sms", "13800138000", "code");
  Queue("wechat", "oOpenId", "hello");
  bot::Config config;  // no webhook, no WeChat app
  auto delivery = bot::OutboxDelivery::FromConfig(config, *store_, clock_, sealer_);
  EXPECT_TRUE(delivery->channels().empty());
  EXPECT_EQ(delivery->DeliverPending().attempts.size(), 0u);
  EXPECT_THAT(Rows(), ElementsAre("sms|13800138000|pending|0", "wechat|oOpenId|pending|0"));

  config.sms_webhook = "http://127.0.0.1:9/sms";
  config.wechat_appid = "wxAPP";  // no secret: no WeChat sender
  EXPECT_THAT(bot::OutboxDelivery::FromConfig(config, *store_, clock_, sealer_)->channels(),
              ElementsAre("sms"));
  config.wechat_appsecret = "SECRET";
  EXPECT_THAT(bot::OutboxDelivery::FromConfig(config, *store_, clock_, sealer_)->channels(),
              ElementsAre("sms", "wechat", "wechat_template"));
}

TEST_F(OutboxDeliveryTest, UnreachableAndSilentWebhooksTimeOut) {
  // Refused: a port nobody listens on any more.
  unsigned short closed_port;
  {
    asio::io_context io;
    tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
    closed_port = a.local_endpoint().port();
  }
  bot::WebhookSender refused("http://127.0.0.1:" + std::to_string(closed_port) + "/sms");
  EXPECT_THAT(refused.Send("13800138000", "x").message(), HasSubstr("connect"));

  // Silent: listens (the kernel accepts) but never answers.
  asio::io_context io;
  tcp::acceptor silent(io, {asio::ip::make_address("127.0.0.1"), 0});
  bot::WebhookSender slow("http://127.0.0.1:" + std::to_string(silent.local_endpoint().port()),
                          std::chrono::milliseconds(300));
  EXPECT_THAT(slow.Send("13800138000", "x").message(), HasSubstr("within 300 ms"));

  EXPECT_THAT(bot::WebhookSender("ftp://example.com/x").Send("1", "x").message(),
              HasSubstr("not an http"));
}

TEST_F(OutboxDeliveryTest, WechatCustomMessageWithCachedToken) {
  std::atomic<int> tokens{0};  // written by the server's thread
  FakeHttpServer server([&tokens](const Received& r) {
    if (r.target.rfind("/cgi-bin/token?", 0) == 0) {
      const int n = ++tokens;
      return Answer{200,
                    R"({"access_token":"TOKEN)" + std::to_string(n) + R"(","expires_in":7200})"};
    }
    return Answer{200, R"({"errcode":0,"errmsg":"ok"})"};
  });
  Queue("wechat", "oWx_1", "您的户号0301000001234 2024年7月电费129.80元。");
  Queue("wechat", "oWx_2", "second");
  bot::OutboxDelivery delivery(*store_, clock_, sealer_);
  delivery.SetSender("wechat", std::make_unique<bot::WechatCustomSender>(server.url("/"), "wxAPP",
                                                                         "S3CRET&x", clock_));
  EXPECT_EQ(delivery.DeliverPending().sent, 2);
  auto got = server.received();
  ASSERT_EQ(got.size(), 3u);  // one token, two messages
  EXPECT_EQ(got[0].method, "GET");
  EXPECT_EQ(got[0].target,
            "/cgi-bin/token?grant_type=client_credential&appid=wxAPP&secret=S3CRET%26x");
  EXPECT_EQ(got[1].method, "POST");
  EXPECT_EQ(got[1].target, "/cgi-bin/message/custom/send?access_token=TOKEN1");
  EXPECT_EQ(
      got[1].body,
      R"({"touser":"oWx_1","msgtype":"text","text":{"content":"您的户号0301000001234 2024年7月电费129.80元。"}})");
  EXPECT_EQ(got[2].target, "/cgi-bin/message/custom/send?access_token=TOKEN1");
  EXPECT_EQ(got[2].body, R"({"touser":"oWx_2","msgtype":"text","text":{"content":"second"}})");

  // Two hours later the token has expired: a new one is fetched.
  clock_->Advance(7200);
  Queue("wechat", "oWx_1", "third");
  EXPECT_EQ(delivery.DeliverPending().sent, 1);
  got = server.received();
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[3].method, "GET");
  EXPECT_EQ(got[4].target, "/cgi-bin/message/custom/send?access_token=TOKEN2");
}

// The custom-message and template senders (and, through the database,
// every instance) share one access token: one fetch between them, and a
// token WeChat refuses is dropped for all of them.
TEST_F(OutboxDeliveryTest, WechatSendersShareOneTokenThroughTheDatabase) {
  std::atomic<int> tokens{0}, sends{0};  // written by the server's thread
  FakeHttpServer server([&](const Received& r) {
    if (r.target.rfind("/cgi-bin/token?", 0) == 0)
      return Answer{200,
                    R"({"access_token":"T)" + std::to_string(++tokens) + R"(","expires_in":7200})"};
    if (++sends == 3) return Answer{200, R"({"errcode":40001,"errmsg":"invalid credential"})"};
    return Answer{200, R"({"errcode":0,"errmsg":"ok"})"};
  });
  auto store2 = storage::Store::Open(":memory:");  // (a different database: its own token)
  ASSERT_TRUE(store2.ok());
  bot::WechatCustomSender a(server.url(), "wxAPP", "S", clock_, bot::kDeliveryTimeout,
                            bot::WechatCustomSender::Kind::kCustomText, store_.get());
  bot::WechatCustomSender b(server.url(), "wxAPP", "S", clock_, bot::kDeliveryTimeout,
                            bot::WechatCustomSender::Kind::kCustomText, store_.get());
  EXPECT_TRUE(a.Send("oWx_1", "one").ok());
  EXPECT_TRUE(b.Send("oWx_1", "two").ok());
  EXPECT_EQ(tokens.load(), 1);  // b took a's token from the database
  EXPECT_FALSE(a.Send("oWx_1", "three").ok());  // 40001: T1 is forgotten by everyone
  EXPECT_TRUE(b.Send("oWx_1", "four").ok());
  EXPECT_EQ(tokens.load(), 2);
  auto got = server.received();
  EXPECT_EQ(got.back().target, "/cgi-bin/message/custom/send?access_token=T2");
  bot::WechatCustomSender other(server.url(), "wxAPP", "S", clock_, bot::kDeliveryTimeout,
                                bot::WechatCustomSender::Kind::kCustomText, (*store2).get());
  EXPECT_TRUE(other.Send("oWx_1", "five").ok());
  EXPECT_EQ(tokens.load(), 3);
}

TEST_F(OutboxDeliveryTest, WechatTemplateMessagesGoToTheTemplateApi) {
  FakeHttpServer server([](const Received& r) {
    if (r.target.rfind("/cgi-bin/token?", 0) == 0)
      return Answer{200, R"({"access_token":"T","expires_in":7200})"};
    return Answer{200, R"({"errcode":0,"errmsg":"ok","msgid":200228332})"};
  });
  Queue("wechat_template", "oWx_1",
        R"({"template_id":"TID","data":{"keyword1":{"value":"0301000001234"}}})");
  Queue("wechat_template", "oWx_2", "not json");
  bot::OutboxDelivery delivery(*store_, clock_, sealer_);
  delivery.SetSender("wechat_template",
                     std::make_unique<bot::WechatCustomSender>(
                         server.url("/"), "wxAPP", "S", clock_, bot::kDeliveryTimeout,
                         bot::WechatCustomSender::Kind::kTemplate));
  const auto report = delivery.DeliverPending();
  EXPECT_EQ(report.sent, 1);
  EXPECT_EQ(report.retry, 1);  // a broken payload is kept, visible, and retried
  auto got = server.received();
  ASSERT_EQ(got.size(), 2u);  // token, one template message
  EXPECT_EQ(got[1].target, "/cgi-bin/message/template/send?access_token=T");
  EXPECT_EQ(
      got[1].body,
      R"({"touser":"oWx_1","template_id":"TID","data":{"keyword1":{"value":"0301000001234"}}})");
}

TEST_F(OutboxDeliveryTest, WechatErrorsAreRetriedAndAnExpiredTokenRenewed) {
  std::atomic<int> tokens{0}, sends{0};  // written by the server's thread
  FakeHttpServer server([&](const Received& r) {
    if (r.target.rfind("/cgi-bin/token?", 0) == 0)
      return Answer{200,
                    R"({"access_token":"T)" + std::to_string(++tokens) + R"(","expires_in":7200})"};
    // The first send: WeChat says the token expired; then out of the 48 h
    // window; then OK.
    const int n = ++sends;
    if (n == 1) return Answer{200, R"({"errcode":42001,"errmsg":"access_token expired"})"};
    if (n == 2) return Answer{200, R"({"errcode":45015,"errmsg":"response out of time limit"})"};
    return Answer{200, R"({"errcode":0,"errmsg":"ok"})"};
  });
  Queue("wechat", "oWx_1", "hello");
  bot::OutboxDelivery delivery(*store_, clock_, sealer_);
  delivery.SetSender(
      "wechat", std::make_unique<bot::WechatCustomSender>(server.url(), "wxAPP", "SECRET", clock_));
  bot::DeliveryReport r = delivery.DeliverPending();
  ASSERT_EQ(r.attempts.size(), 1u);
  EXPECT_THAT(r.attempts[0].error, HasSubstr("42001"));
  r = delivery.DeliverPending();  // a new token (T2), then 45015
  ASSERT_EQ(r.attempts.size(), 1u);
  EXPECT_THAT(r.attempts[0].error, HasSubstr("45015"));
  r = delivery.DeliverPending();  // T2 still valid: no new token
  EXPECT_EQ(r.sent, 1);
  EXPECT_EQ(tokens.load(), 2);
  EXPECT_THAT(Rows(), ElementsAre("wechat|oWx_1|sent|3"));

  // A token request refused: the message stays pending.
  FakeHttpServer refusing([](const Received&) {
    return Answer{200, R"({"errcode":40013,"errmsg":"invalid appid"})"};
  });
  Queue("wechat", "oWx_2", "x");
  bot::OutboxDelivery other(*store_, clock_, sealer_);
  other.SetSender(
      "wechat", std::make_unique<bot::WechatCustomSender>(refusing.url(), "bad", "SECRET", clock_));
  r = other.DeliverPending();
  ASSERT_EQ(r.attempts.size(), 1u);
  EXPECT_EQ(r.attempts[0].status, "pending");
  EXPECT_THAT(r.attempts[0].error, HasSubstr("invalid appid"));
}

}  // namespace
}  // namespace gridbot::testing

namespace gridbot::testing {
namespace {

// The agent console's pictures and voice: WeChat's media API.
TEST(WechatMedia, FetchesTheFileAndReportsWechatErrors) {
  FakeHttpServer wechat([](const Received& r) {
    if (r.target.rfind("/cgi-bin/token", 0) == 0)
      return Answer{200, R"({"access_token":"TOKEN","expires_in":7200})"};
    if (r.target.find("media_id=VOICE1") != std::string::npos)
      return Answer{200, "#!AMR\n...", "audio/amr"};
    return Answer{200, R"({"errcode":40007,"errmsg":"invalid media_id"})", "text/plain"};
  });
  auto clock = std::make_shared<FakeClock>(1722823200);
  bot::WechatCustomSender sender(wechat.url(), "appid", "secret", clock);
  auto voice = sender.FetchMedia("VOICE1");
  ASSERT_TRUE(voice.ok()) << voice.error();
  EXPECT_EQ(voice->content_type, "audio/amr");
  EXPECT_EQ(voice->body, "#!AMR\n...");
  auto missing = sender.FetchMedia("NOPE");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error(), ::testing::HasSubstr("40007"));
  EXPECT_THAT(wechat.received().back().target, ::testing::HasSubstr("access_token=TOKEN"));
}

}  // namespace
}  // namespace gridbot::testing
