// Placeholder until the flow is built: answers "not in chat yet".
#include "dialogs/flow_util.h"
#include "dialogs/flows/flows.h"

namespace gridbot::dialogs {

std::unique_ptr<Flow> MakeOutageFlow() { return std::make_unique<NotYetFlow>("query_outage", "停电查询"); }

}  // namespace gridbot::dialogs
