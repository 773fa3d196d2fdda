// The dataset readers on tiny copies of each published layout that the tests
// write themselves (tests/support/dataset_fixtures.h): good lists read back as the right samples
// and standard splits; every kind of bad input throws a dml::Error whose one line names the file
// (and line) and says what is wrong.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "dml/data/cars196.h"
#include "dml/data/celeba.h"
#include "dml/data/csv_manifest.h"
#include "dml/data/cub200.h"
#include "dml/data/fashion_mnist.h"
#include "dml/data/inshop.h"
#include "dml/data/lfw.h"
#include "dml/data/online_products.h"
#include "dml/data/subset.h"
#include "tests/support/dataset_fixtures.h"
#include "tests/support/image_files.h"
#include "tests/support/test_support.h"

namespace {

namespace fs = std::filesystem;
namespace data = dml::data;
using dml::test::expect_error;
using dml::test::golden_fixture;
using dml::test::kCarsAnnosClasses;
using dml::test::kCelebaImages;
using dml::test::make_cars_devkit;
using dml::test::make_celeba;
using dml::test::make_csv_manifest;
using dml::test::make_cub200;
using dml::test::make_inshop;
using dml::test::make_lfw;
using dml::test::make_online_products;
using dml::test::TempDir;
using dml::test::write_fashion_mnist;
using dml::test::write_text;

std::vector<int64_t> labels_of(const data::SampleSet& set) {
  std::vector<int64_t> out;
  for (const data::Sample& s : set.samples) out.push_back(s.label);
  return out;
}

std::vector<std::string> files_of(const data::SampleSet& set) {
  std::vector<std::string> out;
  for (const data::Sample& s : set.samples) out.push_back(fs::path(s.path).filename().string());
  return out;
}

// An empty file where a list expects an image: enough for check_files.
void touch(const std::string& path) {
  write_text(path, "");
}

TEST(Split, NamesRoundTrip) {
  for (data::Split s : {data::Split::train, data::Split::test, data::Split::val, data::Split::query,
                        data::Split::gallery, data::Split::all})
    EXPECT_EQ(data::parse_split(data::split_name(s)), s);
  expect_error([] { data::parse_split("dev"); }, {"unknown split 'dev'", "train, test"});
}

// ---- CUB-200-2011 ----------------------------------------------------------

TEST(Cub200, StandardSplitsSelectTheClassRanges) {
  TempDir dir;
  const std::string root = make_cub200(dir);
  data::SampleSet train = data::read_cub200(root, data::Split::train);
  EXPECT_EQ(train.name, "cub200 train");
  EXPECT_EQ(labels_of(train), (std::vector<int64_t>{1, 100}));
  EXPECT_EQ(labels_of(data::read_cub200(root, data::Split::test)),
            (std::vector<int64_t>{101, 200}));
  data::SampleSet all = data::read_cub200(root, data::Split::all);
  EXPECT_EQ(labels_of(all), (std::vector<int64_t>{1, 100, 101, 200}));
  EXPECT_EQ(all.samples[0].path, root + "/images/001.Class1/img_1.jpg");
  EXPECT_TRUE(all.attribute_names.empty());
  ASSERT_TRUE(all.samples[2].box.has_value());
  EXPECT_FLOAT_EQ(all.samples[2].box->x, 2.5f);
  EXPECT_FLOAT_EQ(all.samples[2].box->y, 3.5f);
  EXPECT_FLOAT_EQ(all.samples[2].box->width, 4.0f);
  EXPECT_FLOAT_EQ(all.samples[0].box->height, 10.0f);
  EXPECT_FALSE(data::read_cub200(root, data::Split::all, {.boxes = false}).samples[0].box);
  expect_error([&] { data::read_cub200(root, data::Split::val); },
               {"CUB-200-2011 has no split 'val'"});
}

TEST(Cub200, ClassesTxtNamesTheClassesWithoutTheirNumbers) {
  TempDir dir;
  const std::string root = make_cub200(dir);
  EXPECT_TRUE(data::read_cub200(root, data::Split::all).class_names.empty());  // optional
  write_text(root + "/classes.txt", "1 001.Black_footed_Albatross\n101 101.White_Pelican\n");
  const data::SampleSet test = data::read_cub200(root, data::Split::test);
  EXPECT_EQ(test.class_names.at(101), "White_Pelican");
  EXPECT_EQ(data::read_cub200(root, data::Split::train).class_names.at(1),
            "Black_footed_Albatross");
  write_text(root + "/classes.txt", "1 a\n1 b\n");
  expect_error([&] { data::read_cub200(root, data::Split::all); },
               {"classes.txt:2", "class 1 is named twice"});
  write_text(root + "/classes.txt", "201 Dodo\n");
  expect_error([&] { data::read_cub200(root, data::Split::all); },
               {"classes.txt:1", "class id 201 is not a CUB-200-2011 class"});
}

TEST(Cub200, ChosenAttributesLoadInTheOrderAsked) {
  TempDir dir;
  const std::string root = make_cub200(dir);
  data::SampleSet set = data::read_cub200(
      root, data::Split::all,
      {.attributes = {"has_size::small_(5_-_9_in)", "has_bill_shape::curved_(up_or_down)"}});
  EXPECT_EQ(set.attribute_names, (std::vector<std::string>{"has_size::small_(5_-_9_in)",
                                                           "has_bill_shape::curved_(up_or_down)"}));
  // is_present = (image + attribute) % 2.
  for (int image = 1; image <= 4; ++image)
    EXPECT_EQ(set.samples[size_t(image - 1)].attributes,
              (std::vector<int64_t>{(image + 3) % 2, (image + 1) % 2}));
  expect_error([&] { data::read_cub200(root, data::Split::all, {.attributes = {"has_beak"}}); },
               {"no attribute named 'has_beak'", "attributes.txt"});
}

TEST(Cub200, BadListsNameTheFileAndLine) {
  {
    TempDir dir;
    const std::string root = make_cub200(dir);
    fs::remove(root + "/images.txt");
    expect_error([&] { data::read_cub200(root, data::Split::all); },
                 {"cannot open CUB-200-2011", root + "/images.txt"});
  }
  {
    TempDir dir;
    const std::string root = make_cub200(dir);
    write_text(root + "/images.txt", "\n");
    expect_error([&] { data::read_cub200(root, data::Split::all); },
                 {root + "/images.txt", "lists no images"});
  }
  {
    TempDir dir;
    const std::string root = make_cub200(dir);
    fs::remove(root + "/image_class_labels.txt");
    fs::create_directories(root + "/image_class_labels.txt");
    expect_error([&] { data::read_cub200(root, data::Split::all); },
                 {"image_class_labels.txt is a directory, not a regular file"});
  }
  {
    TempDir dir;
    const std::string root = make_cub200(dir);
    write_text(root + "/images.txt", "1 001.Class1/img_1.jpg\n2\n");
    expect_error([&] { data::read_cub200(root, data::Split::all); },
                 {root + "/images.txt:2", "expected 2 fields"});
  }
  {
    TempDir dir;
    const std::string root = make_cub200(dir);
    write_text(root + "/image_class_labels.txt", "1 1\n2 100\n3 x\n4 200\n");
    expect_error([&] { data::read_cub200(root, data::Split::all); },
                 {"image_class_labels.txt:3", "class id 'x' is not an integer"});
  }
  {
    TempDir dir;
    const std::string root = make_cub200(dir);
    write_text(root + "/image_class_labels.txt", "1 1\n2 100\n3 201\n4 200\n");
    expect_error([&] { data::read_cub200(root, data::Split::all); },
                 {"image_class_labels.txt:3", "class id 201 is not a CUB-200-2011 class"});
  }
  {
    TempDir dir;
    const std::string root = make_cub200(dir);
    write_text(root + "/bounding_boxes.txt", "1 1 2 3 4\n2 0 0 5 6\n4 7 8 9 10\n");
    expect_error([&] { data::read_cub200(root, data::Split::all); },
                 {"bounding_boxes.txt", "no line for image 3"});
  }
  {
    TempDir dir;
    const std::string root = make_cub200(dir);
    write_text(root + "/image_class_labels.txt", "1 1\n2 100\n3 101\n4 200\n9 5\n");
    expect_error([&] { data::read_cub200(root, data::Split::all); },
                 {"image_class_labels.txt:5", "image 9 is not in", "images.txt"});
  }
  {
    TempDir dir;
    const std::string root = make_cub200(dir);
    write_text(root + "/image_class_labels.txt", "1 1\n2 100\n2 100\n3 101\n4 200\n");
    expect_error([&] { data::read_cub200(root, data::Split::all); },
                 {"image_class_labels.txt:3", "image 2 is listed twice"});
  }
  {
    TempDir dir;
    const std::string root = make_cub200(dir);
    write_text(root + "/attributes/image_attribute_labels.txt", "1 1 0 3 1.0\n");
    expect_error(
        [&] {
          data::read_cub200(root, data::Split::all,
                            {.attributes = {"has_bill_shape::curved_(up_or_down)"}});
        },
        {"image_attribute_labels.txt", "no row for image 2"});
  }
}

TEST(Cub200, MissingImageFilesAreFoundUnlessTurnedOff) {
  TempDir dir;
  const std::string root = make_cub200(dir);
  const std::string missing = root + "/images/101.Class101/img_3.jpg";
  fs::remove(missing);
  expect_error([&] { data::read_cub200(root, data::Split::all); },
               {"image file " + missing, "images.txt:3", "check_files"});
  EXPECT_EQ(data::read_cub200(root, data::Split::all, {.check_files = false}).samples.size(), 4u);
}

// ---- Cars196 ---------------------------------------------------------------

TEST(Cars196, DevkitAnnotationsPlainAndCompressed) {
  for (const char* fixture : {"cars_annos_plain.mat", "cars_annos_compressed.mat"}) {
    SCOPED_TRACE(fixture);
    TempDir dir;
    const std::string root = make_cars_devkit(dir, fixture, kCarsAnnosClasses);
    data::SampleSet all = data::read_cars196_devkit(root, data::Split::all);
    EXPECT_EQ(labels_of(all), (std::vector<int64_t>{1, 98, 99, 196, 150}));
    EXPECT_EQ(all.samples[1].path, root + "/car_ims/000002.jpg");
    // bbox (3, 4) - (300, 200), the u16 field: x1, y1, x2 - x1, y2 - y1.
    ASSERT_TRUE(all.samples[1].box.has_value());
    EXPECT_FLOAT_EQ(all.samples[1].box->x, 3);
    EXPECT_FLOAT_EQ(all.samples[1].box->y, 4);
    EXPECT_FLOAT_EQ(all.samples[1].box->width, 297);
    EXPECT_FLOAT_EQ(all.samples[1].box->height, 196);
    EXPECT_EQ(labels_of(data::read_cars196_devkit(root, data::Split::train)),
              (std::vector<int64_t>{1, 98}));
    data::SampleSet test = data::read_cars196(root, data::Split::test);  // finds the devkit
    EXPECT_EQ(test.name, "cars196 test");
    EXPECT_EQ(labels_of(test), (std::vector<int64_t>{99, 196, 150}));
  }
}

TEST(Cars196, DevkitMissingImagesAndFiles) {
  TempDir dir;
  const std::string root = make_cars_devkit(dir, "cars_annos_compressed.mat", kCarsAnnosClasses);
  fs::remove(root + "/car_ims/000004.jpg");
  expect_error([&] { data::read_cars196_devkit(root, data::Split::all); },
               {"image file " + root + "/car_ims/000004.jpg", "annotations(4)"});
  EXPECT_EQ(
      data::read_cars196_devkit(root, data::Split::all, {.check_files = false}).samples.size(), 5u);
  fs::remove(root + "/cars_annos.mat");
  expect_error([&] { data::read_cars196_devkit(root, data::Split::all); },
               {"cannot open MAT file", root + "/cars_annos.mat"});
  fs::copy_file(golden_fixture("mat_types.mat"), root + "/cars_annos.mat");
  expect_error([&] { data::read_cars196_devkit(root, data::Split::all); },
               {"has no variable 'annotations'"});
}

TEST(Cars196, ClassFoldersSortedAndSplitAt98) {
  TempDir dir;
  const std::string root = dir.file("cars");
  // 100 classes named so that byte order differs from creation order.
  for (int c = 100; c >= 1; --c) {
    char name[32];
    std::snprintf(name, sizeof name, "Model %03d", c);
    touch(root + "/" + name + "/b.jpg");
    touch(root + "/" + name + "/a.JPEG");
    touch(root + "/" + name + "/notes.txt");  // not an image: skipped
  }
  touch(root + "/readme.txt");
  data::SampleSet all = data::read_cars196(root, data::Split::all);  // no .mat: folders
  ASSERT_EQ(all.samples.size(), 200u);
  EXPECT_EQ(all.samples[0].path, root + "/Model 001/a.JPEG");
  EXPECT_EQ(all.samples[1].path, root + "/Model 001/b.jpg");
  EXPECT_EQ(all.samples[199].label, 100);
  data::SampleSet train = data::read_cars196_folders(root, data::Split::train);
  EXPECT_EQ(train.samples.size(), 196u);
  EXPECT_EQ(train.samples.back().label, 98);
  data::SampleSet test = data::read_cars196_folders(root, data::Split::test);
  EXPECT_EQ(labels_of(test), (std::vector<int64_t>{99, 99, 100, 100}));
  expect_error([&] { data::read_cars196_folders(dir.file("absent"), data::Split::all); },
               {"cannot read Cars196 folder", dir.file("absent")});
  fs::create_directories(dir.file("bare/Model 001"));
  expect_error([&] { data::read_cars196_folders(dir.file("bare"), data::Split::all); },
               {"holds class folders but no .jpg"});
}

// ---- Stanford Online Products ----------------------------------------------

TEST(OnlineProducts, TrainTestAndSuperClass) {
  TempDir dir;
  const std::string root = make_online_products(dir);
  data::SampleSet train = data::read_online_products(root, data::Split::train);
  EXPECT_EQ(labels_of(train), (std::vector<int64_t>{1, 1, 2, 2}));
  EXPECT_EQ(train.attribute_names, (std::vector<std::string>{"super_class"}));
  EXPECT_EQ(train.samples[2].attributes, (std::vector<int64_t>{5}));
  EXPECT_EQ(train.samples[2].path, root + "/chair_final/222_0.JPG");
  data::SampleSet test = data::read_online_products(root, data::Split::test);  // CRLF lines
  EXPECT_EQ(labels_of(test), (std::vector<int64_t>{11319, 11319, 11320, 11320}));
  EXPECT_EQ(test.samples[0].attributes, (std::vector<int64_t>{12}));
  EXPECT_EQ(test.samples[3].path, root + "/toaster_final/10_1.JPG");
  EXPECT_EQ(data::read_online_products(root, data::Split::all).samples.size(), 8u);

  write_text(root + "/Ebay_test.txt", "id class super path\n");
  expect_error([&] { data::read_online_products(root, data::Split::test); },
               {root + "/Ebay_test.txt:1", "expected the header"});
  write_text(root + "/Ebay_test.txt",
             "image_id class_id super_class_id path\n4 11319 toaster_final/9_0.JPG\n");
  expect_error([&] { data::read_online_products(root, data::Split::test); },
               {"Ebay_test.txt:2", "expected 4 fields"});
}

// ---- In-Shop -----------------------------------------------------------------

TEST(InShop, PartsAndItemLabels) {
  TempDir dir;
  const std::string root = make_inshop(dir);
  const std::string list = root + "/list_eval_partition.txt";
  EXPECT_EQ(labels_of(data::read_inshop(root, data::Split::train)),
            (std::vector<int64_t>{2, 2, 7, 7}));
  data::SampleSet query = data::read_inshop(root, data::Split::query);
  EXPECT_EQ(labels_of(query), (std::vector<int64_t>{80, 81}));
  EXPECT_EQ(query.samples[0].path, root + "/img/MEN/Denim/id_00000080/01_1_front.jpg");
  EXPECT_EQ(files_of(data::read_inshop(root, data::Split::gallery)),
            (std::vector<std::string>{"01_2_side.jpg", "01_2_side.jpg"}));
  EXPECT_EQ(data::read_inshop(root, data::Split::all).samples.size(), 8u);
  expect_error([&] { data::read_inshop(root, data::Split::test); },
               {"In-Shop has no split 'test'"});

  write_text(list, "3\nimage_name item_id evaluation_status\na.jpg id_00000002 train\n");
  expect_error([&] { data::read_inshop(root, data::Split::all, {.check_files = false}); },
               {list, "line 1 says 3 images but 1 follow"});
  write_text(list, "1\nimage_name item_id evaluation_status\na.jpg id_00000002 val\n");
  expect_error([&] { data::read_inshop(root, data::Split::all, {.check_files = false}); },
               {list + ":3", "evaluation status 'val'"});
  write_text(list, "1\nimage_name item_id evaluation_status\na.jpg item_2 train\n");
  expect_error([&] { data::read_inshop(root, data::Split::all, {.check_files = false}); },
               {list + ":3", "item id 'item_2'"});
}

// ---- CelebA -------------------------------------------------------------------

TEST(CelebA, PartitionsIdentitiesAndAttributes) {
  TempDir dir;
  const std::string root = make_celeba(dir);
  data::SampleSet all = data::read_celeba(root, data::Split::all);
  EXPECT_EQ(labels_of(all),
            (std::vector<int64_t>{2880, 2937, 8692, 2880, 2881, 2881, 2937, 2938, 2938}));
  EXPECT_EQ(all.attribute_names,
            (std::vector<std::string>{"5_o_Clock_Shadow", "Male", "Pale_Skin"}));
  EXPECT_EQ(all.samples[0].attributes, (std::vector<int64_t>{0, 1, 1}));
  EXPECT_EQ(all.samples[1].attributes, (std::vector<int64_t>{1, 0, 0}));
  ASSERT_EQ(all.samples.size(), kCelebaImages.size());
  for (size_t i = 0; i < all.samples.size(); ++i)
    for (size_t a = 0; a < 3; ++a)
      EXPECT_EQ(all.samples[i].attributes[a], kCelebaImages[i].attributes[a] == 1 ? 1 : 0)
          << i << a;
  EXPECT_EQ(all.samples[0].path, root + "/img_align_celeba/000001.jpg");
  EXPECT_EQ(labels_of(data::read_celeba(root, data::Split::train)),
            (std::vector<int64_t>{2880, 2880, 2881, 2881}));
  EXPECT_EQ(labels_of(data::read_celeba(root, data::Split::val)), (std::vector<int64_t>{8692}));
  EXPECT_EQ(labels_of(data::read_celeba(root, data::Split::test)),
            (std::vector<int64_t>{2937, 2937, 2938, 2938}));
}

TEST(CelebA, ListsInTheOriginalSubfolders) {
  TempDir dir;
  const std::string root = make_celeba(dir);
  fs::create_directories(root + "/Anno");
  fs::create_directories(root + "/Eval");
  fs::rename(root + "/list_attr_celeba.txt", root + "/Anno/list_attr_celeba.txt");
  fs::rename(root + "/list_eval_partition.txt", root + "/Eval/list_eval_partition.txt");
  EXPECT_EQ(data::read_celeba(root, data::Split::all).samples.size(), 9u);
}

TEST(CelebA, MismatchedListsThrow) {
  {
    TempDir dir;
    const std::string root = make_celeba(dir);
    write_text(root + "/list_eval_partition.txt", "000001.jpg 0\n000003.jpg 1\n");
    expect_error([&] { data::read_celeba(root, data::Split::all); },
                 {"list_eval_partition.txt", "no line for image 000002.jpg"});
  }
  {
    TempDir dir;
    const std::string root = make_celeba(dir);
    write_text(root + "/list_attr_celeba.txt",
               "3\nA B C\n000001.jpg -1 1 1\n000002.jpg 1 0 -1\n000003.jpg -1 -1 1\n");
    expect_error([&] { data::read_celeba(root, data::Split::all); },
                 {"list_attr_celeba.txt:4", "B is 0; expected 1 or -1"});
  }
  {
    TempDir dir;
    const std::string root = make_celeba(dir);
    write_text(root + "/list_attr_celeba.txt",
               "3\nA B C\n000001.jpg -1 1 1\n000002.jpg 1 -1\n000003.jpg -1 -1 1\n");
    expect_error([&] { data::read_celeba(root, data::Split::all); },
                 {"list_attr_celeba.txt:4", "expected the file name and 3 attribute values"});
  }
  {
    TempDir dir;
    const std::string root = make_celeba(dir);
    write_text(root + "/list_eval_partition.txt", "000001.jpg 0\n000002.jpg 3\n000003.jpg 1\n");
    expect_error([&] { data::read_celeba(root, data::Split::all); },
                 {"list_eval_partition.txt:2", "partition 3"});
  }
  {
    TempDir dir;
    const std::string root = make_celeba(dir);
    fs::remove(root + "/img_align_celeba/000003.jpg");
    EXPECT_EQ(data::read_celeba(root, data::Split::train).samples.size(), 4u);  // not checked
    expect_error([&] { data::read_celeba(root, data::Split::val); },
                 {"image file " + root + "/img_align_celeba/000003.jpg"});
  }
}

// ---- LFW -------------------------------------------------------------------------

TEST(Lfw, PeopleAreSortedClasses) {
  TempDir dir;
  data::SampleSet set = data::read_lfw(make_lfw(dir));
  EXPECT_EQ(labels_of(set), (std::vector<int64_t>{1, 1, 2, 2, 3, 3, 4, 4}));
  EXPECT_EQ(files_of(set),
            (std::vector<std::string>{"Aaron_Peirsol_0001.jpg", "Aaron_Peirsol_0002.jpg",
                                      "Abel_Pacheco_0001.jpg", "Abel_Pacheco_0002.jpg",
                                      "Yao_Ming_0001.jpg", "Yao_Ming_0002.jpg", "Zico_0001.jpg",
                                      "Zico_0002.jpg"}));
}

TEST(Lfw, PairsInBothHeaderFormats) {
  TempDir dir;
  const std::string root = make_lfw(dir);
  const std::string pairs = dir.file("pairs.txt");
  // 2 folds of 1 matched and 1 mismatched pair.
  write_text(pairs,
             "2\t1\nZico\t1\t2\nAaron_Peirsol\t1\tAbel_Pacheco\t1\n"
             "Aaron_Peirsol\t1\t2\nZico\t2\tAbel_Pacheco\t1\n");
  std::vector<data::LfwPair> p = data::read_lfw_pairs(pairs, root);
  ASSERT_EQ(p.size(), 4u);
  EXPECT_TRUE(p[0].same);
  EXPECT_EQ(p[0].path_a, root + "/Zico/Zico_0001.jpg");
  EXPECT_EQ(p[0].path_b, root + "/Zico/Zico_0002.jpg");
  EXPECT_EQ(p[0].fold, 0);
  EXPECT_FALSE(p[1].same);
  EXPECT_EQ(p[1].path_b, root + "/Abel_Pacheco/Abel_Pacheco_0001.jpg");
  EXPECT_EQ(p[2].fold, 1);
  EXPECT_EQ(p[3].fold, 1);
  EXPECT_FALSE(p[3].same);

  // pairsDevTrain.txt style: one count, one fold.
  write_text(pairs, "1\nZico 1 2\nZico 1 Abel_Pacheco 1\n");
  p = data::read_lfw_pairs(pairs, root);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[1].fold, 0);

  write_text(pairs, "2\nZico 1 2\nZico 1 Abel_Pacheco 1\n");
  expect_error([&] { data::read_lfw_pairs(pairs, root); },
               {pairs, "promises 4 pairs but the file holds 2"});
  write_text(pairs, "1\nZico 1\nZico 1 Abel_Pacheco 1\n");
  expect_error([&] { data::read_lfw_pairs(pairs, root); }, {pairs + ":2", "got 2 fields"});
  write_text(pairs, "1\nZico 1 3\nZico 1 Abel_Pacheco 1\n");
  expect_error([&] { data::read_lfw_pairs(pairs, root); },
               {"image file " + root + "/Zico/Zico_0003.jpg", pairs + ":2"});
}

// ---- CSV manifests -----------------------------------------------------------------

TEST(CsvManifest, ColumnsSplitsAndQuoting) {
  TempDir dir;
  const std::string manifest = make_csv_manifest(dir);
  data::SampleSet all = data::read_csv_manifest(manifest);
  EXPECT_EQ(all.name, "csv:" + manifest);
  EXPECT_EQ(labels_of(all), (std::vector<int64_t>{3, 5, 3, 7, 7, 5, 8, 8}));
  EXPECT_EQ(all.attribute_names, (std::vector<std::string>{"tone", "age"}));
  // tone by sorted value: dark 0, light 1, medium 2; age stays an integer.
  EXPECT_EQ(all.samples[0].attributes, (std::vector<int64_t>{0, 30}));
  EXPECT_EQ(all.samples[1].attributes, (std::vector<int64_t>{1, 41}));
  EXPECT_EQ(all.samples[3].attributes, (std::vector<int64_t>{2, 52}));
  EXPECT_EQ(all.samples[1].path, dir.file("set/images/b, with comma.png"));
  EXPECT_EQ(all.samples[2].path, dir.file("set/images/c \"quoted\".png"));
  EXPECT_EQ(all.samples[3].path, dir.file("abs.png"));

  data::SampleSet test = data::read_csv_manifest(manifest, {.split = "test"});
  EXPECT_EQ(test.name, "csv:" + manifest + " test");
  EXPECT_EQ(labels_of(test), (std::vector<int64_t>{5, 5, 8, 8}));
  EXPECT_EQ(test.samples[0].attributes, (std::vector<int64_t>{1, 41}));  // codes of the whole file
}

TEST(CsvManifest, StringLabelsAndMultilineFields) {
  TempDir dir;
  const std::string manifest = dir.file("m.csv");
  write_text(manifest, "label,path\nwren,a.png\nalbatross,\"b\nlong.png\"\nwren,c.png\n");
  data::SampleSet set = data::read_csv_manifest(manifest, {.check_files = false});
  EXPECT_EQ(labels_of(set), (std::vector<int64_t>{1, 0, 1}));
  EXPECT_TRUE(set.attribute_names.empty());
  EXPECT_EQ(set.samples[1].path, dir.file("b\nlong.png"));
  EXPECT_EQ(set.samples[2].path, dir.file("c.png"));
  // A name is shown on one line: a line break in a label is refused.
  write_text(manifest, "label,path\nwren,a.png\n\"albatross\nlong\",b.png\n");
  expect_error(
      [&] { data::read_csv_manifest(manifest, {.check_files = false}); },
      {manifest + ":3", "value 'albatross\\x0Along' in column 'label' holds a line break"});
}

TEST(CsvManifest, BadManifestsNameTheLine) {
  TempDir dir;
  const std::string m = dir.file("m.csv");
  auto read = [&](const data::CsvManifestOptions& o) { data::read_csv_manifest(m, o); };
  const data::CsvManifestOptions unchecked{.check_files = false};
  write_text(m, "path,class\na.png,1\n");
  expect_error([&] { read(unchecked); }, {m + ":1", "'path' and a 'label' column"});
  write_text(m, "path,label\na.png,1\nb.png\n");
  expect_error([&] { read(unchecked); }, {m + ":3", "expected 2 fields", "got 1"});
  write_text(m, "path,label\na\"b.png,1\n");
  expect_error([&] { read(unchecked); }, {m + ":2", "quote inside an unquoted field"});
  write_text(m, "path,label\n\"a.png\"x,1\n");
  expect_error([&] { read(unchecked); }, {m + ":2", "text after a closing quote"});
  write_text(m, "path,label\na.png,1\n\"b.png,2\n");
  expect_error([&] { read(unchecked); }, {m + ":3", "never closed"});
  write_text(m, "path,label\na.png,\n");
  expect_error([&] { read(unchecked); }, {m + ":2", "empty value in column 'label'"});
  write_text(m, "path,label,label\na.png,1,2\n");
  expect_error([&] { read(unchecked); }, {"column 'label' is named twice"});
  write_text(m, "path,label\na.png,1\n");
  expect_error([&] { read({.check_files = false, .split = "train"}); }, {"no 'split' column"});
  write_text(m, "path,label,split\na.png,1,train\nb.png,2,test\n");
  expect_error([&] { read({.check_files = false, .split = "tset"}); },
               {"no row of split 'tset'", "its splits are: test, train"});

  write_text(m, "path,label\na.png,1\n");
  expect_error([&] { read({}); }, {"image file " + dir.file("a.png"), m + ":2"});
  write_text(m, "path,label\n");
  expect_error([&] { read(unchecked); }, {"lists no images, only a header"});
  expect_error([&] { data::read_csv_manifest(dir.file("none.csv")); },
               {"cannot open CSV manifest", dir.file("none.csv")});
}

TEST(CsvManifest, StringColumnsNameTheirCodes) {
  TempDir dir;
  data::SampleSet all = data::read_csv_manifest(make_csv_manifest(dir));
  EXPECT_TRUE(all.class_names.empty());  // integer labels are their own names
  ASSERT_EQ(all.attribute_values.size(), 2u);
  EXPECT_EQ(all.attribute_values[0], (data::ValueNames{{0, "dark"}, {1, "light"}, {2, "medium"}}));
  EXPECT_TRUE(all.attribute_values[1].empty());
  EXPECT_EQ(data::value_name(all.attribute_values[1], 41), "41");
  // Subsets keep the names, with their attributes.
  const data::SampleSet picked = data::select_attributes(all, {"age", "tone"});
  EXPECT_TRUE(picked.attribute_values[0].empty());
  EXPECT_EQ(picked.attribute_values[1], all.attribute_values[0]);
  EXPECT_EQ(data::select_classes(all, {5, 7}, "x").attribute_values, all.attribute_values);

  const std::string manifest = dir.file("m.csv");
  write_text(manifest,
             "label,path,group\nwren,a.png,\"<b>&\"\n\"albatross, long\",b.png,\"x\"\"y\"\n");
  data::SampleSet set = data::read_csv_manifest(manifest, {.check_files = false});
  EXPECT_EQ(set.class_names, (data::ValueNames{{0, "albatross, long"}, {1, "wren"}}));
  EXPECT_EQ(set.attribute_values[0], (data::ValueNames{{0, "<b>&"}, {1, "x\"y"}}));
}

TEST(CsvManifest, NamesMustBeUtf8AndDistinctBeyondSpaces) {
  TempDir dir;
  const std::string m = dir.file("m.csv");
  const data::CsvManifestOptions unchecked{.check_files = false};
  write_text(m, "path,label,tone\na.png,1,dark\nb.png,2,caf\xE9\n");  // Latin-1
  expect_error([&] { data::read_csv_manifest(m, unchecked); },
               {m + ":3", "'caf\\xE9' of column 'tone' is not valid UTF-8"});
  write_text(m, "path,label,t\xF6ne\na.png,1,0\n");
  expect_error([&] { data::read_csv_manifest(m, unchecked); },
               {m + ":1", "('t\\xF6ne') is not valid UTF-8"});
  write_text(m, "path,label,tone\na.png,1,dark\nb.png,2, dark\n");
  expect_error([&] { data::read_csv_manifest(m, unchecked); },
               {m + ":3",
                "' dark' in column 'tone' differs from 'dark' (line 2) only in "
                "surrounding spaces"});
  write_text(m, "path,label,tone\na.png,1,caf\xC3\xA9\nb.png,2,\xE2\x82\xAC\n");
  EXPECT_EQ(data::read_csv_manifest(m, unchecked).attribute_values[0],
            (data::ValueNames{{0, "caf\xC3\xA9"}, {1, "\xE2\x82\xAC"}}));
}

TEST(ValueNames, Utf8Validation) {
  EXPECT_TRUE(data::is_valid_utf8("plain \xC3\xA9 \xF0\x9F\x98\x80"));
  EXPECT_FALSE(data::is_valid_utf8("\xC3"));              // truncated
  EXPECT_FALSE(data::is_valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(data::is_valid_utf8("\xED\xA0\x80"));      // a surrogate
  EXPECT_FALSE(data::is_valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(data::is_valid_utf8("\x80"));
  EXPECT_EQ(data::escape_bytes("a\xE9\n"), "a\\xE9\\x0A");
}

TEST(ClassFolders, FolderNamesNameTheClasses) {
  TempDir dir;
  const std::string root = make_lfw(dir);
  data::SampleSet set = data::read_lfw(root);
  EXPECT_EQ(
      set.class_names,
      (data::ValueNames{{1, "Aaron_Peirsol"}, {2, "Abel_Pacheco"}, {3, "Yao_Ming"}, {4, "Zico"}}));
  fs::create_directories(root + "/Zico ");
  touch(root + "/Zico /x.jpg");
  expect_error([&] { data::read_lfw(root); },
               {"class folders 'Zico' and 'Zico '", "differ only in surrounding spaces"});
  fs::remove_all(root + "/Zico ");
  fs::create_directories(root + "/Bad\xFFName");
  touch(root + "/Bad\xFFName/x.jpg");
  expect_error([&] { data::read_lfw(root); }, {"Bad\\xFFName", "not valid UTF-8"});
}

TEST(Celeba, PresenceAttributesAreNamedNoAndYes) {
  TempDir dir;
  const std::string root = make_celeba(dir);
  data::SampleSet set = data::read_celeba(root, data::Split::train);
  ASSERT_EQ(set.attribute_values.size(), set.attribute_names.size());
  for (const data::ValueNames& names : set.attribute_values)
    EXPECT_EQ(names, (data::ValueNames{{0, "no"}, {1, "yes"}}));
  write_text(root + "/list_attr_celeba.txt",
             "3\nA B\xE9 C\n000001.jpg -1 1 1\n000002.jpg 1 1 -1\n000003.jpg -1 -1 1\n");
  expect_error([&] { data::read_celeba(root, data::Split::all); },
               {"list_attr_celeba.txt:2", "attribute name 'B\\xE9' is not valid UTF-8"});
  TempDir cub;
  const data::SampleSet birds = data::read_cub200(make_cub200(cub, {1, 1, 101}), data::Split::all,
                                                  {.attributes = {"has_wing_color::blue"}});
  ASSERT_EQ(birds.attribute_values.size(), 1u);
  EXPECT_EQ(birds.attribute_values[0], data::yes_no_names());
}

// ---- Fashion-MNIST as samples, and subsets --------------------------------------------

TEST(FashionMnistSamples, ClassFilterKeepsOnlyThoseImagesInMemory) {
  TempDir dir;
  const int n = 5, plane = 28 * 28;
  std::vector<unsigned char> pixels(size_t(n * plane));
  for (int i = 0; i < n; ++i) {
    std::fill_n(pixels.begin() + i * plane, plane, (unsigned char)(10 * i));
    pixels[size_t(i * plane + 1)] = 200;  // one distinct pixel per image
  }
  write_fashion_mnist(dir.file(""), "train", {3, 7, 3, 0, 9}, pixels);

  data::SampleSet set = data::read_fashion_mnist_samples(dir.file(""), data::Split::train, {9, 3});
  EXPECT_EQ(set.name, "fashion-mnist train classes 9,3");
  EXPECT_EQ(set.class_names, (data::ValueNames{{3, "Dress"}, {9, "Ankle boot"}}));
  EXPECT_EQ(labels_of(set), (std::vector<int64_t>{3, 3, 9}));
  EXPECT_EQ(set.pixels.shape(), (dml::Shape{3, 28, 28}));
  const std::vector<int> source_row = {0, 2, 4};
  for (size_t k = 0; k < 3; ++k) {
    const data::Sample& s = set.samples[k];
    EXPECT_TRUE(s.path.empty());
    EXPECT_EQ(s.pixel_row, int64_t(k));
    data::Image image = data::image_of(set, s);
    EXPECT_EQ(image.height, 28);
    EXPECT_EQ(image.channels, 1);
    EXPECT_EQ(image.at(0, 0, 0), 10 * source_row[k]);
    EXPECT_EQ(image.at(0, 1, 0), 200);
    EXPECT_EQ(data::image_of(set, s, 3).at(27, 27, 2), 10 * source_row[k]);
  }
  EXPECT_EQ(data::read_fashion_mnist_samples(dir.file(""), data::Split::train).samples.size(), 5u);
  expect_error([&] { data::read_fashion_mnist_samples(dir.file(""), data::Split::train, {10}); },
               {"class 10 is not a class in [0, 10)"});
  expect_error([&] { data::read_fashion_mnist_samples(dir.file(""), data::Split::val); },
               {"has no split 'val'"});
}

TEST(Subset, LabelsAndAttributes) {
  data::SampleSet set;
  set.name = "toy";
  set.attribute_names = {"a", "b", "c"};
  for (int64_t label : {4, 1, 4, 2}) set.samples.push_back({"", label, label, {label, 10, 20}, {}});
  set.pixels = dml::zeros({4, 2, 2}, dml::DType::u8);
  data::SampleSet some = data::select_labels(set, {4, 2}, "toy 4,2");
  EXPECT_EQ(labels_of(some), (std::vector<int64_t>{4, 4, 2}));
  EXPECT_TRUE(some.pixels.same(set.pixels));  // shared, rows keep their numbers
  EXPECT_EQ(some.samples[2].pixel_row, 2);
  EXPECT_EQ(labels_of(data::select_classes(set, {2, 4}, "2-4")), (std::vector<int64_t>{4, 4, 2}));
  expect_error([&] { data::select_classes(set, {3, 2}, "x"); }, {"empty class range [3, 2]"});
  const data::ClassSplit halves{{1, 2}, {3, 4}};
  data::SampleSet test = data::select_split(set, data::Split::test, halves, "toy");
  EXPECT_EQ(test.name, "toy test");
  EXPECT_EQ(labels_of(test), (std::vector<int64_t>{4, 4}));
  EXPECT_EQ(data::select_split(set, data::Split::all, halves, "toy").samples.size(), 4u);
  expect_error([&] { data::select_split(set, data::Split::query, halves, "toy"); },
               {"toy has no split 'query'; use train, test or all"});

  data::SampleSet picked = data::select_attributes(set, {"c", "a"});
  EXPECT_EQ(picked.attribute_names, (std::vector<std::string>{"c", "a"}));
  EXPECT_EQ(picked.samples[1].attributes, (std::vector<int64_t>{20, 1}));
  expect_error([&] { data::select_attributes(set, {"skin"}); },
               {"toy has no attribute 'skin'", "a, b, c"});
}

}  // namespace
