// Placeholder until the flow is built: answers "not in chat yet".
#include "dialogs/flow_util.h"
#include "dialogs/flows/flows.h"

namespace gridbot::dialogs {

std::unique_ptr<Flow> MakeRegisterFlow() { return std::make_unique<NotYetFlow>("register", "注册"); }
std::unique_ptr<Flow> MakeLoginFlow() { return std::make_unique<NotYetFlow>("login", "登录"); }

}  // namespace gridbot::dialogs
