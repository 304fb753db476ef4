#include "model/model.h"

namespace inferd::model {

Result<std::unique_ptr<Model>> Model::load(const std::string& path) {
  INFERD_ASSIGN_OR_RETURN(auto file, format::GgufFile::open(path));
  return from_file(std::move(file));
}

Result<std::unique_ptr<Model>> Model::from_file(std::unique_ptr<format::GgufFile> file) {
  std::unique_ptr<Model> m(new Model());
  m->file_ = std::move(file);
  const std::string& path = m->file_->path();
  auto hp = read_hparams(*m->file_);
  if (!hp.ok()) return hp.status().with_context(path);
  m->hp_ = std::move(hp).value();
  auto weights = Weights::bind(*m->file_, m->hp_);
  if (!weights.ok()) return weights.status().with_context(path);
  m->weights_ = std::move(weights).value();
  m->transformer_ = std::make_unique<Transformer>(m->hp_, m->weights_);
  return m;
}

}  // namespace inferd::model
