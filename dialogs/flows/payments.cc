// Placeholder until the flow is built: answers "not in chat yet".
#include "dialogs/flow_util.h"
#include "dialogs/flows/flows.h"

namespace gridbot::dialogs {

std::unique_ptr<Flow> MakePaymentsFlow() { return std::make_unique<NotYetFlow>("query_payments", "缴费记录"); }

}  // namespace gridbot::dialogs
