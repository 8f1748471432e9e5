#include "storage/connection.h"

#include "storage/postgres.h"
#include "storage/sqlite.h"

namespace gridbot::storage {

bool IsPostgresSpec(std::string_view spec) {
  if (spec.starts_with("postgresql://") || spec.starts_with("postgres://")) return true;
  // The key=value form, as libpq reads it ("user=bot password=…" with the
  // host from PGHOST too); a path with an '=' in it is not one.
  return spec.find('=') != std::string_view::npos && IsConninfo(std::string(spec));
}

std::string DescribeDatabase(const std::string& spec) {
  return IsPostgresSpec(spec) ? DescribePostgres(spec) : spec;
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& spec) {
  if (IsPostgresSpec(spec)) return OpenPostgres(spec);
  return OpenSqlite(spec);
}

Statement::Statement(Statement&& o) noexcept
    : conn_(o.conn_), impl_(o.impl_), idle_(o.idle_), error_(std::move(o.error_)) {
  o.impl_ = nullptr;
  o.conn_ = nullptr;
  o.idle_ = nullptr;
  if (conn_) conn_->Retrack(&o, this);
}

void Statement::Release() {
  if (!impl_) return;
  if (idle_ && idle_->size() < 8) {
    impl_->Reset();
    idle_->push_back(impl_);
  } else {
    delete impl_;
  }
  impl_ = nullptr;
  idle_ = nullptr;
}

Statement::~Statement() {
  if (conn_) conn_->Untrack(this);
  Release();
}

Status Statement::Run() {
  if (!impl_) return Status::Error(error_);
  while (Step()) {
  }
  if (!error_.empty()) return Status::Error(error_);
  return Status::Ok();
}

Connection::~Connection() { DropCache(); }

void Connection::DropCache() {
  RetireStatements();
  for (auto& [sql, idle] : cache_)
    for (StatementImpl* st : idle) delete st;
  cache_.clear();
}

void Connection::Untrack(Statement* s) {
  for (size_t i = live_.size(); i-- > 0;)
    if (live_[i] == s) {
      live_[i] = live_.back();
      live_.pop_back();
      return;
    }
}

void Connection::Retrack(Statement* from, Statement* to) {
  for (auto& p : live_)
    if (p == from) {
      p = to;
      return;
    }
}

void Connection::RetireStatements() {
  for (Statement* s : live_) {
    s->Release();
    s->conn_ = nullptr;
    if (s->error_.empty()) s->error_ = "statement used after its transaction ended";
  }
  live_.clear();
}

Statement Connection::Prepare(std::string_view sql) {
  auto it = cache_.find(std::string(sql));
  if (it == cache_.end() && cache_.size() < kMaxCached)
    it = cache_.emplace(std::string(sql), std::vector<StatementImpl*>{}).first;
  std::vector<StatementImpl*>* idle = it == cache_.end() ? nullptr : &it->second;
  StatementImpl* impl = nullptr;
  std::string error;
  if (idle && !idle->empty()) {
    impl = idle->back();
    idle->pop_back();
  } else {
    impl = Compile(sql, &error).release();
  }
  Statement out(this, impl, impl ? idle : nullptr, std::move(error));
  live_.push_back(&out);
  return out;  // (if it is moved, the move retracks it)
}

}  // namespace gridbot::storage
