#pragma once
// Stanford Online Products (Oh Song et al. 2016): 120053 photographs of 22634
// products in 12 super-classes (bicycle, chair, ...), in its published layout:
// root/Ebay_train.txt and root/Ebay_test.txt, each with the header line
// `image_id class_id super_class_id path` and one image per line, path under
// root. The standard split is the two files (classes 1-11318 train, 11319-
// 22634 test).
#include <string>

#include "dml/data/sample.h"

namespace dml::data {

// Split::train (Ebay_train.txt), Split::test (Ebay_test.txt) or Split::all
// (both). Labels are class_id; the one attribute, "super_class", is
// super_class_id (1..12).
SampleSet read_online_products(const std::string& root, Split split,
                               const ReaderOptions& options = {});

}  // namespace dml::data
