#include "server/sessions/sqlite_kv_store.h"

#include <filesystem>

#include <sqlite3.h>

namespace inferd::server::sessions {
namespace {

// A prepared statement, finalized on scope exit.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Status prepared() const {
    if (rc_ == SQLITE_OK) return {};
    return io_error("sqlite: {}", sqlite3_errmsg(db_));
  }
  void bind(int idx, const std::string& s) {
    sqlite3_bind_blob(stmt_, idx, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  }
  void bind_text(int idx, const std::string& s) {
    sqlite3_bind_text(stmt_, idx, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  }
  void bind(int idx, int64_t v) { sqlite3_bind_int64(stmt_, idx, v); }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(stmt_); }
  std::string column(int idx) const {
    const void* p = sqlite3_column_blob(stmt_, idx);
    const int n = sqlite3_column_bytes(stmt_, idx);
    return p ? std::string(static_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
  }
  Status error() const { return io_error("sqlite: {}", sqlite3_errmsg(db_)); }
  // Ready to run again with new bindings.
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_OK;
};

constexpr const char* kLive = "(expires_at_ms = 0 OR expires_at_ms > ?)";

}  // namespace

Result<std::shared_ptr<SqliteKvStore>> SqliteKvStore::open(const std::string& path) {
  if (path.empty()) return invalid_argument("the SQLite store needs a path (sqlite:PATH)");
  const std::filesystem::path p(path);
  std::error_code ec;
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
  if (ec) return io_error("cannot create the directory of {}: {}", path, ec.message());
  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    const std::string why = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return io_error("cannot open the SQLite store {}: {}", path, why);
  }
  std::shared_ptr<SqliteKvStore> store(new SqliteKvStore(db, path));
  sqlite3_busy_timeout(db, 5000);
  INFERD_RETURN_IF_ERROR(store->exec("PRAGMA journal_mode=WAL").with_context(path));
  INFERD_RETURN_IF_ERROR(store->exec("PRAGMA synchronous=NORMAL"));
  INFERD_RETURN_IF_ERROR(store->exec(
      "CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL, "
      "expires_at_ms INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID"));
  INFERD_RETURN_IF_ERROR(store->exec(
      "CREATE INDEX IF NOT EXISTS kv_expiry ON kv (expires_at_ms) WHERE expires_at_ms > 0"));
  // A file that is not a database (or is corrupt) fails here rather than on first use.
  INFERD_RETURN_IF_ERROR(store->exec("SELECT count(*) FROM kv WHERE key = ''").with_context(path));
  return store;
}

SqliteKvStore::~SqliteKvStore() {
  sqlite3_close_v2(db_);
}

Status SqliteKvStore::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) == SQLITE_OK) return {};
  Status st = io_error("sqlite: {}", err ? err : sqlite3_errmsg(db_));
  sqlite3_free(err);
  return st;
}

Result<std::optional<std::string>> SqliteKvStore::get_locked(const std::string& key,
                                                             int64_t now_ms) {
  Statement s(db_, (std::string("SELECT value FROM kv WHERE key = ? AND ") + kLive).c_str());
  INFERD_RETURN_IF_ERROR(s.prepared());
  s.bind_text(1, key);
  s.bind(2, now_ms);
  const int rc = s.step();
  if (rc == SQLITE_ROW) return std::optional<std::string>(s.column(0));
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  return s.error();
}

Result<std::optional<std::string>> SqliteKvStore::get(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  return get_locked(key, unix_now_ms());
}

Result<std::vector<std::optional<std::string>>> SqliteKvStore::get_many(
    const std::vector<std::string>& keys) {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = unix_now_ms();
  // One read transaction, so the values form one snapshot.
  INFERD_RETURN_IF_ERROR(exec("BEGIN"));
  std::vector<std::optional<std::string>> out;
  out.reserve(keys.size());
  for (const auto& k : keys) {
    auto v = get_locked(k, now);
    if (!v.ok()) {
      (void)exec("ROLLBACK");
      return v.status();
    }
    out.push_back(std::move(v).value());
  }
  INFERD_RETURN_IF_ERROR(exec("COMMIT"));
  return out;
}

Result<bool> SqliteKvStore::commit_locked(const std::vector<KvExpect>& expect,
                                          const std::vector<KvWrite>& writes) {
  const int64_t now = unix_now_ms();
  for (const auto& x : expect) {
    INFERD_ASSIGN_OR_RETURN(auto current, get_locked(x.key, now));
    if (current != x.value) return false;
  }
  Statement put(db_, "INSERT OR REPLACE INTO kv (key, value, expires_at_ms) VALUES (?, ?, ?)");
  Statement erase(db_, "DELETE FROM kv WHERE key = ?");
  Statement expire(
      db_, (std::string("UPDATE kv SET expires_at_ms = ? WHERE key = ? AND ") + kLive).c_str());
  INFERD_RETURN_IF_ERROR(put.prepared());
  INFERD_RETURN_IF_ERROR(erase.prepared());
  INFERD_RETURN_IF_ERROR(expire.prepared());
  for (const auto& w : writes) {
    Statement* s = nullptr;
    switch (w.op) {
      case KvWrite::Op::kPut:
        s = &put;
        put.bind_text(1, w.key);
        put.bind(2, w.value);
        put.bind(3, w.expires_at_ms);
        break;
      case KvWrite::Op::kErase:
        s = &erase;
        erase.bind_text(1, w.key);
        break;
      case KvWrite::Op::kExpire:
        s = &expire;
        expire.bind(1, w.expires_at_ms);
        expire.bind_text(2, w.key);
        expire.bind(3, now);
        break;
    }
    if (s->step() != SQLITE_DONE) return s->error();
    s->reset();
  }
  return true;
}

Result<bool> SqliteKvStore::commit(const std::vector<KvExpect>& expect,
                                   const std::vector<KvWrite>& writes) {
  std::lock_guard<std::mutex> lock(mu_);
  INFERD_RETURN_IF_ERROR(exec("BEGIN IMMEDIATE"));
  auto applied = commit_locked(expect, writes);
  if (!applied.ok() || !*applied) {
    (void)exec("ROLLBACK");
    return applied;
  }
  INFERD_RETURN_IF_ERROR(exec("COMMIT"));
  return true;
}

Result<std::vector<std::string>> SqliteKvStore::keys(const std::string& prefix) {
  std::lock_guard<std::mutex> lock(mu_);
  // Keys in [prefix, prefix + 0xFF...): a range scan of the primary key (no LIKE escaping).
  Statement s(db_,
              (std::string("SELECT key FROM kv WHERE key >= ? AND substr(key, 1, ?) = ? AND ") +
               kLive + " ORDER BY key")
                  .c_str());
  INFERD_RETURN_IF_ERROR(s.prepared());
  s.bind_text(1, prefix);
  s.bind(2, static_cast<int64_t>(prefix.size()));
  s.bind_text(3, prefix);
  s.bind(4, unix_now_ms());
  std::vector<std::string> out;
  for (;;) {
    const int rc = s.step();
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return s.error();
    out.push_back(s.column(0));
  }
  return out;
}

Result<int64_t> SqliteKvStore::sweep() {
  std::lock_guard<std::mutex> lock(mu_);
  Statement s(db_, "DELETE FROM kv WHERE expires_at_ms > 0 AND expires_at_ms <= ?");
  INFERD_RETURN_IF_ERROR(s.prepared());
  s.bind(1, unix_now_ms());
  if (s.step() != SQLITE_DONE) return s.error();
  return static_cast<int64_t>(sqlite3_changes(db_));
}

}  // namespace inferd::server::sessions
