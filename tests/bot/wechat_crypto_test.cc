// Tests for bot/wechat_crypto.h: every vector of shared/spec/wechat.md §4.8
// plus crafted ciphertexts (built here with OpenSSL directly, independently
// of the code under test) for the failure paths.
#include "bot/wechat_crypto.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <utility>

#include "bot/wechat_protocol.h"

namespace gridbot::bot::wechat {
namespace {

Cryptor Make(std::string token, std::string key, std::string app_id,
             std::string previous_key = "") {
  Result<Cryptor> c =
      Cryptor::Create(std::move(token), std::move(key), std::move(app_id), std::move(previous_key));
  if (!c.ok()) {
    std::cerr << "Cryptor::Create failed: " << c.error() << "\n";
    std::abort();
  }
  return std::move(c).value();
}

std::string CreateError(std::string token, std::string key, std::string app_id,
                        std::string previous_key = "") {
  Result<Cryptor> c =
      Cryptor::Create(std::move(token), std::move(key), std::move(app_id), std::move(previous_key));
  return c.ok() ? "no error" : c.error();
}

std::string DecryptResult(const Cryptor& c, std::string_view encrypt) {
  Result<std::string> r = c.Decrypt(encrypt);
  return r.ok() ? "OK " + *r : "ERROR " + r.error();
}

// --- Independent helpers (OpenSSL only) -----------------------------------

std::string B64Encode(std::string_view raw) {
  std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(raw.data()),
                                static_cast<int>(raw.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string B64Decode(std::string_view b64) {
  std::string out(b64.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(b64.data()),
                          static_cast<int>(b64.size()));
  if (n < 0) return "<bad base64>";
  // EVP_DecodeBlock does not drop the bytes that '=' stands for (§4.2).
  for (auto it = b64.rbegin(); it != b64.rend() && *it == '='; ++it) --n;
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// AES-256-CBC with IV = key[0..16) and no padding, as WeChat uses it.
// REQUIRES: key32.size() == 32, in.size() % 16 == 0.
std::string Aes(bool encrypt, std::string_view key32, std::string_view in) {
  const auto* key = reinterpret_cast<const unsigned char*>(key32.data());
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  EVP_CipherInit_ex(ctx, EVP_aes_256_cbc(), nullptr, key, key, encrypt);
  EVP_CIPHER_CTX_set_padding(ctx, 0);
  std::string out(in.size() + 32, '\0');
  int n1 = 0, n2 = 0;
  EVP_CipherUpdate(ctx, reinterpret_cast<unsigned char*>(out.data()), &n1,
                   reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  EVP_CipherFinal_ex(ctx, reinterpret_cast<unsigned char*>(out.data()) + n1, &n2);
  EVP_CIPHER_CTX_free(ctx);
  out.resize(static_cast<std::size_t>(n1 + n2));
  return out;
}

// AESKey = Base64_Decode(EncodingAESKey + "=") (§4.2), via OpenSSL.
std::string RawKey(std::string_view encoding_aes_key) {
  return B64Decode(std::string(encoding_aes_key) + "=");
}

// With the all-zero key of EncodingAESKey "A" x 43 (vector D).
std::string ZeroKeyAes(bool encrypt, std::string_view in) {
  return Aes(encrypt, std::string(32, '\0'), in);
}

std::string Be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

// random16 || len || msg || app_id, then `pad_value` repeated to fill the
// last 32-byte block (at least one byte), i.e. WeChat's framing with a
// chosen (possibly wrong) padding byte.
std::string Frame(std::string_view msg, std::string_view app_id, std::uint32_t length_field,
                  int pad_value) {
  std::string plain =
      "0123456789abcdef" + Be32(length_field) + std::string(msg) + std::string(app_id);
  const std::size_t pad = 32 - plain.size() % 32;
  plain.append(pad, static_cast<char>(pad_value));
  return plain;
}

std::string Seal(std::string_view plain) { return B64Encode(ZeroKeyAes(true, plain)); }

const std::string kZeroKey(43, 'A');
constexpr std::string_view kTestAppId = "wxtestappid0001";

// --- §4.8 vector A: encryption with a fixed random prefix -----------------

constexpr std::string_view kSampleKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

constexpr std::string_view kA1Plain = "我是中文abcd123";
constexpr std::string_view kA1Encrypt =
    "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZ"
    "GMhkP72vVOfg==";
constexpr std::string_view kA2Plain =
    "<xml><ToUserName><![CDATA[oia2Tj我是中文jewbmiOUlr6X-1crbLOvLw]]></"
    "ToUserName><FromUserName><![CDATA[gh_7f083739789a]]></FromUserName>"
    "<CreateTime>1407743423</CreateTime><MsgType><![CDATA[video]]></MsgType>"
    "<Video><MediaId><![CDATA[eYJ1MbwPRJtOvIEabaxHs7TX2D-HV71s79GUxqdUkjm6Gs2"
    "Ed1KF3ulAOA9H1xG0]]></MediaId><Title><![CDATA[testCallBackReplyVideo]]></"
    "Title><Description><![CDATA[testCallBackReplyVideo]]></Description></"
    "Video></xml>";
constexpr std::string_view kA2Encrypt =
    "jn1L23DB+6ELqJ+6bruv23M2GmYfkv0xBh2h+XTBOKVKcgDFHle6gqcZ1cZrk3e1qjPQ1F4R"
    "sLWzQRG9udbKWesxlkupqcEcW7ZQweImX9+wLMa0GaUzpkycA8+IamDBxn5loLgZpnS7fVAbE"
    "xOkK5DYHBmv5tptA9tklE/fTIILHR8HLXa5nQvFb3tYPKAlHF3rtTeayNf0QuM+UW/wM9enG"
    "IDIJHF7CLHiDNAYxr+r+OrJCmPQyTy8cVWlu9iSvOHPT/77bZqJucQHQ04sq7KZI27OcqpQN"
    "Sto2OdHCoTccjggX5Z9Mma0nMJBU+jLKJ38YB1fBIz+vBzsYjrTmFQ44YfeEuZ+xRTQwr92v"
    "hA9OxchWVINGC50qE/6lmkwWTwGX9wtQpsJKhP+oS7rvTY8+VdzETdfakjkwQ5/Xka042OlU"
    "b1/slTwo4RscuQ+RdxSGvDahxAJ6+EAjLt9d8igHngxIbf6YyqqROxuxqIeIch3CssH/LqRs"
    "+iAcILvApYZckqmA7FNERspKA5f8GoJ9sv8xmGvZ9Yrf57cExWtnX8aCMMaBropU/1k+hKP5"
    "LVdzbWCG0hGwx/dQudYR/eXp3P0XxjlFiy+9DMlaFExWUZQDajPkdPrEeOwofJb";

TEST(CryptorVectorTest, A1EncryptsChineseText) {
  Cryptor c = Make("pamtest", std::string(kSampleKey), "wxb11529c136998cb6");
  EXPECT_EQ(c.Encrypt(kA1Plain, "aaaabbbbccccdddd"), kA1Encrypt);
  EXPECT_EQ(DecryptResult(c, kA1Encrypt), "OK " + std::string(kA1Plain));
}

TEST(CryptorVectorTest, A2EncryptsVideoReply) {
  Cryptor c = Make("pamtest", std::string(kSampleKey), "wxb11529c136998cb6");
  EXPECT_EQ(c.Encrypt(kA2Plain, "aaaabbbbccccdddd"), kA2Encrypt);
  EXPECT_EQ(DecryptResult(c, kA2Encrypt), "OK " + std::string(kA2Plain));
}

// --- Vector B: inbound decryption (EasyWeChat) ----------------------------

constexpr std::string_view kBEncrypt =
    "rTNFcsut4LfGuAFKEUVVpwcaCOTJzOd9twZdIW910jb3k+iicx2uvhttIZ3Qg9Qgty3BEF2xbO"
    "rz6boTfb30dMomcgrkTqdFPwnhqbk+kIQ7rZiwny9D7NUrTgA5kpX3KsZvrXzUZyP2x9YOlx"
    "bgm572lmxKvM7HAQQhIQ/p6HBmoY30bGXFK0BtIu1pW9TjhOYrLQoU18nWYjWqDA1ynkmOyt"
    "pv7QRI1P1+0NoxL0q2zO1DgeSvnE8CZGo/o5Ap/WHK5W2RAsinpzN4/LjPnmB6U01I5XCoJo"
    "C0GK/yMZycd2Oh8Nq6+wBkC1U85oy0ktOY4nLvsQMLrourmMGdZHuTbqpeJ8Ao/5PRYJ+WBv"
    "RUwPfGKBL2+2IKZF49vAJqkcGWSHGE76ZN2erXeuNazf/o9o3lIE3q739o4c8t9QGPe31GT2"
    "Go/rOz1BsrASwvauNulCh+++yz+CQzBIuikA==";

TEST(CryptorVectorTest, BVerifiesAndDecryptsInbound) {
  Cryptor c = Make("pamtest", std::string(kSampleKey), "wxb11529c136998cb6");
  EXPECT_TRUE(c.VerifyMsgSignature("1458300676", "260774613", kBEncrypt,
                                   "4f3ad57b6989f09f4eb392acce4f9e93942ed890"));
  // EasyWeChat passes the two the other way round; sorting makes it moot.
  EXPECT_TRUE(c.VerifyMsgSignature("260774613", "1458300676", kBEncrypt,
                                   "4f3ad57b6989f09f4eb392acce4f9e93942ed890"));
  const std::string xml =
      "<xml><URL><![CDATA[http://wechat.laravel.so/server]]></URL>"
      "<ToUserName><![CDATA[asdasdasd]]></ToUserName>"
      "<FromUserName><![CDATA[asdasdasdsadasd]]></FromUserName>"
      "<CreateTime>1234567898</CreateTime><MsgType><![CDATA[text]]></MsgType>"
      "<Content><![CDATA[hello]]></Content><MsgId>12345</MsgId></xml>";
  EXPECT_EQ(DecryptResult(c, kBEncrypt), "OK " + xml);

  // The random prefix and length, decrypted with plain OpenSSL.
  const std::string frame = Aes(false, RawKey(kSampleKey), B64Decode(kBEncrypt));
  EXPECT_EQ(frame.substr(0, 16), "d43123b161a4ba84");
  EXPECT_EQ(frame.substr(16, 4), Be32(static_cast<std::uint32_t>(xml.size())));
  Result<InboundMessage> m = ParseMessage(xml);
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(DebugString(*m),
            "{to_user=\"asdasdasd\" from_user=\"asdasdasdsadasd\" "
            "create_time=1234567898 msg_type=\"text\" content=\"hello\" "
            "msg_id=\"12345\"}");
}

TEST(CryptorVectorTest, BRejectsBadMsgSignature) {
  Cryptor c = Make("pamtest", std::string(kSampleKey), "wxb11529c136998cb6");
  const std::string good = "4f3ad57b6989f09f4eb392acce4f9e93942ed890";
  std::string bad = good;
  bad[0] = '5';
  EXPECT_FALSE(c.VerifyMsgSignature("1458300676", "260774613", kBEncrypt, bad));
  EXPECT_FALSE(c.VerifyMsgSignature("1458300677", "260774613", kBEncrypt, good));
  EXPECT_FALSE(c.VerifyMsgSignature("1458300676", "260774613", kBEncrypt, ""));
  EXPECT_FALSE(c.VerifyMsgSignature("1458300676", "260774613", std::string(kBEncrypt) + "x", good));
  Cryptor other_token = Make("pamtesT", std::string(kSampleKey), "wxb11529c136998cb6");
  EXPECT_FALSE(other_token.VerifyMsgSignature("1458300676", "260774613", kBEncrypt, good));
}

// --- Vector C: the official MP sample, compatible mode --------------------

constexpr std::string_view kCEncrypt =
    "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87w"
    "zQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328"
    "HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3y"
    "t+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpA"
    "e+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl"
    "9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=";
constexpr std::string_view kCPlain =
    "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\n"
    "<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>\n"
    "<CreateTime>1409735668</CreateTime>\n"
    "<MsgType><![CDATA[text]]></MsgType>\n"
    "<Content><![CDATA[abcdteT]]></Content>\n"
    "<MsgId>6054768590064713728</MsgId>\n"
    "</xml>";

TEST(CryptorVectorTest, COfficialSampleCompatibleMode) {
  Cryptor c = Make("spamtest", std::string(kSampleKey), "wx2c2769f8efd9abc2");
  EXPECT_TRUE(c.VerifyMsgSignature("1409735669", "1320562132", kCEncrypt,
                                   "5d197aaffba7e9b25a30732f161a50dee96bd5fa"));
  EXPECT_EQ(DecryptResult(c, kCEncrypt), "OK " + std::string(kCPlain));

  // The compatible-mode body: plaintext siblings plus Encrypt. The server
  // uses only the decrypted copy; here both must agree.
  const std::string body =
      "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>"
      "<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>"
      "<CreateTime>1409735668</CreateTime>"
      "<MsgType><![CDATA[text]]></MsgType>"
      "<Content><![CDATA[abcdteT]]></Content>"
      "<MsgId>6054768590064713728</MsgId>"
      "<Encrypt><![CDATA[" +
      std::string(kCEncrypt) + "]]></Encrypt></xml>";
  Result<InboundMessage> envelope = ParseMessage(body);
  ASSERT_TRUE(envelope.ok()) << envelope.error();
  EXPECT_EQ(envelope->encrypt, kCEncrypt);
  Result<std::string> inner = c.Decrypt(envelope->encrypt);
  ASSERT_TRUE(inner.ok()) << inner.error();
  Result<InboundMessage> m = ParseMessage(*inner);
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(DebugString(*m),
            "{to_user=\"gh_10f6c3c3ac5a\" "
            "from_user=\"oyORnuP8q7ou2gfYjqLzSIWZf0rs\" "
            "create_time=1409735668 msg_type=\"text\" content=\"abcdteT\" "
            "msg_id=\"6054768590064713728\"}");
  InboundMessage plain_copy = *envelope;
  plain_copy.encrypt.clear();
  EXPECT_EQ(DebugString(plain_copy), DebugString(*m));
}

// --- Vector D: the current official doc, secure mode end to end -----------

constexpr std::string_view kDEncrypt =
    "D7yzvUNAL930rd28wf21s4hvXhz0L6Uit/p2Di6C5DHyYGpEgdBRnKjBec34JwoQXicwaZC7"
    "fOVihW80F4VtsdvE//1vr7oAbqjDv8KenVp+ajKYpJnyQ4zMRhIC+a31fCVOMC03FfzV/QuC"
    "94kBP55a+Za3sJgvAn+ZbsNqZI5DkyuzkhQN8OBqCzFhizGmy0xpM0MEA4agpvE+RuNO1rhH"
    "TtuJB5yltw1FiYzecSXJ+y/D2r81VkRn2eYjh2ltsoyfbDR7Is6ookXIFxTfyeNyeHxMeT4K"
    "N5WpCDmSbTcUYrbBUlkGLJ9n/rU8YOywma6G7aTb7KZKOqCxgfoUlYEZPk4FUL/TK7ShriFD"
    "MVCLyjQJ15Ob++agDWtcxhfUfe6HIoIpRW8mKNBQiY/Jd1svvuskA1wLef1RTtzKfMpagSCX"
    "/laZINmdnX4zrF6kIaR9P4xQrWXbsTFHTYe0Mg==";
constexpr std::string_view kDPlain =
    "<xml><ToUserName><![CDATA[gh_97417a04a28d]]></ToUserName>\n"
    "<FromUserName><![CDATA[o9AgO5Kd5ggOC-bXrbNODIiE3bGY]]></FromUserName>\n"
    "<CreateTime>1715943329</CreateTime>\n"
    "<MsgType><![CDATA[event]]></MsgType>\n"
    "<Event><![CDATA[debug_demo]]></Event>\n"
    "<debug_str><![CDATA[hello world]]></debug_str>\n"
    "</xml>";
constexpr std::string_view kDReplyPlain = "<xml><demo_resp>[CDATA[good luck]]</demo_resp></xml>";
constexpr std::string_view kDReplyEncrypt =
    "hE8R6mGXHkJJjU72KxzKUd1GEkKJaEZq7vRL8XgK3o+00k8JGq6+pZJUIlTSyhsX+bxIBQ72"
    "g3GyvDdIZcr6+3HAZbSvPT9t/o11MI7d6WELwqrGd7jMnV0zv3Zc9Nq7";

TEST(CryptorVectorTest, DOfficialDocInbound) {
  Cryptor c = Make("AAAAA", kZeroKey, "wx134c8103faa5a59e");
  EXPECT_TRUE(c.VerifyMsgSignature("1715943329", "1590219412", kDEncrypt,
                                   "6c12a4205838198b8fa631b3220723bb07f1015c"));
  Result<std::string> xml = c.Decrypt(kDEncrypt);
  ASSERT_TRUE(xml.ok()) << xml.error();
  EXPECT_EQ(*xml, kDPlain);
  EXPECT_EQ(xml->size(), 292u);
  // The zero key makes the frame checkable with plain OpenSSL.
  const std::string frame = ZeroKeyAes(false, B64Decode(kDEncrypt));
  EXPECT_EQ(frame.substr(0, 16), "1205899eaf019bbd");
  EXPECT_EQ(frame.substr(16, 4), Be32(292));

  Result<InboundMessage> m = ParseMessage(*xml);
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(DebugString(*m),
            "{to_user=\"gh_97417a04a28d\" "
            "from_user=\"o9AgO5Kd5ggOC-bXrbNODIiE3bGY\" create_time=1715943329 "
            "msg_type=\"event\" event=\"debug_demo\"}");
}

TEST(CryptorVectorTest, DOfficialDocReply) {
  Cryptor c = Make("AAAAA", kZeroKey, "wx134c8103faa5a59e");
  EXPECT_EQ(c.Encrypt(kDReplyPlain, "999951349e8ee746"), kDReplyEncrypt);
  EXPECT_EQ(c.Sign("1713424427", "415670741", kDReplyEncrypt),
            "03e0812039325c2712ef5f0f980fd14c70d6e307");
  EXPECT_EQ(c.EncryptedReply(kDReplyPlain, "1713424427", "415670741", "999951349e8ee746"),
            "<xml><Encrypt><![CDATA[" + std::string(kDReplyEncrypt) +
                "]]></Encrypt>"
                "<MsgSignature><![CDATA["
                "03e0812039325c2712ef5f0f980fd14c70d6e307]]></MsgSignature>"
                "<TimeStamp>1713424427</TimeStamp>"
                "<Nonce><![CDATA[415670741]]></Nonce></xml>");
  EXPECT_EQ(DecryptResult(c, kDReplyEncrypt), "OK " + std::string(kDReplyPlain));
}

// --- Vector E: wechatpy (WeCom class; same algorithm) ----------------------

constexpr std::string_view kEKey = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR";
constexpr std::string_view kEId = "wx49f0ab532d5d035a";

TEST(CryptorVectorTest, EWechatpyEncryptMessage) {
  Cryptor c = Make("123456", std::string(kEKey), std::string(kEId));
  const std::string plain =
      "<xml>\n<MsgType><![CDATA[text]]></MsgType>\n"
      "<Content><![CDATA[test]]></Content>\n"
      "<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>\n"
      "<ToUserName><![CDATA[messense]]></ToUserName>\n"
      "<AgentID>1</AgentID>\n<CreateTime>1411525903</CreateTime>\n</xml>";
  const std::string expected =
      "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4H"
      "MOTzHrluLBYqxgNcBqGsL8GqxlhZgURnAtObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2F"
      "qllNXcfmstttyIkMKCCmVbCFM2JTF5wY0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmpB6o8"
      "NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsVbwbgX05UPPJvFurDXafG0RQy"
      "PR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3kFxtAGVRe3ypD3"
      "WeK2XeFYFMNMpatF9XiKzHo3";
  EXPECT_EQ(c.Encrypt(plain, "1234567890123456"), expected);
  EXPECT_EQ(c.Sign("1411525903", "461056294", expected),
            "407518b7649e86ef23978113f92d27afa9296533");
  EXPECT_EQ(DecryptResult(c, expected), "OK " + plain);
}

TEST(CryptorVectorTest, EWechatpyDecryptMessage) {
  Cryptor c = Make("123456", std::string(kEKey), std::string(kEId));
  const std::string encrypt =
      "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnX"
      "Bu7mCPatfjsu6IHCrsTyeDXzF6Bv283dGymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wA"
      "SFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIi"
      "OAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2S"
      "jHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dS"
      "hyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0=";
  EXPECT_TRUE(c.VerifyMsgSignature("1411525903", "461056294", encrypt,
                                   "74d92dfeb87ba7c714f89d98870ae5eb62dff26d"));
  Result<std::string> xml = c.Decrypt(encrypt);
  ASSERT_TRUE(xml.ok()) << xml.error();
  Result<InboundMessage> m = ParseMessage(*xml);
  ASSERT_TRUE(m.ok()) << m.error() << "\n" << *xml;
  EXPECT_EQ(m->content, "test");
  EXPECT_EQ(m->from_user, "messense");
  EXPECT_EQ(m->msg_type, "text");
}

// --- Signature-only vectors -------------------------------------------------

TEST(CryptorVectorTest, WechatCryptoSignature) {
  Cryptor c = Make("RMNlACHlV5ThzfRlVS4D4", kZeroKey, "wxany");
  EXPECT_EQ(c.Sign("timestamp", "nonce", "encrypt"), "8edac0945683c119ee71c9f6256d76c48aa08a96");
  EXPECT_TRUE(c.VerifyMsgSignature("timestamp", "nonce", "encrypt",
                                   "8edac0945683c119ee71c9f6256d76c48aa08a96"));
}

constexpr std::string_view kWeComEchostr =
    "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7"
    "OaBO+FZXvnaqQ==";

TEST(CryptorVectorTest, WeComVerifyUrlEchostr) {
  Cryptor c = Make("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7");
  EXPECT_EQ(c.Sign("1409659589", "263014780", kWeComEchostr),
            "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3");
  Result<std::string> echo = c.DecryptEchostr("1409659589", "263014780", kWeComEchostr,
                                              "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3");
  ASSERT_TRUE(echo.ok()) << echo.error();
  EXPECT_EQ(*echo, "1616140317555161061");
}

TEST(CryptorVectorTest, WeComEchostrWithBadSignature) {
  Cryptor c = Make("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7");
  Result<std::string> echo = c.DecryptEchostr("1409659590", "263014780", kWeComEchostr,
                                              "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3");
  ASSERT_FALSE(echo.ok());
  EXPECT_EQ(echo.error(), "msg_signature does not match");
  // '+' turned into ' ' by a sloppy URL decoder breaks the signature.
  std::string mangled(kWeComEchostr);
  mangled[mangled.find('+')] = ' ';
  EXPECT_FALSE(c.DecryptEchostr("1409659589", "263014780", mangled,
                                "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3")
                   .ok());
}

// --- Create() ----------------------------------------------------------------

TEST(CryptorCreateTest, AcceptsKeysWithNonZeroSpareBits) {
  // 'G' and 'R' leave bits that a strict base64 decoder would refuse.
  EXPECT_EQ(CreateError("t", std::string(kSampleKey), "wx"), "no error");
  EXPECT_EQ(CreateError("t", std::string(kEKey), "wx"), "no error");
}

TEST(CryptorCreateTest, RejectsBadArguments) {
  EXPECT_EQ(CreateError("", kZeroKey, "wx"), "token is empty");
  EXPECT_EQ(CreateError("t", kZeroKey, ""), "AppID is empty");
  EXPECT_EQ(CreateError("t", kZeroKey.substr(1), "wx"),
            "EncodingAESKey must be 43 characters (got 42)");
  EXPECT_EQ(CreateError("t", kZeroKey + "=", "wx"),
            "EncodingAESKey must be 43 characters (got 44)");
  EXPECT_EQ(CreateError("t", "", "wx"), "EncodingAESKey must be 43 characters (got 0)");
  EXPECT_EQ(CreateError("t", kZeroKey.substr(1) + "!", "wx"),
            "EncodingAESKey must contain only base64 characters");
  EXPECT_EQ(CreateError("t", kZeroKey.substr(1) + "=", "wx"),
            "EncodingAESKey must contain only base64 characters");
  EXPECT_EQ(CreateError("t", kZeroKey, "wx", "short"),
            "previous EncodingAESKey must be 43 characters (got 5)");
}

// --- Framing and padding (§4.4, §4.5) -------------------------------------

TEST(CryptorFramingTest, CraftedFrameDecrypts) {
  Cryptor c = Make("t", kZeroKey, std::string(kTestAppId));
  const std::string msg = "<xml><Content>hi</Content></xml>";
  const std::string plain =
      Frame(msg, kTestAppId, msg.size(), 32 - (20 + msg.size() + kTestAppId.size()) % 32);
  EXPECT_EQ(DecryptResult(c, Seal(plain)), "OK " + msg);
}

TEST(CryptorFramingTest, AlignedPlaintextGetsAFullBlockOfPadding) {
  Cryptor c = Make("t", kZeroKey, std::string(kTestAppId));
  // 16 + 4 + 29 + 15 = 64: already a multiple of 32.
  const std::string msg(29, 'x');
  const std::string encrypt = c.Encrypt(msg, "0123456789abcdef");
  const std::string frame = ZeroKeyAes(false, B64Decode(encrypt));
  ASSERT_EQ(frame.size(), 96u);
  EXPECT_EQ(frame.substr(64), std::string(32, '\x20'));
  EXPECT_EQ(frame.substr(0, 64), "0123456789abcdef" + Be32(29) + msg + std::string(kTestAppId));
  EXPECT_EQ(DecryptResult(c, encrypt), "OK " + msg);
}

TEST(CryptorFramingTest, PaddingIsOneTo32Bytes) {
  Cryptor c = Make("t", kZeroKey, std::string(kTestAppId));
  for (std::size_t n = 0; n < 70; ++n) {
    const std::string msg(n, 'm');
    const std::string frame = ZeroKeyAes(false, B64Decode(c.Encrypt(msg, "0123456789abcdef")));
    const std::size_t unpadded = 20 + n + kTestAppId.size();
    const std::size_t pad = 32 - unpadded % 32;
    ASSERT_EQ(frame.size(), unpadded + pad) << n;
    EXPECT_EQ(frame.substr(unpadded), std::string(pad, static_cast<char>(pad))) << n;
  }
}

TEST(CryptorFramingTest, BadPaddingByte) {
  Cryptor c = Make("t", kZeroKey, std::string(kTestAppId));
  EXPECT_EQ(DecryptResult(c, Seal(Frame("<xml/>", kTestAppId, 6, 0))),
            "ERROR bad padding (wrong key or corrupted message)");
  EXPECT_EQ(DecryptResult(c, Seal(Frame("<xml/>", kTestAppId, 6, 33))),
            "ERROR bad padding (wrong key or corrupted message)");
  EXPECT_EQ(DecryptResult(c, Seal(Frame("<xml/>", kTestAppId, 6, 255))),
            "ERROR bad padding (wrong key or corrupted message)");
}

TEST(CryptorFramingTest, LengthFieldLargerThanTheBuffer) {
  Cryptor c = Make("t", kZeroKey, std::string(kTestAppId));
  const std::string msg = "<xml/>";
  const int pad = 32 - (20 + 6 + 15) % 32;
  EXPECT_EQ(DecryptResult(c, Seal(Frame(msg, kTestAppId, 6 + 15 + 1, pad))),
            "ERROR length field exceeds the message (wrong key or corrupted "
            "message)");
  EXPECT_EQ(DecryptResult(c, Seal(Frame(msg, kTestAppId, 0xFFFFFFFFu, pad))),
            "ERROR length field exceeds the message (wrong key or corrupted "
            "message)");
  // A length that eats part of the AppID leaves the wrong AppID behind.
  EXPECT_EQ(DecryptResult(c, Seal(Frame(msg, kTestAppId, 6 + 3, pad))),
            "ERROR AppID mismatch (wrong key, or meant for another app)");
}

TEST(CryptorFramingTest, TooShortAfterPadding) {
  Cryptor c = Make("t", kZeroKey, std::string(kTestAppId));
  EXPECT_EQ(DecryptResult(c, Seal(std::string(32, '\x20'))),
            "ERROR decrypted message is too short");
  EXPECT_EQ(DecryptResult(c, Seal(std::string(15, 'r') + std::string(17, '\x11'))),
            "ERROR decrypted message is too short");
}

TEST(CryptorFramingTest, WrongAppId) {
  Cryptor c = Make("t", kZeroKey, std::string(kTestAppId));
  const std::string msg = "<xml/>";
  EXPECT_EQ(DecryptResult(c, Seal(Frame(msg, "wxother", 6, 32 - (20 + 6 + 7) % 32))),
            "ERROR AppID mismatch (wrong key, or meant for another app)");
  // Same key, different account.
  Cryptor other = Make("t", kZeroKey, "wxotherapp");
  EXPECT_EQ(DecryptResult(c, other.Encrypt(msg, "0123456789abcdef")),
            "ERROR AppID mismatch (wrong key, or meant for another app)");
  // An AppID with extra bytes after it is not ours either.
  EXPECT_EQ(
      DecryptResult(c, Seal(Frame(msg, std::string(kTestAppId) + "x", 6, 32 - (20 + 6 + 16) % 32))),
      "ERROR AppID mismatch (wrong key, or meant for another app)");
}

TEST(CryptorFramingTest, MessagesWithAnyBytesRoundTrip) {
  Cryptor c = Make("t", kZeroKey, std::string(kTestAppId));
  for (const std::string& msg : {std::string(), std::string("\0\x01\xff]]>", 6),
                                 std::string(100000, 'z'), std::string(kA2Plain)}) {
    EXPECT_EQ(DecryptResult(c, c.Encrypt(msg, "0123456789abcdef")), "OK " + msg);
    EXPECT_EQ(DecryptResult(c, c.Encrypt(msg)), "OK " + msg);
  }
}

TEST(CryptorFramingTest, RandomPrefixDiffersEachTime) {
  Cryptor c = Make("t", kZeroKey, std::string(kTestAppId));
  const std::string a = c.Encrypt("<xml/>");
  const std::string b = c.Encrypt("<xml/>");
  EXPECT_NE(a, b);
  EXPECT_EQ(ZeroKeyAes(false, B64Decode(a)).substr(16), ZeroKeyAes(false, B64Decode(b)).substr(16));
}

TEST(CryptorFramingTest, ShortOrLongRandomPrefixIsFixedTo16Bytes) {
  Cryptor c = Make("t", kZeroKey, std::string(kTestAppId));
  EXPECT_EQ(c.Encrypt("<xml/>", "abc"),
            c.Encrypt("<xml/>", std::string("abc") + std::string(13, '\0')));
  EXPECT_EQ(c.Encrypt("<xml/>", "0123456789abcdefXYZ"), c.Encrypt("<xml/>", "0123456789abcdef"));
}

// --- Hostile ciphertexts -----------------------------------------------------

TEST(CryptorHostileTest, TruncatedBase64) {
  Cryptor c = Make("pamtest", std::string(kSampleKey), "wxb11529c136998cb6");
  const std::string a1(kA1Encrypt);
  ASSERT_EQ(a1.size(), 88u);
  EXPECT_EQ(DecryptResult(c, a1.substr(0, 87)), "ERROR Encrypt is not valid base64");
  EXPECT_EQ(DecryptResult(c, a1.substr(0, 84)),
            "ERROR ciphertext length 63 is not a positive multiple of 16");
  EXPECT_EQ(DecryptResult(c, a1.substr(0, 85)), "ERROR Encrypt is not valid base64");
  // Whole 16-byte blocks dropped: still decryptable AES, wrong framing.
  const std::string two_blocks = B64Encode(B64Decode(a1).substr(0, 32));
  EXPECT_FALSE(c.Decrypt(two_blocks).ok());
}

TEST(CryptorHostileTest, NotBase64OrEmpty) {
  Cryptor c = Make("t", kZeroKey, std::string(kTestAppId));
  EXPECT_EQ(DecryptResult(c, ""), "ERROR Encrypt is empty");
  EXPECT_EQ(DecryptResult(c, "abc$def="), "ERROR Encrypt is not valid base64");
  EXPECT_EQ(DecryptResult(c, "abcd efg"), "ERROR Encrypt is not valid base64");
  EXPECT_EQ(DecryptResult(c, "ab=c"), "ERROR Encrypt is not valid base64");
  EXPECT_EQ(DecryptResult(c, "===="), "ERROR Encrypt is not valid base64");
  EXPECT_EQ(DecryptResult(c, B64Encode(std::string(20, 'x'))),
            "ERROR ciphertext length 20 is not a positive multiple of 16");
}

TEST(CryptorHostileTest, TamperedCiphertextWithValidSignature) {
  Cryptor c = Make("pamtest", std::string(kSampleKey), "wxb11529c136998cb6");
  std::string raw = B64Decode(kBEncrypt);
  raw[0] = static_cast<char>(raw[0] ^ 0x80);  // Flips the length's top bit.
  const std::string tampered = B64Encode(raw);
  EXPECT_FALSE(c.VerifyMsgSignature("1458300676", "260774613", tampered,
                                    "4f3ad57b6989f09f4eb392acce4f9e93942ed890"));
  // An attacker who knows the token can sign anything; decryption must
  // still refuse the garbled frame.
  const std::string signature = c.Sign("1458300676", "260774613", tampered);
  EXPECT_TRUE(c.VerifyMsgSignature("1458300676", "260774613", tampered, signature));
  EXPECT_EQ(DecryptResult(c, tampered),
            "ERROR length field exceeds the message (wrong key or corrupted "
            "message)");
}

// --- Key rotation (§4.2) ----------------------------------------------------

constexpr std::string_view kNewKey = "Zyxwvutsrqponmlkjihgfedcba9876543210ZYXWVUT";

TEST(CryptorKeyRotationTest, WrongKeyFails) {
  Cryptor old_only = Make("t", std::string(kSampleKey), "wxapp");
  Cryptor new_only = Make("t", std::string(kNewKey), "wxapp");
  const std::string from_new = new_only.Encrypt("<xml/>", "0123456789abcdef");
  EXPECT_FALSE(old_only.Decrypt(from_new).ok());
}

TEST(CryptorKeyRotationTest, FallsBackToPreviousKeyAndRepliesWithIt) {
  Cryptor old_only = Make("t", std::string(kSampleKey), "wxapp");
  Cryptor rotated = Make("t", std::string(kNewKey), "wxapp", std::string(kSampleKey));
  EXPECT_TRUE(rotated.has_previous_key());

  AesKeySlot used = AesKeySlot::kCurrent;
  Result<std::string> xml = rotated.Decrypt(old_only.Encrypt("<xml>old</xml>"), &used);
  ASSERT_TRUE(xml.ok()) << xml.error();
  EXPECT_EQ(*xml, "<xml>old</xml>");
  EXPECT_EQ(used, AesKeySlot::kPrevious);

  // The reply goes out under the key that worked, so the sender can read it.
  Result<InboundMessage> envelope =
      ParseMessage(rotated.EncryptedReply("<xml>reply</xml>", "1700000000", "n", used));
  ASSERT_TRUE(envelope.ok()) << envelope.error();
  EXPECT_EQ(DecryptResult(old_only, envelope->encrypt), "OK <xml>reply</xml>");

  used = AesKeySlot::kPrevious;
  xml = rotated.Decrypt(rotated.Encrypt("<xml>new</xml>"), &used);
  ASSERT_TRUE(xml.ok()) << xml.error();
  EXPECT_EQ(used, AesKeySlot::kCurrent);
}

TEST(CryptorKeyRotationTest, PreviousSlotWithoutPreviousKeyUsesCurrent) {
  Cryptor c = Make("t", kZeroKey, std::string(kTestAppId));
  EXPECT_FALSE(c.has_previous_key());
  EXPECT_EQ(c.Encrypt("<xml/>", "0123456789abcdef", AesKeySlot::kPrevious),
            c.Encrypt("<xml/>", "0123456789abcdef"));
}

TEST(CryptorKeyRotationTest, ErrorIsTheCurrentKeys) {
  Cryptor c = Make("t", kZeroKey, std::string(kTestAppId), std::string(kSampleKey));
  EXPECT_EQ(DecryptResult(c, Seal(Frame("<xml/>", "wxother", 6, 32 - (20 + 6 + 7) % 32))),
            "ERROR AppID mismatch (wrong key, or meant for another app)");
}

// --- Encrypted reply envelope (§4.6) -----------------------------------------

TEST(EncryptedReplyTest, EnvelopeVerifiesAndDecrypts) {
  Cryptor c = Make("AAAAA", kZeroKey, "wx134c8103faa5a59e");
  InboundMessage in;
  in.to_user = "gh_97417a04a28d";
  in.from_user = "o9AgO5Kd5ggOC-bXrbNODIiE3bGY";
  const std::string reply = TextReply(in, 1715943330, "收到 ]]> 谢谢");
  const std::string envelope = c.EncryptedReply(reply, "1715943330", "12345");
  Result<InboundMessage> parsed = ParseMessage(envelope);
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_TRUE(c.VerifyMsgSignature("1715943330", "12345", parsed->encrypt,
                                   c.Sign("1715943330", "12345", parsed->encrypt)));
  const std::string prefix = "<xml><Encrypt><![CDATA[" + parsed->encrypt +
                             "]]></Encrypt><MsgSignature><![CDATA[" +
                             c.Sign("1715943330", "12345", parsed->encrypt) +
                             "]]></MsgSignature><TimeStamp>1715943330"
                             "</TimeStamp><Nonce><![CDATA[12345]]></Nonce>"
                             "</xml>";
  EXPECT_EQ(envelope, prefix);
  Result<std::string> inner = c.Decrypt(parsed->encrypt);
  ASSERT_TRUE(inner.ok()) << inner.error();
  EXPECT_EQ(*inner, reply);
  Result<InboundMessage> back = ParseMessage(*inner);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->to_user, "o9AgO5Kd5ggOC-bXrbNODIiE3bGY");
  EXPECT_EQ(back->content, "收到 ]]> 谢谢");
}

TEST(EncryptedReplyTest, EscapesUntrustedTimestampAndNonce) {
  Cryptor c = Make("t", kZeroKey, std::string(kTestAppId));
  const std::string envelope = c.EncryptedReply("<xml/>", "1<2&3", "a]]>b", "0123456789abcdef");
  const std::string encrypt = c.Encrypt("<xml/>", "0123456789abcdef");
  EXPECT_EQ(envelope, "<xml><Encrypt><![CDATA[" + encrypt + "]]></Encrypt><MsgSignature><![CDATA[" +
                          c.Sign("1<2&3", "a]]>b", encrypt) +
                          "]]></MsgSignature><TimeStamp>1&lt;2&amp;3</TimeStamp>"
                          "<Nonce><![CDATA[a]]]]><![CDATA[>b]]></Nonce></xml>");
  EXPECT_TRUE(ParseMessage(envelope).ok());
}

// --- A whole secure-mode exchange, as the server will run it ---------------

TEST(SecureModeFlowTest, OfficialDocRequestToEncryptedAnswer) {
  Cryptor c = Make("AAAAA", kZeroKey, "wx134c8103faa5a59e");
  const std::string body =
      "<xml><ToUserName><![CDATA[gh_97417a04a28d]]></ToUserName>"
      "<Encrypt><![CDATA[" +
      std::string(kDEncrypt) + "]]></Encrypt></xml>";

  Result<InboundMessage> envelope = ParseMessage(body);
  ASSERT_TRUE(envelope.ok()) << envelope.error();
  ASSERT_TRUE(c.VerifyMsgSignature("1715943329", "1590219412", envelope->encrypt,
                                   "6c12a4205838198b8fa631b3220723bb07f1015c"));
  AesKeySlot key = AesKeySlot::kPrevious;
  Result<std::string> xml = c.Decrypt(envelope->encrypt, &key);
  ASSERT_TRUE(xml.ok()) << xml.error();
  Result<InboundMessage> in = ParseMessage(*xml);
  ASSERT_TRUE(in.ok()) << in.error();
  EXPECT_EQ(DedupKey(*in), "evt:o9AgO5Kd5ggOC-bXrbNODIiE3bGY|1715943329|debug_demo|");

  const std::string answer =
      c.EncryptedReply(TextReply(*in, 1715943330, "good luck"), "1715943330", "1590219412", key);
  Result<InboundMessage> out = ParseMessage(answer);
  ASSERT_TRUE(out.ok()) << out.error();
  Result<std::string> reply = c.Decrypt(out->encrypt);
  ASSERT_TRUE(reply.ok()) << reply.error();
  EXPECT_EQ(*reply,
            "<xml><ToUserName><![CDATA[o9AgO5Kd5ggOC-bXrbNODIiE3bGY]]>"
            "</ToUserName><FromUserName><![CDATA[gh_97417a04a28d]]>"
            "</FromUserName><CreateTime>1715943330</CreateTime>"
            "<MsgType><![CDATA[text]]></MsgType>"
            "<Content><![CDATA[good luck]]></Content></xml>");
}

}  // namespace
}  // namespace gridbot::bot::wechat
