#pragma once
// From the config's "data" and "augment" sections to samples and to the
// function that turns a sample into an image tensor.
#include <string>

#include "dml/data/batch_loader.h"
#include "dml/train/config.h"

namespace dml::train {

// The training split ("train") or the held-out split ("test") of the
// configured dataset, in the standard zero-shot protocol: CUB classes 1-100 /
// 101-200, Cars 1-98 / 99-196, SOP and In-Shop by their files (In-Shop's
// test split is query + gallery), CelebA and CSV by their split columns,
// Fashion-MNIST by data.train_classes / data.test_classes.
data::SampleSet open_split(const DataConfig& data, const std::string& split);

// Training loads augment (random resized crop or resize, flip); evaluation
// resizes and center-crops; both normalise with augment.mean / augment.std.
// Images decode to model.in_channels, within data.max_image_pixels.
data::SampleLoader make_sample_loader(const TrainConfig& config, bool train);

}  // namespace dml::train
