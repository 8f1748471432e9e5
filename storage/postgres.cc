#include "storage/postgres.h"

#include <libpq-fe.h>

#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace gridbot::storage {
namespace {

std::string Trimmed(const char* message) {
  std::string s = message ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s.empty() ? "unknown PostgreSQL error" : s;
}

bool IsWordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

class PostgresStatement : public StatementImpl {
 public:
  PostgresStatement(PostgresConnection* conn, std::string sql, std::vector<bool> used)
      : conn_(conn), sql_(std::move(sql)), values_(used.size()), null_(used.size(), 1) {
    // A parameter the SQL never mentions has no type to infer: text.
    for (bool u : used) types_.push_back(u ? 0 : 25 /* TEXTOID */);
  }
  ~PostgresStatement() override { Clear(); }

  void Bind(int i, std::string_view v) override {
    if (i < 1 || i > static_cast<int>(values_.size())) return;
    values_[i - 1].assign(v.data(), v.size());
    null_[i - 1] = 0;
  }
  void Bind(int i, std::int64_t v) override { Bind(i, std::string_view(std::to_string(v))); }
  void Bind(int i, double v) override {
    char buf[32];
    const int n = std::snprintf(buf, sizeof buf, "%.17g", v);
    Bind(i, std::string_view(buf, n > 0 ? static_cast<size_t>(n) : 0));
  }
  void BindNull(int i) override {
    if (i < 1 || i > static_cast<int>(values_.size())) return;
    null_[i - 1] = 1;
  }

  bool Step(std::string* error) override {
    if (!result_) {
      if (failed_) return false;
      if (!Execute(error)) {
        failed_ = true;
        return false;
      }
      row_ = 0;
    } else {
      ++row_;
    }
    return row_ < PQntuples(result_);
  }

  void Reset() override {
    Clear();
    failed_ = false;
    for (auto& n : null_) n = 1;
  }

  std::string Text(int col) const override {
    if (!Valid(col)) return "";
    return std::string(PQgetvalue(result_, row_, col),
                       static_cast<size_t>(PQgetlength(result_, row_, col)));
  }
  std::int64_t Int(int col) const override {
    if (!Valid(col) || PQgetisnull(result_, row_, col)) return 0;
    const char* v = PQgetvalue(result_, row_, col);
    // Booleans are what SQLite's comparisons give as 0 / 1.
    if (v[0] == 't' && v[1] == 0) return 1;
    if (v[0] == 'f' && v[1] == 0) return 0;
    std::int64_t out = 0;
    const char* end = v + std::strlen(v);
    auto [p, ec] = std::from_chars(v, end, out);
    if (ec != std::errc() || p != end)  // numeric / real (1.5, 1e+20): SQLite truncates
      return static_cast<std::int64_t>(std::strtod(v, nullptr));
    return out;
  }
  double Double(int col) const override {
    if (!Valid(col) || PQgetisnull(result_, row_, col)) return 0;
    return std::strtod(PQgetvalue(result_, row_, col), nullptr);
  }
  bool IsNull(int col) const override { return !Valid(col) || PQgetisnull(result_, row_, col); }

 private:
  bool Valid(int col) const {
    return result_ && row_ < PQntuples(result_) && col >= 0 && col < PQnfields(result_);
  }
  void Clear() {
    if (result_) PQclear(result_);
    result_ = nullptr;
    row_ = 0;
  }

  bool Execute(std::string* error) {
    PGconn* pg = conn_->raw();
    bool prepared = false;
    const std::string& name = conn_->PreparedName(sql_, &prepared);
    if (!prepared) {
      PGresult* r = PQprepare(pg, name.c_str(), sql_.c_str(), static_cast<int>(values_.size()),
                              types_.data());
      const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
      if (!ok) *error = Trimmed(r ? PQresultErrorMessage(r) : PQerrorMessage(pg));
      PQclear(r);
      if (!ok) return false;
      conn_->MarkPrepared(sql_);
    }
    std::vector<const char*> params(values_.size());
    for (size_t i = 0; i < values_.size(); ++i) params[i] = null_[i] ? nullptr : values_[i].c_str();
    std::vector<int> lengths(values_.size());
    for (size_t i = 0; i < values_.size(); ++i) lengths[i] = static_cast<int>(values_[i].size());
    result_ = PQexecPrepared(pg, name.c_str(), static_cast<int>(params.size()), params.data(),
                             lengths.data(), nullptr, 0);
    const ExecStatusType st = PQresultStatus(result_);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
      *error = Trimmed(result_ ? PQresultErrorMessage(result_) : PQerrorMessage(pg));
      Clear();
      return false;
    }
    const char* status = PQcmdStatus(result_);
    if (std::strncmp(status, "INSERT", 6) == 0 || std::strncmp(status, "UPDATE", 6) == 0 ||
        std::strncmp(status, "DELETE", 6) == 0)
      conn_->SetChanges(std::atoi(PQcmdTuples(result_)));
    return true;
  }

  PostgresConnection* conn_;
  std::string sql_;
  std::vector<std::string> values_;
  std::vector<char> null_;
  std::vector<unsigned int> types_;  // (Oid)
  PGresult* result_ = nullptr;
  int row_ = 0;
  bool failed_ = false;
};

void IgnoreNotice(void*, const char*) {}

}  // namespace

std::string TranslateToPostgres(std::string_view sql, std::vector<bool>* used) {
  std::string out;
  out.reserve(sql.size() + 16);
  int largest = 0;
  std::vector<bool> refs;
  for (size_t i = 0; i < sql.size();) {
    const char c = sql[i];
    if (c == '\'' || c == '"') {  // a literal or a quoted name, as it is
      size_t j = i + 1;
      while (j < sql.size()) {
        if (sql[j] == c) {
          if (j + 1 < sql.size() && sql[j + 1] == c) {
            j += 2;
            continue;
          }
          break;
        }
        ++j;
      }
      j = std::min(j + 1, sql.size());
      out.append(sql.substr(i, j - i));
      i = j;
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {  // a block comment
      size_t j = sql.find("*/", i + 2);
      j = j == std::string_view::npos ? sql.size() : j + 2;
      out.append(sql.substr(i, j - i));
      i = j;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      size_t j = sql.find('\n', i);
      if (j == std::string_view::npos) j = sql.size();
      out.append(sql.substr(i, j - i));
      i = j;
    } else if (c == '?') {
      size_t j = i + 1;
      int n = 0;
      while (j < sql.size() && std::isdigit(static_cast<unsigned char>(sql[j])))
        n = n * 10 + (sql[j++] - '0');
      if (j == i + 1) n = largest + 1;
      largest = std::max(largest, n);
      if (n >= 1 && n <= 999) {
        if (refs.size() < static_cast<size_t>(n)) refs.resize(n, false);
        refs[n - 1] = true;
      }
      out += '$';
      out += std::to_string(n);
      i = j;
    } else if ((c == 'i' || c == 'I') && (i == 0 || !IsWordChar(sql[i - 1])) &&
               sql.size() - i >= 6 && strncasecmp(sql.data() + i, "instr(", 6) == 0) {
      out += "strpos(";
      i += 6;
    } else {
      out += c;
      ++i;
    }
  }
  refs.resize(largest, false);
  if (used) *used = std::move(refs);
  return out;
}

std::unique_ptr<PostgresConnection> PostgresConnection::Connect(const std::string& spec) {
  // The spec's own settings win over these defaults (later keys override).
  const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {"5", "gridbot", spec.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (!conn) return nullptr;
  std::unique_ptr<PostgresConnection> c(new PostgresConnection(conn, spec));
  if (PQstatus(conn) == CONNECTION_OK) {
    PQsetNoticeProcessor(conn, IgnoreNotice, nullptr);
    c->Exec("SET client_min_messages = warning; SET TIME ZONE 'UTC'");
  }
  return c;
}

std::string DescribePostgres(const std::string& spec) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(spec.c_str(), &err);
  if (!opts) {
    PQfreemem(err);
    return "PostgreSQL (a connection string libpq cannot read)";
  }
  std::string out = "PostgreSQL";
  for (PQconninfoOption* o = opts; o->keyword; ++o) {
    const std::string key = o->keyword;
    if (o->val && *o->val && (key == "dbname" || key == "host" || key == "port" || key == "user"))
      out += " " + key + "=" + o->val;
  }
  PQconninfoFree(opts);
  return out;
}

bool IsConninfo(const std::string& spec) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(spec.c_str(), &err);
  PQfreemem(err);
  if (!opts) return false;
  PQconninfoFree(opts);
  return true;
}

Result<std::unique_ptr<Connection>> OpenPostgres(const std::string& spec) {
  // libpq's message about a string it cannot read may quote it, password
  // and all: this one does not.
  if (!IsConninfo(spec))
    return Status::Error("cannot connect to PostgreSQL: the connection string is not valid");
  auto c = PostgresConnection::Connect(spec);
  if (!c) return Status::Error("cannot connect to PostgreSQL: out of memory");
  if (!c->Alive())
    return Status::Error("cannot connect to PostgreSQL: " + Trimmed(PQerrorMessage(c->raw())));
  return std::unique_ptr<Connection>(std::move(c));
}

Status PostgresConnection::CommitTransaction() {
  PGresult* r = PQexec(conn_, "COMMIT");
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  std::string msg = ok ? "" : Trimmed(r ? PQresultErrorMessage(r) : PQerrorMessage(conn_));
  // (COMMIT of an aborted transaction "succeeds" as a ROLLBACK.)
  const bool committed = ok && std::strcmp(PQcmdStatus(r), "COMMIT") == 0;
  PQclear(r);
  if (!ok) return Status::Error(msg);
  if (!committed) return Status::Error("the transaction was rolled back");
  return Status::Ok();
}

PostgresConnection::~PostgresConnection() {
  DropCache();
  PQfinish(conn_);
}

std::unique_ptr<StatementImpl> PostgresConnection::Compile(std::string_view sql, std::string*) {
  std::vector<bool> used;
  std::string translated = TranslateToPostgres(sql, &used);
  // (Prepared on the server at its first run, where its errors show.)
  return std::make_unique<PostgresStatement>(this, std::move(translated), std::move(used));
}

const std::string& PostgresConnection::PreparedName(const std::string& sql, bool* prepared) {
  auto it = prepared_.find(sql);
  if (it == prepared_.end())
    it = prepared_.emplace(sql, std::make_pair("s" + std::to_string(prepared_.size()), false)).first;
  *prepared = it->second.second;
  return it->second.first;
}

Status PostgresConnection::Exec(const std::string& sql) {
  PGresult* r = PQexec(conn_, sql.c_str());
  const ExecStatusType st = PQresultStatus(r);
  const bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
  std::string msg = ok ? "" : Trimmed(r ? PQresultErrorMessage(r) : PQerrorMessage(conn_));
  if (ok && (std::strncmp(PQcmdStatus(r), "INSERT", 6) == 0 ||
             std::strncmp(PQcmdStatus(r), "UPDATE", 6) == 0 ||
             std::strncmp(PQcmdStatus(r), "DELETE", 6) == 0))
    changes_ = std::atoi(PQcmdTuples(r));
  PQclear(r);
  return ok ? Status::Ok() : Status::Error(msg);
}

std::int64_t PostgresConnection::LastInsertId() {
  // (Savepoint-free: lastval() fails only if nothing was inserted into a
  // table with a sequence on this connection, which the callers never ask.)
  Statement st = Prepare("SELECT lastval()");
  return st.Step() ? st.Int(0) : 0;
}

bool PostgresConnection::Alive() const { return PQstatus(conn_) == CONNECTION_OK; }

bool PostgresConnection::Reconnect() {
  DropCache();
  prepared_.clear();
  PQreset(conn_);
  if (PQstatus(conn_) != CONNECTION_OK) return false;
  PQsetNoticeProcessor(conn_, IgnoreNotice, nullptr);
  Exec("SET client_min_messages = warning; SET TIME ZONE 'UTC'");
  return Alive();
}

}  // namespace gridbot::storage
