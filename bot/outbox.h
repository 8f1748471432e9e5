// The outbox's delivery, and the monthly bill notices that fill it.
//
// Messages sent outside a reply (SMS codes, bill notices, payment results,
// agent messages) are queued in the outbox table (storage::Tx::QueueOutbox).
// OutboxDelivery sends the pending ones, one sender per channel:
//
//   auto delivery = bot::OutboxDelivery::FromConfig(config, store, clock);
//   bot::DeliveryReport r = delivery->DeliverPending();   // one try each
//
//   - "sms", "email": WebhookSender POSTs {"to":…,"body":…} as JSON to the
//     configured webhook (sms_webhook / email_webhook); any 2xx is delivered.
//   - "wechat": WechatCustomSender sends a customer-service text message
//     (wechat.md §5.1) through wechat_api_base with an access token fetched
//     with wechat_appid / wechat_appsecret and cached until it expires.
//   - "web", "cli": never sent here; the engine shows them in the chat.
// A channel without a sender keeps its messages pending (`gridbot outbox`
// lists them). A failed try counts an attempt; after kMaxAttempts the
// message is marked failed.
//
// QueueBillNotices is what `gridbot notify-bills` runs: one notice per
// active subscription and bill of the month, queued once (dedup key).
//
// Thread safety: a sender may be used from several threads (the WeChat token
// cache is locked). Run one DeliverPending at a time per database: two
// concurrent runs could send a message twice.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bot/app.h"
#include "common/status.h"
#include "common/time.h"
#include "dialogs/replies.h"
#include "storage/store.h"

namespace gridbot::bot {

constexpr std::chrono::milliseconds kDeliveryTimeout{5000};

// Sends one message on one channel.
class OutboxSender {
 public:
  virtual ~OutboxSender() = default;
  // OK once the far end accepted the message; otherwise why not.
  virtual Status Send(const std::string& recipient, const std::string& body) = 0;
};

// POSTs {"to": recipient, "body": body} (application/json) to `url`
// ("http://host[:port]/path"); a 2xx answer means delivered.
class WebhookSender : public OutboxSender {
 public:
  explicit WebhookSender(std::string url, std::chrono::milliseconds timeout = kDeliveryTimeout)
      : url_(std::move(url)), timeout_(timeout) {}
  Status Send(const std::string& recipient, const std::string& body) override;

 private:
  std::string url_;
  std::chrono::milliseconds timeout_;
};

// WeChat customer-service text messages: POST
// <base>/cgi-bin/message/custom/send?access_token=… with
// {"touser":OPENID,"msgtype":"text","text":{"content":…}}; errcode 0 means
// delivered. The token (GET <base>/cgi-bin/token?grant_type=client_credential
// &appid=…&secret=…) is cached until a minute before it expires, and dropped
// when WeChat says it is invalid or expired.
//
// With Kind::kTemplate it sends template messages instead (wechat.md §5.2):
// the outbox body is the template payload without "touser" (template_id,
// data, optional url and client_msg_id, as QueueBillNotices builds it), POSTed
// to <base>/cgi-bin/message/template/send. Template messages reach a
// follower at any time; customer-service messages only within 48 hours of
// their last message, so monthly bill notices go as templates when a
// template is configured (--wechat-bill-template).
class WechatCustomSender : public OutboxSender {
 public:
  enum class Kind { kCustomText, kTemplate };
  WechatCustomSender(std::string api_base, std::string appid, std::string secret,
                     std::shared_ptr<Clock> clock,
                     std::chrono::milliseconds timeout = kDeliveryTimeout,
                     Kind kind = Kind::kCustomText, storage::Store* shared = nullptr);
  Status Send(const std::string& recipient, const std::string& body) override;
  // A customer's picture or voice message (GET <base>/cgi-bin/media/get),
  // for the agent console.
  struct MediaFile {
    std::string content_type, body;
  };
  Result<MediaFile> FetchMedia(const std::string& media_id);

 private:
  Kind kind_;
  Result<std::string> Token();
  // WeChat refused `token`: nobody here or on another instance uses it again.
  void Forget(const std::string& token);
  // The token from the database, shared with every sender and instance on
  // it (`shared_`); none if this sender is to fetch one itself (*leased:
  // it holds the refresh lease). Waits a few seconds for another's refresh.
  std::optional<std::string> SharedToken(UnixSeconds now, bool* leased);

  std::string base_, appid_, secret_;
  std::shared_ptr<Clock> clock_;
  std::chrono::milliseconds timeout_;
  std::mutex mu_;
  std::string token_;              // GUARDED_BY(mu_)
  UnixSeconds token_expires_ = 0;  // GUARDED_BY(mu_)
  storage::Store* shared_;         // may be null: a token of its own
  std::string holder_;             // who this sender is, for the refresh lease
};

// What one delivery run did, message by message.
struct DeliveryAttempt {
  std::int64_t id = 0;
  std::string channel, recipient;
  std::string status;  // after the try: "sent", "pending" (to retry), "failed"
  std::string error;   // why the try failed
};
struct DeliveryReport {
  int sent = 0, retry = 0, failed = 0;
  std::vector<DeliveryAttempt> attempts;
};

class OutboxDelivery {
 public:
  static constexpr int kMaxAttempts = 5;
  // How long a delivery run holds each message it took, per message of the
  // run (a send, a token fetch and a wait for another's refresh, each
  // bounded): a message another instance took is not sent here too, one
  // whose sender died is sent again after its lease.
  static constexpr UnixSeconds kClaimSecondsPerMessage = 20;

  // `sealer` opens the bodies queued sealed (SMS with a code): the one the
  // dialog engine sealed them with (Settings::sealer, bot::SealerFor).
  OutboxDelivery(storage::Store& store, std::shared_ptr<Clock> clock,
                 std::shared_ptr<const privacy::Sealer> sealer)
      : store_(store), clock_(std::move(clock)), sealer_(std::move(sealer)) {}
  // Senders for the channels the config sets up: sms_webhook, email_webhook,
  // and WeChat when wechat_appid and wechat_appsecret are set (base URL
  // wechat_api_base, default https://api.weixin.qq.com).
  static std::unique_ptr<OutboxDelivery> FromConfig(const Config& config, storage::Store& store,
                                                    std::shared_ptr<Clock> clock,
                                                    std::shared_ptr<const privacy::Sealer> sealer);

  // REQUIRES: called before DeliverPending; `channel` is not "web" or "cli".
  void SetSender(const std::string& channel, std::unique_ptr<OutboxSender> sender);
  // The channels that have a sender.
  std::vector<std::string> channels() const;

  // Tries each pending message of a channel with a sender once, oldest
  // first, at most `limit`. The database is not locked while sending.
  DeliveryReport DeliverPending(size_t limit = 100);

 private:
  storage::Store& store_;
  std::shared_ptr<Clock> clock_;
  std::shared_ptr<const privacy::Sealer> sealer_;
  std::map<std::string, std::unique_ptr<OutboxSender>> senders_;
};

// --- bill notices ----------------------------------------------------------

struct BillNoticeReport {
  int queued = 0;     // new messages in the outbox
  int duplicate = 0;  // already queued by an earlier run
  int no_bill = 0;    // subscriptions whose account has no bill that month
};

// Queues, inside `tx`, one notice per active subscription whose account has a
// bill for `month` ("YYYY-MM"), with the texts subscription.notice.<channel>
// (or <channel>_paid) of `replies`. The dedup key is
// "bill:<month>:<account>:<channel>:<target>", so running it again, or two
// users subscribing the same target, sends nothing twice.
// With `wechat_template_id`, WeChat subscribers get the notice as a template
// message (channel "wechat_template": keyword1 户号, keyword2 账期, keyword3
// 金额, keyword4 缴费截止日; the console's template must have these four
// fields), else as a customer-service text.
BillNoticeReport QueueBillNotices(storage::Tx& tx, const dialogs::Replies& replies,
                                  const std::string& month, UnixSeconds now,
                                  const std::string& wechat_template_id = "");

}  // namespace gridbot::bot
