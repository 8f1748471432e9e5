// Masking of personal data on the way out (../shared/spec/analytics.md):
// every page, endpoint and export that shows staff or analysts what a
// customer said or who they are goes through these, in one place.
//
//   MaskPhone("13800138000")          == "138****8000"
//   MaskAccountNo("0301000001234")    == "0301*****1234"
//   MaskCardNo("8800123456789012")    == "************9012"
//   MaskEmail("zhangsan@qq.com")      == "z***@qq.com"
//   MaskName("黄小明")                 == "黄*明"
//   MaskText("电话138 0013 8000，户号0301000001234") masks both in free text.
//
// What customers type as passwords and SMS codes never reaches the bot's
// tables in clear (login passwords and codes are hashes; the outbox holds an
// SMS with a code sealed: privacy/sealer.h), so there is nothing to mask.
// (The back-end's own service and card passwords are its data, as loaded.)
//
// Thread safety: pure functions; safe from any thread.
#pragma once

#include <string>

namespace gridbot::privacy {

std::string MaskPhone(const std::string& phone);
std::string MaskAccountNo(const std::string& account_no);
std::string MaskCardNo(const std::string& card_no);
std::string MaskEmail(const std::string& email);
// First and last character kept ("黄*明", "欧**锋"); a two-character name
// keeps its first ("李*").
std::string MaskName(const std::string& name);
// A customer's channel id (an OpenID, a web session's name) as staff see it:
// "wechat:oAb***xyz".
std::string MaskCustomerId(const std::string& channel, const std::string& id);
// Mobile numbers (also written with spaces, dashes, +86 or full-width
// digits), 户号 (13 digits), prepaid card numbers (16 digits) and e-mail
// addresses anywhere in a text, and names after the words that introduce
// one (户主：, 联系人：, 我叫 …).
std::string MaskText(const std::string& text);

}  // namespace gridbot::privacy
