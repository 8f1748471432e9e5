#include "storage/analytics.h"

#include "privacy/mask.h"

#include <cstdint>

namespace gridbot::storage {

namespace {

constexpr const char* kTurnCols =
    "d.id, d.at, d.channel, d.external_id, d.text, d.intent, d.confidence, d.slots, d.flow, "
    "d.step, d.replies, d.micros, d.fallback, d.handoff, d.events, d.normalized, d.nlu, d.tokens";

LoggedTurn ReadTurn(const Statement& st) {
  {
    LoggedTurn t;
    t.id = st.Int(0);
    t.at = st.Int(1);
    t.channel = st.Text(2);
    t.external_id = st.Text(3);
    t.text = st.Text(4);
    t.intent = st.Text(5);
    t.confidence = st.Double(6);
    t.slots_json = st.Text(7);
    t.flow = st.Text(8);
    t.step = st.Text(9);
    t.replies_json = st.Text(10);
    t.micros = st.Int(11);
    t.fallback = st.Int(12) != 0;
    t.handoff = st.Text(13);
    t.events_json = st.Text(14);
    t.normalized = st.Text(15);
    t.nlu_json = st.Text(16);
    t.tokens = st.Text(17);
    return t;
  }
}

size_t CharLen(unsigned char c) { return c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1; }

}  // namespace

std::vector<LoggedTurn> TurnsByCustomer(Tx& tx, UnixSeconds from, UnixSeconds to) {
  Statement st = tx.Prep(std::string("SELECT ") + kTurnCols +
                         " FROM dialog_log d WHERE d.at >= ? AND d.at < ? "
                         "ORDER BY d.channel, d.external_id, d.at, d.id");
  st.Bind(1, from).Bind(2, to);
  std::vector<LoggedTurn> out;
  while (st.Step()) out.push_back(ReadTurn(st));
  tx.Check(st);
  return out;
}

std::string Bigrams(const std::string& text) {
  // Characters of the text; ASCII letters/digits grouped into words; other
  // ASCII (spaces, punctuation) and CJK punctuation break the sequence.
  std::vector<std::string> chars;  // "" = a break
  std::string word;
  auto flush_word = [&] {
    if (!word.empty()) {
      chars.push_back("\x01" + word);  // a whole word, marked
      word.clear();
    }
  };
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = text[i];
    const size_t n = std::min(CharLen(c), text.size() - i);
    if (n == 1) {
      if (std::isalnum(c)) {
        word += static_cast<char>(std::tolower(c));
      } else {
        flush_word();
        chars.push_back("");
      }
    } else {
      flush_word();
      const std::string ch = text.substr(i, n);
      // CJK punctuation (、。，！？：；“”（）…) breaks like ASCII punctuation.
      static const std::string kPunct = "、。，！？：；“”‘’（）《》【】…—·";
      if (kPunct.find(ch) != std::string::npos)
        chars.push_back("");
      else
        chars.push_back(ch);
    }
    i += n;
  }
  flush_word();
  std::string out;
  auto emit = [&out](const std::string& g) { out += (out.empty() ? "" : " ") + g; };
  for (size_t i = 0; i < chars.size(); ++i) {
    const std::string& a = chars[i];
    if (a.empty()) continue;
    if (a[0] == '\x01') {
      emit(a.substr(1));
      continue;
    }
    const bool has_next = i + 1 < chars.size() && !chars[i + 1].empty() && chars[i + 1][0] != '\x01';
    const bool has_prev = i > 0 && !chars[i - 1].empty() && chars[i - 1][0] != '\x01';
    if (has_next)
      emit(a + chars[i + 1]);
    else if (!has_prev)
      emit(a);  // a lone character is its own gram
  }
  return out;
}

std::string IndexGrams(const std::string& normalized) { return Bigrams(privacy::MaskText(normalized)); }
std::string IndexWords(const std::string& tokens) { return privacy::MaskText(tokens); }

std::vector<LoggedTurn> FindTurns(Tx& tx, const TurnFilter& f) {
  std::string sql = std::string("SELECT ") + kTurnCols;
  std::string match;
  if (!f.q.empty()) {
    // Every gram of what was typed, as one phrase: consecutive, in order.
    const std::string grams = Bigrams(f.q);
    if (grams.empty()) return {};
    match = "\"" + grams + "\"";  // grams hold no quotes (punctuation breaks)
    // Driven by the index in rowid order, newest first, so a page stops
    // after `limit` matches instead of sorting every match.
    sql += " FROM dialog_fts JOIN dialog_log d ON d.id = dialog_fts.rowid WHERE";
    // PostgreSQL: the same phrase of whole grams, found in the text of the
    // grams (a scan of the index table; no trigram index: ICU's Chinese
    // grams are what it would index, so it would not narrow much).
    sql += tx.dialect() == Dialect::kPostgres
               ? " strpos(' ' || dialog_fts.grams || ' ', ' ' || ?7 || ' ') > 0 AND"
               : " dialog_fts MATCH ?7 AND";
    sql += " dialog_fts.rowid < ?10 AND";
  } else {
    sql += " FROM dialog_log d WHERE d.id < ?10 AND";
  }
  sql +=
      " d.at >= ?1 AND d.at < ?2 AND (?3 = '' OR d.channel = ?3) AND (?4 = '' OR d.intent = ?4)"
      " AND (?5 = '' OR d.flow = ?5) AND d.confidence <= ?6 AND (?8 = 0 OR d.fallback = 1)"
      " AND (?9 = 0 OR d.handoff IN ('asked', 'not_understood', 'gave_up'))";
  sql += match.empty() ? " ORDER BY d.id DESC LIMIT ?11" : " ORDER BY dialog_fts.rowid DESC LIMIT ?11";
  Statement st = tx.Prep(sql);
  st.Bind(1, f.from).Bind(2, f.to).Bind(3, f.channel).Bind(4, f.intent).Bind(5, f.flow);
  st.Bind(6, f.max_confidence);
  if (!match.empty())
    st.Bind(7, tx.dialect() == Dialect::kPostgres ? Bigrams(f.q) : "grams : " + match);
  st.Bind(8, f.fallback_only ? 1 : 0).Bind(9, f.handoff_only ? 1 : 0);
  st.Bind(10, f.before_id > 0 ? f.before_id : INT64_MAX);
  st.Bind(11, f.limit);
  std::vector<LoggedTurn> out;
  while (st.Step()) out.push_back(ReadTurn(st));
  tx.Check(st);
  return out;
}

std::int64_t ConversationStart(Tx& tx, const LoggedTurn& turn, UnixSeconds gap) {
  Statement st = tx.Prep(
      "SELECT id, at FROM dialog_log WHERE channel = ? AND external_id = ? AND id <= ? "
      "ORDER BY id DESC LIMIT 500");
  st.Bind(1, turn.channel).Bind(2, turn.external_id).Bind(3, turn.id);
  std::int64_t start = turn.id;
  UnixSeconds later = turn.at;
  while (st.Step()) {
    if (later - st.Int(1) > gap) break;
    start = st.Int(0);
    later = st.Int(1);
  }
  tx.Check(st);
  return start;
}

std::vector<LoggedTurn> ConversationTurns(Tx& tx, std::int64_t start_id, UnixSeconds gap) {
  Statement first = tx.Prep("SELECT channel, external_id FROM dialog_log WHERE id = ?");
  first.Bind(1, start_id);
  if (!first.Step()) return tx.Check(first), std::vector<LoggedTurn>{};
  const std::string channel = first.Text(0), user = first.Text(1);
  Statement st = tx.Prep(std::string("SELECT ") + kTurnCols +
                         " FROM dialog_log d WHERE d.channel = ? AND d.external_id = ? AND "
                         "d.id >= ? ORDER BY d.id LIMIT 2000");
  st.Bind(1, channel).Bind(2, user).Bind(3, start_id);
  std::vector<LoggedTurn> out;
  while (st.Step()) {
    LoggedTurn t = ReadTurn(st);
    if (!out.empty() && t.at - out.back().at > gap) break;
    out.push_back(std::move(t));
  }
  tx.Check(st);
  return out;
}

std::vector<DeskLine> DeskLinesOf(Tx& tx, const std::string& channel,
                                  const std::string& external_id, UnixSeconds from, UnixSeconds to) {
  Statement st = tx.Prep(
      "SELECT m.at, m.sender, m.text, COALESCE(a.name, '') FROM desk_messages m "
      "JOIN desk_conversations c ON c.id = m.conversation_id "
      "LEFT JOIN agents a ON a.id = m.agent_id "
      "WHERE c.channel = ? AND c.external_id = ? AND m.at >= ? AND m.at <= ? "
      "AND m.sender IN ('agent', 'note', 'system') ORDER BY m.seq");
  st.Bind(1, channel).Bind(2, external_id).Bind(3, from).Bind(4, to);
  std::vector<DeskLine> out;
  while (st.Step()) out.push_back(DeskLine{st.Int(0), st.Text(1), st.Text(2), st.Text(3)});
  tx.Check(st);
  return out;
}

std::vector<DeskRecord> DeskRecords(Tx& tx, UnixSeconds from, UnixSeconds to) {
  Statement st = tx.Prep(
      "SELECT reason, COALESCE(end_kind, ''), queued_at, COALESCE(claimed_at, 0), "
      "COALESCE(first_response_at, 0), COALESCE(rating, 0) FROM desk_conversations "
      "WHERE queued_at >= ? AND queued_at < ? ORDER BY queued_at, id");
  st.Bind(1, from).Bind(2, to);
  std::vector<DeskRecord> out;
  while (st.Step())
    out.push_back(DeskRecord{st.Text(0), st.Text(1), st.Int(2), st.Int(3), st.Int(4),
                             static_cast<int>(st.Int(5))});
  tx.Check(st);
  return out;
}

std::vector<LoggedTurn> ExportBatch(Tx& tx, UnixSeconds from, UnixSeconds to,
                                    const std::string& channel, const std::string& user,
                                    const std::string& intent, std::int64_t after_id, int limit) {
  Statement st = tx.Prep(std::string("SELECT ") + kTurnCols +
                         " FROM dialog_log d WHERE d.at >= ?1 AND d.at < ?2 AND (?3 = '' OR "
                         "d.channel = ?3) AND (?4 = '' OR d.external_id = ?4) AND (?5 = '' OR "
                         "d.intent = ?5) AND d.id > ?6 ORDER BY d.id LIMIT ?7");
  st.Bind(1, from).Bind(2, to).Bind(3, channel).Bind(4, user).Bind(5, intent).Bind(6, after_id);
  st.Bind(7, limit);
  std::vector<LoggedTurn> out;
  while (st.Step()) out.push_back(ReadTurn(st));
  tx.Check(st);
  return out;
}

std::vector<std::int64_t> MatchIds(Tx& tx, const std::string& fts_query) {
  Statement st = tx.Prep("SELECT rowid FROM dialog_fts WHERE dialog_fts MATCH ? ORDER BY rowid");
  st.Bind(1, fts_query);
  std::vector<std::int64_t> out;
  while (st.Step()) out.push_back(st.Int(0));
  tx.Check(st);
  return out;
}

void DuplicateTurn(Tx& tx, std::int64_t id, int times) {
  for (int i = 0; i < times; ++i) {
    Statement st = tx.Prep(
        "INSERT INTO dialog_log(at, channel, external_id, text, normalized, intent, confidence, slots, "
        "flow, step, replies, micros, masked, tokens, events, commands, fallback, handoff, nlu) "
        "SELECT at, channel, external_id || '-' || ?2, text, normalized, intent, confidence, slots, flow, "
        "step, replies, micros, masked, tokens, events, commands, fallback, handoff, nlu FROM dialog_log "
        "WHERE id = ?1");
    st.Bind(1, id).Bind(2, i);
    tx.Check(st.Run());
    Statement fts = tx.Prep(
        "INSERT INTO dialog_fts(rowid, grams, words) SELECT last_insert_rowid(), grams, words "
        "FROM dialog_fts WHERE rowid = ?");
    fts.Bind(1, id);
    tx.Check(fts.Run());
  }
}

std::vector<LoggedTurn> FallbackTurns(Tx& tx, UnixSeconds from, UnixSeconds to) {
  Statement st = tx.Prep(std::string("SELECT ") + kTurnCols +
                         " FROM dialog_log d WHERE d.at >= ? AND d.at < ? AND d.fallback = 1 "
                         "AND d.intent != 'handoff' AND d.masked = 0 ORDER BY d.id");
  st.Bind(1, from).Bind(2, to);
  std::vector<LoggedTurn> out;
  while (st.Step()) out.push_back(ReadTurn(st));
  tx.Check(st);
  return out;
}

std::vector<LoggedTurn> ReplayableTurns(Tx& tx, UnixSeconds from, UnixSeconds to,
                                        std::int64_t after_id, int limit) {
  Statement st = tx.Prep(std::string("SELECT ") + kTurnCols +
                         " FROM dialog_log d WHERE d.at >= ? AND d.at < ? AND d.id > ? "
                         "AND d.nlu NOT IN ('', '-') AND d.intent != 'handoff' ORDER BY d.id LIMIT ?");
  st.Bind(1, from).Bind(2, to).Bind(3, after_id).Bind(4, limit);
  std::vector<LoggedTurn> out;
  while (st.Step()) out.push_back(ReadTurn(st));
  tx.Check(st);
  return out;
}

std::int64_t CountUnreplayable(Tx& tx, UnixSeconds from, UnixSeconds to) {
  Statement st = tx.Prep(
      "SELECT COUNT(*) FROM dialog_log WHERE at >= ? AND at < ? AND nlu = '' AND masked = 0 "
      "AND intent != 'handoff'");
  st.Bind(1, from).Bind(2, to);
  if (!st.Step()) return tx.Check(st), 0;
  return st.Int(0);
}

void SaveUnrecognisedGroup(Tx& tx, const std::string& id, const std::string& texts_json,
                           UnixSeconds at) {
  Statement st = tx.Prep("INSERT INTO unrecognised_groups(id, texts, updated_at) VALUES (?,?,?) "
      "ON CONFLICT(id) DO UPDATE SET texts = excluded.texts, updated_at = excluded.updated_at");
  st.Bind(1, id).Bind(2, texts_json).Bind(3, at);
  tx.Check(st.Run());
}

std::optional<std::string> UnrecognisedGroupTexts(Tx& tx, const std::string& id) {
  Statement st = tx.Prep("SELECT texts FROM unrecognised_groups WHERE id = ?");
  st.Bind(1, id);
  if (!st.Step()) return tx.Check(st), std::nullopt;
  return st.Text(0);
}

void SaveLabel(Tx& tx, const Label& l) {
  Statement st = tx.Prep(
      "INSERT INTO nlu_labels(normalized, text, intent, slots, group_id, labelled_by, "
      "labelled_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT(normalized) DO UPDATE SET "
      "text = excluded.text, intent = excluded.intent, slots = excluded.slots, "
      "group_id = excluded.group_id, labelled_by = excluded.labelled_by, "
      "labelled_at = excluded.labelled_at");
  st.Bind(1, l.normalized).Bind(2, l.text).Bind(3, l.intent).Bind(4, l.slots_json);
  st.Bind(5, l.group_id).Bind(6, l.labelled_by).Bind(7, l.labelled_at);
  tx.Check(st.Run());
}

std::vector<Label> Labels(Tx& tx) {
  Statement st = tx.Prep(
      "SELECT normalized, text, intent, slots, group_id, labelled_by, labelled_at FROM nlu_labels "
      "ORDER BY labelled_at, normalized");
  std::vector<Label> out;
  while (st.Step())
    out.push_back(Label{st.Text(0), st.Text(1), st.Text(2), st.Text(3), st.Text(4), st.Text(5),
                        st.Int(6)});
  tx.Check(st);
  return out;
}

void SaveDayAggregate(Tx& tx, const std::string& day, const std::string& figures_json,
                      UnixSeconds at) {
  Statement st = tx.Prep("INSERT INTO daily_aggregates(day, figures, at) VALUES (?,?,?) "
      "ON CONFLICT(day) DO UPDATE SET figures = excluded.figures, at = excluded.at");
  st.Bind(1, day).Bind(2, figures_json).Bind(3, at);
  tx.Check(st.Run());
}

std::vector<std::pair<std::string, std::string>> DayAggregates(Tx& tx, const std::string& from_day,
                                                               const std::string& to_day) {
  Statement st = tx.Prep(
      "SELECT day, figures FROM daily_aggregates WHERE day >= ? AND day <= ? ORDER BY day");
  st.Bind(1, from_day).Bind(2, to_day);
  std::vector<std::pair<std::string, std::string>> out;
  while (st.Step()) out.emplace_back(st.Text(0), st.Text(1));
  tx.Check(st);
  return out;
}

UnixSeconds OldestTurnAt(Tx& tx) {
  Statement st = tx.Prep("SELECT COALESCE(MIN(at), 0) FROM dialog_log");
  if (!st.Step()) return tx.Check(st), 0;
  return st.Int(0);
}

std::int64_t DeleteTurnsBefore(Tx& tx, UnixSeconds before) {
  Statement fts = tx.Prep(
      "DELETE FROM dialog_fts WHERE rowid IN (SELECT id FROM dialog_log WHERE at < ?)");
  fts.Bind(1, before);
  tx.Check(fts.Run());
  Statement st = tx.Prep("DELETE FROM dialog_log WHERE at < ?");
  st.Bind(1, before);
  tx.Check(st.Run());
  const std::int64_t deleted = tx.connection().Changes();
  // What customers and agents wrote to the desk goes with the turns; the
  // conversations' times and ratings stay (the desk's figures).
  Statement desk = tx.Prep(
      "DELETE FROM desk_messages WHERE at < ? AND conversation_id IN "
      "(SELECT id FROM desk_conversations WHERE state NOT IN ('queued', 'held'))");
  desk.Bind(1, before);
  tx.Check(desk.Run());
  return deleted;
}

}  // namespace gridbot::storage
