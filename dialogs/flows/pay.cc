// Placeholder until the flow is built: answers "not in chat yet".
#include "dialogs/flow_util.h"
#include "dialogs/flows/flows.h"

namespace gridbot::dialogs {

std::unique_ptr<Flow> MakePayBillFlow() { return std::make_unique<NotYetFlow>("pay_bill", "在线缴费"); }

}  // namespace gridbot::dialogs
