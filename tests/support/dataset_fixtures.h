#pragma once
// Tiny copies of each dataset's published layout, written into a test's
// scratch directory: the reader tests (test_datasets.cpp) check what the
// readers make of them, the end-to-end tests (test_train_e2e.cpp) train and
// evaluate on them. Every image is a real 12x12 RGB picture (JPEG or PNG by
// its name) coloured by its class, so a model can tell the classes apart, and
// each training and held-out split has at least two classes of two images.
#include <cstdint>
#include <string>
#include <vector>

#include "dml/data/image.h"
#include "tests/support/test_support.h"

namespace dml::test {

// Image `index` of class `label`: the class's colour with a faint pattern
// that `index` shifts, so no two images of a class are equal.
data::Image class_image(int64_t label, int64_t index);
void write_class_image(const std::string& path, int64_t label, int64_t index);

// root = dir/CUB_200_2011 with one image per entry of `image_classes` (image
// id i has class image_classes[i - 1], file
// images/<class, 3 digits>.Class<class>/img_<i>.jpg), bounding boxes
// (x i - 0.5, y i + 0.5, width 4, height 10 i), three attributes with
// is_present = (image + attribute) % 2 (image 2's third row has the extra
// field some published rows carry), and attributes.txt beside root as the
// archive ships it. The default: classes on both sides of the 100/101 split.
std::string make_cub200(const TempDir& dir,
                        const std::vector<int64_t>& image_classes = {1, 100, 101, 200});

// The path of a committed fixture in tests/golden/fixtures.
std::string golden_fixture(const std::string& name);

// The Cars196 devkit: root = dir/cars with cars_annos.mat (the committed
// fixture `mat`, see make_mat_fixtures.py) and car_ims/000001.jpg ..., one
// per entry of `image_classes`, the classes the fixture lists in order.
std::string make_cars_devkit(const TempDir& dir, const std::string& mat,
                             const std::vector<int64_t>& image_classes);
// The two committed devkit fixtures: five images of classes 1, 98, 99, 196,
// 150 (plain and compressed MAT), and two images each of 1, 2, 99, 100.
inline const std::vector<int64_t> kCarsAnnosClasses = {1, 98, 99, 196, 150};
inline const std::vector<int64_t> kCarsTwoPerClassClasses = {1, 1, 2, 2, 99, 99, 100, 100};

// Stanford Online Products: root = dir/Stanford_Online_Products with
// Ebay_train.txt (classes 1 (super class 1) and 2 (super class 5), two
// images each) and Ebay_test.txt with CRLF line ends (classes 11319 and
// 11320, super class 12, two images each).
std::string make_online_products(const TempDir& dir);

// In-Shop: root = dir/inshop with list_eval_partition.txt (columns padded
// with spaces as published): items 2 and 7 train (two images each), items 80
// and 81 one query and one gallery image each.
std::string make_inshop(const TempDir& dir);

// One CelebA image: its identity, its partition (0 train, 1 val, 2 test) and
// its values of kCelebaAttributeNames as the file holds them (1 or -1).
struct CelebaImage {
  int64_t identity = 0;
  int partition = 0;
  std::vector<int> attributes;
};
inline const std::vector<std::string> kCelebaAttributeNames = {"5_o_Clock_Shadow", "Male",
                                                               "Pale_Skin"};
// The default: images 000001.jpg - 000009.jpg of identities 2880, 2937, 8692,
// 2880, 2881, 2881, 2937, 2938, 2938 in partitions 0, 2, 1, 0, 0, 0, 2, 2, 2
// (so train and test hold two identities of two images).
inline const std::vector<CelebaImage> kCelebaImages = {
    {2880, 0, {-1, 1, 1}},  {2937, 2, {1, -1, -1}},  {8692, 1, {-1, -1, 1}},
    {2880, 0, {1, 1, -1}},  {2881, 0, {-1, -1, -1}}, {2881, 0, {1, -1, 1}},
    {2937, 2, {-1, 1, -1}}, {2938, 2, {1, 1, 1}},    {2938, 2, {-1, -1, -1}}};

// CelebA: root = dir/celeba with images 000001.jpg, ... (one per entry of
// `images`, in order), their identities, partitions and attributes.
std::string make_celeba(const TempDir& dir, const std::vector<CelebaImage>& images = kCelebaImages);

// LFW: root = dir/lfw with two images each of Zico, Aaron_Peirsol,
// Abel_Pacheco and Yao_Ming (sorted: classes 1-4; the first two train).
std::string make_lfw(const TempDir& dir);

// A CSV manifest dir/set/manifest.csv (path, label, tone, age, split) with a
// byte-order mark, CRLF line ends, a blank line, quoted paths holding a
// comma and doubled quotes and one absolute path (dir/abs.png). Rows:
//   images/a.png              3 dark   30 train
//   "images/b, with comma.png" 5 light  41 test
//   "images/c ""quoted"".png"  3 dark   30 train
//   <dir>/abs.png             7 medium 52 train
//   images/d.png              7 light  30 train
//   images/e.png              5 dark   41 test
//   images/f.png              8 medium 52 test
//   images/g.png              8 light  30 test
// Returns the manifest's path.
std::string make_csv_manifest(const TempDir& dir);

// Fashion-MNIST's gzipped IDX pair <prefix>-images-idx3-ubyte.gz and
// <prefix>-labels-idx1-ubyte.gz in `dir`: images u8 [n, 28, 28], row-major.
void write_fashion_mnist(const std::string& dir, const std::string& prefix,
                         const std::vector<unsigned char>& labels,
                         const std::vector<unsigned char>& pixels);
// A tiny Fashion-MNIST in dir/fashion-mnist: two images of each class, the
// 28 x 28 grey level set by the class; "train" holds classes 0-4, "t10k"
// classes 5-9 (the default class split). Returns the folder.
std::string make_fashion_mnist(const TempDir& dir);

}  // namespace dml::test
