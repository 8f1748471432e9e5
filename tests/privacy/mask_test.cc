// analytics.md's masking table, one case per row, and in free text.
#include "privacy/mask.h"

#include <gtest/gtest.h>

namespace gridbot::privacy {
namespace {

TEST(Mask, EachKindAsAnalyticsMdShowsIt) {
  EXPECT_EQ(MaskPhone("13800138000"), "138****8000");
  EXPECT_EQ(MaskAccountNo("0301000001234"), "0301*****1234");
  EXPECT_EQ(MaskCardNo("8800123456789012"), "************9012");
  EXPECT_EQ(MaskEmail("abc@qq.com"), "a***@qq.com");
  EXPECT_EQ(MaskName("黄小明"), "黄*明");
  EXPECT_EQ(MaskName("欧阳小锋"), "欧**锋");
  EXPECT_EQ(MaskName("李四"), "李*");
}

TEST(Mask, InFreeTextAsCustomersWriteThem) {
  EXPECT_EQ(MaskText("电话13800138000"), "电话138****8000");
  EXPECT_EQ(MaskText("13800138000,13912345678"), "138****8000,139****5678");
  EXPECT_EQ(MaskText("电话138 0013 8000"), "电话138****8000");
  EXPECT_EQ(MaskText("电话+86 138-0013-8000"), "电话138****8000");
  EXPECT_EQ(MaskText("电话１３８００１３８０００"), "电话138****8000");
  EXPECT_EQ(MaskText("户号0301000001234的电费"), "户号0301*****1234的电费");
  EXPECT_EQ(MaskText("户号 0301 0000 01234"), "户号 0301*****1234");
  EXPECT_EQ(MaskText("户号030100000123"), "户号0301****0123");
  EXPECT_EQ(MaskText("卡号8800123456789012"), "卡号************9012");
  EXPECT_EQ(MaskText("邮箱zhangsan@qq.com"), "邮箱z***@qq.com");
  EXPECT_EQ(MaskText("上个月电费多少，129.80元"), "上个月电费多少，129.80元");
  EXPECT_EQ(MaskText("2024年7月"), "2024年7月");
}

}  // namespace
}  // namespace gridbot::privacy
