#include "dml/train/metrics_log.h"

#include <fstream>
#include <string>

#include "base/error.h"
#include "engine/atomic_file.h"

namespace dml::train {

// Lines of epochs after the checkpoint's (the run went on past it, or
// stopped between logging an epoch and checkpointing it) would repeat those
// epochs: they are dropped, so the log keeps one line per epoch.
void MetricsLog::continue_from(const std::filesystem::path& previous, int64_t epochs_done) {
  lines_.clear();
  std::ifstream in(previous);
  for (std::string text; in && std::getline(in, text);) {
    Json line = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    DML_CHECK(line.is_object() && line.contains("epoch") && line["epoch"].is_number_integer(),
              previous.string(), ": a line is not a metrics record with an \"epoch\"; move the ",
              "file away to resume this run");
    if (line["epoch"].get<int64_t>() <= epochs_done) lines_.push_back(std::move(line));
  }
}

void MetricsLog::record(const Json& line) {
  if (!lines_.empty() && lines_.back()["epoch"] == line["epoch"])
    lines_.back() = line;
  else
    lines_.push_back(line);
  write();
}

Json MetricsLog::last() const {
  return lines_.empty() ? Json::object() : lines_.back();
}

void MetricsLog::write() const {
  if (path_.empty()) return;
  std::string text;
  for (const Json& line : lines_) text += line.dump() + "\n";
  write_file_atomically(path_.string(), text);
}

}  // namespace dml::train
