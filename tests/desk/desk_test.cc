// The desk's rules without a server (desk/desk.h, dialogs/handoff.cc): a
// conversation with the bot, handed to a person, answered, released.
#include "desk/desk.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "desk/auth.h"
#include "tests/dialogs/conversation.h"

namespace gridbot::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using nlohmann::json;

class DeskTest : public ::testing::Test {
 protected:
  explicit DeskTest(const std::string& db = TestDb()) : c_(db) { MakeDesk(); }

  void MakeDesk(desk::DeskConfig config = {}) {
    auto canned = desk::LoadCanned(CorpusDir() + "/desk/canned.txt");
    ASSERT_TRUE(canned.ok()) << canned.error();
    desk_ = std::make_unique<desk::Desk>(c_.store(), c_.engine(),
                                         std::shared_ptr<Clock>(&c_.clock(), [](Clock*) {}),
                                         config, SharedReplies(), *canned);
  }

  desk::AgentIdentity Agent(const std::string& name, const std::string& role = "agent") {
    EXPECT_TRUE(desk_->AddAgent(name, role, name + "-password").ok());
    desk::Answer a = desk_->Login(name, name + "-password");
    EXPECT_TRUE(a.ok()) << a.message;
    auto who = desk_->Authenticate(a.body["token"].get<std::string>());
    EXPECT_TRUE(who.has_value());
    return *who;
  }

  // The id of the only conversation in the queue.
  std::string QueuedId(const desk::AgentIdentity& who) {
    desk::Answer q = desk_->Queue(who);
    EXPECT_TRUE(q.ok());
    for (const json& c : q.body["conversations"])
      if (c["state"] == "queued") return c["id"];
    return "";
  }

  // What the web customer u1 reads outside replies, after `after`.
  std::vector<std::string> Updates(std::int64_t after = 0) {
    storage::Tx tx = c_.store().Begin();
    std::vector<std::string> out;
    for (const auto& u : storage::CustomerUpdatesAfter(tx, "web", "u1", after, 0))
      out.push_back(u.from + ":" + u.text);
    tx.Commit();
    return out;
  }

  std::vector<std::string> Messages(const desk::AgentIdentity& who, const std::string& id) {
    desk::Answer a = desk_->Conversation(who, id);
    EXPECT_TRUE(a.ok()) << a.message;
    std::vector<std::string> out;
    for (const json& m : a.body["messages"]) out.push_back(m["from"].get<std::string>() + ":" + m["text"].get<std::string>());
    return out;
  }

  // The bot's own replies to the last message (not the notices above them).
  std::string BotSaid() {
    std::string s;
    for (const auto& r : c_.last().replies)
      if (r.type != "notice") s += r.text;
    return s;
  }

  Conversation c_;
  std::unique_ptr<desk::Desk> desk_;
};

TEST_F(DeskTest, AskingForAPersonQueuesWithThePlaceInLine) {
  EXPECT_THAT(c_.Say("转人工"), HasSubstr("正在为您转接人工客服"));
  EXPECT_EQ(c_.last().handoff, "asked");
  EXPECT_THAT(c_.Say("转人工", "u2"), HasSubstr("前面还有1位"));
  auto wang = Agent("xiaowang");
  desk::Answer q = desk_->Queue(wang);
  ASSERT_EQ(q.body["conversations"].size(), 2u);
  EXPECT_EQ(q.body["conversations"][0]["reason"], "asked");
  EXPECT_EQ(q.body["conversations"][0]["state"], "queued");
  EXPECT_THAT(q.body["conversations"][0]["customer"].get<std::string>(), Not(HasSubstr("u1")));
}

TEST_F(DeskTest, MessagesWhileQueuedAndHeldAreKeptInOrderAndNoFlowRuns) {
  c_.Say("上个月电费多少");
  c_.Say("转人工");
  EXPECT_THAT(c_.Say("绑定户号"), HasSubstr("客服接入后"));  // an ack, not the binding's prompt
  EXPECT_EQ(c_.engine().ActiveFlow("web", "u1"), "");
  auto wang = Agent("xiaowang");
  const std::string id = QueuedId(wang);
  ASSERT_TRUE(desk_->Claim(wang, id).ok());
  c_.Say("我的户号是0301000001234");
  EXPECT_EQ(BotSaid(), "");  // held: the bot is silent (the agent's greeting is a notice)
  EXPECT_EQ(c_.last().intent, "handoff");
  c_.Say("在吗");
  EXPECT_EQ(BotSaid(), "");
  const auto m = Messages(wang, id);
  // The earlier turn with the bot, the handoff, then the messages in order.
  std::vector<std::string> customer;
  for (const auto& s : m)
    if (s.rfind("customer:", 0) == 0) customer.push_back(s);
  EXPECT_THAT(customer, ::testing::ElementsAre("customer:上个月电费多少", "customer:转人工",
                                               "customer:绑定户号",
                                               "customer:我的户号是0301*****1234",  // masked
                                               "customer:在吗"));
}

TEST_F(DeskTest, TheCustomerCanLeaveTheQueue) {
  c_.Say("转人工");
  EXPECT_THAT(c_.Say("不转了"), HasSubstr("已为您取消转人工"));
  EXPECT_THAT(c_.Say("上个月电费多少"), HasSubstr("绑定"));  // the bot answers again
  auto wang = Agent("xiaowang");
  EXPECT_EQ(QueuedId(wang), "");
}

TEST_F(DeskTest, ReplyReleaseAndTheBotAnswersAgain) {
  c_.Bind("南宁", "0301000001234", "246810");
  c_.Say("转人工");
  auto wang = Agent("xiaowang");
  const std::string id = QueuedId(wang);
  EXPECT_EQ(desk_->Reply(wang, id, "您好").error, desk::ErrorKind::kConflict);  // not claimed
  ASSERT_TRUE(desk_->Claim(wang, id).ok());
  desk::Answer r = desk_->Reply(wang, id, "{{客户称呼}}您好，户号{{户号}}欠费{{欠费}}");
  ASSERT_TRUE(r.ok()) << r.message;
  ASSERT_TRUE(desk_->Release(wang, id).ok());
  EXPECT_THAT(Updates(), ::testing::ElementsAre("system:您好，客服xiaowang为您服务。",
                                                "agent:黄*明您好，户号0301000001234欠费129.80元",
                                                HasSubstr("智能客服")));
  EXPECT_THAT(c_.Say("上个月电费多少"), HasSubstr("129.80"));
  EXPECT_EQ(c_.last().intent, "query_bill");
}

TEST_F(DeskTest, TwoAgentsClaimAtOnceOneWins) {
  c_.Say("转人工");
  auto wang = Agent("xiaowang"), li = Agent("xiaoli");
  const std::string id = QueuedId(wang);
  std::atomic<int> won{0}, conflict{0};
  std::thread a([&] { (desk_->Claim(wang, id).ok() ? won : conflict)++; });
  std::thread b([&] { (desk_->Claim(li, id).ok() ? won : conflict)++; });
  a.join();
  b.join();
  EXPECT_EQ(won, 1);
  EXPECT_EQ(conflict, 1);
  // The loser may no longer open it; the holder's name is what they saw.
  const bool wang_holds = desk_->Conversation(wang, id).ok();
  EXPECT_NE(wang_holds, desk_->Conversation(li, id).ok());
}

TEST_F(DeskTest, CapacityLimitsWhatAnAgentHolds) {
  desk::DeskConfig config;
  config.capacity = 1;
  MakeDesk(config);
  c_.Say("转人工", "u1");
  c_.Say("转人工", "u2");
  auto wang = Agent("xiaowang");
  desk::Answer q = desk_->Queue(wang);
  ASSERT_TRUE(desk_->Claim(wang, q.body["conversations"][0]["id"]).ok());
  desk::Answer second = desk_->Claim(wang, q.body["conversations"][1]["id"]);
  EXPECT_EQ(second.error, desk::ErrorKind::kConflict);
  EXPECT_THAT(second.message, HasSubstr("上限"));
}

TEST_F(DeskTest, AutoAssignGivesTheOldestToTheLeastLoadedOnlineAgent) {
  auto wang = Agent("xiaowang");
  ASSERT_TRUE(desk_->SetAutoAssign(wang, true).ok());
  c_.Say("转人工", "u1");
  desk_->AssignWaiting();
  desk::Answer q = desk_->Queue(wang);
  ASSERT_EQ(q.body["conversations"].size(), 1u);
  EXPECT_EQ(q.body["conversations"][0]["state"], "held");
  EXPECT_EQ(q.body["conversations"][0]["agent"], "xiaowang");
}

TEST_F(DeskTest, IdleHeldConversationGoesBackToTheQueue) {
  c_.Say("转人工");
  auto wang = Agent("xiaowang");
  const std::string id = QueuedId(wang);
  ASSERT_TRUE(desk_->Claim(wang, id).ok());
  c_.clock().Advance(29 * 60);
  desk_->Tick();
  EXPECT_EQ(desk_->Conversation(wang, id).body["state"], "held");
  c_.clock().Advance(2 * 60);
  desk_->Tick();
  EXPECT_EQ(desk_->Conversation(wang, id).body["state"], "queued");
  EXPECT_THAT(Updates().back(), HasSubstr("重新排队"));
}

TEST_F(DeskTest, LongWaitTellsTheCustomerOnceAndFlagsIt) {
  c_.Say("转人工");
  auto wang = Agent("xiaowang");
  c_.clock().Advance(9 * 60);
  desk_->Tick();
  EXPECT_TRUE(Updates().empty());
  EXPECT_EQ(desk_->Queue(wang).body["conversations"][0]["overdue"], false);
  c_.clock().Advance(2 * 60);
  desk_->Tick();
  desk_->Tick();
  EXPECT_THAT(Updates(), ::testing::ElementsAre(HasSubstr("久等")));
  EXPECT_EQ(desk_->Queue(wang).body["conversations"][0]["overdue"], true);
  EXPECT_EQ(desk_->Count().overdue, 1);
}

TEST_F(DeskTest, OutsideServiceHoursTheCustomerIsToldWhen) {
  dialogs::Settings settings = c_.engine().settings();
  settings.desk_hours = *ServiceHours::Parse("08:00-12:00,14:00-20:00");
  c_.engine().SetSettings(settings);
  c_.clock().Set(FromCivil(CivilTime{{2024, 8, 4}, 12, 30, 0}));
  EXPECT_THAT(c_.Say("转人工", "u2"), HasSubstr("今天14:00"));
  c_.clock().Set(FromCivil(CivilTime{{2024, 8, 4}, 21, 30, 0}));
  EXPECT_THAT(c_.Say("转人工"), HasSubstr("明天08:00"));
  EXPECT_THAT(c_.Say("转人工"), HasSubstr("明天08:00"));
}

TEST_F(DeskTest, NotUnderstoodTwiceHandsOver) {
  c_.Say("今天天气怎么样");
  EXPECT_THAT(c_.Say("讲个笑话"), HasSubstr("转接人工客服"));
  EXPECT_EQ(c_.last().handoff, "not_understood");
}

TEST_F(DeskTest, AFlowThatGivesUpHandsOver) {
  c_.Say("绑定户号");
  c_.Say("啊啊啊");
  c_.Say("哦哦哦");
  EXPECT_THAT(c_.Say("呃呃呃"), HasSubstr("转接人工客服"));
  EXPECT_EQ(c_.last().handoff, "gave_up");
  auto wang = Agent("xiaowang");
  EXPECT_EQ(desk_->Queue(wang).body["conversations"][0]["reason"], "gave_up");
}

TEST_F(DeskTest, AgentAssistAnswersTheLastQuestionAndChangesNothing) {
  c_.Bind("南宁", "0301000001234", "246810");
  c_.Say("转人工");
  c_.Say("上个月电费多少");  // to the desk
  auto wang = Agent("xiaowang");
  const std::string id = QueuedId(wang);
  const std::string rows = QueryText(c_, "SELECT COUNT(*) FROM dialog_log");
  desk::Answer a = desk_->Assist(wang, id);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a.body["intent"], "query_bill");
  EXPECT_THAT(a.body["text"].get<std::string>(), HasSubstr("129.80"));
  EXPECT_EQ(QueryText(c_, "SELECT COUNT(*) FROM dialog_log"), rows);
  EXPECT_EQ(c_.engine().ActiveFlow("web", "u1"), "");
}

TEST_F(DeskTest, CloseAsksForARatingThatIsRecorded) {
  c_.Say("转人工");
  auto wang = Agent("xiaowang");
  const std::string id = QueuedId(wang);
  ASSERT_TRUE(desk_->Claim(wang, id).ok());
  ASSERT_TRUE(desk_->Close(wang, id).ok());
  EXPECT_THAT(Updates().back(), HasSubstr("打分"));
  EXPECT_THAT(c_.Say("4分"), HasSubstr("感谢您的评价（4分）"));
  EXPECT_EQ(QueryText(c_, "SELECT rating FROM desk_conversations"), "4");
  EXPECT_THAT(c_.Say("5"), Not(HasSubstr("感谢您的评价")));  // asked once
}

TEST_F(DeskTest, RolesAndOwnership) {
  c_.Say("转人工");
  auto wang = Agent("xiaowang"), li = Agent("xiaoli"), boss = Agent("zhang", "supervisor"),
       analyst = Agent("fenxi", "analyst");
  const std::string id = QueuedId(wang);
  EXPECT_EQ(desk_->Queue(analyst).error, desk::ErrorKind::kForbidden);
  EXPECT_EQ(desk_->Claim(analyst, id).error, desk::ErrorKind::kForbidden);
  ASSERT_TRUE(desk_->Claim(wang, id).ok());
  EXPECT_EQ(desk_->Conversation(li, id).error, desk::ErrorKind::kForbidden);
  EXPECT_EQ(desk_->Reply(li, id, "我来").error, desk::ErrorKind::kConflict);
  EXPECT_EQ(desk_->Transfer(wang, id, "xiaoli").error, desk::ErrorKind::kForbidden);
  EXPECT_EQ(desk_->Agents(wang).error, desk::ErrorKind::kForbidden);
  // A supervisor sees it, reassigns it.
  ASSERT_TRUE(desk_->Conversation(boss, id).ok());
  ASSERT_TRUE(desk_->Transfer(boss, id, "xiaoli").ok());
  EXPECT_EQ(desk_->Conversation(li, id).body["agent"], "xiaoli");
  EXPECT_EQ(desk_->Conversation(wang, id).error, desk::ErrorKind::kForbidden);
  EXPECT_EQ(desk_->Agents(boss).body["agents"].size(), 3u);  // the analyst does not answer
}

TEST_F(DeskTest, NotesArePrivate) {
  c_.Say("转人工");
  auto wang = Agent("xiaowang");
  const std::string id = QueuedId(wang);
  ASSERT_TRUE(desk_->Claim(wang, id).ok());
  ASSERT_TRUE(desk_->Note(wang, id, "客户情绪激动，先安抚").ok());
  EXPECT_THAT(Messages(wang, id), ::testing::Contains("note:客户情绪激动，先安抚"));
  for (const auto& u : Updates()) EXPECT_THAT(u, Not(HasSubstr("安抚")));
}

TEST_F(DeskTest, TypingIsShownToOthersForAFewSeconds) {
  c_.Say("转人工");
  auto wang = Agent("xiaowang"), boss = Agent("zhang", "supervisor");
  const std::string id = QueuedId(wang);
  ASSERT_TRUE(desk_->Claim(wang, id).ok());
  ASSERT_TRUE(desk_->Typing(wang, id).ok());
  EXPECT_EQ(desk_->Conversation(boss, id).body["typing"], "xiaowang");
  EXPECT_TRUE(desk_->Conversation(wang, id).body["typing"].is_null());  // not to themselves
  c_.clock().Advance(10);
  EXPECT_TRUE(desk_->Conversation(boss, id).body["typing"].is_null());
}

// WeChat: customer-service messages only within 48 hours of the customer's
// last message, and at most 5 per message.
TEST_F(DeskTest, WechatWindowRefusesWithAReason) {
  desk::DeskConfig config;
  config.wechat_delivery = true;
  MakeDesk(config);
  dialogs::Inbound in;
  in.channel = "wechat";
  in.user = "oOPENID123456";
  in.text = "转人工";
  c_.engine().Handle(in);
  auto wang = Agent("xiaowang");
  const std::string id = QueuedId(wang);
  ASSERT_TRUE(desk_->Claim(wang, id).ok());  // "客服xiaowang为您服务" is the first of 5
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(desk_->Reply(wang, id, "第" + std::to_string(i) + "条").ok());
  desk::Answer sixth = desk_->Reply(wang, id, "还有一条");
  EXPECT_EQ(sixth.error, desk::ErrorKind::kUnprocessable);
  EXPECT_THAT(sixth.message, HasSubstr("5条"));
  EXPECT_EQ(desk_->Conversation(wang, id).body["window"]["open"], false);
  in.text = "好的";  // the customer writes again: the window opens
  c_.engine().Handle(in);
  EXPECT_TRUE(desk_->Reply(wang, id, "收到").ok());
  c_.clock().Advance(48 * 3600);
  desk::Answer late = desk_->Reply(wang, id, "还在吗");
  EXPECT_EQ(late.error, desk::ErrorKind::kUnprocessable);
  EXPECT_THAT(late.message, HasSubstr("48小时"));
  EXPECT_EQ(QueryText(c_, "SELECT COUNT(*) FROM outbox WHERE channel = 'wechat'"), "6");
}

TEST_F(DeskTest, APhotoDuringARepairGoesWithTheTicket) {
  c_.Bind("南宁", "0301000001234", "246810");
  c_.Say("家里跳闸了");
  dialogs::Inbound in;
  in.channel = "web";
  in.user = "u1";
  in.media = dialogs::Media{"image", "http://mmbiz.qpic.cn/meter.jpg", "MEDIA1", ""};
  auto out = c_.engine().Handle(in);
  ASSERT_FALSE(out.replies.empty());
  EXPECT_THAT(out.replies[0].text, HasSubstr("附在您的报修单上"));
  EXPECT_EQ(c_.engine().ActiveFlow("web", "u1"), "report_fault");
}

TEST_F(DeskTest, APictureOutsideARepairIsAnsweredWithWhatTheBotCanDo) {
  dialogs::Inbound in;
  in.channel = "wechat";
  in.user = "oPIC";
  in.media = dialogs::Media{"image", "http://mmbiz.qpic.cn/bill.jpg", "M2", ""};
  auto out = c_.engine().Handle(in);
  ASSERT_FALSE(out.replies.empty());
  EXPECT_THAT(out.replies[0].text, HasSubstr("文字描述"));
  in.media = dialogs::Media{"voice", "", "M3", "amr"};
  out = c_.engine().Handle(in);
  EXPECT_THAT(out.replies[0].text, HasSubstr("打字告诉我"));
}

TEST(DeskAuth, PasswordsAreSlowSaltedHashes) {
  const std::string a = desk::HashPassword("secret-pass"), b = desk::HashPassword("secret-pass");
  EXPECT_NE(a, b);  // salted
  EXPECT_THAT(a, HasSubstr("pbkdf2-sha256$120000$"));
  EXPECT_TRUE(desk::VerifyPassword("secret-pass", a));
  EXPECT_FALSE(desk::VerifyPassword("secret-pasS", a));
  EXPECT_FALSE(desk::VerifyPassword("secret-pass", "garbage"));
  EXPECT_EQ(desk::NewToken().size(), 64u);  // 256 bits
}

TEST_F(DeskTest, LoginFailuresLockTheNameAndUnknownNamesAnswerAlike) {
  Agent("xiaowang");
  const desk::Answer unknown = desk_->Login("nobody", "whatever-pass");
  const desk::Answer wrong = desk_->Login("xiaowang", "whatever-pass");
  EXPECT_EQ(unknown.error, desk::ErrorKind::kUnauthorized);
  EXPECT_EQ(wrong.error, unknown.error);
  EXPECT_EQ(wrong.message, unknown.message);
  for (int i = 0; i < 4; ++i) desk_->Login("xiaowang", "whatever-pass");
  EXPECT_EQ(desk_->Login("xiaowang", "xiaowang-password").error, desk::ErrorKind::kLocked);
  c_.clock().Advance(16 * 60);
  EXPECT_TRUE(desk_->Login("xiaowang", "xiaowang-password").ok());
}

TEST_F(DeskTest, TokensExpireAndEndAtLogout) {
  ASSERT_TRUE(desk_->AddAgent("xiaowang", "agent", "xiaowang-password").ok());
  const std::string token = desk_->Login("xiaowang", "xiaowang-password").body["token"];
  EXPECT_TRUE(desk_->Authenticate(token));
  desk_->Logout(token);
  EXPECT_FALSE(desk_->Authenticate(token));
  const std::string second = desk_->Login("xiaowang", "xiaowang-password").body["token"];
  c_.clock().Advance(12 * 3600 + 1);
  EXPECT_FALSE(desk_->Authenticate(second));
  EXPECT_FALSE(desk_->Authenticate("0123"));
}

}  // namespace
}  // namespace gridbot::testing

namespace gridbot::testing {
namespace {

TEST_F(DeskTest, WechatRepliesNeedTheApiConfigured) {
  dialogs::Inbound in;
  in.channel = "wechat";
  in.user = "oNOAPI";
  in.text = "转人工";
  c_.engine().Handle(in);
  auto wang = Agent("xiaowang");
  const std::string id = QueuedId(wang);
  ASSERT_TRUE(desk_->Claim(wang, id).ok());
  desk::Answer r = desk_->Reply(wang, id, "您好");
  EXPECT_EQ(r.error, desk::ErrorKind::kUnprocessable);
  EXPECT_THAT(r.message, HasSubstr("未配置"));
}

TEST_F(DeskTest, SecretsNeverReachTheAgent) {
  c_.Bind("南宁", "0301000001234", "246810");
  c_.Say("转人工");
  c_.Say("我的服务密码是246810，帮我看看");
  c_.Say("abc12345");
  auto wang = Agent("xiaowang");
  const std::string id = QueuedId(wang);
  const std::string view = desk_->Conversation(wang, id).body.dump();
  EXPECT_THAT(view, Not(HasSubstr("246810")));
  EXPECT_THAT(view, Not(HasSubstr("abc12345")));
  EXPECT_THAT(QueryText(c_, c_.store().dialect() == storage::Dialect::kPostgres
                                    ? "SELECT string_agg(text, ',') FROM desk_messages"
                                    : "SELECT group_concat(text) FROM desk_messages"), Not(HasSubstr("246810")));
  // Nor the bound holder's name or street, nor the 户号 in assist's answer.
  EXPECT_THAT(view, Not(HasSubstr("民族大道88号")));
  c_.Say("上个月电费多少");
  const std::string assist = desk_->Assist(wang, id).body.dump();
  EXPECT_THAT(assist, Not(HasSubstr("0301000001234")));
  EXPECT_THAT(assist, HasSubstr("0301*****1234"));
}

TEST_F(DeskTest, DangerWhileQueuedGetsTheSafetyAdviceAtOnce) {
  c_.Say("转人工");
  EXPECT_THAT(c_.Say("有人触电了"), HasSubstr("95598"));
}

TEST_F(DeskTest, PlaceholdersWithoutABoundAccountAreRefused) {
  c_.Say("转人工");
  auto wang = Agent("xiaowang");
  const std::string id = QueuedId(wang);
  ASSERT_TRUE(desk_->Claim(wang, id).ok());
  desk::Answer r = desk_->Reply(wang, id, "您户号{{户号}}欠费{{欠费}}");
  EXPECT_EQ(r.error, desk::ErrorKind::kBadRequest);
  EXPECT_THAT(r.message, HasSubstr("没有绑定户号"));
  EXPECT_TRUE(desk_->Reply(wang, id, "{{客户称呼}}您好").ok());
  EXPECT_THAT(Updates().back(), HasSubstr("尊敬的客户您好"));
}

TEST_F(DeskTest, AnAgentWhoLetsAConversationIdleGetsNoMoreAutomatically) {
  auto wang = Agent("xiaowang");
  ASSERT_TRUE(desk_->SetAutoAssign(wang, true).ok());
  c_.Say("转人工");
  desk_->AssignWaiting();
  c_.clock().Advance(31 * 60);
  desk_->Authenticate(desk_->Login("xiaowang", "xiaowang-password").body["token"]);  // still online
  desk_->Tick();
  desk::Answer q = desk_->Queue(wang);
  EXPECT_EQ(q.body["conversations"][0]["state"], "queued");
  EXPECT_EQ(desk_->Me(wang).body["auto_assign"], false);
}

}  // namespace
}  // namespace gridbot::testing
