#pragma once
// Labeled Faces in the Wild (Huang et al. 2007): 13233 face images of 5749
// people in class folders, root/<Person_Name>/<Person_Name>_0001.jpg, and the
// face-verification pairs of pairs.txt.
#include <cstdint>
#include <string>
#include <vector>

#include "dml/data/sample.h"

namespace dml::data {

// Every image; labels number the people's names in sorted order from 1 (see
// class_folders.h).
SampleSet read_lfw(const std::string& root);

struct LfwPair {
  std::string path_a, path_b;
  bool same = false;  // both images show the same person
  int64_t fold = 0;   // 0-based fold of the cross-validation protocol
};

// Reads pairs.txt (header `10 300`: 10 folds, each of 300 matched pairs then
// 300 mismatched) or pairsDevTrain.txt / pairsDevTest.txt (header `1100`: one
// fold). Matched lines are `name n1 n2`, mismatched ones `name1 n1 name2 n2`;
// image n of a person is root/<name>/<name>_<n as 4 digits>.jpg. The number
// of lines must match the header.
std::vector<LfwPair> read_lfw_pairs(const std::string& pairs_file, const std::string& root,
                                    const ReaderOptions& options = {});

}  // namespace dml::data
