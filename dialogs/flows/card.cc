// Placeholder until the flow is built: answers "not in chat yet".
#include "dialogs/flow_util.h"
#include "dialogs/flows/flows.h"

namespace gridbot::dialogs {

std::unique_ptr<Flow> MakeRechargeCardFlow() { return std::make_unique<NotYetFlow>("recharge_card", "充值卡充值"); }

}  // namespace gridbot::dialogs
