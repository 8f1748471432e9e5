// Replies: the bot's texts, as templates loaded from corpus/replies/zh.txt.
//
//   [bill.month]
//   户号{account}{month}的电费：用电{kwh}度，金额{amount}元。
//
// A section is a key in brackets followed by its text (several lines kept as
// line breaks; blank lines at the ends trimmed). `{name}` is replaced by the
// variable of that name. Language lives in corpus/, not in C++.
//
// Thread safety: immutable after Load(); share freely.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace gridbot::dialogs {

using Vars = std::map<std::string, std::string>;

class Replies {
 public:
  // Error names the file and line. `required` keys must all be present.
  static Result<std::shared_ptr<const Replies>> Load(const std::string& path,
                                                     const std::vector<std::string>& required);
  // The template with variables filled in. REQUIRES: Has(key).
  std::string Render(const std::string& key, const Vars& vars = {}) const;
  bool Has(const std::string& key) const { return templates_.count(key) > 0; }

 private:
  std::map<std::string, std::string> templates_;
};

}  // namespace gridbot::dialogs
