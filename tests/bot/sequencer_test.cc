// Messages of one conversation run one at a time in arrival order; other
// conversations are not held up.
#include "bot/sequencer.h"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>
#include <vector>

namespace gridbot::bot {
namespace {

TEST(KeyedSequencer, OneConversationRunsInArrivalOrderWhateverTheThreads) {
  KeyedSequencer seq;
  constexpr int kMessages = 8;
  std::vector<KeyedSequencer::Ticket> tickets;
  for (int i = 0; i < kMessages; ++i) tickets.push_back(seq.Take("web|u1"));  // arrival order
  std::mutex mu;
  std::vector<int> ran;
  std::vector<std::thread> workers;
  // Start the workers in reverse: the last to arrive is the first to ask.
  for (int i = kMessages - 1; i >= 0; --i) {
    workers.emplace_back([&, i] {
      auto turn = seq.Wait(tickets[i]);
      std::lock_guard<std::mutex> lock(mu);
      ran.push_back(i);
    });
  }
  for (auto& w : workers) w.join();
  std::vector<int> expected;
  for (int i = 0; i < kMessages; ++i) expected.push_back(i);
  EXPECT_EQ(ran, expected);
}

TEST(KeyedSequencer, OtherConversationsAreNotHeldUp) {
  KeyedSequencer seq;
  auto a1 = seq.Take("web|a");
  auto a2 = seq.Take("web|a");
  auto b1 = seq.Take("web|b");
  auto turn_a1 = seq.Wait(a1);  // a's first message is being handled…
  {
    auto turn_b1 = seq.Wait(b1);  // …b's runs at once (would deadlock otherwise)
  }
  std::thread second_of_a([&] { auto t = seq.Wait(a2); });
  { auto done = std::move(turn_a1); }  // a's first finishes; its second may run
  second_of_a.join();
  // A fresh message of a runs at once: the line is idle again.
  auto a3 = seq.Take("web|a");
  auto turn_a3 = seq.Wait(a3);
  SUCCEED();
}

}  // namespace
}  // namespace gridbot::bot
