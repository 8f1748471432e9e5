// Placeholder until the flow is built: answers "not in chat yet".
#include "dialogs/flow_util.h"
#include "dialogs/flows/flows.h"

namespace gridbot::dialogs {

std::unique_ptr<Flow> MakeProfileFlow() { return std::make_unique<NotYetFlow>("query_profile", "我的档案"); }

}  // namespace gridbot::dialogs
