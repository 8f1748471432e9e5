#include "nlu/gazetteer.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace gridbot::nlu {
namespace {

// The code point at s[*i]; advances *i (one byte for a malformed sequence).
char32_t NextCodePoint(std::string_view s, size_t* i) {
  const auto b0 = static_cast<unsigned char>(s[*i]);
  int len;
  char32_t c;
  if (b0 < 0x80) {
    ++*i;
    return b0;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    c = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    c = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    c = b0 & 0x07;
  } else {
    ++*i;
    return 0xFFFD;
  }
  if (*i + len > s.size()) {
    ++*i;
    return 0xFFFD;
  }
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[*i + k]);
    if ((b & 0xC0) != 0x80) {
      ++*i;
      return 0xFFFD;
    }
    c = (c << 6) | (b & 0x3F);
  }
  *i += len;
  return c;
}

size_t CodePointCount(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++n) NextCodePoint(s, &i);
  return n;
}

struct Record {
  int line;
  std::vector<std::string> fields;
};

// Tab-separated records of `path`, without blank and '#' lines.
Status ReadTsv(const std::string& path, std::vector<Record>* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error(path + ": cannot open");
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    Record r{number, {}};
    std::stringstream fields(line);
    std::string field;
    while (std::getline(fields, field, '\t')) {
      const size_t b = field.find_first_not_of(' ');
      const size_t e = field.find_last_not_of(' ');
      r.fields.push_back(b == std::string::npos ? "" : field.substr(b, e - b + 1));
    }
    out->push_back(std::move(r));
  }
  return Status::Ok();
}

std::string Where(const std::string& path, int line) {
  return path + ":" + std::to_string(line) + ": ";
}

}  // namespace

Result<Gazetteer> Gazetteer::Load(const std::string& dir) {
  Gazetteer g;
  const std::string divisions_path = dir + "/guangxi-divisions.tsv";
  const std::string aliases_path = dir + "/aliases.tsv";

  std::vector<Record> records;
  if (Status s = ReadTsv(divisions_path, &records); !s.ok()) return s;
  std::map<std::string, std::set<std::string>> cities_of;  // district -> cities
  std::set<std::string> city_set;
  for (const Record& r : records) {
    if (r.fields.size() != 3 || r.fields[0].empty() || r.fields[1].empty() || r.fields[2].empty())
      return Status::Error(Where(divisions_path, r.line) + "want city_code<TAB>city<TAB>unit");
    const std::string& city = r.fields[1];
    const std::string& district = r.fields[2];
    if (city_set.insert(city).second) g.cities_.push_back(city);
    if (!cities_of[district].insert(city).second)
      return Status::Error(Where(divisions_path, r.line) + "duplicate " + city + " " + district);
    g.divisions_.emplace_back(city, district);
  }
  if (g.cities_.empty()) return Status::Error(divisions_path + ": no divisions");
  for (const auto& [district, cities] : cities_of) {
    if (city_set.count(district))
      return Status::Error(divisions_path + ": " + district + " is both a city and a unit");
    g.district_city_.emplace_back(district, cities.size() == 1 ? *cities.begin() : "");
  }  // std::map iterates sorted, so district_city_ is sorted for lookups.

  // name -> place, for full names first, then aliases.
  std::map<std::string, Place> names;
  for (const std::string& city : g.cities_) names[city] = Place{city, ""};
  for (const auto& [district, city] : g.district_city_) names[district] = Place{city, district};

  records.clear();
  if (Status s = ReadTsv(aliases_path, &records); !s.ok()) return s;
  std::map<std::string, Place> aliases;
  for (const Record& r : records) {
    const std::string where = Where(aliases_path, r.line);
    if (r.fields.size() != 2 || r.fields[0].empty() || r.fields[1].empty())
      return Status::Error(where + "want alias<TAB>full name");
    const std::string& alias = r.fields[0];
    const std::string& target = r.fields[1];
    if (CodePointCount(alias) < 2)
      return Status::Error(where + "one character is too ambiguous to be an alias: " + alias);
    if (names.count(alias)) return Status::Error(where + alias + " is already a full place name");
    Place place;  // "-": a stop phrase, no place
    if (target != "-") {
      auto it = names.find(target);
      if (it == names.end()) return Status::Error(where + "unknown place " + target);
      place = it->second;
    }
    auto [it, inserted] = aliases.emplace(alias, place);
    if (inserted) continue;
    Place& old = it->second;
    if (old.city == place.city && old.district == place.district) continue;
    const bool old_city = !old.city.empty() && old.district.empty();
    const bool new_city = !place.city.empty() && place.district.empty();
    if (old_city && !new_city && !place.district.empty()) continue;  // a city wins
    if (new_city && !old_city && !old.district.empty()) {
      old = place;
      continue;
    }
    return Status::Error(where + "alias " + alias + " names two places");
  }

  for (auto& [name, place] : names) g.entries_.push_back(Entry{name, place});
  for (auto& [name, place] : aliases) g.entries_.push_back(Entry{name, place});
  std::stable_sort(g.entries_.begin(), g.entries_.end(),
                   [](const Entry& a, const Entry& b) { return a.name.size() > b.name.size(); });
  for (std::uint32_t k = 0; k < g.entries_.size(); ++k) {
    size_t i = 0;
    g.by_first_.emplace_back(NextCodePoint(g.entries_[k].name, &i), k);
  }
  // Stable on the index keeps longest-first order within one first character.
  std::stable_sort(g.by_first_.begin(), g.by_first_.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  return g;
}

std::vector<PlaceMention> Gazetteer::Find(std::string_view normalized) const {
  std::vector<PlaceMention> out;
  size_t i = 0;
  while (i < normalized.size()) {
    if (static_cast<unsigned char>(normalized[i]) < 0x80) {  // place names are Han only
      ++i;
      continue;
    }
    size_t next = i;
    const char32_t c = NextCodePoint(normalized, &next);
    auto it = std::lower_bound(by_first_.begin(), by_first_.end(), c,
                               [](const auto& e, char32_t v) { return e.first < v; });
    const Entry* hit = nullptr;
    for (; it != by_first_.end() && it->first == c; ++it) {
      const Entry& e = entries_[it->second];
      if (normalized.compare(i, e.name.size(), e.name) == 0) {
        hit = &e;
        break;
      }
    }
    if (hit == nullptr) {
      i = next;
      continue;
    }
    if (!hit->place.city.empty() || !hit->place.district.empty())
      out.push_back(PlaceMention{i, i + hit->name.size(), hit->place});
    i += hit->name.size();
  }
  return out;
}

std::string Gazetteer::CityOfDistrict(std::string_view district) const {
  auto it = std::lower_bound(district_city_.begin(), district_city_.end(), district,
                             [](const auto& e, std::string_view v) { return e.first < v; });
  if (it == district_city_.end() || it->first != district) return "";
  return it->second;
}

std::string Gazetteer::ResolveCity(std::string_view name) const {
  for (const Entry& e : entries_) {
    if (e.name == name && e.place.district.empty()) return e.place.city;
  }
  return "";
}

std::vector<std::string> Gazetteer::AllNames() const {
  std::vector<std::string> out;
  for (const Entry& e : entries_) {
    if (!e.place.city.empty() || !e.place.district.empty()) out.push_back(e.name);
  }
  return out;
}

std::vector<std::string> Gazetteer::DistrictsOf(std::string_view city) const {
  std::vector<std::string> out;
  for (const auto& [c, d] : divisions_) {
    if (c == city) out.push_back(d);
  }
  return out;
}

}  // namespace gridbot::nlu
