#pragma once
// In-Shop Clothes Retrieval (DeepFashion, Liu et al. 2016): 52712 images of
// 7982 clothing items, read from its published root/list_eval_partition.txt:
// line 1 the image count, line 2 the header `image_name item_id
// evaluation_status`, then `img/WOMEN/Dresses/id_00000002/02_1_front.jpg
// id_00000002 train` per image (status train, query or gallery; image paths
// under root).
#include <string>

#include "dml/data/sample.h"

namespace dml::data {

// Split::train, Split::query, Split::gallery or Split::all, in file order.
// Labels are the item numbers (id_00000002 -> 2).
SampleSet read_inshop(const std::string& root, Split split, const ReaderOptions& options = {});

}  // namespace dml::data
