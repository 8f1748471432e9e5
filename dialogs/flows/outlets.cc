// Placeholder until the flow is built: answers "not in chat yet".
#include "dialogs/flow_util.h"
#include "dialogs/flows/flows.h"

namespace gridbot::dialogs {

std::unique_ptr<Flow> MakeFindOutletFlow() { return std::make_unique<NotYetFlow>("find_outlet", "营业网点查询"); }

}  // namespace gridbot::dialogs
