// Placeholder until the flow is built: answers "not in chat yet".
#include "dialogs/flow_util.h"
#include "dialogs/flows/flows.h"

namespace gridbot::dialogs {

std::unique_ptr<Flow> MakeSubscribeFlow() { return std::make_unique<NotYetFlow>("subscribe_bill", "订阅账单"); }
std::unique_ptr<Flow> MakeUnsubscribeFlow() { return std::make_unique<NotYetFlow>("unsubscribe_bill", "取消订阅"); }

}  // namespace gridbot::dialogs
