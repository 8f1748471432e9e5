// Masking of personal data in dialog logs shown to analysts: mobile numbers
// (138****8000), e-mail addresses (z***@qq.com) and prepaid card numbers
// (8800********9012). Passwords never reach the log in the first place
// (dialogs/engine.cc). 户号 are kept: analysts need them to follow a case.
//
// Thread safety: pure function; safe from any thread.
#pragma once

#include <string>

namespace gridbot::bot {

std::string MaskForAnalysts(const std::string& text);

}  // namespace gridbot::bot
