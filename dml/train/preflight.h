#pragma once
// Everything a run reads, checked before its first step: a bad image found
// after an hour of training (or by the evaluation after the last epoch)
// costs the hour. Every image file of the training split and of the held-out
// data must be a regular file whose header decodes within
// data.max_image_pixels, also once resized for the model
// (check_resized_size); only headers are read (stb_image's info on the
// first bytes), so tens of thousands of files take a second or two. The
// held-out data must be something retrieval metrics mean something on
// (check_evaluable).
#include <cstdint>
#include <string>

#include "dml/data/sample.h"
#include "dml/train/config.h"
#include "dml/train/evaluation.h"

namespace dml::train {

// Checks every file-backed sample of `set` (in-memory samples need no
// check), as the training (`train`) or the evaluation pipeline reads it.
// With data.skip_bad_images the bad ones are dropped and their count
// returned; otherwise the first bad one throws, naming `split`, its index,
// the file's problem and how many are bad.
int64_t preflight_images(data::SampleSet& set, const std::string& split, const TrainConfig& config,
                         bool train);

// preflight_images on the training split and the held-out data, then
// check_evaluable on what is left; prints the count of any dropped images
// and warns about held-out classes with a single image and about held-out
// classes the training split holds too (the zero-shot protocol holds out
// unseen classes).
void preflight_run(data::SampleSet& train_set, EvalData& held_out, const TrainConfig& config);

}  // namespace dml::train
