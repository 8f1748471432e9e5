#include "desk/desk.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <semaphore>

#include "desk/auth.h"
#include "dialogs/flow_util.h"
#include "privacy/mask.h"
#include "storage/fixtures.h"
#include "storage/queries.h"
#include "storage/subscriptions.h"

namespace gridbot::desk {
namespace {

using nlohmann::json;
using storage::DeskConversation;

size_t CodePoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

constexpr size_t kMaxReplyChars = 2000;
constexpr size_t kWechatTextBytes = 2048;  // WeChat's customer-service text limit


}  // namespace

bool ValidRole(const std::string& role) {
  return role == "agent" || role == "supervisor" || role == "analyst" || role == "admin";
}

Result<std::vector<CannedReply>> LoadCanned(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::Error("cannot read " + path);
  std::vector<CannedReply> out;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    line = dialogs::Trimmed(line);
    if (line.empty() || line[0] == '#') continue;
    const size_t a = line.find('|'), b = a == std::string::npos ? a : line.find('|', a + 1);
    if (b == std::string::npos) return Status::Error(path + ":" + std::to_string(n) +
                                                     ": expected code | title | text");
    CannedReply r{dialogs::Trimmed(line.substr(0, a)), dialogs::Trimmed(line.substr(a + 1, b - a - 1)),
                  dialogs::Trimmed(line.substr(b + 1))};
    if (r.code.empty() || r.text.empty())
      return Status::Error(path + ":" + std::to_string(n) + ": empty code or text");
    for (const auto& o : out)
      if (o.code == r.code)
        return Status::Error(path + ":" + std::to_string(n) + ": code " + r.code + " twice");
    out.push_back(std::move(r));
  }
  return out;
}

Desk::Desk(storage::Store& store, dialogs::Engine& engine, std::shared_ptr<Clock> clock,
           DeskConfig config, std::shared_ptr<const dialogs::Replies> replies,
           std::vector<CannedReply> canned)
    : store_(store),
      engine_(engine),
      clock_(std::move(clock)),
      config_(std::move(config)),
      replies_(std::move(replies)),
      canned_(std::move(canned)),
      observe_([](const std::string&, double) {}) {}

std::string Desk::Say(const std::string& key, const dialogs::Vars& vars) const {
  return replies_->Has(key) ? replies_->Render(key, vars) : key;
}

// --- staff accounts --------------------------------------------------------------

Status Desk::AddAgent(const std::string& name, const std::string& role,
                      const std::string& password) {
  if (name.empty() || CodePoints(name) > 32 || name.find_first_of(" \t\r\n/") != std::string::npos)
    return Status::Error("an agent name is 1 to 32 characters without spaces or '/'");
  if (!ValidRole(role)) return Status::Error("role must be agent, supervisor, analyst or admin");
  if (password.size() < 8) return Status::Error("the password needs at least 8 characters");
  storage::Tx tx = store_.Begin();
  storage::AgentRecord a;
  a.name = name;
  a.role = role;
  a.password_hash = HashPassword(password);
  a.created_at = clock_->Now();
  if (!storage::AddAgent(tx, a)) return Status::Error("an agent named " + name + " exists");
  return tx.Commit();
}

Status Desk::SetPassword(const std::string& name, const std::string& password) {
  if (password.size() < 8) return Status::Error("the password needs at least 8 characters");
  storage::Tx tx = store_.Begin();
  auto a = storage::FindAgent(tx, name);
  if (!a) return Status::Error("no agent named " + name);
  a->password_hash = HashPassword(password);
  storage::UpdateAgent(tx, *a);
  storage::DeleteAgentTokens(tx, a->id);  // logged out everywhere
  storage::SaveLoginFailures(tx, name, {});
  return tx.Commit();
}

Status Desk::DisableAgent(const std::string& name) {
  storage::Tx tx = store_.Begin();
  auto a = storage::FindAgent(tx, name);
  if (!a) return Status::Error("no agent named " + name);
  a->disabled = true;
  storage::UpdateAgent(tx, *a);
  storage::DeleteAgentTokens(tx, a->id);
  // What they held goes back to the queue.
  const UnixSeconds now = clock_->Now();
  for (DeskConversation c : storage::DeskConversationsIn(tx, "held")) {
    if (c.agent_id != a->id) continue;
    c.state = "queued";
    c.agent_id = 0;
    ToCustomer(tx, c, Say("desk.requeued"), "system");
    storage::UpdateDeskConversation(tx, c);
    storage::AppendDeskMessage(tx, c.id, now, "system", 0, name + " 已停用，会话回到队列", "{}");
    storage::AppendDeskEvent(tx, c.id, "requeued", now);
  }
  return tx.Commit();
}

std::vector<storage::AgentRecord> Desk::ListAgents() {
  storage::Tx tx = store_.Begin();
  return storage::ListAgents(tx);
}

// --- sessions --------------------------------------------------------------------

Answer Desk::Login(const std::string& name, const std::string& password) {
  const UnixSeconds now = clock_->Now();
  const Answer bad = Answer::Error(ErrorKind::kUnauthorized, "用户名或密码错误");
  if (name.empty() || name.size() > 128 || password.size() > 1024) return bad;
  std::optional<storage::AgentRecord> agent;
  {
    storage::Tx tx = store_.Begin();
    const storage::LoginFailures f = storage::GetLoginFailures(tx, name);
    if (f.locked_until > now) {
      const CivilTime until = ToCivil(f.locked_until);
      char clock[8];
      std::snprintf(clock, sizeof clock, "%02d:%02d", until.hour, until.minute);
      return Answer::Error(ErrorKind::kLocked,
                           std::string("登录失败次数过多，请于") + clock + "后再试");
    }
    agent = storage::FindAgent(tx, name);
  }
  // The slow hash runs outside the transaction (no lock held), and for an
  // unknown name too, so neither timing nor answer tells names apart.
  static const std::string kDummy = HashPassword("no such agent, no such password");
  // One slow hash at a time in this process: a flood of logins is
  // answered "busy" instead of taking every worker from the customers.
  static std::binary_semaphore hashing(1);
  if (!hashing.try_acquire())  // never waits: a waiting worker is one customers lack
    return Answer::Error(ErrorKind::kLocked, "登录的人较多，请稍后再试");
  const bool match = VerifyPassword(password, agent ? agent->password_hash : kDummy);
  hashing.release();
  storage::Tx tx = store_.Begin();
  if (!agent || !match || agent->disabled) {
    storage::LoginFailures f = storage::GetLoginFailures(tx, name);
    if (f.locked_until != 0 && f.locked_until <= now) f = {};  // the lock passed
    if (++f.failures >= config_.lock_failures) f.locked_until = now + config_.lock_minutes * 60;
    storage::SaveLoginFailures(tx, name, f);
    tx.Commit();
    return bad;
  }
  storage::SaveLoginFailures(tx, name, {});
  const std::string token = NewToken();
  const UnixSeconds expires = now + config_.token_hours * 3600;
  storage::SaveAgentToken(tx, TokenHash(token), agent->id, now, expires);
  storage::TouchAgent(tx, agent->id, now);
  storage::PurgeAgentTokens(tx, now);
  if (!tx.Commit().ok()) return Answer::Error(ErrorKind::kConflict, "系统繁忙，请重试");
  Answer a;
  a.body = {{"token", token}, {"name", agent->name}, {"role", agent->role}, {"expires_at", expires}};
  return a;
}

std::optional<AgentIdentity> Desk::Authenticate(const std::string& token) {
  if (token.size() != 64) return std::nullopt;
  const UnixSeconds now = clock_->Now();
  storage::Tx tx = store_.Begin();
  auto id = storage::AgentForToken(tx, TokenHash(token), now);
  if (!id) return std::nullopt;
  auto a = storage::AgentById(tx, *id);
  if (!a || a->disabled) return std::nullopt;
  if (a->last_seen_at < now - 10) {  // "online", without a write per request
    storage::TouchAgent(tx, a->id, now);
    tx.Commit();
  }
  return AgentIdentity{a->id, a->name, a->role};
}

void Desk::Logout(const std::string& token) {
  storage::Tx tx = store_.Begin();
  storage::DeleteAgentToken(tx, TokenHash(token));
  tx.Commit();
}

// --- helpers -------------------------------------------------------------------------

bool Desk::MaySee(const AgentIdentity& who, const DeskConversation& c) const {
  if (who.Supervises()) return true;
  if (!who.Answers()) return false;
  return c.state == "queued" || c.agent_id == who.id;
}

bool Desk::MayAct(const AgentIdentity& who, const DeskConversation& c) const {
  return c.state == "held" && (c.agent_id == who.id || who.Supervises());
}

Answer Desk::Load(storage::Tx& tx, const AgentIdentity& who, const std::string& id,
                  DeskConversation* conv) {
  if (!who.Answers()) return Answer::Error(ErrorKind::kForbidden, "您的角色不能处理会话");
  auto c = storage::FindDeskConversation(tx, id);
  if (!c) return Answer::Error(ErrorKind::kNotFound, "没有这个会话");
  if (!MaySee(who, *c))
    return Answer::Error(ErrorKind::kForbidden,
                         c->state == "held" ? "该会话由其他客服接待中" : "该会话已结束");
  *conv = *c;
  return Answer{};
}

std::string Desk::AgentName(storage::Tx& tx, std::int64_t id) {
  if (id == 0) return "";
  auto a = storage::AgentById(tx, id);
  return a ? a->name : "";
}

std::string Desk::WindowClosed(const DeskConversation& c, UnixSeconds now) const {
  if (c.channel != "wechat") return "";
  if (!config_.wechat_delivery)
    return "未配置微信客服消息接口（wechat-appid / wechat-appsecret），消息无法送达微信客户";
  if (now - c.last_customer_at >= config_.wechat_window_hours * 3600)
    return "客户最后一条消息已超过" + std::to_string(config_.wechat_window_hours) +
           "小时，微信不允许再主动发送客服消息，需等客户再次发消息";
  if (c.replies_since_customer >= config_.wechat_max_replies)
    return "客户上一条消息后已发送" + std::to_string(config_.wechat_max_replies) +
           "条消息，微信规定需等客户回复后才能继续发送";
  return "";
}

json Desk::WindowJson(const DeskConversation& c, UnixSeconds now) const {
  const std::string closed = WindowClosed(c, now);
  json w = {{"open", closed.empty()}, {"reason", closed.empty() ? json(nullptr) : json(closed)}};
  if (c.channel == "wechat") {
    w["remaining"] = std::max(0, config_.wechat_max_replies - c.replies_since_customer);
    w["closes_at"] = c.last_customer_at + config_.wechat_window_hours * 3600;
  } else {
    w["remaining"] = nullptr;
    w["closes_at"] = nullptr;
  }
  return w;
}

bool Desk::ToCustomer(storage::Tx& tx, DeskConversation& c, const std::string& text,
                      const std::string& sender) {
  const UnixSeconds now = clock_->Now();
  if (!WindowClosed(c, now).empty()) return false;
  storage::QueueCustomerMessage(tx, c.channel, c.external_id, text, sender, now);
  if (c.channel == "wechat") ++c.replies_since_customer;
  return true;
}

Result<std::string> Desk::Fill(storage::Tx& tx, const DeskConversation& c, const std::string& text) {
  if (text.find("{{") == std::string::npos) return text;
  const std::int64_t user = tx.UserIdFor(c.channel, c.external_id, clock_->Now());
  std::string account, holder;
  for (const auto& b : tx.Bindings(user))
    if (account.empty() || b.is_default) account = b.account_no;
  std::string arrears = "0.00元";
  if (!account.empty()) {
    if (auto a = tx.FindAccount(account)) holder = a->holder;
    const CivilDay d = ToCivilDay(clock_->Now());
    const std::string last = d.month == 1 ? FormatYearMonth(d.year - 1, 12)
                                          : FormatYearMonth(d.year, d.month - 1);
    arrears = storage::FormatMoney(tx.ArrearsFen(account, last)) + "元";
  }
  if (account.empty() && (text.find("{{户号}}") != std::string::npos ||
                          text.find("{{欠费}}") != std::string::npos))
    return Status::Error("该客户还没有绑定户号，无法填写{{户号}}、{{欠费}}，请修改后再发送");
  std::string out = text;
  auto replace = [&out](const std::string& from, const std::string& to) {
    for (size_t p = out.find(from); p != std::string::npos; p = out.find(from, p + to.size()))
      out.replace(p, from.size(), to);
  };
  replace("{{客户称呼}}", holder.empty() ? "尊敬的客户" : holder);
  replace("{{户号}}", account);
  replace("{{欠费}}", arrears);
  return out;
}

// What staff may not read in clear in this conversation's texts, beyond
// what privacy::MaskText finds by shape: the names, addresses and phones of
// the customer's bound accounts.
std::function<std::string(const std::string&)> Desk::MaskerFor(storage::Tx& tx,
                                                               const DeskConversation& c) {
  std::vector<std::pair<std::string, std::string>> known;
  const std::int64_t user = tx.UserIdFor(c.channel, c.external_id, clock_->Now());
  for (const auto& b : tx.Bindings(user)) {
    auto a = tx.FindAccount(b.account_no);
    if (!a) continue;
    if (a->address.size() > 6) known.emplace_back(a->address, a->city + a->district + "****");
    if (!a->holder.empty()) known.emplace_back(a->holder, privacy::MaskName(a->holder));
  }
  // Longest first, so an address is replaced before a name inside it.
  std::sort(known.begin(), known.end(),
            [](const auto& x, const auto& y) { return x.first.size() > y.first.size(); });
  return [known](const std::string& text) {
    std::string out = text;
    for (const auto& [from, to] : known)
      for (size_t p = out.find(from); p != std::string::npos; p = out.find(from, p + to.size()))
        out.replace(p, from.size(), to);
    return privacy::MaskText(out);
  };
}

json Desk::Summary(storage::Tx& tx, const DeskConversation& c, UnixSeconds now) {
  const auto last = storage::LastCustomerMessage(tx, c.id);
  const UnixSeconds since = config_.hours.NextOpening(c.queued_at);
  const bool overdue = c.state == "queued" && now > since &&
                       now - since >= config_.wait_minutes * 60;
  return {{"id", c.public_id},
          {"channel", c.channel},
          {"customer", privacy::MaskCustomerId(c.channel, c.external_id)},
          {"state", c.state},
          {"reason", c.reason},
          {"queued_at", c.queued_at},
          {"agent", c.agent_id ? json(AgentName(tx, c.agent_id)) : json(nullptr)},
          {"waiting_seconds", c.state == "queued" ? now - c.queued_at : 0},
          {"overdue", overdue},
          {"last_text", last ? privacy::MaskText(last->text) : ""},
          {"last_at", last ? last->at : c.queued_at}};
}

json Desk::CustomerPanel(storage::Tx& tx, const DeskConversation& c) {
  const UnixSeconds now = clock_->Now();
  const std::int64_t user = tx.UserIdFor(c.channel, c.external_id, now);
  const CivilDay d = ToCivilDay(now);
  const std::string last = d.month == 1 ? FormatYearMonth(d.year - 1, 12)
                                        : FormatYearMonth(d.year, d.month - 1);
  json accounts = json::array();
  std::vector<std::string> numbers;
  std::string name;
  for (const auto& b : tx.Bindings(user)) {
    numbers.push_back(b.account_no);
    json a = {{"account_no", privacy::MaskAccountNo(b.account_no)}, {"default", b.is_default}};
    if (auto acc = tx.FindAccount(b.account_no)) {
      a["holder"] = privacy::MaskName(acc->holder);
      a["city"] = acc->city;
      a["address"] = acc->city + acc->district + "****";  // the street is personal
      a["arrears"] = storage::FormatMoney(tx.ArrearsFen(b.account_no, last));
      if (name.empty() || b.is_default) name = privacy::MaskName(acc->holder);
    }
    accounts.push_back(std::move(a));
  }
  json business = json::array();
  for (const auto& b : storage::OpenBusinessOf(tx, numbers, now)) {
    business.push_back({{"business_no", b.business_no},
                        {"type", b.type},
                        {"status", b.status},
                        {"created_at", b.steps.empty() ? 0 : b.steps.front().at}});
  }
  const auto phone = storage::RegisteredPhone(tx, user);
  return {{"name", name.empty() ? privacy::MaskCustomerId(c.channel, c.external_id) : name},
          {"channel", c.channel},
          {"phone", phone ? json(privacy::MaskPhone(*phone)) : json(nullptr)},
          {"accounts", accounts},
          {"business", business}};
}

void Desk::Assign(storage::Tx& tx, DeskConversation& c, const storage::AgentRecord& a,
                  UnixSeconds now, const char* how) {
  const bool first = c.claimed_at == 0;
  c.state = "held";
  c.agent_id = a.id;
  if (first) c.claimed_at = now;
  c.last_agent_at = now;
  storage::AppendDeskMessage(tx, c.id, now, "system", a.id, a.name + how, "{}");
  ToCustomer(tx, c, Say("desk.claimed", {{"agent", a.name}}), "system");
  storage::UpdateDeskConversation(tx, c);
  storage::AppendDeskEvent(tx, c.id, "claimed", now);
  if (first) observe_("wait", static_cast<double>(now - c.queued_at));
}

// --- the console ---------------------------------------------------------------------

Answer Desk::Me(const AgentIdentity& who) {
  storage::Tx tx = store_.Begin();
  auto a = storage::AgentById(tx, who.id);
  if (!a) return Answer::Error(ErrorKind::kUnauthorized, "请重新登录");
  Answer r;
  r.body = {{"name", a->name},
            {"role", a->role},
            {"auto_assign", a->auto_assign},
            {"capacity", CapacityOf(*a)},
            {"held", storage::HeldCount(tx, a->id)}};
  return r;
}

Answer Desk::SetAutoAssign(const AgentIdentity& who, bool on) {
  {
    storage::Tx tx = store_.Begin();
    auto a = storage::AgentById(tx, who.id);
    if (!a) return Answer::Error(ErrorKind::kUnauthorized, "请重新登录");
    a->auto_assign = on;
    storage::UpdateAgent(tx, *a);
    storage::AppendDeskEvent(tx, 0, "agents", clock_->Now());
    tx.Commit();
  }
  if (on) AssignWaiting();
  return Me(who);
}

Answer Desk::Queue(const AgentIdentity& who) {
  if (!who.Answers()) return Answer::Error(ErrorKind::kForbidden, "您的角色不能处理会话");
  const UnixSeconds now = clock_->Now();
  storage::Tx tx = store_.Begin();
  json list = json::array();
  for (const auto& c : storage::DeskConversationsIn(tx, "queued")) list.push_back(Summary(tx, c, now));
  for (const auto& c : storage::DeskConversationsIn(tx, "held"))
    if (MaySee(who, c)) list.push_back(Summary(tx, c, now));
  Answer r;
  r.body = {{"conversations", list}};
  return r;
}

Answer Desk::Conversation(const AgentIdentity& who, const std::string& id) {
  storage::Tx tx = store_.Begin();
  DeskConversation c;
  if (Answer a = Load(tx, who, id, &c); !a.ok()) return a;
  const UnixSeconds now = clock_->Now();
  json messages = json::array();
  std::map<std::int64_t, std::string> names;
  const auto mask = MaskerFor(tx, c);
  for (const auto& m : storage::DeskMessages(tx, c.id)) {
    json j = {{"seq", m.seq}, {"at", m.at}, {"from", m.from}, {"text", mask(m.text)}};
    if (m.agent_id) {
      if (!names.count(m.agent_id)) names[m.agent_id] = AgentName(tx, m.agent_id);
      j["agent"] = names[m.agent_id];
    }
    const json meta = json::parse(m.meta, nullptr, false);
    if (meta.is_object())
      for (const char* k : {"intent", "confidence", "flow", "step", "media"})
        if (meta.contains(k) && !(meta[k].is_string() && meta[k].get<std::string>().empty()))
          j[k] = meta[k];
    if (j.contains("media") && j["media"].is_object()) {
      // Pictures come from WeChat's servers; voice is fetched through the
      // media API by bot/ (GET /api/agent/media/ID).
      json& media = j["media"];
      const std::string mid = media.value("media_id", "");
      if (media.value("url", "").empty() && !mid.empty())
        media["url"] = "/api/agent/media/" + mid;
    }
    messages.push_back(std::move(j));
  }
  Answer r;
  r.body = Summary(tx, c, now);
  r.body["typing"] = c.typing_agent && c.typing_until > now && c.typing_agent != who.id
                         ? json(AgentName(tx, c.typing_agent))
                         : json(nullptr);
  r.body["window"] = WindowJson(c, now);
  r.body["customer"] = CustomerPanel(tx, c);
  r.body["messages"] = messages;
  r.body["rating"] = c.rating ? json(c.rating) : json(nullptr);
  return r;
}

Answer Desk::Claim(const AgentIdentity& who, const std::string& id) {
  const UnixSeconds now = clock_->Now();
  storage::Tx tx = store_.Begin();
  DeskConversation c;
  if (Answer a = Load(tx, who, id, &c); !a.ok()) {
    if (a.error == ErrorKind::kForbidden && who.Answers()) a.error = ErrorKind::kConflict;  // held by another
    return a;
  }
  if (c.state == "held" && c.agent_id == who.id) return Answer{};  // already yours
  if (c.state == "held") {
    return Answer::Error(ErrorKind::kConflict, AgentName(tx, c.agent_id) + " 已接入该会话");
  }
  if (c.state != "queued") return Answer::Error(ErrorKind::kConflict, "该会话已结束");
  auto a = storage::AgentById(tx, who.id);
  if (!a) return Answer::Error(ErrorKind::kUnauthorized, "请重新登录");
  if (storage::HeldCount(tx, a->id) >= CapacityOf(*a))
    return Answer::Error(ErrorKind::kConflict,
                         "您已同时接待" + std::to_string(CapacityOf(*a)) + "个会话，达到上限");
  Assign(tx, c, *a, now, " 接入了会话");
  if (!tx.Commit().ok()) return Answer::Error(ErrorKind::kConflict, "系统繁忙，请重试");
  return Answer{};
}

Answer Desk::Reply(const AgentIdentity& who, const std::string& id, const std::string& raw) {
  const std::string text = dialogs::Trimmed(raw);
  if (text.empty()) return Answer::Error(ErrorKind::kBadRequest, "回复内容不能为空");
  if (CodePoints(text) > kMaxReplyChars)
    return Answer::Error(ErrorKind::kBadRequest, "回复太长了，请分几条发送");
  const UnixSeconds now = clock_->Now();
  storage::Tx tx = store_.Begin();
  DeskConversation c;
  if (Answer a = Load(tx, who, id, &c); !a.ok()) {
    if (a.error == ErrorKind::kForbidden && who.Answers()) a.error = ErrorKind::kConflict;
    return a;
  }
  if (c.state != "held" || c.agent_id != who.id)
    return Answer::Error(ErrorKind::kConflict, c.state == "held"
                                                   ? AgentName(tx, c.agent_id) + " 正在接待该会话"
                                                   : "请先接入该会话再回复");
  if (std::string closed = WindowClosed(c, now); !closed.empty())
    return Answer::Error(ErrorKind::kUnprocessable, closed);
  auto filled_or = Fill(tx, c, text);
  if (!filled_or.ok()) return Answer::Error(ErrorKind::kBadRequest, filled_or.error());
  const std::string filled = *filled_or;
  if (c.channel == "wechat" && filled.size() > kWechatTextBytes)
    return Answer::Error(ErrorKind::kBadRequest, "微信客服消息最长约680个汉字，请分几条发送");
  // Stored before it is sent: the outbox row commits with the message.
  const std::int64_t seq = storage::AppendDeskMessage(tx, c.id, now, "agent", who.id, filled, "{}");
  ToCustomer(tx, c, filled, "agent");
  const bool first = c.first_response_at == 0;
  if (first) c.first_response_at = now;
  c.last_agent_at = now;
  c.typing_agent = 0;
  storage::UpdateDeskConversation(tx, c);
  storage::AppendDeskEvent(tx, c.id, "reply", now);
  if (!tx.Commit().ok()) return Answer::Error(ErrorKind::kConflict, "系统繁忙，请重试");
  if (first) observe_("first_response", static_cast<double>(now - c.queued_at));
  Answer r;
  r.body = {{"seq", seq}};
  return r;
}

Answer Desk::Note(const AgentIdentity& who, const std::string& id, const std::string& raw) {
  const std::string text = dialogs::Trimmed(raw);
  if (text.empty()) return Answer::Error(ErrorKind::kBadRequest, "备注内容不能为空");
  if (CodePoints(text) > kMaxReplyChars) return Answer::Error(ErrorKind::kBadRequest, "备注太长了");
  const UnixSeconds now = clock_->Now();
  storage::Tx tx = store_.Begin();
  DeskConversation c;
  if (Answer a = Load(tx, who, id, &c); !a.ok()) return a;
  const std::int64_t seq = storage::AppendDeskMessage(tx, c.id, now, "note", who.id, text, "{}");
  if (c.state == "held" && c.agent_id == who.id) {
    c.last_agent_at = now;
    storage::UpdateDeskConversation(tx, c);
  }
  storage::AppendDeskEvent(tx, c.id, "note", now);
  tx.Commit();
  Answer r;
  r.body = {{"seq", seq}};
  return r;
}

Answer Desk::Release(const AgentIdentity& who, const std::string& id) {
  // The transaction ends before the next one in line is assigned.
  Answer a = ReleaseLocked(who, id);  // the agent freed up: the next one in line
  if (a.ok()) AssignWaiting();
  return a;
}

Answer Desk::ReleaseLocked(const AgentIdentity& who, const std::string& id) {
  const UnixSeconds now = clock_->Now();
  storage::Tx tx = store_.Begin();
  DeskConversation c;
  if (Answer a = Load(tx, who, id, &c); !a.ok()) return a;
  if (!(MayAct(who, c) || (c.state == "queued" && who.Supervises())))
    return Answer::Error(ErrorKind::kConflict, "只有接待该会话的客服可以释放它");
  const bool served = c.state == "held";
  storage::AppendDeskMessage(tx, c.id, now, "system", who.id, who.name + " 将会话交回机器人", "{}");
  ToCustomer(tx, c, Say(served ? "desk.released" : "desk.released_queued"), "system");
  c.state = "released";
  c.end_kind = "released";
  c.ended_at = now;
  c.typing_agent = 0;
  storage::UpdateDeskConversation(tx, c);
  storage::AppendDeskEvent(tx, c.id, "released", now);
  tx.Commit();
  return Answer{};
}

Answer Desk::Close(const AgentIdentity& who, const std::string& id) {
  // The transaction ends before the next one in line is assigned.
  Answer a = CloseLocked(who, id);
  if (a.ok()) AssignWaiting();
  return a;
}

Answer Desk::CloseLocked(const AgentIdentity& who, const std::string& id) {
  const UnixSeconds now = clock_->Now();
  storage::Tx tx = store_.Begin();
  DeskConversation c;
  if (Answer a = Load(tx, who, id, &c); !a.ok()) return a;
  if (!MayAct(who, c)) return Answer::Error(ErrorKind::kConflict, "只有接待该会话的客服可以结束它");
  c.state = "closed";
  c.end_kind = "closed";
  c.ended_at = now;
  c.typing_agent = 0;
  storage::AppendDeskMessage(tx, c.id, now, "system", who.id, who.name + " 结束了会话", "{}");
  // The customer is asked for a rating; their next message may give it.
  c.rating_open = ToCustomer(tx, c, Say("desk.closed"), "system");
  storage::UpdateDeskConversation(tx, c);
  storage::AppendDeskEvent(tx, c.id, "closed", now);
  tx.Commit();
  return Answer{};
}

Answer Desk::Transfer(const AgentIdentity& who, const std::string& id, const std::string& to) {
  // The transaction ends before the next one in line is assigned.
  Answer a = TransferLocked(who, id, to);
  if (a.ok()) AssignWaiting();
  return a;
}

Answer Desk::TransferLocked(const AgentIdentity& who, const std::string& id, const std::string& to) {
  if (!who.Supervises()) return Answer::Error(ErrorKind::kForbidden, "只有主管可以转接会话");
  const UnixSeconds now = clock_->Now();
  storage::Tx tx = store_.Begin();
  DeskConversation c;
  if (Answer a = Load(tx, who, id, &c); !a.ok()) return a;
  if (!(MayAct(who, c) || (c.state == "queued" && who.Supervises())))
    return Answer::Error(ErrorKind::kConflict, "该会话已结束，不能转接");
  if (to.empty()) {
    if (c.state == "queued") return Answer{};
    c.state = "queued";
    c.agent_id = 0;
    c.typing_agent = 0;
    c.wait_notified = false;
    storage::AppendDeskMessage(tx, c.id, now, "system", who.id, who.name + " 将会话退回队列", "{}");
    ToCustomer(tx, c, Say("desk.requeued"), "system");
    storage::UpdateDeskConversation(tx, c);
    storage::AppendDeskEvent(tx, c.id, "requeued", now);
    tx.Commit();
    return Answer{};
  }
  auto target = storage::FindAgent(tx, to);
  if (!target || target->disabled || !AgentIdentity{target->id, target->name, target->role}.Answers())
    return Answer::Error(ErrorKind::kNotFound, "没有可转接的客服“" + to + "”");
  if (target->id == c.agent_id && c.state == "held") return Answer{};
  if (storage::HeldCount(tx, target->id) >= CapacityOf(*target))
    return Answer::Error(ErrorKind::kConflict, target->name + " 的接待量已满");
  c.state = "held";
  c.agent_id = target->id;
  if (c.claimed_at == 0) c.claimed_at = now;
  c.last_agent_at = now;
  c.typing_agent = 0;
  storage::AppendDeskMessage(tx, c.id, now, "system", who.id,
                             who.name + " 将会话转接给 " + target->name, "{}");
  ToCustomer(tx, c, Say("desk.transferred", {{"agent", target->name}}), "system");
  storage::UpdateDeskConversation(tx, c);
  storage::AppendDeskEvent(tx, c.id, "transferred", now);
  tx.Commit();
  return Answer{};
}

Answer Desk::Typing(const AgentIdentity& who, const std::string& id) {
  const UnixSeconds now = clock_->Now();
  storage::Tx tx = store_.Begin();
  DeskConversation c;
  if (Answer a = Load(tx, who, id, &c); !a.ok()) return a;
  if (!MayAct(who, c)) return Answer::Error(ErrorKind::kConflict, "请先接入该会话");
  if (c.typing_agent != who.id || c.typing_until < now + 3) {
    c.typing_agent = who.id;
    c.typing_until = now + 6;
    c.last_agent_at = now;
    storage::UpdateDeskConversation(tx, c);
    storage::AppendDeskEvent(tx, c.id, "typing", now);
    tx.Commit();
  }
  return Answer{};
}

Answer Desk::Assist(const AgentIdentity& who, const std::string& id) {
  DeskConversation c;
  std::optional<storage::DeskMessage> last;
  {
    storage::Tx tx = store_.Begin();
    if (Answer a = Load(tx, who, id, &c); !a.ok()) return a;
    // The customer's last question: not the request for a person itself.
    const auto messages = storage::DeskMessages(tx, c.id);
    for (auto it = messages.rbegin(); it != messages.rend() && !last; ++it) {
      if (it->from != "customer") continue;
      const json meta = json::parse(it->meta, nullptr, false);
      if (meta.is_object() && meta.value("intent", "") == "human_agent") continue;
      last = *it;
    }
  }
  Answer r;
  if (!last || last->text.empty() || last->text[0] == '[' || last->text == "******") {
    r.body = {{"intent", nullptr}, {"confidence", nullptr}, {"text", ""}, {"for", nullptr}};
    return r;
  }
  // The same NLU and flows, read-only, with the back end's figures.
  dialogs::Inbound in;
  in.channel = c.channel;
  in.user = c.external_id;
  in.text = last->text;
  dialogs::Outcome out = engine_.Preview(in);
  std::function<std::string(const std::string&)> mask;
  {
    storage::Tx tx = store_.Begin();
    mask = MaskerFor(tx, c);
  }
  std::string text;
  for (const auto& rep : out.replies) {
    if (rep.type == "notice") continue;
    if (!text.empty()) text += "\n\n";
    text += rep.text;
  }
  // Masked like everything staff read: sent as is, the customer gets the
  // masked text (the bot itself would show them their own data).
  r.body = {{"intent", out.intent},
            {"confidence", out.confidence},
            {"text", mask(text)},
            {"for", mask(last->text)},
            {"handoff", !out.handoff.empty()}};
  return r;
}

Answer Desk::MayFetchMedia(const AgentIdentity& who, const std::string& media_id) {
  if (!who.Answers()) return Answer::Error(ErrorKind::kForbidden, "您的角色不能处理会话");
  storage::Tx tx = store_.Begin();
  auto id = storage::ConversationOfMedia(tx, media_id);
  if (!id) return Answer::Error(ErrorKind::kNotFound, "没有这个文件");
  auto c = storage::DeskConversationById(tx, *id);
  if (!c || !MaySee(who, *c)) return Answer::Error(ErrorKind::kForbidden, "该会话不由您接待");
  return Answer{};
}

Answer Desk::Canned(const AgentIdentity& who) {
  if (!who.Answers()) return Answer::Error(ErrorKind::kForbidden, "您的角色不能处理会话");
  json list = json::array();
  for (const auto& c : canned_) list.push_back({{"code", c.code}, {"title", c.title}, {"text", c.text}});
  Answer r;
  r.body = {{"canned", list}};
  return r;
}

Answer Desk::Agents(const AgentIdentity& who) {
  if (!who.Supervises()) return Answer::Error(ErrorKind::kForbidden, "只有主管可以查看客服负载");
  const UnixSeconds now = clock_->Now();
  storage::Tx tx = store_.Begin();
  json list = json::array();
  for (const auto& a : storage::ListAgents(tx)) {
    if (a.disabled || !AgentIdentity{a.id, a.name, a.role}.Answers()) continue;
    json j = {{"name", a.name},
              {"role", a.role},
              {"online", a.last_seen_at >= now - config_.online_seconds},
              {"held", storage::HeldCount(tx, a.id)},
              {"capacity", CapacityOf(a)},
              {"auto_assign", a.auto_assign}};
    list.push_back(std::move(j));
  }
  Answer r;
  r.body = {{"agents", list}};
  return r;
}

Answer Desk::Events(const AgentIdentity& who, std::int64_t after) {
  storage::Tx tx = store_.Begin();
  json events = json::array();
  std::int64_t last = after;
  std::map<std::int64_t, std::optional<DeskConversation>> seen;
  for (const auto& e : storage::DeskEventsAfter(tx, after)) {
    last = e.seq;
    if (e.conversation_id == 0) {
      events.push_back({{"seq", e.seq}, {"conversation", nullptr}, {"kind", e.kind}});
      continue;
    }
    auto& c = seen[e.conversation_id];
    if (!c) c = storage::DeskConversationById(tx, e.conversation_id);
    // An agent sees the queue and their own; a change that takes a
    // conversation away from them (claimed by another) is a queue change.
    if (!c || !who.Answers()) continue;
    const bool theirs = MaySee(who, *c) || e.kind == "claimed" || e.kind == "transferred" ||
                        e.kind == "released" || e.kind == "closed" || e.kind == "cancelled";
    if (!theirs) continue;
    events.push_back({{"seq", e.seq},
                      {"conversation", MaySee(who, *c) ? json(c->public_id) : json(nullptr)},
                      {"kind", e.kind}});
  }
  Answer r;
  r.body = {{"events", events}, {"last", last}};
  return r;
}

std::int64_t Desk::LatestEvent() {
  storage::Tx tx = store_.Begin();
  return storage::LatestDeskEvent(tx);
}

// --- timers ------------------------------------------------------------------------

void Desk::Tick() {
  const UnixSeconds now = clock_->Now();
  {
    storage::Tx tx = store_.Begin();
    tx.LockKey("desk timers");  // every instance ticks: one at a time
    for (DeskConversation c : storage::DeskConversationsIn(tx, "queued")) {
      // Waiting counts from when the desk opened for it.
      const UnixSeconds since = config_.hours.NextOpening(c.queued_at);
      if (c.wait_notified || now <= since || now - since < config_.wait_minutes * 60) continue;
      c.wait_notified = true;
      ToCustomer(tx, c, Say("desk.long_wait"), "system");
      storage::AppendDeskMessage(tx, c.id, now, "system", 0,
                                 "客户已等待超过" + std::to_string(config_.wait_minutes) + "分钟",
                                 "{}");
      storage::UpdateDeskConversation(tx, c);
      storage::AppendDeskEvent(tx, c.id, "overdue", now);
    }
    for (DeskConversation c : storage::DeskConversationsIn(tx, "held")) {
      const UnixSeconds active = std::max(c.last_agent_at, c.claimed_at);
      if (now - active < config_.idle_minutes * 60) continue;
      const std::string name = AgentName(tx, c.agent_id);
      // They are away: no more conversations come to them automatically
      // until they switch it on again.
      if (auto a = storage::AgentById(tx, c.agent_id); a && a->auto_assign) {
        a->auto_assign = false;
        storage::UpdateAgent(tx, *a);
        storage::AppendDeskEvent(tx, 0, "agents", now);
      }
      c.state = "queued";
      c.agent_id = 0;
      c.typing_agent = 0;
      storage::AppendDeskMessage(
          tx, c.id, now, "system", 0,
          name + " " + std::to_string(config_.idle_minutes) + "分钟未处理，会话回到队列", "{}");
      ToCustomer(tx, c, Say("desk.requeued"), "system");
      storage::UpdateDeskConversation(tx, c);
      storage::AppendDeskEvent(tx, c.id, "requeued", now);
    }
    tx.Commit();
  }
  AssignWaiting();
}

void Desk::AssignWaiting() {
  const UnixSeconds now = clock_->Now();
  if (!config_.hours.OpenAt(now)) return;
  storage::Tx tx = store_.Begin();
  tx.LockKey("desk timers");
  auto queued = storage::DeskConversationsIn(tx, "queued");
  if (queued.empty()) return;
  std::vector<std::pair<storage::AgentRecord, int>> ready;  // agent, held
  for (const auto& a : storage::ListAgents(tx)) {
    if (a.disabled || !a.auto_assign || a.last_seen_at < now - config_.online_seconds) continue;
    if (!AgentIdentity{a.id, a.name, a.role}.Answers()) continue;
    ready.emplace_back(a, storage::HeldCount(tx, a.id));
  }
  bool changed = false;
  for (DeskConversation& c : queued) {
    // The least loaded agent with room gets the oldest conversation.
    auto best = ready.end();
    for (auto it = ready.begin(); it != ready.end(); ++it)
      if (it->second < CapacityOf(it->first) && (best == ready.end() || it->second < best->second))
        best = it;
    if (best == ready.end()) break;
    Assign(tx, c, best->first, now, " 自动接入了会话");
    ++best->second;
    changed = true;
  }
  if (changed) tx.Commit();
}

Desk::Figures Desk::Count() {
  const UnixSeconds now = clock_->Now();
  storage::Tx tx = store_.Begin();
  Figures f;
  for (const auto& c : storage::DeskConversationsIn(tx, "queued")) {
    ++f.queued;
    const UnixSeconds since = config_.hours.NextOpening(c.queued_at);
    if (now > since && now - since >= config_.wait_minutes * 60) ++f.overdue;
  }
  f.held = static_cast<int>(storage::DeskConversationsIn(tx, "held").size());
  return f;
}

}  // namespace gridbot::desk
