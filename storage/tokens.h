// Tokens several instances share (the WeChat access token): one row per
// name, refreshed by whoever holds its lease, so N instances fetch one
// token between them instead of N that replace each other.
#pragma once

#include <optional>
#include <string>

#include "common/time.h"
#include "storage/store.h"

namespace gridbot::storage {

// The token `name` if one is stored that is still valid at `now`, with
// when it stops being so.
struct SharedToken {
  std::string value;
  UnixSeconds expires_at = 0;
};
std::optional<SharedToken> ValidToken(Tx& tx, const std::string& name, UnixSeconds now);
// Takes the right to refresh `name` until `now + lease`, unless another
// holder's lease is still running: true if `holder` has it now.
bool TakeTokenLease(Tx& tx, const std::string& name, const std::string& holder, UnixSeconds now,
                    UnixSeconds lease);
// The fresh token, valid until `expires_at`; ends the lease.
void StoreToken(Tx& tx, const std::string& name, const std::string& value, UnixSeconds expires_at);
// The service refused `value`: nobody uses it any more.
void ForgetToken(Tx& tx, const std::string& name, const std::string& value);

}  // namespace gridbot::storage
