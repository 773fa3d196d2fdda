#include "engine/batch_norm_sync.h"

namespace dml {

namespace {
thread_local BatchNormSync* t_sync = nullptr;
}  // namespace

BatchNormSync* installed_batch_norm_sync() {
  return t_sync;
}

BatchNormSyncScope::BatchNormSyncScope(BatchNormSync* sync) : sync_(t_sync, sync) {}

}  // namespace dml
