// ReplyRace: who answers a request that has a deadline — the turn, with its
// replies, or the server, with a stand-in answer when the turn is too slow.
// (WeChat drops a passive reply after 5 seconds and retries the push; past
// the budget gridbot answers "success" and sends the replies as customer-
// service messages instead.)
//
//   server, at the budget:   if (race->ClaimLate()) answer "success" now
//   turn, before committing: if (!race->ClaimReply()) queue the replies
//                            in the outbox, in the same transaction
//
// Exactly one of the two claims succeeds on an armed race; an unarmed race
// (a request that opted out, or has not reached its handler yet) always
// lets the turn reply, and the server tries its claim again until WeChat
// stops waiting.
//
// Thread safety: all members may be called from any thread.
#pragma once

#include <atomic>

namespace gridbot {

class ReplyRace {
 public:
  // The handler opts in: the server may answer early from now on.
  void Arm() {
    State expected = State::kUnarmed;
    state_.compare_exchange_strong(expected, State::kArmed);
  }
  // The server's deadline passed: true if it answers now (the turn lost).
  bool ClaimLate() {
    State expected = State::kArmed;
    return state_.compare_exchange_strong(expected, State::kLate);
  }
  // The turn is about to commit: true if its caller still waits for the
  // replies; false if the caller was already answered.
  bool ClaimReply() {
    State expected = State::kArmed;
    if (state_.compare_exchange_strong(expected, State::kReplying)) return true;
    return expected != State::kLate;
  }
  bool late() const { return state_.load() == State::kLate; }
  // The handler has not armed it (yet): the server's deadline may look again.
  bool unarmed() const { return state_.load() == State::kUnarmed; }

 private:
  enum class State { kUnarmed, kArmed, kReplying, kLate };
  std::atomic<State> state_{State::kUnarmed};
};

}  // namespace gridbot
