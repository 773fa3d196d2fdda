#pragma once
// The class-folder layout many datasets are shared in (Cars196 re-packed,
// LFW, ImageFolder-style copies): root/<class name>/<image file>. Classes are
// the subfolders sorted by name (byte order), numbered from 1; a class's
// images are its files named *.jpg, *.jpeg or *.png (any case), sorted by
// name. Hidden entries (names starting with '.') and other files are skipped.
// The folder names name the classes (SampleSet::class_names): they must be
// UTF-8, and two that differ only in surrounding spaces are refused.
#include <string>
#include <vector>

#include "dml/data/sample.h"

namespace dml::data {

struct ClassFolders {
  SampleSet set;                         // labels 1..class_names.size()
  std::vector<std::string> class_names;  // class_names[label - 1]
};

// `what` names the dataset in errors and becomes the set's name. A missing or
// unreadable root, or one without class folders, throws.
ClassFolders read_class_folders(const std::string& root, const std::string& what);

}  // namespace dml::data
