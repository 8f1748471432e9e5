// A scripted conversation against a temporary database, without a server:
//   Conversation c;                       // demo data, today = 2024-08-04 10:00
//   EXPECT_THAT(c.Say("绑定户号"), HasSubstr("哪个市"));
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "dialogs/engine.h"
#include "storage/fixtures.h"
#include "storage/store.h"
#include "tests/test_db.h"

namespace gridbot::testing {

inline std::string CorpusDir() { return std::string(GRIDBOT_SOURCE_DIR) + "/corpus"; }

inline std::shared_ptr<const nlu::Model> SharedModel() {
  static std::shared_ptr<const nlu::Model> model = [] {
    auto m = nlu::Model::Load(CorpusDir());
    EXPECT_TRUE(m.ok()) << m.error();
    return *m;
  }();
  return model;
}

inline std::shared_ptr<const dialogs::CommandRules> SharedCommands() {
  static std::shared_ptr<const dialogs::CommandRules> rules = [] {
    auto r = dialogs::CommandRules::Load(CorpusDir() + "/dialog/commands.rules");
    EXPECT_TRUE(r.ok()) << r.error();
    return *r;
  }();
  return rules;
}

inline std::shared_ptr<const dialogs::Replies> SharedReplies() {
  static std::shared_ptr<const dialogs::Replies> replies = [] {
    auto r = dialogs::Replies::Load(CorpusDir() + "/replies");
    EXPECT_TRUE(r.ok()) << r.error();
    return *r;
  }();
  return replies;
}

class Conversation {
 public:
  // `db` ":memory:" or a file; the demo fixtures are loaded into an empty one.
  explicit Conversation(const std::string& db = TestDb(), std::string user = "u1",
                        UnixSeconds now = FromCivil(CivilTime{{2024, 8, 4}, 10, 0, 0}))
      : user_(std::move(user)), clock_(std::make_shared<FakeClock>(now)) {
    auto store = storage::Store::Open(db);
    EXPECT_TRUE(store.ok()) << store.error();
    store_ = std::move(*store);
    storage::Tx tx = store_->Begin();
    if (tx.BackendEmpty()) {
      auto data = storage::ReadFixtureFile(CorpusDir() + "/demo/fixtures.json");
      EXPECT_TRUE(data.ok()) << data.error();
      EXPECT_TRUE(tx.ReplaceBackend(*data).ok());
    }
    EXPECT_TRUE(tx.Commit().ok());
    engine_ = std::make_unique<dialogs::Engine>(SharedModel(), SharedReplies(), SharedCommands(),
                                                *store_, clock_);
    Status replies_ok = engine_->CheckReplies();
    EXPECT_TRUE(replies_ok.ok()) << replies_ok.message();
  }

  // The bot's replies to `text`, joined by blank lines.
  std::string Say(const std::string& text, const std::string& user = "") {
    dialogs::Inbound in;
    in.channel = "web";
    in.user = user.empty() ? user_ : user;
    in.text = text;
    in.source = source_;
    last_ = engine_->Handle(in);
    std::string joined;
    for (const auto& r : last_.replies) joined += (joined.empty() ? "" : "\n\n") + r.text;
    return joined;
  }

  // Binds a demo account in four turns; returns the last reply.
  std::string Bind(const std::string& city, const std::string& account,
                   const std::string& password) {
    Say("绑定户号");
    Say(city);
    Say(account);
    return Say(password);
  }

  // The client address of what is said from now on ("" = not counted).
  void SetSource(const std::string& address) { source_ = address; }
  const dialogs::Outcome& last() const { return last_; }
  FakeClock& clock() { return *clock_; }
  storage::Store& store() { return *store_; }
  dialogs::Engine& engine() { return *engine_; }

 private:
  std::string user_, source_;
  std::shared_ptr<FakeClock> clock_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<dialogs::Engine> engine_;
  dialogs::Outcome last_;
};

// Helpers of several test files -------------------------------------------

// The first column of the first row of `sql` (one text parameter), "" if none.
inline std::string QueryText(Conversation& c, const std::string& sql,
                             const std::string& param = "") {
  storage::Tx tx = c.store().Begin();
  storage::Statement st = tx.Prep(sql);
  if (!param.empty()) st.Bind(1, param);
  return st.Step() ? st.Text(0) : "";
}

// The same as a number, -1 if there is no row.
inline std::int64_t QueryInt(Conversation& c, const std::string& sql,
                             const std::string& param = "") {
  storage::Tx tx = c.store().Begin();
  storage::Statement st = tx.Prep(sql);
  if (!param.empty()) st.Bind(1, param);
  return st.Step() ? st.Int(0) : -1;
}

// `text` with every `from` replaced by `to`.
inline std::string ReplaceAll(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

// The text of the latest SMS to `phone`, as delivery sends it: the outbox
// holds it sealed (privacy/sealer.h), opened here with the engine's key.
inline std::string LastSmsText(Conversation& c, const std::string& phone) {
  const std::string body = QueryText(
      c, "SELECT body FROM outbox WHERE channel = 'sms' AND recipient = ? ORDER BY id DESC LIMIT 1",
      phone);
  return c.engine().settings().sealer->Open(body).value_or("");
}

// The code of the latest SMS to `phone`.
inline std::string LastSmsCode(Conversation& c, const std::string& phone) {
  const std::string body = LastSmsText(c, phone);
  std::smatch m;
  return std::regex_search(body, m, std::regex("([0-9]{6})")) ? m[1].str() : "";
}

// Rows of any table of the database whose any column contains `needle`:
// "table.column" per hit.
inline std::vector<std::string> WhereFound(Conversation& c, const std::string& needle) {
  storage::Tx tx = c.store().Begin();
  std::vector<std::string> tables, hits;
  const bool pg = tx.dialect() == storage::Dialect::kPostgres;
  {
    storage::Statement st = tx.Prep(
        pg ? "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
           : "SELECT name FROM sqlite_master WHERE type = 'table'");
    while (st.Step()) tables.push_back(st.Text(0));
  }
  for (const auto& t : tables) {
    std::vector<std::string> columns;
    storage::Statement info = tx.Prep(
        pg ? "SELECT column_name FROM information_schema.columns "
             "WHERE table_schema = current_schema() AND table_name = ?"
           : "SELECT name FROM pragma_table_info(?)");
    info.Bind(1, t);
    while (info.Step()) columns.push_back(info.Text(0));
    for (const auto& col : columns) {
      storage::Statement st = tx.Prep("SELECT COUNT(*) FROM \"" + t + "\" WHERE instr(CAST(\"" +
                                      col + "\" AS TEXT), ?) > 0");
      st.Bind(1, needle);
      if (st.Step() && st.Int(0) > 0) hits.push_back(t + "." + col);
    }
  }
  return hits;
}

// WhereFound() outside the back end's own tables (accounts hold their
// service passwords, cards theirs: fixtures.md).
inline std::vector<std::string> WhereFoundInBotTables(Conversation& c, const std::string& needle) {
  std::vector<std::string> hits;
  for (const std::string& h : WhereFound(c, needle))
    if (h.rfind("accounts.", 0) != 0 && h.rfind("prepaid_cards.", 0) != 0) hits.push_back(h);
  return hits;
}

// Registers `phone` with `password` in the conversation of `user`.
inline std::string Register(Conversation& c, const std::string& user, const std::string& phone,
                            const std::string& password) {
  c.Say("注册", user);
  c.Say("南宁", user);
  c.Say(phone, user);
  c.Say(password, user);
  c.Say(password, user);
  return c.Say(LastSmsCode(c, phone), user);
}

}  // namespace gridbot::testing
