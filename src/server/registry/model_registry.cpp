#include "server/registry/model_registry.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "server/registry/model_footprint.h"
#include "server/telemetry/telemetry.h"

namespace inferd::server {
namespace {

using SteadyClock = std::chrono::steady_clock;

int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
// Nanoseconds: the order of uses that follow each other closely must be kept (LRU).
int64_t steady_ns_now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch())
      .count();
}

// How long a load waits for models in use to become idle when only they keep it from fitting.
constexpr auto kBusyWait = std::chrono::seconds(10);

std::string mib(uint64_t bytes) {
  return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20));
}

struct StateName {
  ModelLoadState state;
  const char* name;
  ModelState telemetry;
};
constexpr StateName kStateNames[] = {
    {ModelLoadState::kAvailable, "available", ModelState::kUnloaded},
    {ModelLoadState::kLoading, "loading", ModelState::kLoading},
    {ModelLoadState::kLoaded, "loaded", ModelState::kReady},
    {ModelLoadState::kFailed, "failed", ModelState::kFailed},
};

}  // namespace

const char* model_load_state_name(ModelLoadState state) {
  for (const StateName& s : kStateNames)
    if (s.state == state) return s.name;
  return "available";
}

// Shared by a loaded model's leases: how many are held and when the last one was released.
// Lease deleters touch only this, never the model.
struct ModelRegistry::Usage {
  std::atomic<int> leases{0};
  std::atomic<int64_t> last_used_unix_ms{0};
  std::atomic<int64_t> last_used_steady_ns{0};

  void touch() {
    last_used_unix_ms = unix_ms_now();
    last_used_steady_ns = steady_ns_now();
  }
};

// One model in memory. Freed only by the registry, with no lease held (or at destruction).
struct ModelRegistry::Instance {
  std::unique_ptr<ServedModel> model;
  std::shared_ptr<Usage> usage = std::make_shared<Usage>();
  uint64_t memory_bytes = 0;
};

struct ModelRegistry::Entry {
  ModelSpec spec;
  bool adopted = false;  // added loaded; cannot be reloaded
  ModelLoadState state = ModelLoadState::kAvailable;
  std::unique_ptr<Instance> instance;  // when loaded
  uint64_t loading_bytes = 0;          // while loading: the estimated footprint
  int64_t last_used_unix_ms = 0;       // of earlier instances
  std::string error;
  std::vector<Waiter> waiters;  // while loading

  bool answers_to(std::string_view name) const {
    if (name == spec.id()) return true;
    return std::find(spec.load.aliases.begin(), spec.load.aliases.end(), name) !=
           spec.load.aliases.end();
  }
  int64_t last_used() const {
    return instance ? std::max(last_used_unix_ms, instance->usage->last_used_unix_ms.load())
                    : last_used_unix_ms;
  }
};

ModelRegistry::ModelRegistry(RegistryOptions options, std::shared_ptr<Telemetry> telemetry)
    : options_(options), telemetry_(std::move(telemetry)) {}

ModelRegistry::~ModelRegistry() {
  std::vector<Waiter> waiters;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    for (auto& e : entries_) {
      for (Waiter& w : e->waiters) waiters.push_back(std::move(w));
      e->waiters.clear();
    }
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (Waiter& w : waiters) w.done(Status(StatusCode::kInternal, "the server is shutting down"));
  // Freed outside the lock: an engine loop's destructor finishes its requests, whose leases are
  // released (lease deleters take no lock, but request callbacks may call into the registry).
  std::vector<std::unique_ptr<Instance>> instances;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& e : entries_)
      if (e->instance) instances.push_back(std::move(e->instance));
    for (auto& r : retired_) instances.push_back(std::move(r));
    retired_.clear();
  }
  instances.clear();
}

Status ModelRegistry::add(ModelSpec spec) {
  if (spec.id().empty()) return invalid_argument("a model needs an id");
  if (spec.load.path.empty()) return invalid_argument("model '{}' needs a path", spec.id());
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> names = spec.load.aliases;
  names.push_back(spec.id());
  for (const std::string& n : names)
    if (find_locked(n)) return invalid_argument("model name '{}' is used twice", n);
  auto e = std::make_unique<Entry>();
  e->spec = std::move(spec);
  entries_.push_back(std::move(e));
  return {};
}

Status ModelRegistry::add_loaded(std::unique_ptr<ServedModel> model) {
  if (!model) return invalid_argument("no model");
  auto e = std::make_unique<Entry>();
  e->spec.load.id = model->id();
  e->spec.load.aliases = model->aliases();
  e->spec.load.path = model->model().info().path;
  e->spec.pinned = true;
  e->adopted = true;
  e->instance = std::make_unique<Instance>();
  e->instance->memory_bytes = measured_footprint(*model).total_bytes();
  e->instance->model = std::move(model);
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> names = e->spec.load.aliases;
  names.push_back(e->spec.id());
  for (const std::string& n : names)
    if (find_locked(n)) return invalid_argument("model name '{}' is used twice", n);
  set_state_locked(*e, ModelLoadState::kLoaded);
  entries_.push_back(std::move(e));
  return {};
}

void ModelRegistry::start() {
  std::vector<std::string> preload;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (started_) return;
    started_ = true;
    for (auto& e : entries_) {
      if (e->state == ModelLoadState::kAvailable) set_state_locked(*e, ModelLoadState::kAvailable);
      if (e->spec.preload && !e->adopted) preload.push_back(e->spec.id());
    }
  }
  thread_ = std::thread([this] { run(); });
  for (const std::string& id : preload)
    acquire(id, [id](Result<ModelLease> lease) {
      if (!lease.ok()) spdlog::error("model '{}' not preloaded: {}", id, lease.status().message());
    });
}

ModelRegistry::Entry* ModelRegistry::find_locked(std::string_view name) const {
  for (const auto& e : entries_)
    if (e->answers_to(name)) return e.get();
  return nullptr;
}

std::optional<std::string> ModelRegistry::resolve(std::string_view name) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Entry* e = find_locked(name);
  if (!e) return std::nullopt;
  return e->spec.id();
}

std::vector<std::string> ModelRegistry::fallbacks(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Entry* e = find_locked(id);
  return e ? e->spec.fallbacks : std::vector<std::string>{};
}

std::string ModelRegistry::first_id() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.empty() ? std::string() : entries_.front()->spec.id();
}

ModelLease ModelRegistry::lease_locked(Entry& e, bool use) {
  Instance& inst = *e.instance;
  inst.usage->leases.fetch_add(1);
  if (use) inst.usage->touch();
  return ModelLease(inst.model.get(), [usage = inst.usage, use](const ServedModel*) {
    if (use) usage->touch();
    usage->leases.fetch_sub(1);
  });
}

void ModelRegistry::set_state_locked(Entry& e, ModelLoadState state) {
  e.state = state;
  if (!telemetry_) return;
  for (const StateName& s : kStateNames)
    if (s.state == state) telemetry_->set_model_state(e.spec.id(), s.telemetry);
}

void ModelRegistry::acquire(const std::string& id, AcquireCallback done, LoadObserver observer) {
  std::unique_lock<std::mutex> lock(mu_);
  Entry* e = find_locked(id);
  if (!e) {
    lock.unlock();
    return done(Status(StatusCode::kNotFound, fmt::format("The model '{}' does not exist", id)));
  }
  if (stopping_) {
    lock.unlock();
    return done(Status(StatusCode::kInternal, "the server is shutting down"));
  }
  if (e->state == ModelLoadState::kLoaded) {
    ModelLease lease = lease_locked(*e);
    lock.unlock();
    return done(std::move(lease));
  }
  e->waiters.push_back({std::move(done), std::move(observer)});
  if (e->state != ModelLoadState::kLoading) {
    e->error.clear();
    set_state_locked(*e, ModelLoadState::kLoading);
    queue_.push_back(e);
  }
  lock.unlock();
  cv_.notify_all();
}

ModelLease ModelRegistry::lease_if_loaded(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry* e = find_locked(id);
  if (!e || e->state != ModelLoadState::kLoaded) return nullptr;
  return lease_locked(*e);
}

Status ModelRegistry::unload(const std::string& id) {
  std::unique_ptr<Instance> freed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Entry* e = find_locked(id);
    if (!e) return Status(StatusCode::kNotFound, fmt::format("The model '{}' does not exist", id));
    if (e->state != ModelLoadState::kLoaded)
      return invalid_argument("model '{}' is not loaded (it is {})", e->spec.id(),
                              model_load_state_name(e->state));
    if (e->adopted)
      return unsupported("model '{}' was loaded at start and cannot be unloaded", e->spec.id());
    e->last_used_unix_ms = e->last_used();
    std::unique_ptr<Instance> inst = std::move(e->instance);
    set_state_locked(*e, ModelLoadState::kAvailable);
    if (inst->usage->leases.load() > 0)
      retired_.push_back(std::move(inst));
    else
      freed = std::move(inst);
  }
  spdlog::info("model '{}' unloaded", id);
  return {};  // `freed` is destroyed here, outside the lock
}

ModelStatus ModelRegistry::status_locked(Entry& e) {
  ModelStatus s;
  s.id = e.spec.id();
  s.aliases = e.spec.load.aliases;
  s.kind = e.spec.kind;
  s.state = e.state;
  s.pinned = e.spec.pinned;
  s.error = e.error;
  s.last_used_unix_ms = e.last_used();
  if (e.state == ModelLoadState::kLoading) s.memory_bytes = e.loading_bytes;
  if (e.instance) {
    s.memory_bytes = e.instance->memory_bytes;
    s.running = e.instance->usage->leases.load();
    s.model = lease_locked(e, /*use=*/false);
  }
  return s;
}

std::vector<ModelStatus> ModelRegistry::status() {
  std::vector<ModelStatus> out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& e : entries_) out.push_back(status_locked(*e));
  }
  return out;
}

std::optional<ModelStatus> ModelRegistry::status(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry* e = find_locked(id);
  if (!e) return std::nullopt;
  return status_locked(*e);
}

uint64_t ModelRegistry::used_bytes_locked() const {
  uint64_t used = 0;
  for (const auto& e : entries_) {
    if (e->instance) used += e->instance->memory_bytes;
    if (e->state == ModelLoadState::kLoading) used += e->loading_bytes;
  }
  for (const auto& r : retired_) used += r->memory_bytes;
  return used;
}

uint64_t ModelRegistry::used_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return used_bytes_locked();
}

std::vector<ModelLease> ModelRegistry::loaded() {
  std::vector<ModelLease> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& e : entries_)
    if (e->state == ModelLoadState::kLoaded) out.push_back(lease_locked(*e, /*use=*/false));
  return out;
}

void ModelRegistry::run() {
  for (;;) {
    Entry* next = nullptr;
    std::vector<std::unique_ptr<Instance>> freed;
    std::vector<std::string> expired;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, options_.maintenance_interval,
                   [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      // Retired models whose last request has finished.
      for (auto it = retired_.begin(); it != retired_.end();) {
        if ((*it)->usage->leases.load() == 0) {
          freed.push_back(std::move(*it));
          it = retired_.erase(it);
        } else {
          ++it;
        }
      }
      // Keep-alive: idle loaded models whose time is up.
      const int64_t now_ns = steady_ns_now();
      for (auto& e : entries_) {
        if (e->state != ModelLoadState::kLoaded || e->spec.keep_alive.count() <= 0 ||
            e->spec.pinned)
          continue;
        const Usage& u = *e->instance->usage;
        if (u.leases.load() > 0) continue;
        if (now_ns - u.last_used_steady_ns.load() <
            std::chrono::nanoseconds(e->spec.keep_alive).count())
          continue;
        e->last_used_unix_ms = e->last_used();
        freed.push_back(std::move(e->instance));
        set_state_locked(*e, ModelLoadState::kAvailable);
        expired.push_back(e->spec.id());
      }
      if (!queue_.empty()) {
        next = queue_.front();
        queue_.pop_front();
      }
    }
    freed.clear();
    for (const std::string& id : expired)
      spdlog::info("model '{}' unloaded: its keep-alive ran out", id);
    if (next) load(*next);
  }
}

void ModelRegistry::emit(Entry& e, const LoadEvent& event) {
  std::vector<LoadObserver> observers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const Waiter& w : e.waiters)
      if (w.observer) observers.push_back(w.observer);
  }
  for (const LoadObserver& o : observers) o(event);
}

void ModelRegistry::load(Entry& e) {
  // The spec is immutable after add(); while e is loading no other thread changes its instance.
  const ModelSpec& spec = e.spec;
  auto estimate = estimate_footprint(spec.load);
  if (!estimate.ok()) return finish_load(e, estimate.status(), 0, 0);
  const uint64_t need = estimate->total_bytes();
  emit(e, {"estimated", spec.id(), need, ""});

  // Plan the evictions first, so that a load that cannot fit evicts nothing. When only models
  // in use stand in the way, wait (a while) for their requests to finish.
  std::vector<std::pair<std::string, std::unique_ptr<Instance>>> victims;
  Status refused;
  const auto give_up_at = SteadyClock::now() + kBusyWait;
  for (bool planned = false; !planned;) {
    std::vector<std::unique_ptr<Instance>> freed;  // retired models now idle
    std::unique_lock<std::mutex> lock(mu_);
    for (auto it = retired_.begin(); it != retired_.end();) {
      if ((*it)->usage->leases.load() == 0) {
        freed.push_back(std::move(*it));
        it = retired_.erase(it);
      } else {
        ++it;
      }
    }
    const uint64_t budget = options_.memory_budget_bytes;
    const uint64_t used = used_bytes_locked();
    planned = true;
    if (budget > 0 && used + need > budget) {
      std::vector<Entry*> idle;
      std::vector<std::string> kept;
      uint64_t busy_bytes = 0;  // of unpinned models in use
      for (auto& c : entries_) {
        if (c.get() == &e || c->state != ModelLoadState::kLoaded) continue;
        if (c->spec.pinned) {
          kept.push_back(c->spec.id() + " (pinned)");
        } else if (c->instance->usage->leases.load() > 0) {
          kept.push_back(c->spec.id() + " (in use)");
          busy_bytes += c->instance->memory_bytes;
        } else {
          idle.push_back(c.get());
        }
      }
      std::sort(idle.begin(), idle.end(), [](const Entry* a, const Entry* b) {
        return a->instance->usage->last_used_steady_ns.load() <
               b->instance->usage->last_used_steady_ns.load();
      });
      size_t num_victims = 0;
      uint64_t after = used;
      while (after + need > budget && num_victims < idle.size())
        after -= idle[num_victims++]->instance->memory_bytes;
      if (after + need <= budget) {
        for (size_t i = 0; i < num_victims; ++i) {
          Entry& v = *idle[i];
          v.last_used_unix_ms = v.last_used();
          victims.emplace_back(v.spec.id(), std::move(v.instance));
          set_state_locked(v, ModelLoadState::kAvailable);
        }
      } else if (after - busy_bytes + need <= budget && SteadyClock::now() < give_up_at &&
                 !stopping_) {
        planned = false;  // fits once the models in use are idle
      } else {
        refused = resource_exhausted(
            "model '{}' needs {} (weights {} + KV cache {}); the memory budget is {}, of which {} "
            "stays in use{}{}",
            spec.id(), mib(need), mib(estimate->weight_bytes), mib(estimate->kv_bytes), mib(budget),
            mib(after), kept.empty() ? "" : " by ", fmt::join(kept, ", "));
      }
    }
    if (planned && refused.ok()) e.loading_bytes = need;
    if (!planned)
      cv_.wait_for(lock, std::chrono::milliseconds(10), [this] { return stopping_.load(); });
    lock.unlock();
    freed.clear();
  }
  if (!refused.ok()) return finish_load(e, refused, 0, 0);
  for (auto& [id, inst] : victims) {
    const uint64_t freed_bytes = inst->memory_bytes;
    inst.reset();
    spdlog::info("model '{}' unloaded to make room for '{}' ({} freed)", id, spec.id(),
                 mib(freed_bytes));
    emit(e, {"evicting", id, freed_bytes, ""});
  }

  emit(e, {"loading", spec.id(), need, ""});
  const auto start = SteadyClock::now();
  ServedModelOptions load = spec.load;
  load.generates = spec.kind != ModelKind::kEmbedding;
  auto loaded = ServedModel::load(load);
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  uint64_t bytes = 0;
  if (loaded.ok()) {
    if (telemetry_) (*loaded)->attach_telemetry(telemetry_);
    bytes = measured_footprint(**loaded).total_bytes();
  }
  finish_load(e, std::move(loaded), bytes, seconds);
}

void ModelRegistry::finish_load(Entry& e, Result<std::unique_ptr<ServedModel>> loaded,
                                uint64_t bytes, double seconds) {
  std::vector<Waiter> waiters;
  std::vector<ModelLease> leases;
  const uint64_t weight_bytes = loaded.ok() ? (*loaded)->model().info().weight_bytes : 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    e.loading_bytes = 0;
    waiters = std::move(e.waiters);
    e.waiters.clear();
    if (loaded.ok()) {
      e.instance = std::make_unique<Instance>();
      e.instance->model = std::move(loaded).value();
      e.instance->memory_bytes = bytes;
      e.instance->usage->touch();
      e.error.clear();
      set_state_locked(e, ModelLoadState::kLoaded);
      for (size_t i = 0; i < waiters.size(); ++i) leases.push_back(lease_locked(e));
    } else {
      e.error = loaded.status().message();
      set_state_locked(e, ModelLoadState::kFailed);
    }
  }
  if (loaded.ok()) {
    spdlog::info("model '{}' loaded in {:.2f} s ({})", e.spec.id(), seconds, mib(bytes));
    if (telemetry_) telemetry_->set_model_loaded(e.spec.id(), weight_bytes, seconds);
  } else {
    spdlog::error("model '{}' failed to load: {}", e.spec.id(), loaded.status().message());
  }
  const LoadEvent last = loaded.ok()
                             ? LoadEvent{"loaded", e.spec.id(), bytes, ""}
                             : LoadEvent{"failed", e.spec.id(), 0, loaded.status().message()};
  for (size_t i = 0; i < waiters.size(); ++i) {
    if (waiters[i].observer) waiters[i].observer(last);
    if (loaded.ok())
      waiters[i].done(std::move(leases[i]));
    else
      waiters[i].done(loaded.status());
  }
}

}  // namespace inferd::server
