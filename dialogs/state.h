// The state of one conversation (channel + user), persisted as JSON in the
// sessions table after every turn, so a restart continues where it was.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/time.h"

namespace gridbot::dialogs {

// One flow in progress: which flow, the step waiting for an answer, what it
// has collected, and how many answers in a row failed validation.
struct Frame {
  std::string flow;
  std::string step;
  nlohmann::json slots = nlohmann::json::object();
  int failures = 0;
  // This run of the flow, numbered per conversation (analytics' funnels
  // follow a run from its start to its end).
  std::int64_t run = 0;
  // An intent (with its slots) to run once this flow completes, e.g. the bill
  // the customer asked for before being sent to bind an account first.
  nlohmann::json then;  // null or {"intent":…, "slots":{…}}
};

struct ConversationState {
  std::vector<Frame> stack;  // back() is active; below it, interrupted flows
  std::string last_intent;   // the last answered request, for "那3月份的呢"
  nlohmann::json last_slots = nlohmann::json::object();
  int fallbacks = 0;  // consecutive messages not understood
  std::int64_t runs = 0;  // flow runs started so far (Frame::run)
  // The last location the customer's WeChat reported (LOCATION events), for
  // "附近的营业厅"; at == 0 if none.
  double lat = 0, lng = 0;
  UnixSeconds location_at = 0;
  // Requests of an earlier message still to do, in order ("我欠多少 用银联交了吧"
  // while a flow waits): each {"intent","slots","text","normalized"}.
  nlohmann::json queue = nlohmann::json::array();
  // The intents a short question offered ("您是想查账单、查欠费还是交电费？").
  std::vector<std::string> clarify;
  // A secret step that ended (a lock-out, a cancel) keeps its shape for a
  // while: a password typed just after is masked like one typed at the step.
  std::string focus_account;  // Context::focus_account, until 30 minutes idle
  UnixSeconds focus_at = 0;
  std::string guard_flow, guard_step;
  UnixSeconds guard_until = 0;

  bool InFlow() const { return !stack.empty(); }
  Frame& Active() { return stack.back(); }

  std::string ToJson() const;
  // A damaged or unknown document gives a fresh state (never an error: the
  // customer just starts over).
  static ConversationState FromJson(const std::string& json_text);
};

}  // namespace gridbot::dialogs
