// The gazetteer of Guangxi's prefecture-level cities and county-level units,
// with their aliases (short names, ethnic-autonomy short names, old names),
// loaded from corpus/gazetteer/.
//
// Thread safety: immutable after Load(); share freely.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace gridbot::nlu {

struct Place {
  std::string city;      // full name, e.g. "南宁市"
  std::string district;  // full name, e.g. "青秀区"; empty for a city entry
};

struct PlaceMention {
  size_t begin = 0, end = 0;  // byte offsets of the mention in the text
  Place place;                // what it names (city entry: district empty)
};

class Gazetteer {
 public:
  // Reads `dir`/guangxi-divisions.tsv (city_code<TAB>city<TAB>unit; '#' lines
  // are comments) and `dir`/aliases.tsv (alias<TAB>full name). Error names the
  // file and line of the first bad record.
  //
  // In aliases.tsv a target of "-" makes the alias a stop phrase: a common
  // word that contains a place alias (今天等 ⊃ 天等) and, matched longest
  // first, keeps it from being read as a place. An alias of one character, a
  // target that is not a full name, or an alias claimed by two districts is an
  // error. An alias claimed by a city and a district names the city. A
  // district name listed under two cities is kept as a district with no city.
  static Result<Gazetteer> Load(const std::string& dir);

  // Every city and district named in `normalized`, longest match first,
  // non-overlapping, left to right.
  std::vector<PlaceMention> Find(std::string_view normalized) const;

  // The city a full district name belongs to; empty if unknown or if the name
  // exists under more than one city.
  std::string CityOfDistrict(std::string_view district) const;
  // Full city name for a full name or alias ("南宁" -> "南宁市"); empty if none.
  std::string ResolveCity(std::string_view name) const;
  // Every full place name and alias, for the segmenter's lexicon.
  std::vector<std::string> AllNames() const;
  // All districts of a city (full names).
  std::vector<std::string> DistrictsOf(std::string_view city) const;
  const std::vector<std::string>& Cities() const { return cities_; }

 private:
  struct Entry {
    std::string name;  // as written in text
    Place place;       // both empty: a stop phrase (aliases.tsv target "-")
  };
  std::vector<std::string> cities_;
  std::vector<Entry> entries_;  // names and aliases, longest first
  std::vector<std::pair<std::string, std::string>> district_city_;  // sorted; city "" if ambiguous
  // (city, district) in file order, for DistrictsOf().
  std::vector<std::pair<std::string, std::string>> divisions_;
  // (first code point of the name, index in entries_), sorted by code point
  // and then longest name first: Find() looks up only names that can start
  // at a position.
  std::vector<std::pair<char32_t, std::uint32_t>> by_first_;
};

}  // namespace gridbot::nlu
