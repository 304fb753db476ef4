#include "engine/idle_persister.h"

#include <algorithm>
#include <filesystem>
#include <span>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "kv/block_pool.h"

namespace inferd::engine {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kPrefix = "auto-";
constexpr std::string_view kExtension = ".kv";

bool is_prefix_of(const std::vector<TokenId>& a, const std::vector<TokenId>& b) {
  return a.size() <= b.size() && std::equal(a.begin(), a.end(), b.begin());
}

}  // namespace

IdlePersister::IdlePersister(IdlePersistOptions options, int64_t block_size)
    : options_(std::move(options)), block_size_(block_size),
      idle_(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options_.idle_s))) {}

void IdlePersister::remember(std::vector<TokenId> tokens, Clock::time_point now) {
  if (!enabled()) return;
  last_finish_ = now;
  if (static_cast<int64_t>(tokens.size()) < std::max(options_.min_tokens, block_size_)) return;
  for (const auto& p : pending_)
    if (is_prefix_of(tokens, p)) return;  // already covered by a longer one
  std::erase_if(pending_, [&](const auto& p) { return is_prefix_of(p, tokens); });
  pending_.push_back(std::move(tokens));
  if (static_cast<int>(pending_.size()) > options_.max_files) pending_.erase(pending_.begin());
}

std::string IdlePersister::file_name(const std::vector<TokenId>& tokens) const {
  kv::BlockHash hash = kv::kRootHash;
  const std::span<const TokenId> all(tokens);
  for (size_t i = 0; i + block_size_ <= all.size(); i += block_size_) hash = kv::chain_hash(hash, all.subspan(i, block_size_));
  return fmt::format("{}{:016x}{}", kPrefix, hash, kExtension);
}

int IdlePersister::persist(const SaveFn& save) {
  std::error_code ec;
  fs::create_directories(options_.dir, ec);
  int written = 0;
  for (const auto& tokens : pending_) {
    const fs::path path = fs::path(options_.dir) / file_name(tokens);
    if (fs::exists(path, ec)) continue;
    auto n = save(tokens, path.string());
    if (!n.ok()) {
      spdlog::warn("kv: saving an idle prefix to {} failed: {}", path.string(), n.status().to_string());
      continue;
    }
    if (*n > 0) {
      ++written;
      spdlog::debug("kv: saved an idle prefix of {} tokens as {}", *n, path.string());
    }
  }
  pending_.clear();
  if (written > 0) prune();
  return written;
}

void IdlePersister::prune() const {
  std::vector<std::pair<fs::file_time_type, fs::path>> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(options_.dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with(kPrefix) || !name.ends_with(kExtension)) continue;
    files.emplace_back(entry.last_write_time(ec), entry.path());
  }
  if (static_cast<int>(files.size()) <= options_.max_files) return;
  std::sort(files.begin(), files.end());
  for (size_t i = 0; i + options_.max_files < files.size(); ++i) fs::remove(files[i].second, ec);
}

}  // namespace inferd::engine
