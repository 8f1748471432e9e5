// Replies: the bot's texts, as templates loaded from corpus/replies/*.txt.
//
//   [bill.month]
//   户号{account}{month}的电费：用电{kwh}度，金额{amount}元。
//
// Files are per feature (core.txt, …). A section is a key in brackets followed by its text (several
// lines kept as line breaks; blank lines at the ends trimmed). `{name}` is replaced by the variable
// of that name. Language lives in corpus/, not in C++.
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
  // Loads one file, or every *.txt of a directory (in name order; a key may
  // be defined once across them). Error names the file and line.
  static Result<std::shared_ptr<const Replies>> Load(const std::string& path);
  // The template with variables filled in. REQUIRES: Has(key).
  std::string Render(const std::string& key, const Vars& vars = {}) const;
  bool Has(const std::string& key) const { return templates_.count(key) > 0; }

 private:
  std::map<std::string, std::string> templates_;
};

}  // namespace gridbot::dialogs
