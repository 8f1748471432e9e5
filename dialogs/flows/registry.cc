#include "dialogs/flow_util.h"
#include "dialogs/flows/flows.h"

namespace gridbot::dialogs {

std::vector<std::unique_ptr<Flow>> MakeFlows() {
  std::vector<std::unique_ptr<Flow>> f;
  f.push_back(std::make_unique<SayFlow>("greet", "问候", "greet"));
  f.push_back(std::make_unique<SayFlow>("goodbye", "道别", "goodbye"));
  f.push_back(std::make_unique<SayFlow>("thanks", "致谢", "thanks"));
  f.push_back(std::make_unique<SayFlow>("help", "帮助", "help"));
  f.push_back(std::make_unique<SayFlow>("affirm", "确认", "affirm_idle"));
  f.push_back(std::make_unique<SayFlow>("deny", "否定", "deny_idle"));
  f.push_back(std::make_unique<SayFlow>("human_agent", "人工客服", "human_agent"));
  f.push_back(MakeBindAccountFlow());
  f.push_back(MakeListAccountsFlow());
  f.push_back(MakeSwitchAccountFlow());
  f.push_back(MakeUnbindAccountFlow());
  f.push_back(MakeBillFlow());
  f.push_back(MakeArrearsFlow());
  f.push_back(MakeRegisterFlow());
  f.push_back(MakeLoginFlow());
  f.push_back(MakeProfileFlow());
  f.push_back(MakeProgressFlow());
  f.push_back(MakeOutageFlow());
  f.push_back(MakePaymentsFlow());
  f.push_back(MakeRechargeCardFlow());
  f.push_back(MakePayBillFlow());
  f.push_back(MakeReportFaultFlow());
  f.push_back(MakeBillComplaintFlow());
  f.push_back(MakeApplyServiceFlow());
  f.push_back(MakeSubscribeFlow());
  f.push_back(MakeUnsubscribeFlow());
  f.push_back(MakeFindOutletFlow());
  return f;
}

}  // namespace gridbot::dialogs
