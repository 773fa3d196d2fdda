#include "dml/train/metrics_log.h"

#include <fstream>
#include <iterator>
#include <string>

#include "base/error.h"
#include "engine/atomic_file.h"

namespace dml::train {

void MetricsLog::start_fresh() {
  std::filesystem::remove(path_);
}

// Lines of epochs after the checkpoint's (the run went on past it, or
// stopped between logging an epoch and checkpointing it) would repeat those
// epochs: they are dropped, so the log keeps one line per epoch.
void MetricsLog::continue_after(int64_t epochs_done) {
  if (!std::filesystem::exists(path_)) return;
  std::ifstream in(path_);
  std::string kept;
  for (std::string text; std::getline(in, text);) {
    const Json line = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    DML_CHECK(line.is_object() && line.contains("epoch") && line["epoch"].is_number_integer(),
              path_.string(), ": a line is not a metrics record with an \"epoch\"; move the file ",
              "away to resume into this directory");
    if (line["epoch"].get<int64_t>() <= epochs_done) kept += text + "\n";
  }
  write_file_atomically(path_.string(), kept);
}

void MetricsLog::append(const Json& line) {
  std::string text;
  if (std::filesystem::exists(path_)) {
    std::ifstream in(path_, std::ios::binary);
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    DML_CHECK(!in.bad(), path_.string(), ": cannot read it back to append an epoch");
  }
  write_file_atomically(path_.string(), text + line.dump() + "\n");
}

Json MetricsLog::last() const {
  Json last = Json::object();
  std::ifstream in(path_);
  for (std::string text; std::getline(in, text);) last = Json::parse(text);
  return last;
}

}  // namespace dml::train
