// Every scripted conversation of tests/dialogs/scripts/*.dlg passes (the
// format: tests/dialogs/scripts/README.md; `gridbot dialog eval` prints the
// same per category). Each script runs on a fresh in-memory database.
#include <filesystem>

#include "dialogs/script.h"
#include "tests/dialogs/conversation.h"

namespace gridbot::testing {
namespace {

std::vector<std::string> ScriptFiles() {
  std::vector<std::string> files;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(GRIDBOT_SOURCE_DIR) + "/tests/dialogs/scripts"))
    if (e.path().extension() == ".dlg") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

TEST(Scripts, EveryConversationPasses) {
  auto fixtures = storage::ReadFixtureFile(CorpusDir() + "/demo/fixtures.json");
  ASSERT_TRUE(fixtures.ok()) << fixtures.error();
  dialogs::ScriptRunner runner(SharedModel(), SharedReplies(), SharedCommands(), *fixtures);
  size_t total = 0;
  for (const std::string& file : ScriptFiles()) {
    auto scripts = dialogs::ReadScripts(file);
    ASSERT_TRUE(scripts.ok()) << scripts.error();
    for (const auto& script : *scripts) {
      ++total;
      dialogs::ScriptResult r = runner.Run(script);
      std::string why;
      for (const std::string& f : r.failures) why += f + "\n";
      EXPECT_TRUE(r.passed) << script.id << " (" << script.category << ")\n" << why << r.transcript;
    }
  }
  EXPECT_GE(total, 120u);  // issue 7: at least 120 scripted conversations
}

TEST(Scripts, ParserReportsTheLineOfABadLine) {
  auto bad = dialogs::ParseScripts("=== a digression\n> 你好\n<< oops\n", "x.dlg");
  EXPECT_TRUE(bad.ok());  // "<< oops" is a "<" check for "< oops"
  auto worse = dialogs::ParseScripts("=== a digression\n< 你好\n", "x.dlg");
  ASSERT_FALSE(worse.ok());
  EXPECT_EQ(worse.error(), "x.dlg:2: a check before the script's first '>' message");
  auto twice = dialogs::ParseScripts("=== a x\n> 1\n=== a y\n> 2\n", "x.dlg");
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error(), "x.dlg:3: script id 'a' used twice");
}

TEST(Scripts, AFailedCheckNamesItsLineAndTheReply) {
  auto fixtures = storage::ReadFixtureFile(CorpusDir() + "/demo/fixtures.json");
  ASSERT_TRUE(fixtures.ok());
  dialogs::ScriptRunner runner(SharedModel(), SharedReplies(), SharedCommands(), *fixtures);
  auto scripts = dialogs::ParseScripts("=== s digression\n> 绑定户号\n< 不会出现的字\n", "x.dlg");
  ASSERT_TRUE(scripts.ok());
  dialogs::ScriptResult r = runner.Run((*scripts)[0]);
  EXPECT_FALSE(r.passed);
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_THAT(r.failures[0], ::testing::StartsWith("x.dlg:3: '不会出现的字' is not in the reply"));
}

}  // namespace
}  // namespace gridbot::testing
