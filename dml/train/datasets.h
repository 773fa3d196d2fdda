#pragma once
// From the config's "data" and "augment" sections to samples and to the
// function that turns a sample into an image tensor.
#include <string>
#include <vector>

#include "dml/data/batch_loader.h"
#include "dml/train/config.h"

namespace dml::train {

// A value of data.format and the on-disk layout it reads (`dml list`).
struct DataFormat {
  std::string name;
  std::string layout;
};
const std::vector<DataFormat>& data_formats();

// The training split ("train") or the held-out split ("test") of the
// configured dataset, in the standard zero-shot protocol: CUB classes 1-100 /
// 101-200, Cars 1-98 / 99-196, SOP and In-Shop by their files (In-Shop's
// test split is query + gallery), CelebA and CSV by their split columns,
// Fashion-MNIST by data.train_classes / data.test_classes.
data::SampleSet open_split(const DataConfig& data, const std::string& split);

// Training loads augment (random resized crop or resize, flip); evaluation
// resizes and center-crops; both normalise with augment.mean / augment.std.
// Images decode to model.in_channels, within data.max_image_pixels, and
// pass check_resized_size.
data::SampleLoader make_sample_loader(const TrainConfig& config, bool train);

// Where the pipeline resizes an image's shorter side to augment.resize
// (evaluation; training without random_resized_crop), the resized image must
// also fit data.max_image_pixels: a 1 x 50000 strip passes the decode limit,
// but its resize would take gigabytes. Throws naming `what` (the file).
void check_resized_size(const std::string& what, int64_t height, int64_t width,
                        const TrainConfig& config, bool train);

}  // namespace dml::train
