// Tests for nlu/gazetteer.h on the real corpus/gazetteer data and on small
// files written for one case each.
#include "nlu/gazetteer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#ifndef GRIDBOT_SOURCE_DIR
#define GRIDBOT_SOURCE_DIR "/work/main"
#endif

namespace gridbot::nlu {
namespace {

const Gazetteer& Corpus() {
  static const Gazetteer* g = [] {
    auto r = Gazetteer::Load(std::string(GRIDBOT_SOURCE_DIR) + "/corpus/gazetteer");
    EXPECT_TRUE(r.ok()) << r.error();
    return new Gazetteer(std::move(r).value());
  }();
  return *g;
}

// Mentions as "text>city/district" joined by spaces: a failure reads as a
// diff of what was found.
std::string Found(const Gazetteer& g, std::string_view text) {
  std::string out;
  for (const PlaceMention& m : g.Find(text)) {
    if (!out.empty()) out += ' ';
    out += std::string(text.substr(m.begin, m.end - m.begin)) + ">" + m.place.city + "/" +
           m.place.district;
  }
  return out;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// A directory with the two gazetteer files, removed at the end of the test.
class TempGazetteer {
 public:
  TempGazetteer(const std::string& divisions, const std::string& aliases) {
    char tmpl[] = "/tmp/gazetteer_test_XXXXXX";
    dir_ = mkdtemp(tmpl);
    std::ofstream(dir_ + "/guangxi-divisions.tsv") << divisions;
    std::ofstream(dir_ + "/aliases.tsv") << aliases;
  }
  ~TempGazetteer() { std::filesystem::remove_all(dir_); }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

constexpr char kTwoCities[] =
    "# test\n"
    "4501\t南宁市\t青秀区\n"
    "4501\t南宁市\t江南区\n"
    "4502\t柳州市\t城中区\n"
    "4502\t柳州市\t江南区\n";  // a district name under two cities

TEST(GazetteerCorpusTest, Loads14CitiesAnd111Units) {
  const Gazetteer& g = Corpus();
  EXPECT_EQ(g.Cities().size(), 14u);
  EXPECT_EQ(g.Cities().front(), "南宁市");
  EXPECT_EQ(g.Cities().back(), "崇左市");
  size_t units = 0;
  for (const std::string& city : g.Cities()) units += g.DistrictsOf(city).size();
  EXPECT_EQ(units, 111u);
}

TEST(GazetteerCorpusTest, DistrictsOf) {
  const std::vector<std::string> nanning = Corpus().DistrictsOf("南宁市");
  ASSERT_EQ(nanning.size(), 12u);
  EXPECT_EQ(nanning.front(), "兴宁区");
  EXPECT_EQ(nanning.back(), "横州市");
  EXPECT_EQ(Corpus().DistrictsOf("防城港市"),
            (std::vector<std::string>{"港口区", "防城区", "上思县", "东兴市"}));
  EXPECT_TRUE(Corpus().DistrictsOf("深圳市").empty());
  EXPECT_TRUE(Corpus().DistrictsOf("南宁").empty());  // full names only
}

TEST(GazetteerCorpusTest, CityOfDistrict) {
  const Gazetteer& g = Corpus();
  EXPECT_EQ(g.CityOfDistrict("青秀区"), "南宁市");
  EXPECT_EQ(g.CityOfDistrict("武鸣区"), "南宁市");
  EXPECT_EQ(g.CityOfDistrict("城中区"), "柳州市");
  EXPECT_EQ(g.CityOfDistrict("融水苗族自治县"), "柳州市");
  EXPECT_EQ(g.CityOfDistrict("藤县"), "梧州市");
  EXPECT_EQ(g.CityOfDistrict("凭祥市"), "崇左市");
  EXPECT_EQ(g.CityOfDistrict("青秀"), "");  // an alias is not a full name
  EXPECT_EQ(g.CityOfDistrict("南宁市"), "");
  EXPECT_EQ(g.CityOfDistrict("朝阳区"), "");
}

TEST(GazetteerCorpusTest, EveryUnitHasItsCity) {
  const Gazetteer& g = Corpus();
  for (const std::string& city : g.Cities()) {
    for (const std::string& district : g.DistrictsOf(city)) {
      EXPECT_EQ(g.CityOfDistrict(district), city) << district;
      EXPECT_EQ(Found(g, district), district + ">" + city + "/" + district);
    }
    EXPECT_EQ(Found(g, city), city + ">" + city + "/");
  }
}

TEST(GazetteerCorpusTest, ResolveCity) {
  const Gazetteer& g = Corpus();
  EXPECT_EQ(g.ResolveCity("南宁市"), "南宁市");
  EXPECT_EQ(g.ResolveCity("南宁"), "南宁市");
  EXPECT_EQ(g.ResolveCity("邕城"), "南宁市");
  EXPECT_EQ(g.ResolveCity("防城港"), "防城港市");
  EXPECT_EQ(g.ResolveCity("崇左"), "崇左市");
  EXPECT_EQ(g.ResolveCity("青秀"), "");  // a district
  EXPECT_EQ(g.ResolveCity("青秀区"), "");
  EXPECT_EQ(g.ResolveCity("深圳"), "");
  EXPECT_EQ(g.ResolveCity(""), "");
}

TEST(GazetteerCorpusTest, AliasesFromTheNotes) {
  const Gazetteer& g = Corpus();
  const std::pair<const char*, const char*> kCases[] = {
      // city and district short names
      {"南宁", "南宁市/"},
      {"防城港", "防城港市/"},
      {"青秀", "南宁市/青秀区"},
      {"西乡塘", "南宁市/西乡塘区"},
      {"武鸣", "南宁市/武鸣区"},
      // ethnic-autonomy counties
      {"融水", "柳州市/融水苗族自治县"},
      {"三江", "柳州市/三江侗族自治县"},
      {"龙胜", "桂林市/龙胜各族自治县"},
      {"恭城", "桂林市/恭城瑶族自治县"},
      {"富川", "贺州市/富川瑶族自治县"},
      {"罗城", "河池市/罗城仫佬族自治县"},
      {"环江", "河池市/环江毛南族自治县"},
      {"巴马", "河池市/巴马瑶族自治县"},
      {"都安", "河池市/都安瑶族自治县"},
      {"大化", "河池市/大化瑶族自治县"},
      {"金秀", "来宾市/金秀瑶族自治县"},
      {"隆林", "百色市/隆林各族自治县"},
      {"融水县", "柳州市/融水苗族自治县"},
      // old names
      {"邕城", "南宁市/"},
      {"横县", "南宁市/横州市"},
      {"田阳县", "百色市/田阳区"},
      {"平果县", "百色市/平果市"},
      {"荔浦县", "桂林市/荔浦市"},
  };
  for (const auto& [alias, place] : kCases) {
    EXPECT_EQ(Found(g, alias), std::string(alias) + ">" + place) << alias;
  }
}

TEST(GazetteerCorpusTest, SingleCharactersAreNeverPlaces) {
  const Gazetteer& g = Corpus();
  EXPECT_EQ(Found(g, "邕"), "");
  EXPECT_EQ(Found(g, "藤"), "");
  EXPECT_EQ(Found(g, "容"), "");
  EXPECT_EQ(Found(g, "藤县停电"), "藤县>梧州市/藤县");
  EXPECT_EQ(Found(g, "容县"), "容县>玉林市/容县");
  for (const std::string& name : g.AllNames()) {
    size_t chars = 0;
    for (unsigned char c : name) chars += (c & 0xC0) != 0x80;
    EXPECT_GE(chars, 2u) << name;
  }
}

TEST(GazetteerCorpusTest, EverydayWordsAreNotAliases) {
  const Gazetteer& g = Corpus();
  EXPECT_EQ(Found(g, "住在城中村"), "");
  EXPECT_EQ(Found(g, "港口"), "");
  EXPECT_EQ(Found(g, "资源"), "");
  EXPECT_EQ(Found(g, "城中区"), "城中区>柳州市/城中区");  // written in full it is found
  EXPECT_EQ(Found(g, "资源县"), "资源县>桂林市/资源县");
}

TEST(GazetteerCorpusTest, StopPhrasesHideAliasesInside) {
  const Gazetteer& g = Corpus();
  EXPECT_EQ(Found(g, "今天等一下"), "");
  EXPECT_EQ(Found(g, "电表都安装好了"), "");
  EXPECT_EQ(Found(g, "用兴业银行卡交费"), "");
  EXPECT_EQ(Found(g, "天等县停电"), "天等县>崇左市/天等县");
  EXPECT_EQ(Found(g, "天等停电"), "天等>崇左市/天等县");
  EXPECT_EQ(Found(g, "都安停电"), "都安>河池市/都安瑶族自治县");
}

TEST(GazetteerCorpusTest, LongestMatchLeftToRight) {
  const Gazetteer& g = Corpus();
  EXPECT_EQ(Found(g, "南宁市青秀区"), "南宁市>南宁市/ 青秀区>南宁市/青秀区");
  EXPECT_EQ(Found(g, "广西南宁西乡塘"), "南宁>南宁市/ 西乡塘>南宁市/西乡塘区");
  EXPECT_EQ(Found(g, "防城港市港口区"), "防城港市>防城港市/ 港口区>防城港市/港口区");
  EXPECT_EQ(Found(g, "防城区"), "防城区>防城港市/防城区");
  EXPECT_EQ(Found(g, "防城港"), "防城港>防城港市/");  // not 防城 + 港
  EXPECT_EQ(Found(g, "贵港港北区"), "贵港>贵港市/ 港北区>贵港市/港北区");
  EXPECT_EQ(Found(g, "北海海城区"), "北海>北海市/ 海城区>北海市/海城区");
  EXPECT_EQ(Found(g, "南宁明天停电吗"), "南宁>南宁市/");  // not 宁明
}

TEST(GazetteerCorpusTest, ByteOffsets) {
  const std::string text = "我在abc青秀区";
  const auto found = Corpus().Find(text);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].begin, 9u);  // 我 and 在 are three bytes each, then abc
  EXPECT_EQ(found[0].end, 18u);
  EXPECT_EQ(found[0].place.city, "南宁市");
  EXPECT_EQ(found[0].place.district, "青秀区");
}

TEST(GazetteerCorpusTest, NothingInOtherText) {
  const Gazetteer& g = Corpus();
  EXPECT_EQ(Found(g, ""), "");
  EXPECT_EQ(Found(g, "我家停电了"), "");
  EXPECT_EQ(Found(g, "abc 123"), "");
  EXPECT_EQ(Found(g, "深圳市福田区"), "");
  EXPECT_EQ(Found(g, "\xe5\x8d"), "");  // truncated UTF-8 is no crash
}

TEST(GazetteerCorpusTest, AllNames) {
  const std::vector<std::string> names = Corpus().AllNames();
  EXPECT_TRUE(Contains(names, "南宁市"));
  EXPECT_TRUE(Contains(names, "南宁"));
  EXPECT_TRUE(Contains(names, "西乡塘区"));
  EXPECT_TRUE(Contains(names, "融水苗族自治县"));
  EXPECT_TRUE(Contains(names, "融水"));
  EXPECT_TRUE(Contains(names, "邕城"));
  EXPECT_FALSE(Contains(names, "今天等"));  // stop phrases are not names
  EXPECT_FALSE(Contains(names, "城中"));
  EXPECT_EQ(names.size(), std::set<std::string>(names.begin(), names.end()).size());
}

TEST(GazetteerLoadTest, DistrictUnderTwoCitiesHasNoCity) {
  TempGazetteer dir(kTwoCities, "江南\t江南区\n青秀\t青秀区\n");
  auto g = Gazetteer::Load(dir.dir());
  ASSERT_TRUE(g.ok()) << g.error();
  EXPECT_EQ(g->CityOfDistrict("江南区"), "");
  EXPECT_EQ(g->CityOfDistrict("青秀区"), "南宁市");
  EXPECT_EQ(g->CityOfDistrict("城中区"), "柳州市");
  EXPECT_EQ(Found(*g, "江南区"), "江南区>/江南区");
  EXPECT_EQ(Found(*g, "江南停电"), "江南>/江南区");
  EXPECT_EQ(g->DistrictsOf("柳州市"), (std::vector<std::string>{"城中区", "江南区"}));
  EXPECT_EQ(g->DistrictsOf("南宁市"), (std::vector<std::string>{"青秀区", "江南区"}));
}

TEST(GazetteerLoadTest, AliasOfCityAndDistrictIsTheCity) {
  TempGazetteer dir(kTwoCities, "柳州\t城中区\n柳州\t柳州市\n南宁\t南宁市\n南宁\t青秀区\n");
  auto g = Gazetteer::Load(dir.dir());
  ASSERT_TRUE(g.ok()) << g.error();
  EXPECT_EQ(Found(*g, "柳州"), "柳州>柳州市/");
  EXPECT_EQ(Found(*g, "南宁"), "南宁>南宁市/");
}

TEST(GazetteerLoadTest, Errors) {
  struct Case {
    const char* divisions;
    const char* aliases;
    const char* error;  // a part of the message
  };
  const Case kCases[] = {
      {kTwoCities, "邕\t南宁市\n", "aliases.tsv:1: one character"},
      {kTwoCities, "# c\n\n南宁\t南宁\n", "aliases.tsv:3: unknown place 南宁"},
      {kTwoCities, "南宁\n", "aliases.tsv:1: want alias<TAB>full name"},
      {kTwoCities, "青秀区\t江南区\n", "aliases.tsv:1: 青秀区 is already a full place name"},
      {kTwoCities, "城区\t青秀区\n城区\t城中区\n", "aliases.tsv:2: alias 城区 names two places"},
      {"4501\t南宁市\n", "", "guangxi-divisions.tsv:1: want city_code"},
      {"# only a comment\n", "", "no divisions"},
      {"4501\t南宁市\t青秀区\n4501\t南宁市\t青秀区\n", "", "guangxi-divisions.tsv:2: duplicate"},
  };
  for (const Case& c : kCases) {
    TempGazetteer dir(c.divisions, c.aliases);
    auto g = Gazetteer::Load(dir.dir());
    ASSERT_FALSE(g.ok()) << c.error;
    EXPECT_NE(g.error().find(c.error), std::string::npos) << g.error();
  }
}

TEST(GazetteerLoadTest, MissingFilesAreErrors) {
  auto g = Gazetteer::Load("/nonexistent/gazetteer");
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.error().find("/nonexistent/gazetteer/guangxi-divisions.tsv"), std::string::npos)
      << g.error();
}

TEST(GazetteerLoadTest, CrLfAndCommentsAreAccepted) {
  TempGazetteer dir("# header\r\n4501\t南宁市\t青秀区\r\n\r\n",
                    "# aliases\r\n南宁\t南宁市\r\n  # indented comment\r\n");
  auto g = Gazetteer::Load(dir.dir());
  ASSERT_TRUE(g.ok()) << g.error();
  EXPECT_EQ(g->ResolveCity("南宁"), "南宁市");
  EXPECT_EQ(g->CityOfDistrict("青秀区"), "南宁市");
}

}  // namespace
}  // namespace gridbot::nlu
