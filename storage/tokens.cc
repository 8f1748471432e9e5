#include "storage/tokens.h"

namespace gridbot::storage {

std::optional<SharedToken> ValidToken(Tx& tx, const std::string& name, UnixSeconds now) {
  Statement st = tx.Prep(
      "SELECT value, expires_at FROM shared_tokens WHERE name = ? AND value <> '' AND "
      "expires_at > ?");
  st.Bind(1, name).Bind(2, now);
  if (!st.Step()) return tx.Check(st), std::nullopt;
  return SharedToken{st.Text(0), st.Int(1)};
}

bool TakeTokenLease(Tx& tx, const std::string& name, const std::string& holder, UnixSeconds now,
                    UnixSeconds lease) {
  Statement st = tx.Prep(
      "INSERT INTO shared_tokens(name, value, expires_at, lease_until, holder) "
      "VALUES (?1, '', 0, ?3, ?2) ON CONFLICT(name) DO UPDATE SET "
      "lease_until = excluded.lease_until, holder = excluded.holder "
      "WHERE shared_tokens.lease_until <= ?4");
  st.Bind(1, name).Bind(2, holder).Bind(3, now + lease).Bind(4, now);
  tx.Check(st.Run());
  return tx.ok() && tx.connection().Changes() == 1;
}

void StoreToken(Tx& tx, const std::string& name, const std::string& value, UnixSeconds expires_at) {
  Statement st = tx.Prep(
      "INSERT INTO shared_tokens(name, value, expires_at, lease_until, holder) "
      "VALUES (?1, ?2, ?3, 0, '') ON CONFLICT(name) DO UPDATE SET value = excluded.value, "
      "expires_at = excluded.expires_at, lease_until = 0, holder = ''");
  st.Bind(1, name).Bind(2, value).Bind(3, expires_at);
  tx.Check(st.Run());
}

void ForgetToken(Tx& tx, const std::string& name, const std::string& value) {
  Statement st = tx.Prep("UPDATE shared_tokens SET expires_at = 0 WHERE name = ? AND value = ?");
  st.Bind(1, name).Bind(2, value);
  tx.Check(st.Run());
}

}  // namespace gridbot::storage
