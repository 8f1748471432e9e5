// `gridbot logs replay`: the logged messages of a period read again by the
// current corpus (or one about to be deployed: --corpus), listing those whose
// intent or slots would change, with before and after — the regression check
// of a rule change against real traffic (../shared/spec/analytics.md adds it).
//
//   auto r = analytics::Replay(store, *model, *period);
//   // r["checked"], r["changed"]: [{"id","at","text","before":{…},"after":{…}}]
//
// "before" is what the rules alone made of the message when it came
// (dialog_log.nlu), not the dialog's reading in context, so the comparison
// is like for like. Turns logged before that was kept (schema 7) and masked
// turns are not replayed ("skipped" counts the former).
//
// Thread safety: a function over a store; the model is immutable.
#pragma once

#include <nlohmann/json.hpp>

#include "analytics/summary.h"
#include "nlu/nlu.h"
#include "storage/store.h"

namespace gridbot::analytics {

// At most `max_changes` changes are listed ("changed_total" counts all).
nlohmann::json Replay(storage::Store& store, const nlu::Model& model, const Period& period,
                      size_t max_changes = 1000);

}  // namespace gridbot::analytics
