// 我的档案: the account's file (用电地址, 抄表例日, 供电单位, 电压等级, 抄表类型,
// 用电类别, 计量方式). A question about some fields ("我家抄表日是哪天")
// answers only those; which fields a message asks about is decided from its
// normalised text with the keyword table [profile.fields] of
// corpus/replies/queries.txt.
#include "dialogs/flow_util.h"
#include "dialogs/flows/flows.h"

namespace gridbot::dialogs {
namespace {

// One line of [profile.fields]: "id|label|keyword keyword …".
struct Field {
  std::string id, label;
  std::vector<std::string> keywords;
};

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
  size_t start = 0;
  while (start < s.size() && (s[start] == ' ' || s[start] == '\t')) ++start;
  return s.substr(start);
}

std::vector<Field> Fields(const Context& ctx) {
  std::vector<Field> fields;
  const std::string table = ctx.replies.Render("profile.fields");
  size_t start = 0;
  while (start < table.size()) {
    size_t end = table.find('\n', start);
    if (end == std::string::npos) end = table.size();
    const std::string line = table.substr(start, end - start);
    start = end + 1;
    const size_t bar1 = line.find('|');
    const size_t bar2 = bar1 == std::string::npos ? bar1 : line.find('|', bar1 + 1);
    if (bar2 == std::string::npos) continue;
    Field f{Trim(line.substr(0, bar1)), Trim(line.substr(bar1 + 1, bar2 - bar1 - 1)), {}};
    const std::string words = line.substr(bar2 + 1);
    for (size_t p = 0; p < words.size();) {
      size_t q = words.find(' ', p);
      if (q == std::string::npos) q = words.size();
      if (q > p) f.keywords.push_back(words.substr(p, q - p));
      p = q + 1;
    }
    fields.push_back(std::move(f));
  }
  return fields;
}

// The value of a field of the account; "" for an id the code does not know.
std::string Value(const Context& ctx, const storage::Account& a, const std::string& id) {
  if (id == "address") return a.address;
  if (id == "reading_day")
    return ctx.replies.Render("profile.reading_day", {{"day", std::to_string(a.reading_day)}});
  if (id == "supply_unit") return a.supply_unit;
  if (id == "voltage_level") return a.voltage_level;
  if (id == "reading_type") return a.reading_type;
  if (id == "usage_category") return a.usage_category;
  if (id == "metering") return a.metering;
  return "";
}

// The fields a message asks about, in table order; empty if none in
// particular (the whole file). A field is dropped when the keyword that
// matched it is part of a longer one matched by another field ("抄表" inside
// "抄表类型").
std::vector<const Field*> Asked(const std::vector<Field>& fields, const std::string& text) {
  std::vector<std::pair<const Field*, std::string>> hits;
  for (const Field& f : fields) {
    std::string best;
    for (const std::string& k : f.keywords)
      if (k.size() > best.size() && text.find(k) != std::string::npos) best = k;
    if (!best.empty()) hits.emplace_back(&f, best);
  }
  std::vector<const Field*> out;
  for (const auto& [f, word] : hits) {
    bool inside = false;
    for (const auto& [g, other] : hits)
      if (g != f && other.size() > word.size() && other.find(word) != std::string::npos)
        inside = true;
    if (!inside) out.push_back(f);
  }
  return out;
}

class ProfileFlow : public Flow {
 public:
  std::string name() const override { return "query_profile"; }
  std::string title() const override { return "我的档案"; }
  bool one_shot() const override { return true; }
  bool needs_account() const override { return true; }
  std::vector<std::string> replies() const override {
    return {"profile.fields", "profile.all",  "profile.one",
            "profile.some",   "profile.item", "profile.reading_day"};
  }

  FlowResult Start(Context& ctx, Frame&, const nlu::Understanding& u) override {
    auto account = RequestedAccount(ctx, u);
    if (!account) return FlowResult::kDone;
    const std::vector<Field> fields = Fields(ctx);
    std::vector<const Field*> asked = Asked(fields, Compact(u.normalized));
    if (asked.size() == 1) {
      ctx.Say("profile.one", {{"account", account->account_no},
                              {"label", asked[0]->label},
                              {"value", Value(ctx, *account, asked[0]->id)}});
      return FlowResult::kDone;
    }
    const bool all = asked.empty();
    if (all)
      for (const Field& f : fields) asked.push_back(&f);
    std::string lines;
    for (const Field* f : asked) {
      if (!lines.empty()) lines += "\n";
      lines += ctx.replies.Render("profile.item",
                                  {{"label", f->label}, {"value", Value(ctx, *account, f->id)}});
    }
    ctx.Say(all ? "profile.all" : "profile.some",
            {{"account", account->account_no}, {"holder", account->holder}, {"list", lines}});
    return FlowResult::kDone;
  }
};

}  // namespace

std::unique_ptr<Flow> MakeProfileFlow() { return std::make_unique<ProfileFlow>(); }

}  // namespace gridbot::dialogs
