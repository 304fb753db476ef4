#include "model/model.h"

#include "model/hf_model_dir.h"

namespace inferd::model {

Model::~Model() = default;

Result<std::unique_ptr<Model>> Model::load(const std::string& path, LoadOptions options) {
  if (HfModelDir::is_model_dir(path)) {
    std::unique_ptr<Model> m(new Model());
    m->path_ = path;
    auto dir = HfModelDir::open(path, &m->tensors_);
    if (!dir.ok()) return dir.status().with_context(path);
    m->hf_dir_ = std::move(dir).value();
    m->hp_ = m->hf_dir_->config().hp;
    m->eos_token_ids_ = m->hf_dir_->config().eos_token_ids;
    m->file_size_bytes_ = m->hf_dir_->weights_files().file_size_bytes();
    if (Status st = m->bind(options); !st.ok()) return st.with_context(path);
    return m;
  }
  INFERD_ASSIGN_OR_RETURN(auto file, format::GgufFile::open(path));
  return from_file(std::move(file));
}

Result<std::unique_ptr<Model>> Model::from_file(std::unique_ptr<format::GgufFile> file) {
  std::unique_ptr<Model> m(new Model());
  m->file_ = std::move(file);
  m->path_ = m->file_->path();
  m->file_size_bytes_ = m->file_->file_size_bytes();
  m->tensors_ = TensorTable::from_gguf(*m->file_);
  auto hp = read_hparams(*m->file_);
  if (!hp.ok()) return hp.status().with_context(m->path_);
  m->hp_ = std::move(hp).value();
  // Nothing of a GGUF file is released (its tensors are the file mapping).
  if (Status st = m->bind({}); !st.ok()) return st.with_context(m->path_);
  return m;
}

Status Model::bind(const LoadOptions& options) {
  const auto packed =
      options.keep_tensors ? Weights::PackedTensors::kKeep : Weights::PackedTensors::kRelease;
  INFERD_ASSIGN_OR_RETURN(weights_, Weights::bind(tensors_, hp_, packed));
  transformer_ = std::make_unique<Transformer>(hp_, weights_);
  return Status::ok_status();
}

}  // namespace inferd::model
