// Scripted conversations for the services that create records or users:
// fault repair (故障报修), new install / change (新装变更), registration and
// login; and the storage functions behind them (storage/services.h). Demo
// data, today 2024-08-04 10:00; account 0301000001234 (南宁市青秀区, phone
// 13800138000, service password 246810).
#include "storage/services.h"

#include <nlohmann/json.hpp>
#include <algorithm>
#include <regex>

#include "dialogs/flows/flows.h"
#include "privacy/sealer.h"
#include "tests/dialogs/conversation.h"

namespace gridbot::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kAccount[] = "0301000001234";
constexpr char kPassword[] = "246810";
constexpr char kAddress[] = "南宁市青秀区民族大道88号3栋2单元501";
const UnixSeconds kNow = FromCivil(CivilTime{{2024, 8, 4}, 10, 0, 0});

// "status|type|account|step0@at" of a business record.
std::string BusinessRow(Conversation& c, const std::string& no) {
  return QueryText(c,
                   "SELECT b.status || '|' || b.type || '|' || COALESCE(b.account_no, '-') || '|' "
                   "|| s.name || '@' || s.at FROM business b JOIN business_steps s "
                   "ON s.business_no = b.business_no AND s.seq = 0 WHERE b.business_no = ?",
                   no);
}

nlohmann::json Details(Conversation& c, const std::string& no) {
  storage::Tx tx = c.store().Begin();
  return nlohmann::json::parse(storage::BusinessDetails(tx, no));
}

std::string SayAs(Conversation& c, const std::string& channel, const std::string& user,
                  const std::string& text) {
  dialogs::Inbound in;
  in.channel = channel;
  in.user = user;
  in.text = text;
  dialogs::Outcome out = c.engine().Handle(in);
  std::string joined;
  for (const auto& r : out.replies) joined += (joined.empty() ? "" : "\n\n") + r.text;
  return joined;
}

// ---------------------------------------------------------------- storage

TEST(ServicesStorage, BusinessNumbersArePerPrefixAndDay) {
  Conversation c;
  storage::Tx tx = c.store().Begin();
  // The demo data has BX20240803002 (another day) and YK20240801001.
  EXPECT_EQ(storage::NextBusinessNo(tx, "BX", {2024, 8, 4}), "BX20240804001");
  EXPECT_EQ(storage::NextBusinessNo(tx, "BX", {2024, 8, 3}), "BX20240803003");
  EXPECT_EQ(storage::NextBusinessNo(tx, "YK", {2024, 8, 1}), "YK20240801002");
  storage::Business b{"BX20240804001", "", "repair", "已受理", {{"受理", kNow}}};
  storage::CreateBusiness(tx, b, "{}", kNow);
  EXPECT_EQ(storage::NextBusinessNo(tx, "BX", {2024, 8, 4}), "BX20240804002");
  EXPECT_EQ(storage::NextBusinessNo(tx, "YK", {2024, 8, 4}), "YK20240804001");
  EXPECT_TRUE(tx.ok()) << tx.error();
}

TEST(ServicesStorage, PasswordHashIsSaltedPbkdf2) {
  const std::string a = storage::HashPassword("Abc12345");
  const std::string b = storage::HashPassword("Abc12345");
  EXPECT_THAT(a, StartsWith("pbkdf2_sha256$100000$"));
  EXPECT_NE(a, b);  // a fresh salt each time
  EXPECT_THAT(a, Not(HasSubstr("Abc12345")));
  EXPECT_TRUE(std::regex_match(
      a, std::regex(R"(pbkdf2_sha256\$100000\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=)")))
      << a;
  EXPECT_TRUE(storage::VerifyPassword("Abc12345", a));
  EXPECT_TRUE(storage::VerifyPassword("Abc12345", b));
  EXPECT_FALSE(storage::VerifyPassword("abc12345", a));
  EXPECT_FALSE(storage::VerifyPassword("", a));
  EXPECT_FALSE(storage::VerifyPassword("Abc12345", "Abc12345"));
  EXPECT_FALSE(storage::VerifyPassword("Abc12345", "pbkdf2_sha256$0$AAAA$AAAA"));
  EXPECT_FALSE(storage::VerifyPassword("Abc12345", "pbkdf2_sha256$x$AAAA$AAAA"));
  EXPECT_FALSE(storage::VerifyPassword("Abc12345", "md5$1$AAAA$AAAA"));
}

TEST(ServicesStorage, RandomDigits) {
  const std::string code = storage::RandomDigits(6);
  EXPECT_TRUE(std::regex_match(code, std::regex("[0-9]{6}"))) << code;
}

// ---------------------------------------------------------------- repair

TEST(ServicesRepair, FromTheCustomersWordsWithOfferedAddressAndPhone) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  EXPECT_THAT(c.Say("家里跳闸了"),
              AllOf(HasSubstr("家里跳闸了"), HasSubstr(std::string("是否报修地址：") + kAddress),
                    Not(HasSubstr("安全提醒"))));
  EXPECT_THAT(c.Say("是"), HasSubstr("联系电话是否使用138****8000"));
  EXPECT_THAT(c.Say("是的"), HasSubstr("怎么称呼"));
  EXPECT_THAT(c.Say("跳过"), AllOf(HasSubstr("请确认报修信息"), HasSubstr("故障情况：家里跳闸了"),
                                   HasSubstr(std::string("故障地址：") + kAddress),
                                   HasSubstr("联系电话：138****8000"), Not(HasSubstr("联系人"))));
  EXPECT_THAT(c.Say("确认"), AllOf(HasSubstr("报修已受理"), HasSubstr("BX20240804001"),
                                   HasSubstr("查进度BX20240804001")));
  EXPECT_EQ(BusinessRow(c, "BX20240804001"),
            std::string("已受理|repair|") + kAccount + "|受理@" + std::to_string(kNow));
  const auto d = Details(c, "BX20240804001");
  EXPECT_EQ(d.value("description", ""), "家里跳闸了");
  EXPECT_EQ(d.value("address", ""), kAddress);
  EXPECT_EQ(d.value("phone", ""), "13800138000");
  EXPECT_EQ(d.value("name", "?"), "");
  EXPECT_EQ(d.value("channel", ""), "web");
}

TEST(ServicesRepair, SecondRepairOfTheDayWithNewAddressPhoneAndDangerAdvice) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  c.Say("家里跳闸了");
  c.Say("是");
  c.Say("是");
  c.Say("跳过");
  ASSERT_THAT(c.Say("确认"), HasSubstr("BX20240804001"));

  EXPECT_THAT(c.Say("报修"), HasSubstr("描述一下故障情况"));
  EXPECT_THAT(c.Say("门口电线断了还冒烟"),
              AllOf(HasSubstr("安全提醒"), HasSubstr("95598"), HasSubstr("是否报修地址")));
  EXPECT_THAT(c.Say("不是"), HasSubstr("请告诉我故障地址"));
  EXPECT_THAT(c.Say("门口"), HasSubstr("地址有点简略"));
  EXPECT_THAT(c.Say("南宁市青秀区民族大道100号"), HasSubstr("联系电话是否使用"));
  EXPECT_THAT(c.Say("不用"), HasSubstr("联系手机号"));
  EXPECT_THAT(c.Say("12345"), HasSubstr("手机号格式不对"));
  EXPECT_THAT(c.Say("139 7711 5264"), HasSubstr("怎么称呼"));
  EXPECT_THAT(c.Say("黄先生"),
              AllOf(HasSubstr("联系人：黄先生"), HasSubstr("联系电话：13977115264"),
                    HasSubstr("故障地址：南宁市青秀区民族大道100号")));
  EXPECT_THAT(c.Say("确认"), AllOf(HasSubstr("BX20240804002"), HasSubstr("再次提醒")));
  const auto d = Details(c, "BX20240804002");
  EXPECT_EQ(d.value("description", ""), "门口电线断了还冒烟");
  EXPECT_EQ(d.value("name", ""), "黄先生");
  EXPECT_EQ(d.value("phone", ""), "13977115264");
  EXPECT_EQ(QueryInt(c, "SELECT COUNT(*) FROM business WHERE business_no LIKE 'BX20240804%'"), 2);
}

TEST(ServicesRepair, WithoutABoundAccountTheAddressIsTyped) {
  Conversation c;
  EXPECT_THAT(c.Say("我要报修"), HasSubstr("描述一下故障情况"));
  EXPECT_THAT(c.Say("电表坏了不走字"), HasSubstr("请告诉我故障地址"));
  EXPECT_THAT(c.Say("柳州市城中区五一路22号"), HasSubstr("联系手机号"));
  EXPECT_THAT(c.Say("13507725816"), HasSubstr("怎么称呼"));
  EXPECT_THAT(c.Say("不用了"), HasSubstr("请确认报修信息"));
  EXPECT_THAT(c.Say("好的"), HasSubstr("BX20240804001"));
  EXPECT_EQ(BusinessRow(c, "BX20240804001"), "已受理|repair|-|受理@" + std::to_string(kNow));
}

TEST(ServicesRepair, DeclinedAtConfirmationCreatesNothing) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  c.Say("家里跳闸了");
  c.Say("是");
  c.Say("是");
  c.Say("跳过");
  EXPECT_THAT(c.Say("不对"), HasSubstr("没有提交"));
  EXPECT_EQ(QueryInt(c, "SELECT COUNT(*) FROM business WHERE business_no LIKE 'BX20240804%'"), 0);
}

TEST(ServicesRepair, InterruptedByABillQuestionThenResumed) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  c.Say("家里跳闸了");
  EXPECT_THAT(c.Say("上个月电费多少"),
              AllOf(HasSubstr("129.80元"), HasSubstr("故障报修"), HasSubstr("是否报修地址")));
  EXPECT_THAT(c.Say("是"), HasSubstr("联系电话"));
}

// The outage flow hands over the account it checked and its address.
TEST(ServicesRepair, StartedWithAccountAndAddressSlots) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  auto flow = dialogs::MakeReportFaultFlow();
  storage::Tx tx = c.store().Begin();
  std::vector<dialogs::Reply> out;
  const std::int64_t user = tx.UserIdFor("web", "u1", kNow);
  const dialogs::Settings settings;
  dialogs::Context ctx{
      tx,       user,  kNow, ToCivilDay(kNow), *SharedReplies(), *SharedModel(), out,
      settings, "web", "u1"};
  nlu::Understanding u;
  u.intent = "report_fault";
  u.normalized = "report_fault";
  u.confidence = 1.0;
  u.slots = {{"account_no", kAccount}, {"address", kAddress}};
  dialogs::Frame f;
  f.flow = "report_fault";
  ASSERT_EQ(flow->Start(ctx, f, u), dialogs::FlowResult::kWaiting);
  EXPECT_EQ(f.step, "description");  // the address is not asked again
  EXPECT_EQ(f.slots.value("address", ""), kAddress);
  EXPECT_EQ(f.slots.value("account_no", ""), kAccount);
  u.slots["description"] = "家里停电了";
  dialogs::Frame g;
  ASSERT_EQ(flow->Start(ctx, g, u), dialogs::FlowResult::kWaiting);
  EXPECT_EQ(g.step, "phone_offer");
}

// ---------------------------------------------------------------- apply

TEST(ServicesApply, CapacityIncreaseInNanningQingxiu) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  // The bound account's place is offered; declined, the place is asked.
  EXPECT_THAT(c.Say("我要申请增容"), AllOf(HasSubstr("办理增容"), HasSubstr(kAddress)));
  EXPECT_THAT(c.Say("不是"), HasSubstr("哪个市"));
  EXPECT_THAT(c.Say("南宁"), HasSubstr("哪个区"));
  EXPECT_THAT(c.Say("七星区"), HasSubstr("七星区不属于南宁市"));
  EXPECT_THAT(c.Say("青秀区"), HasSubstr("联系人怎么称呼"));
  EXPECT_THAT(c.Say("黄先生"), HasSubstr("联系电话是否使用138****8000"));
  EXPECT_THAT(c.Say("是"), HasSubstr("详细的用电地址"));
  EXPECT_THAT(c.Say("民族大道88号3栋2单元501"), HasSubstr("说明您的需求"));
  EXPECT_THAT(c.Say("空调多了需要增容到8千瓦"),
              AllOf(HasSubstr("业务类型：增容"), HasSubstr("用电地区：南宁市青秀区"),
                    HasSubstr("联系人：黄先生"), HasSubstr("需求说明：空调多了需要增容到8千瓦")));
  EXPECT_THAT(c.Say("确认"), AllOf(HasSubstr("增容申请已受理"), HasSubstr("YK20240804001"),
                                   HasSubstr("3个工作日内"), HasSubstr("现场勘查")));
  EXPECT_EQ(BusinessRow(c, "YK20240804001"),
            std::string("已受理|capacity_increase|") + kAccount + "|受理@" + std::to_string(kNow));
  const auto d = Details(c, "YK20240804001");
  EXPECT_EQ(d.value("city", ""), "南宁市");
  EXPECT_EQ(d.value("district", ""), "青秀区");
  EXPECT_EQ(d.value("name", ""), "黄先生");
  EXPECT_EQ(d.value("phone", ""), "13800138000");
  EXPECT_EQ(d.value("address", ""), "民族大道88号3栋2单元501");
}

TEST(ServicesApply, TypeByNumberDistrictGivesItsCityAndNoDescription) {
  Conversation c;
  EXPECT_THAT(c.Say("新装变更"), HasSubstr("1. 新装"));
  EXPECT_THAT(c.Say("5"), HasSubstr("请回复序号"));
  EXPECT_THAT(c.Say("1"), AllOf(HasSubstr("办理新装"), HasSubstr("哪个市")));
  EXPECT_THAT(c.Say("武鸣区"), HasSubstr("联系人怎么称呼"));  // 武鸣区 is in 南宁市
  EXPECT_THAT(c.Say("韦先生"), HasSubstr("联系手机号"));      // no phone to offer
  EXPECT_THAT(c.Say("18677128903"), HasSubstr("详细的用电地址"));
  EXPECT_THAT(c.Say("城厢镇灵源路58号"), HasSubstr("说明您的需求"));
  EXPECT_THAT(c.Say("跳过"), AllOf(HasSubstr("业务类型：新装"), HasSubstr("南宁市武鸣区"),
                                   HasSubstr("需求说明：（无）")));
  EXPECT_THAT(c.Say("确认"), AllOf(HasSubstr("YK20240804001"), HasSubstr("身份证")));
  EXPECT_EQ(BusinessRow(c, "YK20240804001"), "已受理|new_install|-|受理@" + std::to_string(kNow));
}

// ---------------------------------------------------------------- register

TEST(ServicesRegister, FullRegistrationWithEveryRefusal) {
  Conversation c;
  const std::string phone = "13912345678";
  EXPECT_THAT(c.Say("我要注册"), HasSubstr("哪个市"));
  EXPECT_THAT(c.Say("南宁"), HasSubstr("手机号"));
  EXPECT_THAT(c.Say("1391234"), HasSubstr("手机号格式不对"));
  EXPECT_THAT(c.Say(phone), HasSubstr("设置登录密码"));
  EXPECT_THAT(c.Say("abc123"), HasSubstr("密码强度不够"));
  EXPECT_THAT(c.Say("abcdefghij"), HasSubstr("密码强度不够"));
  EXPECT_THAT(c.Say("Secret2024"), HasSubstr("再输入一次"));
  EXPECT_THAT(c.Say("Secret2025"), HasSubstr("两次输入的密码不一致"));
  EXPECT_THAT(c.Say("Secret2024"), HasSubstr("再输入一次"));
  // Only a hash of the first answer is kept, never the password itself.
  EXPECT_THAT(WhereFound(c, "Secret2024"), ::testing::IsEmpty());
  EXPECT_THAT(QueryText(c, "SELECT state FROM sessions WHERE external_id = 'u1'"),
              HasSubstr("pbkdf2_sha256$"));
  EXPECT_THAT(c.Say("Secret2024"),
              AllOf(HasSubstr("验证码已通过短信发送到139****5678"), HasSubstr("5分钟内有效")));

  std::string code = LastSmsCode(c, phone);
  ASSERT_EQ(code.size(), 6u);
  EXPECT_EQ(LastSmsText(c, phone), "【广西电网95598】您的注册验证码为" + code + "，5分钟内有效。");
  // The outbox holds the text sealed, no table holds the code in clear.
  EXPECT_THAT(QueryText(c, "SELECT body FROM outbox WHERE recipient = ? ORDER BY id DESC", phone),
              StartsWith("sealed:v1:"));
  EXPECT_EQ(QueryInt(c, "SELECT COUNT(*) FROM outbox WHERE instr(body, ?) > 0", code), 0);
  // The code itself is kept only as a keyed MAC: with another key (all that
  // whoever holds only the database has) the 10^6 codes can't be tried.
  const std::string stored = QueryText(c, "SELECT code_hash FROM sms_codes WHERE phone = ?", phone);
  EXPECT_THAT(stored, StartsWith("hmac:v1:"));
  EXPECT_EQ(stored, c.engine().settings().sealer->Mac("sms-code", phone + "|register|" + code));
  EXPECT_NE(stored, privacy::Sealer::Random().Mac("sms-code", phone + "|register|" + code));
  EXPECT_EQ(QueryInt(c, "SELECT COUNT(*) FROM sms_codes WHERE instr(code_hash, ?) > 0", code), 0);
  std::string wrong = code;
  wrong[0] = wrong[0] == '9' ? '0' : wrong[0] + 1;
  EXPECT_THAT(c.Say(wrong), AllOf(HasSubstr("验证码不正确"), HasSubstr("还可以尝试4次")));

  c.clock().Advance(6 * 60);
  EXPECT_THAT(c.Say(code), AllOf(HasSubstr("验证码已过期"), HasSubstr("已通过短信发送")));
  const std::string fresh = LastSmsCode(c, phone);
  ASSERT_EQ(fresh.size(), 6u);
  EXPECT_EQ(QueryInt(c, "SELECT COUNT(*) FROM outbox WHERE recipient = ?", phone), 2);
  EXPECT_THAT(c.Say(fresh), AllOf(HasSubstr("注册成功"), HasSubstr("139****5678")));

  const std::string hash = QueryText(c, "SELECT password_hash FROM users WHERE phone = ?", phone);
  EXPECT_THAT(hash, StartsWith("pbkdf2_sha256$100000$"));
  EXPECT_TRUE(storage::VerifyPassword("Secret2024", hash));
  EXPECT_EQ(QueryText(c, "SELECT city FROM users WHERE phone = ?", phone), "南宁市");
  // The conversation's identity is the registered user.
  EXPECT_EQ(QueryText(c,
                      "SELECT u.phone FROM identities i JOIN users u ON u.id = i.user_id "
                      "WHERE i.channel = 'web' AND i.external_id = ?",
                      "u1"),
            phone);
  EXPECT_EQ(QueryInt(c, "SELECT COUNT(*) FROM sms_codes"), 0);
  for (const char* secret : {"Secret2024", "Secret2025", "abcdefghij", "abc123"})
    EXPECT_THAT(WhereFound(c, secret), ::testing::IsEmpty()) << secret;
  // The passwords and the three codes typed.
  EXPECT_EQ(QueryInt(c, "SELECT COUNT(*) FROM dialog_log WHERE masked = 1"), 9);
  for (const std::string& typed : {code, wrong, fresh})
    EXPECT_EQ(
        QueryInt(c,
                 "SELECT COUNT(*) FROM dialog_log WHERE instr(text || normalized || slots, ?) > 0",
                 typed),
        0)
        << typed;

  EXPECT_THAT(c.Say("注册"), AllOf(HasSubstr("已经注册并登录"), HasSubstr("139****5678")));
}

// SMS codes to one phone are limited whoever asks: new users and new
// registrations can't send codes to it without end.
TEST(ServicesRegister, CodesPerPhoneAreLimitedAcrossUsers) {
  Conversation c;
  const std::string phone = "13912345678";
  int sent = 0;
  for (int u = 0; u < 8; ++u) {
    const std::string user = "spam" + std::to_string(u);
    c.Say("注册", user);
    c.Say("南宁", user);
    c.Say(phone, user);
    c.Say("Secret2024", user);
    const std::string answer = c.Say("Secret2024", user);
    if (answer.find("已通过短信发送") != std::string::npos)
      ++sent;
    else
      EXPECT_THAT(answer, HasSubstr("验证码发送次数过多")) << u;
  }
  EXPECT_EQ(sent, 5);
  EXPECT_EQ(QueryInt(c, "SELECT COUNT(*) FROM outbox WHERE recipient = ?", phone), 5);
  c.clock().Advance(3601);  // an hour later, a few more; never more than 10 a day
  for (int u = 8; u < 20; ++u) {
    const std::string user = "spam" + std::to_string(u);
    c.Say("注册", user);
    c.Say("南宁", user);
    c.Say(phone, user);
    c.Say("Secret2024", user);
    c.Say("Secret2024", user);
  }
  EXPECT_EQ(QueryInt(c, "SELECT COUNT(*) FROM outbox WHERE recipient = ?", phone), 10);
}

// A registered phone is told apart only to who receives its code.
TEST(ServicesRegister, PhoneAlreadyRegisteredIsToldOnlyAfterItsCode) {
  Conversation c;
  ASSERT_THAT(Register(c, "u1", "13912345678", "Secret2024"), HasSubstr("注册成功"));
  c.Say("注册", "u2");
  c.Say("柳州", "u2");
  EXPECT_THAT(c.Say("13912345678", "u2"), HasSubstr("设置登录密码"));
  c.Say("Other2024", "u2");
  EXPECT_THAT(c.Say("Other2024", "u2"), HasSubstr("验证码已通过短信发送"));
  EXPECT_THAT(c.Say(LastSmsCode(c, "13912345678"), "u2"),
              AllOf(HasSubstr("已经注册过账号了"), HasSubstr("登录")));
  // The account is untouched: its own password still logs in.
  c.Say("登录 13912345678", "u3");
  EXPECT_THAT(c.Say("Secret2024", "u3"), HasSubstr("登录成功"));
}

TEST(ServicesRegister, FiveWrongCodesSpendTheCodeThenResend) {
  Conversation c;
  const std::string phone = "13912345678";
  c.Say("注册");
  c.Say("南宁");
  c.Say(phone);
  c.Say("Secret2024");
  c.Say("Secret2024");
  const std::string code = LastSmsCode(c, phone);
  std::string wrong = code;
  wrong[5] = wrong[5] == '9' ? '0' : wrong[5] + 1;
  for (int i = 0; i < 4; ++i) c.Say(wrong);
  EXPECT_THAT(c.Say(wrong), HasSubstr("错误次数过多"));
  EXPECT_THAT(c.Say(code), HasSubstr("错误次数过多"));  // the spent code no longer works
  EXPECT_THAT(c.Say("重新发送"), HasSubstr("已通过短信发送"));
  const std::string fresh = LastSmsCode(c, phone);
  // Written with words around it, as people do: still the code, still masked.
  EXPECT_THAT(c.Say("验证码是" + fresh), HasSubstr("注册成功"));
  EXPECT_EQ(QueryInt(c, "SELECT COUNT(*) FROM dialog_log WHERE instr(text, ?) > 0", fresh), 0);
}

TEST(ServicesRegister, BindingsMadeBeforeStayWithTheRegisteredUser) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  EXPECT_THAT(Register(c, "u1", "13912345678", "Secret2024"),
              AllOf(HasSubstr("注册成功"), HasSubstr("绑定了1个户号")));
  EXPECT_THAT(c.Say("我绑了哪些户号"), HasSubstr(kAccount));
}

// ---------------------------------------------------------------- login

TEST(ServicesLogin, WrongThenRightAndTheBindingsFollowTheUser) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  ASSERT_THAT(Register(c, "u1", "13912345678", "Secret2024"), HasSubstr("注册成功"));

  // Another web user with a binding of its own logs in.
  EXPECT_THAT(c.Bind("柳州", "0302000004815", "419263"), HasSubstr("绑定成功"));  // u1: 2 now
  c.Say("绑定户号", "u2");
  c.Say("北海", "u2");
  c.Say("0305000008147", "u2");
  ASSERT_THAT(c.Say("925736", "u2"), HasSubstr("绑定成功"));
  EXPECT_THAT(c.Say("登录", "u2"), HasSubstr("手机号"));
  EXPECT_THAT(c.Say("13912345678", "u2"), HasSubstr("登录密码"));
  EXPECT_THAT(c.Say("Secret2025", "u2"),
              AllOf(HasSubstr("密码不正确"), HasSubstr("还可以尝试4次")));
  EXPECT_THAT(c.Say("Secret2024", "u2"), AllOf(HasSubstr("登录成功"), HasSubstr("共绑定3个户号"),
                                               HasSubstr(std::string("默认户号为") + kAccount)));
  EXPECT_THAT(c.Say("我绑了哪些户号", "u2"),
              AllOf(HasSubstr("已绑定3个"), HasSubstr(std::string(kAccount) + "（默认）"),
                    HasSubstr("0302000004815"), HasSubstr("0305000008147")));
  EXPECT_THAT(c.Say("上个月电费多少", "u2"), HasSubstr("129.80元"));
  // u1 sees u2's binding too: it is one user now.
  EXPECT_THAT(c.Say("我绑了哪些户号"), HasSubstr("0305000008147"));
  EXPECT_THAT(WhereFound(c, "Secret2025"), ::testing::IsEmpty());
  EXPECT_THAT(c.Say("登录", "u2"), HasSubstr("手机号"));
  EXPECT_THAT(c.Say("13912345678", "u2"), HasSubstr("已经用手机号139****5678登录"));
}

TEST(ServicesLogin, FromWechatTheSameBindingsFollow) {
  Conversation c;
  c.Bind("南宁", kAccount, kPassword);
  ASSERT_THAT(Register(c, "u1", "13912345678", "Secret2024"), HasSubstr("注册成功"));
  EXPECT_THAT(SayAs(c, "wechat", "oWx-openid-1", "我绑了哪些户号"), HasSubstr("还没有绑定"));
  SayAs(c, "wechat", "oWx-openid-1", "登录 13912345678");
  // Typed with a Chinese input method: full-width letters and digits.
  EXPECT_THAT(SayAs(c, "wechat", "oWx-openid-1", "Ｓｅｃｒｅｔ２０２４"),
              AllOf(HasSubstr("登录成功"), HasSubstr("共绑定1个户号")));
  EXPECT_THAT(SayAs(c, "wechat", "oWx-openid-1", "上个月电费多少"),
              AllOf(HasSubstr(kAccount), HasSubstr("129.80元")));
  // A binding made on WeChat is seen on the web.
  SayAs(c, "wechat", "oWx-openid-1", "绑定户号");
  SayAs(c, "wechat", "oWx-openid-1", "南宁");
  SayAs(c, "wechat", "oWx-openid-1", "0301000003517");
  ASSERT_THAT(SayAs(c, "wechat", "oWx-openid-1", "802413"), HasSubstr("绑定成功"));
  EXPECT_THAT(c.Say("我绑了哪些户号"), AllOf(HasSubstr("已绑定2个"), HasSubstr("0301000003517")));
}

TEST(ServicesLogin, FiveWrongPasswordsLockTheGuesserNotTheOwner) {
  Conversation c;
  const std::string phone = "13912345678";
  ASSERT_THAT(Register(c, "u1", phone, "Secret2024"), HasSubstr("注册成功"));
  c.Say("登录", "u2");
  c.Say(phone, "u2");
  for (int i = 1; i <= 4; ++i)
    EXPECT_THAT(c.Say("Wrong" + std::to_string(1000 + i), "u2"),
                HasSubstr("还可以尝试" + std::to_string(5 - i) + "次"));
  EXPECT_THAT(c.Say("Wrong1005", "u2"), AllOf(HasSubstr("连续输错5次"), HasSubstr("30分钟后再试")));
  EXPECT_THAT(c.Say("登录 " + phone, "u2"), AllOf(HasSubstr("暂时受限"), HasSubstr("30分钟")));
  // The owner, on another device, is not shut out by someone else's guesses.
  c.Say("登录 " + phone, "u3");
  EXPECT_THAT(c.Say("Secret2024", "u3"), HasSubstr("登录成功"));
}

TEST(ServicesLogin, GuessesSpreadOverManyUsersMakeEveryoneWaitThenTheOwnerGetsIn) {
  Conversation c;
  const std::string phone = "13912345678";
  ASSERT_THAT(Register(c, "u1", phone, "Secret2024"), HasSubstr("注册成功"));
  // Ten guesses are free, whoever makes them (two each from five users).
  for (int u = 0; u < 5; ++u) {
    const std::string user = "guesser" + std::to_string(u);
    c.Say("登录 " + phone, user);
    c.Say("Wrong" + std::to_string(2 * u), user);
    EXPECT_THAT(c.Say("Wrong" + std::to_string(2 * u + 1), user), HasSubstr("还可以尝试3次"));
  }
  // The next wrong one, from a fresh identity, makes everyone wait: no
  // fresh identity gets another guess.
  c.Say("登录 " + phone, "guesser8");
  EXPECT_THAT(c.Say("Wrong11", "guesser8"),
              AllOf(HasSubstr("暂时受限"), HasSubstr("请1分钟"), Not(HasSubstr("还可以尝试"))));
  EXPECT_THAT(c.Say("登录 " + phone, "guesser9"), HasSubstr("暂时受限"));
  EXPECT_THAT(c.Say("登录 " + phone, "u3"), AllOf(HasSubstr("暂时受限"), HasSubstr("请1分钟")));
  // The wait is short for the owner (a minute after the first paid guess);
  // the right password clears the count.
  c.clock().Advance(61);
  c.Say("登录 " + phone, "u3");
  EXPECT_THAT(c.Say("Secret2024", "u3"), HasSubstr("登录成功"));
  c.Say("登录 " + phone, "u4");
  EXPECT_THAT(c.Say("Wrong99", "u4"), HasSubstr("还可以尝试4次"));
}

// However long the guessing goes on, the owner waits at most an hour.
TEST(ServicesLogin, TheOwnersWaitIsCappedAtAnHourWhateverTheGuessing) {
  Conversation c;
  const std::string phone = "13912345678";
  ASSERT_THAT(Register(c, "u1", phone, "Secret2024"), HasSubstr("注册成功"));
  // A patient guesser comes back every 5 minutes for hours; uncapped, the
  // doubling would reach 64 minutes.
  int longest = 0, refused = 0;
  auto wait_in = [&](const std::string& reply) {
    std::smatch m;
    if (std::regex_search(reply, m, std::regex("请([0-9]+)分钟后再试")))
      longest = std::max(longest, std::stoi(m[1]));
  };
  for (int round = 0; round < 80; ++round) {
    const std::string user = "g" + std::to_string(round);
    const std::string asked = c.Say("登录 " + phone, user);
    wait_in(asked);
    if (asked.find("暂时受限") != std::string::npos) {
      ++refused;
      c.clock().Advance(5 * 60);
      continue;
    }
    wait_in(c.Say("Wrong" + std::to_string(round), user));
  }
  EXPECT_GT(refused, 20);
  EXPECT_EQ(longest, 60);
  // The owner, an hour later at most, gets in.
  c.clock().Advance(60 * 60);
  c.Say("登录 " + phone, "owner");
  EXPECT_THAT(c.Say("Secret2024", "owner"), HasSubstr("登录成功"));
}

// Whether a phone has an account is never told before its password: an
// unknown phone is asked for one, and both mistakes get one answer.
TEST(ServicesLogin, AnUnknownPhoneIsNotToldApartFromAWrongPassword) {
  Conversation c;
  ASSERT_THAT(Register(c, "u1", "13912345678", "Secret2024"), HasSubstr("注册成功"));
  c.Say("登录", "u2");
  const std::string asked_known = c.Say("13912345678", "u2");
  const std::string wrong_known = c.Say("Secret2025", "u2");
  c.Say("登录", "u3");
  const std::string asked_unknown = c.Say("13700001111", "u3");
  const std::string wrong_unknown = c.Say("Secret2025", "u3");
  EXPECT_THAT(asked_unknown, HasSubstr("登录密码"));
  EXPECT_EQ(asked_unknown, ReplaceAll(asked_known, "139****5678", "137****1111"));
  EXPECT_EQ(wrong_unknown, wrong_known);
  EXPECT_THAT(wrong_unknown, AllOf(HasSubstr("手机号或密码不正确"), HasSubstr("注册")));
}

TEST(ServicesLogin, AtMostFiveBindingsAfterTheMerge) {
  Conversation c;
  c.Bind("南宁", "0301000001234", "246810");
  c.Bind("南宁", "0301000003517", "802413");
  c.Bind("南宁", "0301000007026", "570921");
  c.Bind("柳州", "0302000004815", "419263");
  ASSERT_THAT(Register(c, "u1", "13912345678", "Secret2024"), HasSubstr("注册成功"));
  auto bind_u2 = [&](const char* city, const char* no, const char* pw) {
    c.Say("绑定户号", "u2");
    c.Say(city, "u2");
    c.Say(no, "u2");
    return c.Say(pw, "u2");
  };
  ASSERT_THAT(bind_u2("桂林", "0303000006392", "638054"), HasSubstr("绑定成功"));
  ASSERT_THAT(bind_u2("北海", "0305000008147", "925736"), HasSubstr("绑定成功"));
  c.Say("登录 13912345678", "u2");
  EXPECT_THAT(c.Say("Secret2024", "u2"),
              AllOf(HasSubstr("共绑定5个户号"), HasSubstr("默认户号为0301000001234"),
                    HasSubstr("没有并入"), HasSubstr("0305000008147")));
}

}  // namespace
}  // namespace gridbot::testing
