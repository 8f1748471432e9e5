// Desk: the rules of customer-service staff taking conversations over
// (issue 8, ../shared/spec/desk.md) — the queue, claims and capacity,
// ownership, replies within what the channel allows, notes, transfer,
// release and close, the timers, agent assist and canned replies — as a
// library without HTTP, so it is tested without a server.
//
//   desk::Desk desk(store, engine, clock, config, replies, canned);
//   auto who = desk.Authenticate(token);                // from a login
//   desk::Answer a = desk.Claim(*who, "c0f3…");          // a.error == kNone
//   a = desk.Reply(*who, "c0f3…", "您好，我是客服小王");
//   desk.Tick();                                         // timers, auto-assign
//
// The customer's side (a handoff, messages while queued or held) happens in
// the dialog engine's turn (dialogs/handoff.cc); both keep their state in
// the database only, so any number of Desk objects (threads, instances) may
// work on one database, and a restart loses nothing.
//
// Answers are JSON views for the agent console (web/API.md), with personal
// data masked (privacy/mask.h). Errors carry a kind (mapped to an HTTP
// status by bot/ in one place) and a message in Chinese for the console.
//
// Thread safety: Desk is thread-safe; every call is one transaction.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/service_hours.h"
#include "common/status.h"
#include "common/time.h"
#include "dialogs/engine.h"
#include "dialogs/replies.h"
#include "storage/desk.h"
#include "storage/store.h"

namespace gridbot::desk {

struct DeskConfig {
  int capacity = 5;          // conversations an agent holds at once
  int wait_minutes = 10;     // queued longer: the customer is told, shown red
  int idle_minutes = 30;     // held without agent activity: back to the queue
  ServiceHours hours;        // when people answer (desk_hours)
  int token_hours = 12;      // a login lasts this long
  int lock_failures = 5;     // failed logins in a row that lock the name
  int lock_minutes = 15;
  int online_seconds = 120;  // seen this recently: can be auto-assigned
  int wechat_window_hours = 48;
  int wechat_max_replies = 5;  // per customer message (WeChat's rule)
  bool wechat_delivery = false;  // customer-service messages can be sent (appid + secret)
};

enum class ErrorKind { kNone, kBadRequest, kUnauthorized, kForbidden, kNotFound, kConflict,
                       kUnprocessable, kLocked };

struct Answer {
  ErrorKind error = ErrorKind::kNone;
  std::string message;
  nlohmann::json body = nlohmann::json::object();
  bool ok() const { return error == ErrorKind::kNone; }
  static Answer Error(ErrorKind k, std::string m) { return Answer{k, std::move(m), {}}; }
};

struct AgentIdentity {
  std::int64_t id = 0;
  std::string name, role;
  bool Supervises() const { return role == "supervisor" || role == "admin"; }
  bool Answers() const { return role == "agent" || Supervises(); }
  bool Analyses() const { return role == "analyst" || Supervises(); }
};

struct CannedReply {
  std::string code, title, text;
};
// corpus/desk/canned.txt: "code | title | text" per line; # comments.
Result<std::vector<CannedReply>> LoadCanned(const std::string& path);

// Roles of desk.md.
bool ValidRole(const std::string& role);

class Desk {
 public:
  Desk(storage::Store& store, dialogs::Engine& engine, std::shared_ptr<Clock> clock,
       DeskConfig config, std::shared_ptr<const dialogs::Replies> replies,
       std::vector<CannedReply> canned);

  const DeskConfig& config() const { return config_; }

  // --- staff accounts (gridbot agent …) --------------------------------------
  Status AddAgent(const std::string& name, const std::string& role, const std::string& password);
  Status SetPassword(const std::string& name, const std::string& password);
  Status DisableAgent(const std::string& name);  // also ends their logins
  std::vector<storage::AgentRecord> ListAgents();

  // --- sessions ------------------------------------------------------------
  // {"token","name","role","expires_at"}; kUnauthorized for an unknown name,
  // a wrong password or a disabled agent alike; kLocked after
  // lock_failures in a row (unknown names too), until lock_minutes pass.
  Answer Login(const std::string& name, const std::string& password);
  std::optional<AgentIdentity> Authenticate(const std::string& token);
  void Logout(const std::string& token);

  // --- the console (web/API.md) ------------------------------------------------
  Answer Me(const AgentIdentity& who);
  Answer SetAutoAssign(const AgentIdentity& who, bool on);
  Answer Queue(const AgentIdentity& who);
  Answer Conversation(const AgentIdentity& who, const std::string& id);
  Answer Claim(const AgentIdentity& who, const std::string& id);
  Answer Reply(const AgentIdentity& who, const std::string& id, const std::string& text);
  Answer Note(const AgentIdentity& who, const std::string& id, const std::string& text);
  Answer Release(const AgentIdentity& who, const std::string& id);
  Answer Close(const AgentIdentity& who, const std::string& id);
  // To another agent (`to` = name) or back to the queue (`to` empty).
  Answer Transfer(const AgentIdentity& who, const std::string& id, const std::string& to);
  Answer Typing(const AgentIdentity& who, const std::string& id);
  Answer Assist(const AgentIdentity& who, const std::string& id);
  Answer Canned(const AgentIdentity& who);
  // Whether `who` may see the conversation a customer's media belongs to.
  Answer MayFetchMedia(const AgentIdentity& who, const std::string& media_id);
  Answer Agents(const AgentIdentity& who);
  // Changes after event `after` that `who` may see, and the latest event:
  // {"events":[{"seq","conversation","kind"}],"last":N}.
  Answer Events(const AgentIdentity& who, std::int64_t after);
  std::int64_t LatestEvent();

  // The timers: long waits told, idle held conversations back to the
  // queue, then auto-assignment. Call every few seconds.
  void Tick();
  // Auto-assign queued conversations to online agents who want it.
  void AssignWaiting();

  // Figures for /metrics.
  struct Figures {
    int queued = 0, held = 0, overdue = 0;
  };
  Figures Count();
  // Called with (name, seconds) when a conversation is first claimed
  // ("wait") and first answered ("first_response"). REQUIRES: set before use.
  void SetObserver(std::function<void(const std::string&, double)> observe) {
    observe_ = std::move(observe);
  }

 private:
  Answer ReleaseLocked(const AgentIdentity& who, const std::string& id);
  Answer CloseLocked(const AgentIdentity& who, const std::string& id);
  Answer TransferLocked(const AgentIdentity& who, const std::string& id, const std::string& to);
  // Loads conversation `id` for `who`; error if missing or not theirs to see.
  Answer Load(storage::Tx& tx, const AgentIdentity& who, const std::string& id,
              storage::DeskConversation* conv);
  bool MaySee(const AgentIdentity& who, const storage::DeskConversation& c) const;
  bool MayAct(const AgentIdentity& who, const storage::DeskConversation& c) const;
  // Sends a message to the customer through the outbox (pull channels: the
  // chat's updates; WeChat: a customer-service message), if the channel
  // allows it now; returns false if not sent.
  bool ToCustomer(storage::Tx& tx, storage::DeskConversation& c, const std::string& text,
                  const std::string& sender);
  // The channel's window: "" if a message may go now, else why not.
  std::string WindowClosed(const storage::DeskConversation& c, UnixSeconds now) const;
  nlohmann::json WindowJson(const storage::DeskConversation& c, UnixSeconds now) const;
  nlohmann::json Summary(storage::Tx& tx, const storage::DeskConversation& c, UnixSeconds now);
  nlohmann::json CustomerPanel(storage::Tx& tx, const storage::DeskConversation& c);
  // The placeholders filled in for the customer; an error if one cannot be.
  Result<std::string> Fill(storage::Tx& tx, const storage::DeskConversation& c,
                           const std::string& text);
  std::function<std::string(const std::string&)> MaskerFor(storage::Tx& tx,
                                                            const storage::DeskConversation& c);
  void Assign(storage::Tx& tx, storage::DeskConversation& c, const storage::AgentRecord& a,
              UnixSeconds now, const char* how);
  int CapacityOf(const storage::AgentRecord& a) const {
    return a.capacity > 0 ? a.capacity : config_.capacity;
  }
  std::string AgentName(storage::Tx& tx, std::int64_t id);
  std::string Say(const std::string& key, const dialogs::Vars& vars = {}) const;

  storage::Store& store_;
  dialogs::Engine& engine_;
  std::shared_ptr<Clock> clock_;
  DeskConfig config_;
  std::shared_ptr<const dialogs::Replies> replies_;
  std::vector<CannedReply> canned_;
  std::function<void(const std::string&, double)> observe_;
};

}  // namespace gridbot::desk
