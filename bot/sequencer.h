// KeyedSequencer: the messages of one conversation run one at a time, in the
// order they arrived; different conversations run in parallel.
//
//   auto ticket = seq.Take("web|u1");   // on arrival (I/O thread), in order
//   ...                                 // hand over to a worker thread
//   { auto turn = seq.Wait(ticket);     // blocks until earlier ones finished
//     engine.Handle(...); }             // turn's destructor lets the next run
//
// Thread safety: all members are thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace gridbot::bot {

class KeyedSequencer {
 public:
  struct Ticket {
    std::string key;
    std::uint64_t number = 0;
  };

  class Turn {
   public:
    Turn(KeyedSequencer* seq, Ticket t) : seq_(seq), ticket_(std::move(t)) {}
    Turn(Turn&& o) noexcept : seq_(o.seq_), ticket_(std::move(o.ticket_)) { o.seq_ = nullptr; }
    Turn(const Turn&) = delete;
    ~Turn() {
      if (seq_) seq_->Done(ticket_);
    }

   private:
    KeyedSequencer* seq_;
    Ticket ticket_;
  };

  Ticket Take(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    Line& line = lines_[key];
    return Ticket{key, line.next_ticket++};
  }

  Turn Wait(Ticket t) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return lines_[t.key].serving == t.number; });
    return Turn(this, std::move(t));
  }

 private:
  struct Line {
    std::uint64_t next_ticket = 0;
    std::uint64_t serving = 0;
  };

  void Done(const Ticket& t) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = lines_.find(t.key);
      ++it->second.serving;
      if (it->second.serving == it->second.next_ticket) lines_.erase(it);  // idle: forget it
    }
    cv_.notify_all();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<std::string, Line> lines_;  // GUARDED_BY(mu_)
};

}  // namespace gridbot::bot
