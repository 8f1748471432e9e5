#include "privacy/sealer.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

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
}

}  // namespace
}  // namespace gridbot::privacy
