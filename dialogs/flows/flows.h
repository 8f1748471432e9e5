// Factories of the flows, one per feature; flows/registry.cc lists them all.
// Each feature's flow lives in its own file under dialogs/flows/ with its
// reply texts in corpus/replies/<feature>.txt.
#pragma once

#include <memory>

#include "dialogs/flow.h"

namespace gridbot::dialogs {

std::unique_ptr<Flow> MakeBindAccountFlow();
std::unique_ptr<Flow> MakeBillComplaintFlow();
std::unique_ptr<Flow> MakeListAccountsFlow();
std::unique_ptr<Flow> MakeSwitchAccountFlow();
std::unique_ptr<Flow> MakeUnbindAccountFlow();
std::unique_ptr<Flow> MakeBillFlow();
std::unique_ptr<Flow> MakeArrearsFlow();
// The services of the account (issue 3), one file each.
std::unique_ptr<Flow> MakeRegisterFlow();      // users.cc
std::unique_ptr<Flow> MakeLoginFlow();         // users.cc
std::unique_ptr<Flow> MakeProfileFlow();       // profile.cc
std::unique_ptr<Flow> MakeProgressFlow();      // progress.cc
std::unique_ptr<Flow> MakeOutageFlow();        // outages.cc
std::unique_ptr<Flow> MakePaymentsFlow();      // payments.cc
std::unique_ptr<Flow> MakeRechargeCardFlow();  // card.cc
std::unique_ptr<Flow> MakePayBillFlow();       // pay.cc
std::unique_ptr<Flow> MakeReportFaultFlow();   // repair.cc
std::unique_ptr<Flow> MakeApplyServiceFlow();  // apply.cc
std::unique_ptr<Flow> MakeSubscribeFlow();     // subscriptions.cc
std::unique_ptr<Flow> MakeUnsubscribeFlow();   // subscriptions.cc
std::unique_ptr<Flow> MakeFindOutletFlow();    // outlets.cc

}  // namespace gridbot::dialogs
