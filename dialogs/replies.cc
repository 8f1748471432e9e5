#include "dialogs/replies.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace gridbot::dialogs {
namespace {

void TrimBlankLines(std::string& s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  size_t start = 0;
  while (start < s.size() && s[start] == '\n') ++start;
  s.erase(0, start);
}

}  // namespace

namespace {

Status LoadFile(const std::string& path, std::map<std::string, std::string>& templates) {
  std::ifstream in(path);
  if (!in) return Status::Error("cannot read replies " + path);
  std::string line, key, body;
  int line_no = 0;
  auto flush = [&]() {
    if (key.empty()) return;
    TrimBlankLines(body);
    templates[key] = body;
    body.clear();
  };
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("#", 0) == 0) continue;
    if (line.size() > 2 && line.front() == '[' && line.back() == ']') {
      flush();
      key = line.substr(1, line.size() - 2);
      if (templates.count(key))
        return Status::Error(path + ":" + std::to_string(line_no) + ": duplicate key [" + key +
                             "]");
      continue;
    }
    if (key.empty()) {
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      return Status::Error(path + ":" + std::to_string(line_no) + ": text before the first [key]");
    }
    body += line;
    body += '\n';
  }
  flush();
  return Status::Ok();
}

}  // namespace

Result<std::shared_ptr<const Replies>> Replies::Load(const std::string& path) {
  auto r = std::make_shared<Replies>();
  std::vector<std::string> files;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    for (const auto& e : std::filesystem::directory_iterator(path, ec))
      if (e.path().extension() == ".txt") files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    if (files.empty()) return Status::Error("no reply files (*.txt) in " + path);
  } else {
    files.push_back(path);
  }
  for (const std::string& f : files) {
    Status s = LoadFile(f, r->templates_);
    if (!s.ok()) return s;
  }
  return std::shared_ptr<const Replies>(r);
}

std::string Replies::Render(const std::string& key, const Vars& vars) const {
  auto it = templates_.find(key);
  if (it == templates_.end()) return "";
  const std::string& t = it->second;
  std::string out;
  out.reserve(t.size() + 32);
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '{') {
      const size_t close = t.find('}', i);
      if (close != std::string::npos) {
        auto v = vars.find(t.substr(i + 1, close - i - 1));
        if (v != vars.end()) {
          out += v->second;
          i = close;
          continue;
        }
      }
    }
    out += t[i];
  }
  return out;
}

}  // namespace gridbot::dialogs
