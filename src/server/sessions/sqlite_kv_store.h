// SqliteKvStore: KvStore in one SQLite file in WAL mode, the default persistent store.
//
// Schema: kv(key TEXT PRIMARY KEY, value BLOB, expires_at_ms INTEGER; 0 = never) WITHOUT
// ROWID, indexed by expiry. A commit is one BEGIN IMMEDIATE transaction, so several processes
// may share the file. synchronous=NORMAL: a committed transaction survives the process being
// killed (it is in the WAL); after an operating-system crash or power loss the last commits may
// be missing, never half of one.
// Thread safety: one connection guarded by a mutex.
#pragma once

#include <mutex>
#include <string>

#include "server/sessions/kv_store.h"

struct sqlite3;

namespace inferd::server::sessions {

class SqliteKvStore : public KvStore {
 public:
  // Opens (creating it and its directory when missing) the database at `path`.
  static Result<std::shared_ptr<SqliteKvStore>> open(const std::string& path);
  ~SqliteKvStore() override;

  Result<std::optional<std::string>> get(const std::string& key) override;
  Result<std::vector<std::optional<std::string>>> get_many(
      const std::vector<std::string>& keys) override;
  Result<bool> commit(const std::vector<KvExpect>& expect,
                      const std::vector<KvWrite>& writes) override;
  Result<std::vector<std::string>> keys(const std::string& prefix) override;
  Result<int64_t> sweep() override;
  std::string describe() const override { return "sqlite:" + path_; }

 private:
  SqliteKvStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Status exec(const char* sql);
  // REQUIRES: mu_ held.
  Result<std::optional<std::string>> get_locked(const std::string& key, int64_t now_ms);
  Result<bool> commit_locked(const std::vector<KvExpect>& expect,
                             const std::vector<KvWrite>& writes);

  std::mutex mu_;
  sqlite3* db_;
  const std::string path_;
};

}  // namespace inferd::server::sessions
