#pragma once
// CelebA (Liu et al. 2015): 202599 face images of 10177 identities with 40
// binary attributes, read from its published lists (each looked for in root,
// then root/Anno or root/Eval as in the original download):
//   identity_CelebA.txt    `000001.jpg 2880`
//   list_attr_celeba.txt   line 1 the image count, line 2 the 40 attribute
//                          names, then `000001.jpg -1  1  1 ...` per image
//   list_eval_partition.txt `000001.jpg 0` (0 train, 1 val, 2 test)
// with the images in root/img_align_celeba/. Every image must appear once in
// each list.
#include <string>

#include "dml/data/sample.h"

namespace dml::data {

// Split::train, Split::val, Split::test or Split::all, in the order of
// identity_CelebA.txt. Labels are the identities; the attributes are all 40
// in the file's order, -1 read as 0 and 1 as 1 (select_attributes picks some),
// the values named "no" and "yes" (reports show "Male=yes"). An attribute name that is not UTF-8 is
// refused, naming the line.
SampleSet read_celeba(const std::string& root, Split split, const ReaderOptions& options = {});

}  // namespace dml::data
