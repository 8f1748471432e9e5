#include "bot/log_mask.h"

#include <gtest/gtest.h>

namespace gridbot::bot {
namespace {

TEST(MaskForAnalysts, PhonesEmailsAndCardsButNotAccounts) {
  EXPECT_EQ(MaskForAnalysts("联系电话13800138000"), "联系电话138****8000");
  EXPECT_EQ(MaskForAnalysts("13800138000,13912345678"), "138****8000,139****5678");
  EXPECT_EQ(MaskForAnalysts("邮箱zhangsan@qq.com"), "邮箱z***@qq.com");
  EXPECT_EQ(MaskForAnalysts("卡号8800123456789012"), "卡号8800********9012");
  EXPECT_EQ(MaskForAnalysts("户号0301000001234"), "户号0301000001234");
  EXPECT_EQ(MaskForAnalysts("上个月电费多少"), "上个月电费多少");
}

}  // namespace
}  // namespace gridbot::bot
