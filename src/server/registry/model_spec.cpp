#include "server/registry/model_spec.h"

namespace inferd::server {
namespace {

struct KindName {
  ModelKind kind;
  const char* name;
};
constexpr KindName kKindNames[] = {{ModelKind::kChat, "chat"},
                                   {ModelKind::kCompletion, "completion"},
                                   {ModelKind::kEmbedding, "embedding"}};

}  // namespace

const char* model_kind_name(ModelKind kind) {
  for (const KindName& k : kKindNames)
    if (k.kind == kind) return k.name;
  return "chat";
}

std::optional<ModelKind> model_kind_from_name(std::string_view name) {
  for (const KindName& k : kKindNames)
    if (name == k.name) return k.kind;
  return std::nullopt;
}

}  // namespace inferd::server
