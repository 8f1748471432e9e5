#include "analytics/unrecognised.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>

#include "privacy/mask.h"
#include "storage/analytics.h"

namespace gridbot::analytics {
namespace {

using nlohmann::json;

std::set<std::string> GramsOf(const std::string& text) {
  std::set<std::string> grams;
  std::istringstream in(storage::Bigrams(text));
  for (std::string g; in >> g;) grams.insert(g);
  return grams;
}

double Dice(const std::set<std::string>& a, const std::set<std::string>& b) {
  if (a.empty() || b.empty()) return 0;
  size_t common = 0;
  for (const std::string& g : a) common += b.count(g);
  return 2.0 * static_cast<double>(common) / static_cast<double>(a.size() + b.size());
}

std::string GroupId(const std::string& key) {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return std::string(buf, 12);
}

// One distinct (normalised, masked) text and how often it came.
struct Text {
  std::string key;
  std::int64_t count = 0;
  std::vector<std::string> examples;  // as typed (masked), distinct, first three
  std::set<std::string> grams;
};

json SlotsOf(const nlu::Understanding& u) {
  json s = json::object();
  for (const auto& [name, value] : u.slots) s[name] = value;
  return s;
}

}  // namespace

Result<std::vector<IntentTitle>> LoadIntentTitles(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::Error(path + ": cannot be read");
  std::vector<IntentTitle> out;
  const auto& known = nlu::KnownIntents();
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty() || line[0] == '#') continue;
    const size_t tab = line.find('\t');
    if (tab == std::string::npos || tab == 0 || tab + 1 >= line.size())
      return Status::Error(path + ":" + std::to_string(n) + ": expected intent<TAB>title");
    IntentTitle t{line.substr(0, tab), line.substr(tab + 1)};
    if (std::find(known.begin(), known.end(), t.intent) == known.end())
      return Status::Error(path + ":" + std::to_string(n) + ": '" + t.intent + "' is not an nlu.md intent");
    out.push_back(std::move(t));
  }
  for (const std::string& intent : known)
    if (std::none_of(out.begin(), out.end(), [&](const IntentTitle& t) { return t.intent == intent; }))
      return Status::Error(path + ": no title for intent '" + intent + "'");
  return out;
}

json UnrecognisedGroups(storage::Store& store, const nlu::Model& model, const Period& period,
                        UnixSeconds now, size_t max_groups) {
  std::vector<storage::LoggedTurn> turns;
  std::vector<storage::Label> labels;
  {
    storage::Tx tx = store.Begin();
    turns = storage::FallbackTurns(tx, period.begin, period.end);
    labels = storage::Labels(tx);
  }
  std::map<std::string, std::string> label_of;
  for (const auto& l : labels) label_of[l.normalized] = l.intent;

  // Distinct texts the current rules still do not understand.
  std::unordered_map<std::string, size_t> index;
  std::vector<Text> texts;
  for (const auto& t : turns) {
    const nlu::Understanding u = model.Parse(t.text, ToCivilDay(t.at));
    if (u.intent != "unknown" || u.normalized.empty()) continue;  // covered now
    const std::string key = privacy::MaskText(u.normalized);
    auto [it, fresh] = index.emplace(key, texts.size());
    if (fresh) texts.push_back(Text{key, 0, {}, GramsOf(key)});
    Text& x = texts[it->second];
    ++x.count;
    const std::string shown = privacy::MaskText(t.text);
    if (x.examples.size() < 3 && std::find(x.examples.begin(), x.examples.end(), shown) == x.examples.end())
      x.examples.push_back(shown);
  }
  std::stable_sort(texts.begin(), texts.end(), [](const Text& a, const Text& b) {
    return a.count != b.count ? a.count > b.count : a.key < b.key;
  });

  // Greedy clustering against each group's first text, candidates found
  // through the grams they share.
  struct Group {
    size_t leader;
    std::vector<size_t> members;
    std::int64_t size = 0;
  };
  std::vector<Group> groups;
  std::unordered_map<std::string, std::vector<size_t>> by_gram;  // gram -> groups
  for (size_t i = 0; i < texts.size(); ++i) {
    const Text& x = texts[i];
    std::set<size_t> candidates;
    for (const std::string& g : x.grams) {
      auto it = by_gram.find(g);
      if (it != by_gram.end()) candidates.insert(it->second.begin(), it->second.end());
    }
    size_t best = groups.size();
    double best_score = kSimilarity;
    for (size_t c : candidates) {
      const double score = Dice(x.grams, texts[groups[c].leader].grams);
      if (score >= best_score && (best == groups.size() || score > best_score)) {
        best = c;
        best_score = score;
      }
    }
    if (best == groups.size()) {
      groups.push_back(Group{i, {}, 0});
      for (const std::string& g : x.grams) by_gram[g].push_back(best);
    }
    groups[best].members.push_back(i);
    groups[best].size += x.count;
  }
  std::stable_sort(groups.begin(), groups.end(),
                   [](const Group& a, const Group& b) { return a.size > b.size; });

  json list = json::array();
  {
    storage::Tx tx = store.Begin();
    for (size_t g = 0; g < groups.size() && g < max_groups; ++g) {
      const Group& group = groups[g];
      // The id names the group as shown for this period: a label posted for
      // it labels these texts, whatever another period shows meanwhile.
      const std::string id = GroupId(texts[group.leader].key + "|" + DayName(period.begin) + "|" +
                                     DayName(period.end - 1));
      json examples = json::array(), stored = json::array();
      std::map<std::string, int> label_votes;
      for (size_t m : group.members) {
        const Text& x = texts[m];
        for (const std::string& e : x.examples)
          if (examples.size() < 5) examples.push_back(e);
        stored.push_back({{"key", x.key}, {"text", x.examples.empty() ? x.key : x.examples.front()}});
        auto l = label_of.find(x.key);
        if (l != label_of.end()) ++label_votes[l->second];
      }
      json label = nullptr;
      int votes = 0;
      for (const auto& [intent, n] : label_votes)
        if (n > votes) {
          label = intent;
          votes = n;
        }
      storage::SaveUnrecognisedGroup(tx, id, stored.dump(), now);
      list.push_back({{"id", id},
                      {"size", group.size},
                      {"texts", static_cast<std::int64_t>(group.members.size())},
                      {"examples", examples},
                      {"label", label}});
    }
    tx.Commit();
  }
  return {{"groups", list}, {"total", static_cast<std::int64_t>(groups.size())}};
}

Result<json> LabelGroup(storage::Store& store, const nlu::Model& model,
                        const std::vector<IntentTitle>& titles, const std::string& id,
                        const std::string& intent, const std::string& by, UnixSeconds now) {
  if (std::none_of(titles.begin(), titles.end(), [&](const IntentTitle& t) { return t.intent == intent; }))
    return Status::Error("\"intent\" must be one of nlu.md's intents");
  storage::Tx tx = store.Begin();
  auto stored = storage::UnrecognisedGroupTexts(tx, id);
  if (!stored) return Status::Error("no such group");
  const json texts = json::parse(*stored, nullptr, false);
  if (!texts.is_array()) return Status::Error("no such group");
  int n = 0;
  for (const json& t : texts) {
    if (!t.is_object() || !t.contains("key") || !t.contains("text")) continue;
    storage::Label l;
    l.normalized = t.value("key", "");
    l.text = t.value("text", "");
    l.intent = intent;
    // The slots the rules find in the (masked) line, as a corpus line has them.
    l.slots_json = SlotsOf(model.Parse(l.text, ToCivilDay(now))).dump();
    l.group_id = id;
    l.labelled_by = by;
    l.labelled_at = now;
    storage::SaveLabel(tx, l);
    ++n;
  }
  Status s = tx.Commit();
  if (!s.ok()) return s;
  return json{{"id", id}, {"label", intent}, {"texts", n}};
}

std::string LabelledLines(storage::Store& store) {
  std::vector<storage::Label> labels;
  {
    storage::Tx tx = store.Begin();
    labels = storage::Labels(tx);
  }
  std::string out;
  for (const auto& l : labels) {
    json slots = json::parse(l.slots_json, nullptr, false);
    if (!slots.is_object()) slots = json::object();
    out += json{{"text", l.text}, {"intent", l.intent}, {"slots", slots}}.dump() + "\n";
  }
  return out;
}

}  // namespace gridbot::analytics
