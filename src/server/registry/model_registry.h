// ModelRegistry: every model the server may serve, loaded on demand under one memory budget.
//
// A model is available (configured, not in memory), loading, loaded or failed (its last load
// failed; the next request tries again). acquire() hands out a lease on a loaded model, loading
// it first when needed: requests that arrive while their model loads wait and are all answered
// when it is ready. Loads run one at a time on the registry's own thread.
//
// Memory: before a load, the model's footprint (weights + KV pool) is estimated from its file;
// when it does not fit under the budget beside the loaded models, idle models (no lease held)
// that are not pinned are unloaded, least recently used first, until it fits. When it would fit
// once models now in use are idle, the load waits for that (up to 10 s); otherwise it is refused
// (kResourceExhausted, naming the numbers). Loaded models whose keep-alive has run out since
// their last use are unloaded.
//
// Leases: a lease (shared_ptr<const ServedModel>) keeps its model in memory: eviction skips
// models with leases, and an explicit unload of a model in use retires it (it stops taking new
// requests) and frees it once its last lease is gone. Releasing a lease never frees a model, so
// leases may be dropped on any thread, including the model's own engine thread.
//
// Thread safety: every method may be called from any thread. Callbacks (acquire's done and
// observer) run on the calling thread when the answer is immediate, else on the registry's
// thread; they must not block for long (they delay the next load).
//
// REQUIRES: no lease outlives the registry.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "server/registry/model_spec.h"
#include "server/served_model.h"

namespace inferd::server {

class Telemetry;

enum class ModelLoadState { kAvailable, kLoading, kLoaded, kFailed };
const char* model_load_state_name(
    ModelLoadState state);  // "available", "loading", "loaded", "failed"

using ModelLease = std::shared_ptr<const ServedModel>;

// One step of a load, for progress reports, in order: "estimated" (bytes = the
// footprint), "evicting" (model = the one unloaded to make room, bytes = what it frees),
// "loading", "loaded" (bytes = the measured footprint) or "failed" (message = why).
struct LoadEvent {
  std::string stage;
  std::string model;
  uint64_t bytes = 0;
  std::string message;
};

// A model's state as reported by the API.
struct ModelStatus {
  std::string id;
  std::vector<std::string> aliases;
  ModelKind kind = ModelKind::kChat;
  ModelLoadState state = ModelLoadState::kAvailable;
  uint64_t memory_bytes = 0;      // loaded or loading: its footprint (estimated while loading)
  int64_t last_used_unix_ms = 0;  // 0 = never used
  int running = 0;                // leases held (requests using it)
  bool pinned = false;
  std::string error;  // failed: why the last load failed
  ModelLease model;   // loaded: a lease that is not a use (drop it soon)
};

struct RegistryOptions {
  uint64_t memory_budget_bytes = 0;  // weights + KV of all loaded models; 0 = no limit
  // How often keep-alive expiry and retired models are checked.
  std::chrono::milliseconds maintenance_interval{250};
};

class ModelRegistry {
 public:
  using AcquireCallback = std::function<void(Result<ModelLease>)>;
  using LoadObserver = std::function<void(const LoadEvent&)>;

  ModelRegistry(RegistryOptions options, std::shared_ptr<Telemetry> telemetry);
  // Fails waiting acquisitions, then frees every model (cancelling their requests).
  ~ModelRegistry();
  ModelRegistry(const ModelRegistry&) = delete;
  ModelRegistry& operator=(const ModelRegistry&) = delete;

  // Adds a model that is loaded on demand. Errors: an empty id or path, a name (id or alias)
  // already taken, a footprint that exceeds the whole budget is found only when loading.
  Status add(ModelSpec spec);
  // Adds a model already loaded elsewhere; it is pinned (it cannot be reloaded from a spec).
  Status add_loaded(std::unique_ptr<ServedModel> model);
  // Starts the registry's thread and queues the preloads. Call once, after the add()s.
  void start();
  bool stopping() const { return stopping_.load(); }

  // The id of the model called `name` (its id or an alias), if any.
  std::optional<std::string> resolve(std::string_view name) const;
  // The configured fallbacks of model `id` (ids or aliases), in order.
  std::vector<std::string> fallbacks(const std::string& id) const;
  // The id of the first model added, or empty.
  std::string first_id() const;

  // Calls `done` with a lease on model `id` once it is loaded (at once when it is), or with the
  // error: kNotFound for an unknown id, the load's error, kResourceExhausted when it cannot fit.
  // `observer` (optional) sees the load's progress.
  void acquire(const std::string& id, AcquireCallback done, LoadObserver observer = nullptr);
  // A lease when model `id` is loaded now; null otherwise. Counts as a use.
  ModelLease lease_if_loaded(const std::string& id);
  // Unloads model `id` (retired until its running requests finish). Errors: kNotFound;
  // kInvalidArgument when not loaded or still loading; kUnsupported if added by add_loaded().
  Status unload(const std::string& id);

  // Statuses hold leases on loaded models that do not count as uses (nor update last use); a
  // model is not evicted while one is held, so drop them soon.
  std::vector<ModelStatus> status();
  std::optional<ModelStatus> status(const std::string& id);
  uint64_t budget_bytes() const { return options_.memory_budget_bytes; }
  // Footprints of loaded, loading and retired models.
  uint64_t used_bytes() const;
  // Leases on every loaded model (not counted as uses; drop them soon).
  std::vector<ModelLease> loaded();

 private:
  struct Usage;
  struct Instance;
  struct Entry;
  struct Waiter {
    AcquireCallback done;
    LoadObserver observer;
  };

  Entry* find_locked(std::string_view name) const;
  // `use`: the lease counts as a use of the model (updates its last use, when taken and when
  // released).
  ModelLease lease_locked(Entry& e, bool use = true);
  ModelStatus status_locked(Entry& e);
  uint64_t used_bytes_locked() const;
  void run();
  void load(Entry& e);
  void emit(Entry& e, const LoadEvent& event);
  // Installs a loaded model (or records the failure) and answers the waiters.
  void finish_load(Entry& e, Result<std::unique_ptr<ServedModel>> loaded, uint64_t bytes,
                   double seconds);
  void set_state_locked(Entry& e, ModelLoadState state);

  const RegistryOptions options_;
  const std::shared_ptr<Telemetry> telemetry_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Entry>> entries_;
  std::deque<Entry*> queue_;                        // loads to run, in order
  std::vector<std::unique_ptr<Instance>> retired_;  // unloaded while leased
  std::atomic<bool> stopping_{false};
  bool started_ = false;
  std::thread thread_;
};

}  // namespace inferd::server
