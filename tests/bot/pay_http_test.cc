// Payments end to end over real HTTP: the gridbot binary on a free port. A
// chat creates a payment order; the gateway's notify (HMAC-signed, see
// bot/payment_gateway.h) credits it once however often it arrives, and the
// customer is told at their next turn; bad notifications are refused; the
// built-in payment page shows the order and its button pays it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <string>

#include "bot/payment_gateway.h"
#include "storage/store.h"
#include "tests/bot/test_server.h"

namespace gridbot::testing {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using nlohmann::json;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSecret[] = "pay-test-secret";

// The server with a payment secret, the replies of a chat and notifies.
class Server : public TestServer {
 public:
  explicit Server(const std::string& db) : TestServer(db, {"--pay-secret", kSecret, "--pay-simulator"}) {}

  // The replies to a chat message, one "type: text" line each.
  std::string Chat(const std::string& user, const std::string& text) {
    std::string joined;
    for (const auto& r : ChatReplies(user, text))
      joined += r["type"].get<std::string>() + ": " + r["text"].get<std::string>() + "\n";
    return joined;
  }

  // A notify as a form body; `sign` "" = signed correctly with kSecret.
  http::response<http::string_body> Notify(const std::string& order_no, const std::string& amount,
                                           const std::string& status = "success",
                                           std::string sign = "") {
    if (sign.empty()) sign = bot::PaymentGateway::Sign(kSecret, order_no, amount, status);
    return Request(
        http::verb::post, "/pay/notify",
        "order_no=" + order_no + "&amount=" + amount + "&status=" + status + "&sign=" + sign,
        "application/x-www-form-urlencoded");
  }
};

std::string OrderNoIn(const std::string& reply) {
  std::smatch m;
  std::regex re("PO\\d{8}[0-9A-Z]{26}");  // the date, then 130 random bits
  return std::regex_search(reply, m, re) ? m.str() : "";
}

int Count(const std::string& haystack, const std::string& needle) {
  int n = 0;
  for (size_t p = haystack.find(needle); p != std::string::npos;
       p = haystack.find(needle, p + needle.size()))
    ++n;
  return n;
}

// Binds 0301000001234 (owes 129.80 for 2024-07) and orders its arrears by
// Alipay; returns the order number.
std::string OrderArrears(Server& s, const std::string& user) {
  s.Chat(user, "绑定户号");
  s.Chat(user, "南宁");
  s.Chat(user, "0301000001234");
  EXPECT_THAT(s.Chat(user, "246810"), HasSubstr("绑定成功"));
  EXPECT_THAT(s.Chat(user, "用支付宝缴费"), HasSubstr("缴纳129.80元"));
  const std::string reply = s.Chat(user, "确认");
  const std::string order_no = OrderNoIn(reply);
  EXPECT_THAT(reply,
              HasSubstr("http://127.0.0.1:" + std::to_string(s.port()) + "/pay/" + order_no));
  return order_no;
}

TEST(PayHttp, NotifyThreeTimesCreditsOnceAndTellsTheCustomer) {
  Server s(TempDb("pay", "notify"));
  ASSERT_NE(s.port(), 0);
  const std::string order_no = OrderArrears(s, "p1");
  ASSERT_FALSE(order_no.empty());

  auto page = s.Request(http::verb::get, "/pay/" + order_no);
  EXPECT_EQ(page.result_int(), 200);
  EXPECT_THAT(std::string(page[http::field::content_type]), HasSubstr("text/html"));
  EXPECT_THAT(page.body(),
              AllOf(HasSubstr(order_no), HasSubstr("0301*****1234"), HasSubstr("129.80元"),
                    HasSubstr("支付宝"), HasSubstr("待支付"), HasSubstr("确认支付")));

  for (int i = 0; i < 3; ++i) {
    // The second time as JSON: both bodies are accepted.
    auto res = i == 1 ? s.Request(http::verb::post, "/pay/notify",
                                  json{{"order_no", order_no},
                                       {"amount", "129.80"},
                                       {"status", "success"},
                                       {"sign", bot::PaymentGateway::Sign(kSecret, order_no,
                                                                          "129.80", "success")}}
                                      .dump())
                      : s.Notify(order_no, "129.80");
    EXPECT_EQ(res.result_int(), 200) << res.body();
    EXPECT_EQ(res.body(), "success");
  }

  // Credited once: the bill is paid and nothing is left over as a balance
  // (twice would leave 129.80 prepaid). The notice comes first, once.
  const std::string next = s.Chat("p1", "我欠费了吗");
  EXPECT_THAT(next,
              AllOf(HasSubstr("notice: 缴费成功"), HasSubstr("129.80元已到账"), HasSubstr(order_no),
                    HasSubstr("已缴清2024年7月的电费"), HasSubstr("当前预存余额：0.00元"),
                    HasSubstr("目前没有欠费，请放心用电")));
  EXPECT_EQ(next.rfind("notice: ", 0), 0u) << next;
  EXPECT_EQ(Count(next, "缴费成功"), 1);
  EXPECT_THAT(s.Chat("p1", "我欠费了吗"),
              AllOf(Not(HasSubstr("缴费成功")), HasSubstr("没有欠费"), Not(HasSubstr("预存余额"))));
  EXPECT_THAT(s.Request(http::verb::get, "/pay/" + order_no).body(),
              AllOf(HasSubstr("已支付"), Not(HasSubstr("确认支付</button>"))));
}

TEST(PayHttp, BadNotificationsAreRefusedClearly) {
  Server s(TempDb("pay", "bad"));
  ASSERT_NE(s.port(), 0);
  const std::string order_no = OrderArrears(s, "p2");
  ASSERT_FALSE(order_no.empty());

  auto forged = s.Notify(order_no, "129.80", "success", std::string(64, '0'));
  EXPECT_EQ(forged.result_int(), 403);
  EXPECT_THAT(forged.body(), HasSubstr("invalid sign"));
  // Signed with another secret.
  auto other = s.Notify(order_no, "129.80", "success",
                        bot::PaymentGateway::Sign("another-secret", order_no, "129.80", "success"));
  EXPECT_EQ(other.result_int(), 403);
  auto unsigned_notify = s.Request(http::verb::post, "/pay/notify",
                                   "order_no=" + order_no + "&amount=129.80&status=success",
                                   "application/x-www-form-urlencoded");
  EXPECT_EQ(unsigned_notify.result_int(), 403);
  EXPECT_THAT(unsigned_notify.body(), HasSubstr("missing sign"));
  // Signed, but the amount is not the order's, or the order does not exist.
  auto mismatch = s.Notify(order_no, "1.00");
  EXPECT_EQ(mismatch.result_int(), 400);
  EXPECT_THAT(mismatch.body(), HasSubstr("does not match"));
  auto unknown = s.Notify("PO20240804000000", "129.80");
  EXPECT_EQ(unknown.result_int(), 404);
  EXPECT_THAT(unknown.body(), HasSubstr("unknown order"));
  auto garbage = s.Request(http::verb::post, "/pay/notify", "{not json");
  EXPECT_EQ(garbage.result_int(), 400);
  auto number = s.Request(http::verb::post, "/pay/notify",
                          R"({"order_no":"x","amount":129.8,"status":"success","sign":"ab"})");
  EXPECT_EQ(number.result_int(), 400);
  EXPECT_EQ(s.Request(http::verb::get, "/pay/notify").result_int(), 405);
  EXPECT_EQ(s.Request(http::verb::get, "/pay/PO20240804000000").result_int(), 404);
  EXPECT_EQ(s.Request(http::verb::get, "/pay/../etc/passwd").result_int(), 404);
  // A signed notify with a status other than success changes nothing.
  auto closed = s.Notify(order_no, "129.80", "closed");
  EXPECT_EQ(closed.result_int(), 200);

  // Nothing was credited; the order is still waiting; the server is fine.
  EXPECT_THAT(s.Chat("p2", "我欠费了吗"),
              AllOf(HasSubstr("欠费129.80元"), Not(HasSubstr("notice"))));
  EXPECT_THAT(s.Request(http::verb::get, "/pay/" + order_no).body(), HasSubstr("待支付"));
  EXPECT_EQ(s.Request(http::verb::get, "/healthz").result_int(), 200);
}

TEST(PayHttp, BuiltInPageButtonPaysOnce) {
  Server s(TempDb("pay", "page"));
  ASSERT_NE(s.port(), 0);
  const std::string order_no = OrderArrears(s, "p3");
  ASSERT_FALSE(order_no.empty());
  auto page = s.Request(http::verb::get, "/pay/" + order_no);
  EXPECT_EQ(page.result_int(), 200);
  EXPECT_THAT(page.body(), AllOf(HasSubstr("<meta charset=\"utf-8\">"),
                                 HasSubstr("action=\"/pay/" + order_no + "/confirm\"")));
  auto paid = s.Request(http::verb::post, "/pay/" + order_no + "/confirm", "",
                        "application/x-www-form-urlencoded");
  EXPECT_EQ(paid.result_int(), 200);
  EXPECT_THAT(paid.body(),
              AllOf(HasSubstr("支付成功"), HasSubstr("129.80元"), HasSubstr("0301*****1234")));
  auto again = s.Request(http::verb::post, "/pay/" + order_no + "/confirm", "",
                         "application/x-www-form-urlencoded");
  EXPECT_EQ(again.result_int(), 200);
  EXPECT_THAT(again.body(), HasSubstr("已支付"));
  // And a gateway notify afterwards changes nothing either.
  EXPECT_EQ(s.Notify(order_no, "129.80").body(), "success");
  const std::string next = s.Chat("p3", "我欠费了吗");
  EXPECT_EQ(Count(next, "缴费成功"), 1) << next;
  EXPECT_THAT(next,
              AllOf(HasSubstr("当前预存余额：0.00元"), HasSubstr("目前没有欠费，请放心用电")));
}

TEST(PayHttp, PrepaidCardOverApiChat) {
  Server s(TempDb("pay", "card"));
  ASSERT_NE(s.port(), 0);
  s.Chat("c1", "绑定户号");
  s.Chat("c1", "南宁");
  s.Chat("c1", "0301000001234");
  s.Chat("c1", "246810");
  s.Chat("c1", "充值卡充值");
  EXPECT_THAT(s.Chat("c1", "8800123456789005"), HasSubstr("卡密码"));
  EXPECT_THAT(s.Chat("c1", "853062"), HasSubstr("已经使用过"));
  s.Chat("c1", "取消");
  s.Chat("c1", "充值卡充值");
  EXPECT_THAT(s.Chat("c1", "8800123456789024"), HasSubstr("卡密码"));
  EXPECT_THAT(s.Chat("c1", "000000"), HasSubstr("还可以尝试4次"));
  EXPECT_THAT(s.Chat("c1", "962740"), HasSubstr("面值100.00元"));
  // 100.00 does not cover the 129.80 bill: it stays on the account, 29.80 owed.
  EXPECT_THAT(s.Chat("c1", "确认"), AllOf(HasSubstr("充值成功"), Not(HasSubstr("已自动缴清")),
                                          HasSubstr("仍欠费29.80元"), HasSubstr("余额：100.00元")));
  EXPECT_THAT(s.Chat("c1", "我欠费了吗"), HasSubstr("还需缴纳29.80元"));
}

// Orders expire: two hours after it was made, the page and the simulator
// take no payment for it (a gateway's notify for money taken still counts).
TEST(PayHttp, PendingOrdersExpire) {
  const std::string db = TempDb("pay", "expire");
  Server s(db);
  ASSERT_NE(s.port(), 0);
  const std::string order_no = OrderArrears(s, "p9");
  ASSERT_FALSE(order_no.empty());
  {
    auto store = storage::Store::Open(db);
    ASSERT_TRUE(store.ok());
    storage::Tx tx = (*store)->Begin();
    storage::Statement st = tx.Prep("UPDATE payment_orders SET created_at = created_at - 3 * 3600 WHERE order_no = ?");
    st.Bind(1, order_no);
    tx.Check(st.Run());
    ASSERT_TRUE(tx.Commit().ok());
  }
  EXPECT_THAT(s.Request(http::verb::get, "/pay/" + order_no).body(), HasSubstr("已失效"));
  EXPECT_EQ(s.Request(http::verb::post, "/pay/" + order_no + "/confirm", "",
                      "application/x-www-form-urlencoded")
                .result_int(),
            410);
  EXPECT_EQ(s.Notify(order_no, "129.80").body(), "success");
}

}  // namespace
}  // namespace gridbot::testing
