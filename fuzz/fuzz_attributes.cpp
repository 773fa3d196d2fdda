// libFuzzer target: the CelebA list parsers (attributes, identities,
// partitions). The first input byte picks which of the three lists gets the
// rest of the input; the other two are small valid lists. A hostile list
// must end in dml::Error; anything else is a bug.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "base/error.h"
#include "dml/data/celeba.h"

namespace {

const char* const kLists[] = {"list_attr_celeba.txt", "identity_CelebA.txt",
                              "list_eval_partition.txt"};
const char* const kValid[] = {
    "3\nMale Smiling Young \n000001.jpg -1  1  1\n000002.jpg  1 -1  1\n000003.jpg -1 -1 -1\n",
    "000001.jpg 7\n000002.jpg 7\n000003.jpg 9\n", "000001.jpg 0\n000002.jpg 1\n000003.jpg 2\n"};

void write(const std::string& path, const char* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data, std::streamsize(size));
  if (!out) std::abort();
}

const std::string& root() {
  static const std::string dir = [] {
    const std::string d =
        (std::filesystem::temp_directory_path() / ("dml_fuzz_celeba_" + std::to_string(getpid())))
            .string();
    std::filesystem::create_directories(d + "/img_align_celeba");
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t fuzzed = data[0] % 3;
  for (size_t i = 0; i < 3; ++i)
    if (i == fuzzed)
      write(root() + "/" + kLists[i], reinterpret_cast<const char*>(data + 1), size - 1);
    else
      write(root() + "/" + kLists[i], kValid[i], std::char_traits<char>::length(kValid[i]));
  for (const dml::data::Split split : {dml::data::Split::all, dml::data::Split::test}) {
    try {
      const dml::data::SampleSet set =
          dml::data::read_celeba(root(), split, {.check_files = false});
      for (const auto& s : set.samples)
        if (s.attributes.size() != set.attribute_names.size()) __builtin_trap();
    } catch (const dml::Error&) {
    }
  }
  return 0;
}
