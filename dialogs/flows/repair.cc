// Placeholder until the flow is built: answers "not in chat yet".
#include "dialogs/flow_util.h"
#include "dialogs/flows/flows.h"

namespace gridbot::dialogs {

std::unique_ptr<Flow> MakeReportFaultFlow() { return std::make_unique<NotYetFlow>("report_fault", "故障报修"); }

}  // namespace gridbot::dialogs
