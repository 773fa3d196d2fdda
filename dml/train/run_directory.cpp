#include "dml/train/run_directory.h"

#include "base/error.h"

namespace dml::train {

namespace fs = std::filesystem;

namespace {

// What a run leaves in its directory; any of them marks the directory as a run's.
constexpr const char* kRunFiles[] = {"config.json", "metrics.jsonl", "checkpoint.safetensors",
                                     "model.safetensors"};

// The directories `dir` lacks, outermost first.
std::vector<fs::path> missing_directories(const fs::path& dir) {
  std::vector<fs::path> missing;
  std::error_code ec;
  for (fs::path p = fs::absolute(dir, ec); !p.empty() && !fs::exists(fs::symlink_status(p, ec));
       p = p.parent_path()) {
    missing.insert(missing.begin(), p);
    if (p == p.parent_path()) break;
  }
  return missing;
}

void create_directory(const std::string& output) {
  std::error_code error;
  if (fs::exists(output, error)) {
    DML_CHECK(fs::is_directory(output, error), "train.output ", output,
              ": is a file, not a directory; choose a directory for the run");
    return;
  }
  fs::create_directories(output, error);
  DML_CHECK(!error, "train.output ", output,
            ": cannot create the output directory: ", error.message(),
            "; choose a writable directory");
}

std::vector<fs::path> run_files_in(const fs::path& dir) {
  std::vector<fs::path> found;
  std::error_code ec;
  for (const char* name : kRunFiles)
    if (fs::exists(dir / name, ec)) found.push_back(dir / name);
  return found;
}

std::string names(const std::vector<fs::path>& files) {
  std::string text;
  for (const fs::path& f : files) text += (text.empty() ? "" : ", ") + f.filename().string();
  return text;
}

}  // namespace

RunDirectory::RunDirectory(const std::string& output, bool overwrite, const std::string& resume)
    : path_(output) {
  DML_CHECK(!output.empty(), "train.output is empty: set it to the run's directory (--output DIR)");
  created_ = missing_directories(path_);
  try {
    create_directory(output);
    lock_.emplace(output, "train.output");
    const std::vector<fs::path> others = run_files_in(path_);
    std::error_code ec;
    const bool same_run =
        !resume.empty() && fs::equivalent(resume, path_ / "checkpoint.safetensors", ec);
    if (others.empty() || same_run) return;
    const fs::path checkpoint = path_ / "checkpoint.safetensors";
    DML_CHECK(overwrite, "train.output ", output, " holds another run (", names(others),
              "); pass --overwrite to replace it",
              fs::exists(checkpoint, ec)
                  ? ", or --resume " + checkpoint.string() + " to continue that run"
                  : std::string(" (it has no checkpoint to resume)"),
              ", or choose another train.output");
    replaced_ = others;
  } catch (...) {
    lock_.reset();
    remove_created();
    throw;
  }
}

RunDirectory::~RunDirectory() {
  lock_.reset();
  if (!started_) remove_created();
}

void RunDirectory::start() {
  for (const fs::path& f : replaced_) {
    std::error_code ec;
    fs::remove(f, ec);
    DML_CHECK(!ec, "train.output ", path_.string(), ": cannot remove the overwritten run's ",
              f.string(), ": ", ec.message());
    fs::remove(f.string() + ".tmp", ec);
  }
  started_ = true;
}

// Innermost first, and only while empty: whatever else came to be there stays.
void RunDirectory::remove_created() {
  std::error_code ec;
  for (auto it = created_.rbegin(); it != created_.rend(); ++it)
    if (!fs::remove(*it, ec)) break;
}

}  // namespace dml::train
