// Placeholder until the flow is built: answers "not in chat yet".
#include "dialogs/flow_util.h"
#include "dialogs/flows/flows.h"

namespace gridbot::dialogs {

std::unique_ptr<Flow> MakeApplyServiceFlow() { return std::make_unique<NotYetFlow>("apply_service", "新装变更"); }

}  // namespace gridbot::dialogs
