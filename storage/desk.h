// Repository functions of the desk (issue 8; ../shared/spec/desk.md): staff
// accounts and their login tokens, conversations handed to a person, what
// was said in them, the desk's change events, and the messages a customer
// reads outside a reply. Free functions on a Tx, so a customer's message,
// the conversation's state and the turn's log row commit together.
//
//   storage::Tx tx = store.Begin();
//   auto conv = storage::OpenDeskConversation(tx, "web", "u1");   // queued or held
//   if (conv) storage::AppendDeskMessage(tx, conv->id, now, "customer", 0, "在吗", "{}");
//   tx.Commit();
//
// A conversation's states: "queued", "held" (open: at most one per customer),
// then "released" or "closed" (ended; kept for analysts and ratings).
//
// Thread safety: as Tx (one thread per transaction).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "storage/store.h"

namespace gridbot::storage {

struct AgentRecord {
  std::int64_t id = 0;
  std::string name, role, password_hash;
  bool disabled = false, auto_assign = false;
  int capacity = 0;  // 0: the configured default
  UnixSeconds last_seen_at = 0, created_at = 0;
};

struct DeskConversation {
  std::int64_t id = 0;
  std::string public_id, channel, external_id, state, reason;
  UnixSeconds queued_at = 0;
  std::int64_t agent_id = 0;  // 0: nobody
  UnixSeconds claimed_at = 0, first_response_at = 0, last_agent_at = 0, last_customer_at = 0;
  int replies_since_customer = 0;
  bool wait_notified = false;
  UnixSeconds ended_at = 0;
  std::string end_kind;  // "released", "closed", "cancelled"
  int rating = 0;        // 1..5, 0 = none
  bool rating_open = false;
  std::int64_t typing_agent = 0;
  UnixSeconds typing_until = 0;

  bool open() const { return state == "queued" || state == "held"; }
};

struct DeskMessage {
  std::int64_t seq = 0, conversation_id = 0;
  UnixSeconds at = 0;
  std::string from;  // customer, bot, agent, note, system
  std::int64_t agent_id = 0;
  std::string text;
  std::string meta = "{}";  // JSON: intent, confidence, flow, step, media
};

struct DeskEvent {
  std::int64_t seq = 0;
  UnixSeconds at = 0;
  std::int64_t conversation_id = 0;  // 0: the queue as a whole
  std::string kind;
};

// A message for a customer outside a reply (outbox row), as the web chat's
// updates read it.
struct CustomerUpdate {
  std::int64_t seq = 0;  // the outbox id
  UnixSeconds at = 0;
  std::string from;  // bot, agent, system
  std::string text;
};

// --- agents ----------------------------------------------------------------
std::optional<AgentRecord> FindAgent(Tx& tx, const std::string& name);
std::optional<AgentRecord> AgentById(Tx& tx, std::int64_t id);
std::vector<AgentRecord> ListAgents(Tx& tx);  // by name
// False if the name is taken (nothing changed).
bool AddAgent(Tx& tx, const AgentRecord& agent);
// Writes role, password_hash, disabled, auto_assign, capacity of agent.id.
void UpdateAgent(Tx& tx, const AgentRecord& agent);
void TouchAgent(Tx& tx, std::int64_t agent_id, UnixSeconds now);

void SaveAgentToken(Tx& tx, const std::string& token_hash, std::int64_t agent_id, UnixSeconds now,
                    UnixSeconds expires_at);
// The agent of an unexpired token.
std::optional<std::int64_t> AgentForToken(Tx& tx, const std::string& token_hash, UnixSeconds now);
void DeleteAgentToken(Tx& tx, const std::string& token_hash);
void DeleteAgentTokens(Tx& tx, std::int64_t agent_id);
// Tokens that expired are forgotten.
void PurgeAgentTokens(Tx& tx, UnixSeconds now);

struct LoginFailures {
  int failures = 0;
  UnixSeconds locked_until = 0;
};
LoginFailures GetLoginFailures(Tx& tx, const std::string& name);
void SaveLoginFailures(Tx& tx, const std::string& name, const LoginFailures& f);

// --- conversations -----------------------------------------------------------
// The customer's queued or held conversation, if any.
std::optional<DeskConversation> OpenDeskConversation(Tx& tx, const std::string& channel,
                                                     const std::string& external_id);
std::optional<DeskConversation> FindDeskConversation(Tx& tx, const std::string& public_id);
std::optional<DeskConversation> DeskConversationById(Tx& tx, std::int64_t id);
// A new queued conversation (conv.id is filled in).
void CreateDeskConversation(Tx& tx, DeskConversation& conv);
// Writes every mutable field of conv.id.
void UpdateDeskConversation(Tx& tx, const DeskConversation& conv);
// Conversations in `state` ("queued", "held"), queued first-come first.
std::vector<DeskConversation> DeskConversationsIn(Tx& tx, const std::string& state);
int HeldCount(Tx& tx, std::int64_t agent_id);
// How many queued conversations came before this one, plus one.
int QueuePosition(Tx& tx, const DeskConversation& conv);
// The customer's last ended conversation that still waits for a rating.
std::optional<DeskConversation> RatingPending(Tx& tx, const std::string& channel,
                                              const std::string& external_id);

// --- messages and events -------------------------------------------------------
std::int64_t AppendDeskMessage(Tx& tx, std::int64_t conversation_id, UnixSeconds at,
                               const std::string& from, std::int64_t agent_id,
                               const std::string& text, const std::string& meta_json);
// In order; the last `limit` of them.
std::vector<DeskMessage> DeskMessages(Tx& tx, std::int64_t conversation_id, int limit = 500);
// The conversation whose messages hold WeChat media `media_id`, if any.
std::optional<std::int64_t> ConversationOfMedia(Tx& tx, const std::string& media_id);
std::optional<DeskMessage> LastCustomerMessage(Tx& tx, std::int64_t conversation_id);

void AppendDeskEvent(Tx& tx, std::int64_t conversation_id, const std::string& kind,
                     UnixSeconds now);
std::int64_t LatestDeskEvent(Tx& tx);
std::vector<DeskEvent> DeskEventsAfter(Tx& tx, std::int64_t seq, int limit = 200);

// The customer's last turns with the bot (not those sent to the desk),
// oldest first.
std::vector<TurnLog> RecentBotTurns(Tx& tx, const std::string& channel,
                                    const std::string& external_id, int limit);

// The customer's last turns, all of them (also those sent to the desk),
// oldest first: the web chat's history after a reload.
std::vector<TurnLog> RecentTurns(Tx& tx, const std::string& channel,
                                 const std::string& external_id, int limit);

// --- what the customer reads outside a reply -----------------------------------
// Queues a message to a customer ("web", "cli": read by the chat; "wechat":
// sent as a customer-service message). Returns the outbox id.
std::int64_t QueueCustomerMessage(Tx& tx, const std::string& channel, const std::string& recipient,
                                  const std::string& body, const std::string& sender,
                                  UnixSeconds now);
// Messages to a pull-channel customer after outbox id `after`, oldest first;
// marks them read (not repeated at the top of the next reply).
std::vector<CustomerUpdate> CustomerUpdatesAfter(Tx& tx, const std::string& channel,
                                                 const std::string& recipient, std::int64_t after,
                                                 UnixSeconds now, int limit = 100);
// Messages to a pull-channel customer not yet shown, oldest first.
std::vector<CustomerUpdate> PendingCustomerUpdates(Tx& tx, const std::string& channel,
                                                   const std::string& recipient);
// The last `limit` messages to the customer, oldest first; nothing marked.
std::vector<CustomerUpdate> RecentCustomerUpdates(Tx& tx, const std::string& channel,
                                                  const std::string& recipient, int limit);
std::int64_t LatestCustomerUpdate(Tx& tx, const std::string& channel, const std::string& recipient);

}  // namespace gridbot::storage
