#include "dml/train/datasets.h"

#include <algorithm>

#include "base/error.h"
#include "dml/data/cars196.h"
#include "dml/data/celeba.h"
#include "dml/data/csv_manifest.h"
#include "dml/data/cub200.h"
#include "dml/data/fashion_mnist.h"
#include "dml/data/image.h"
#include "dml/data/inshop.h"
#include "dml/data/lfw.h"
#include "dml/data/online_products.h"
#include "dml/data/subset.h"
#include "dml/data/tone_benchmark.h"
#include "dml/data/transforms.h"

namespace dml::train {

namespace {

using data::Split;

// LFW publishes verification pairs, not a class split: its people are split
// in half by their sorted names, the first half to train.
data::SampleSet split_lfw(const std::string& root, Split split) {
  data::SampleSet all = data::read_lfw(root);
  int64_t classes = 0;
  for (const auto& s : all.samples) classes = std::max(classes, s.label);
  const int64_t half = classes / 2;
  return split == Split::train
             ? data::select_classes(all, {1, half},
                                    "lfw train (people 1-" + std::to_string(half) + ")")
             : data::select_classes(all, {half + 1, classes}, "lfw test");
}

data::SampleSet read_split(const DataConfig& d, const std::string& name) {
  const Split split = data::parse_split(name);
  if (d.format == "fashion_mnist") {
    DML_CHECK(split == Split::train || split == Split::test,
              "data: Fashion-MNIST has train and test splits, not '", name, "'");
    // Training classes come from the 60,000 training images, held-out
    // classes from the 10,000 test images: unseen classes and unseen images.
    return data::read_fashion_mnist_samples(
        d.root, split, split == Split::train ? d.train_classes : d.test_classes);
  }
  if (d.format == "fashion_mnist_tone") {
    // Fashion-MNIST with the "tone" (and "pattern") attribute: a minority
    // share of each training class (and half of each held-out class)
    // transformed.
    return data::make_tone_benchmark(d.root, split,
                                     {.train_classes = d.train_classes,
                                      .test_classes = d.test_classes,
                                      .minority_share_train = d.minority_share,
                                      .minority_share_test = d.test_minority_share,
                                      .transform = d.tone_transform,
                                      .strength = d.tone_strength,
                                      .pattern_transform = d.pattern_transform,
                                      .pattern_strength = d.pattern_strength,
                                      .pattern_share_train = d.pattern_minority_share,
                                      .pattern_share_test = d.pattern_test_minority_share});
  }
  if (d.format == "cub200") return data::read_cub200(d.root, split, {.attributes = d.attributes});
  if (d.format == "cars196") return data::read_cars196(d.root, split);
  if (d.format == "sop") return data::read_online_products(d.root, split);
  if (d.format == "inshop") return data::read_inshop(d.root, split);
  if (d.format == "celeba") return data::read_celeba(d.root, split);
  if (d.format == "lfw") return split_lfw(d.root, split);
  // csv: the split names are values of the manifest's split column.
  return data::read_csv_manifest(d.root,
                                 {.split = split == Split::train ? d.train_split : d.test_split});
}

}  // namespace

const std::vector<DataFormat>& data_formats() {
  // Each layout in full: the reader's header (dml/data/<format>.h).
  static const std::vector<DataFormat> formats = {
      {"fashion_mnist",
       "root/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz (IDX); classes by "
       "data.train_classes / test_classes"},
      {"fashion_mnist_tone",
       "fashion_mnist plus the 'tone' (and 'pattern') attribute made from the image "
       "(data.tone_*, data.pattern_*)"},
      {"csv",
       "data.root is a CSV manifest: path,label[,split][,attribute...]; paths relative to it; "
       "splits by data.train_split / test_split"},
      {"cub200",
       "root = CUB_200_2011/: images.txt, image_class_labels.txt, images/; classes 1-100 "
       "train, 101-200 test"},
      {"cars196",
       "root/cars_annos.mat + car_ims/, or class folders root/<class>/<image>; classes 1-98 "
       "train, 99-196 test"},
      {"sop", "root/Ebay_train.txt, Ebay_test.txt (image_id class_id super_class_id path)"},
      {"inshop",
       "root/list_eval_partition.txt (image_name item_id train|query|gallery), root/img/"},
      {"celeba",
       "root/identity_CelebA.txt, list_attr_celeba.txt, list_eval_partition.txt, "
       "img_align_celeba/"},
      {"lfw", "class folders root/<Person_Name>/<image>; people split in half by sorted name"},
  };
  return formats;
}

data::SampleSet open_split(const DataConfig& data, const std::string& split) {
  data::SampleSet set = read_split(data, split);
  // CUB reads its attributes by name itself; the others carry all of theirs.
  if (!data.attributes.empty() && data.format != "cub200")
    set = data::select_attributes(set, data.attributes);
  DML_CHECK(!set.samples.empty(), "data: the ", split, " split of ", data.format, " at ", data.root,
            " holds no samples; check data.root and the class or split settings");
  return set;
}

void check_resized_size(const std::string& what, int64_t height, int64_t width,
                        const TrainConfig& c, bool train) {
  const AugmentConfig& a = c.augment;
  if (a.resize == 0 || (train && a.random_resized_crop)) return;
  const auto [h, w] = data::shorter_resized_size(height, width, a.resize);
  DML_CHECK(h * w <= c.data.max_image_pixels, what, ": its ", height, " x ", width,
            " pixels resized for the model (shorter side to augment.resize = ", a.resize, ") make ",
            h, " x ", w, " = ", h * w, " pixels, over the limit of ", c.data.max_image_pixels,
            " (data.max_image_pixels); crop or drop this image");
}

data::SampleLoader make_sample_loader(const TrainConfig& c, bool train) {
  const AugmentConfig& a = c.augment;
  data::TransformConfig t =
      data::model_transform_config(a.image_size, a.resize, c.model.in_channels, a.mean, a.std);
  t.random_resized_crop = a.random_resized_crop;
  t.scale_min = a.scale_min;
  t.horizontal_flip = a.horizontal_flip;
  return [c, t, train](const data::SampleSet& set, const data::Sample& s, Generator& gen) {
    data::Image image = data::image_of(set, s, int(c.model.in_channels), c.data.max_image_pixels);
    check_resized_size(s.path.empty() ? set.name : "image " + s.path, image.height, image.width, c,
                       train);
    return train ? data::transform_train(image, t, gen, s.box)
                 : data::transform_eval(image, t, s.box);
  };
}

}  // namespace dml::train
