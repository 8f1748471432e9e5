// WeChat secure mode (安全模式) end to end: an encrypted push in, an
// encrypted, signed reply out; retries answered once; bad signatures refused.
#include <gmock/gmock.h>

#include "bot/wechat_crypto.h"
#include "bot/wechat_protocol.h"
#include "tests/bot/test_server.h"

namespace gridbot::testing {
namespace {

using ::testing::HasSubstr;
namespace http = boost::beast::http;

constexpr char kToken[] = "securetoken";
constexpr char kAppId[] = "wx1234567890abcdef";
constexpr char kAesKey[] = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";  // 43 characters

std::string Push(const std::string& from, const std::string& content, const std::string& id) {
  return "<xml><ToUserName><![CDATA[gh_gridbot]]></ToUserName><FromUserName><![CDATA[" + from +
         "]]></FromUserName><CreateTime>1722736800</CreateTime><MsgType><![CDATA[text]]>"
         "</MsgType><Content><![CDATA[" +
         content + "]]></Content><MsgId>" + id + "</MsgId></xml>";
}

class SecureMode : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = bot::wechat::Cryptor::Create(kToken, kAesKey, kAppId);
    ASSERT_TRUE(c.ok()) << c.error();
    cryptor_ = std::make_unique<bot::wechat::Cryptor>(std::move(*c));
    server_ = std::make_unique<TestServer>(
        TempDb("wechat", "secure"),
        std::vector<std::string>{"--wechat-token", kToken, "--wechat-appid", kAppId,
                                 "--wechat-aes-key", kAesKey});
    ASSERT_NE(server_->port(), 0);
  }

  // Sends `xml` encrypted as WeChat does; returns the HTTP status and the
  // decrypted reply's Content.
  std::pair<int, std::string> Send(const std::string& xml, bool good_signature = true) {
    static int sent = 0;
    const std::string ts = std::to_string(std::time(nullptr)), nonce = "8675309-" + std::to_string(++sent);
    const std::string encrypt = cryptor_->Encrypt(xml);
    const std::string envelope =
        "<xml><ToUserName><![CDATA[gh_gridbot]]></ToUserName><Encrypt><![CDATA[" + encrypt +
        "]]></Encrypt></xml>";
    std::string msg_signature = cryptor_->Sign(ts, nonce, encrypt);
    if (!good_signature) msg_signature[0] = msg_signature[0] == 'a' ? 'b' : 'a';
    std::string target = "/wechat?signature=" + bot::wechat::SignParts({kToken, ts, nonce}) +
                         "&timestamp=" + ts + "&nonce=" + nonce +
                         "&encrypt_type=aes&msg_signature=" + msg_signature;
    auto res = server_->Request(http::verb::post, target, envelope, "text/xml");
    if (res.result_int() != 200) return {res.result_int(), res.body()};
    auto outer = bot::wechat::ParseMessage(res.body());
    EXPECT_TRUE(outer.ok()) << res.body();
    if (!outer.ok()) return {0, ""};
    auto plain = cryptor_->Decrypt(outer->encrypt);
    EXPECT_TRUE(plain.ok()) << plain.error();
    auto inner = bot::wechat::ParseMessage(plain.ok() ? *plain : "");
    EXPECT_TRUE(inner.ok());
    return {200, inner.ok() ? inner->content : ""};
  }

  std::unique_ptr<bot::wechat::Cryptor> cryptor_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(SecureMode, EncryptedConversationWithRetries) {
  EXPECT_THAT(Send(Push("oSecure1", "绑定户号", "2001")).second, HasSubstr("哪个市"));
  Send(Push("oSecure1", "南宁", "2002"));
  Send(Push("oSecure1", "0301000001234", "2003"));
  auto wrong = Send(Push("oSecure1", "000000", "2004"));
  EXPECT_THAT(wrong.second, HasSubstr("还可以尝试4次"));
  EXPECT_EQ(Send(Push("oSecure1", "000000", "2004")).second, wrong.second);  // a retry
  EXPECT_THAT(Send(Push("oSecure1", "246810", "2005")).second, HasSubstr("绑定成功"));
  EXPECT_THAT(Send(Push("oSecure1", "上个月电费多少", "2006")).second, HasSubstr("129.80元"));
}

TEST_F(SecureMode, ABadMessageSignatureIsRefused) {
  EXPECT_EQ(Send(Push("oSecure2", "你好", "3001"), /*good_signature=*/false).first, 403);
}

// With an AES key configured, a plaintext push (whose signature does not
// cover its body) is refused even when its query signature is right.
TEST_F(SecureMode, PlaintextPushesAreRefused) {
  const std::string ts = std::to_string(std::time(nullptr)), nonce = "plain-1";
  const std::string target = "/wechat?signature=" + bot::wechat::SignParts({kToken, ts, nonce}) +
                             "&timestamp=" + ts + "&nonce=" + nonce;
  auto res = server_->Request(http::verb::post, target, Push("oSecure3", "上个月电费多少", "4001"), "text/xml");
  EXPECT_EQ(res.result_int(), 403) << res.body();
}

}  // namespace
}  // namespace gridbot::testing
