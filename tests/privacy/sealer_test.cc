#include "privacy/sealer.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>
#include <vector>

namespace gridbot::privacy {
namespace {

TEST(Sealer, OpensWhatItSealedAndNothingElse) {
  const Sealer s = Sealer::Random();
  const std::string sealed = s.Seal("【广西电网95598】您的注册验证码为482913，5分钟内有效。");
  EXPECT_TRUE(Sealer::IsSealed(sealed));
  EXPECT_EQ(sealed.find("482913"), std::string::npos);
  EXPECT_EQ(s.Open(sealed), "【广西电网95598】您的注册验证码为482913，5分钟内有效。");
  // The same text twice seals differently (a fresh nonce).
  EXPECT_NE(s.Seal("x"), s.Seal("x"));
  EXPECT_EQ(s.Open(s.Seal("")), "");
  // Another key, a flipped character, a cut, garbage: nothing.
  EXPECT_EQ(Sealer::Random().Open(sealed), std::nullopt);
  std::string altered = sealed;
  altered[altered.size() / 2] = altered[altered.size() / 2] == 'A' ? 'B' : 'A';
  EXPECT_EQ(s.Open(altered), std::nullopt);
  EXPECT_EQ(s.Open(sealed.substr(0, 20)), std::nullopt);
  EXPECT_EQ(s.Open("sealed:v1:!!!"), std::nullopt);
  EXPECT_EQ(s.Open(std::string("sealed:v1:AAAA\0AAAA", 19)), std::nullopt);
  EXPECT_EQ(s.Open("plain text"), std::nullopt);
}

TEST(Sealer, TheKeyFileIsMadeOncePrivateAndReadBack) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("gridbot_sealer_" + std::to_string(getpid()) + ".key"))
                               .string();
  std::filesystem::remove(path);
  auto first = Sealer::FromKeyFile(path);
  ASSERT_TRUE(first.ok()) << first.error();
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = Sealer::FromKeyFile(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->Open(first->Seal("482913")), "482913");

  std::ofstream(path) << "not a key\n";
  EXPECT_FALSE(Sealer::FromKeyFile(path).ok());
  std::filesystem::remove(path);
  // Something there that can't be read as a key is an error, never
  // replaced (and never a loop): a directory in the key's place.
  std::filesystem::create_directory(path);
  EXPECT_FALSE(Sealer::FromKeyFile(path).ok());
  std::filesystem::remove(path);
}

TEST(Sealer, StartsAtOnceAllEndUpWithOneKey) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("gridbot_sealer_race_" + std::to_string(getpid()) + ".key"))
                               .string();
  for (int round = 0; round < 20; ++round) {
    std::filesystem::remove(path);
    std::vector<std::optional<Sealer>> got(4);
    std::vector<std::thread> threads;
    for (size_t i = 0; i < got.size(); ++i)
      threads.emplace_back([&, i] {
        auto s = Sealer::FromKeyFile(path);
        if (s.ok()) got[i].emplace(*s);
      });
    for (auto& t : threads) t.join();
    const std::string sealed = got[0] ? got[0]->Seal("613094") : "";
    for (const auto& s : got) {
      ASSERT_TRUE(s.has_value());
      EXPECT_EQ(s->Open(sealed), "613094");
    }
  }
  // No temporary file is left beside the key.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(std::filesystem::temp_directory_path()))
    if (e.path().filename().string().rfind("gridbot_sealer_race_" + std::to_string(getpid()), 0) ==
        0)
      ++files;
  EXPECT_EQ(files, 1);
  std::filesystem::remove(path);
}

TEST(Sealer, MacsAreKeyedPerPurposeAndCheckedWhole) {
  const Sealer s = Sealer::Random();
  const std::string mac = s.Mac("sms-code", "13912345678|register|482913");
  EXPECT_TRUE(Sealer::IsMac(mac));
  EXPECT_TRUE(s.VerifyMac("sms-code", "13912345678|register|482913", mac));
  EXPECT_FALSE(s.VerifyMac("sms-code", "13912345678|register|482914", mac));
  EXPECT_FALSE(s.VerifyMac("other", "13912345678|register|482913", mac));
  EXPECT_FALSE(
      s.VerifyMac("sms-code", "13912345678|register|482913", mac.substr(0, mac.size() - 1)));
  EXPECT_FALSE(s.VerifyMac("sms-code", "13912345678|register|482913", ""));
  EXPECT_FALSE(Sealer::Random().VerifyMac("sms-code", "13912345678|register|482913", mac));
  EXPECT_EQ(mac.find("482913"), std::string::npos);
}

}  // namespace
}  // namespace gridbot::privacy
