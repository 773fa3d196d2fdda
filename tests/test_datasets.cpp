// The dataset readers on tiny copies of each published layout that the tests
// write themselves: good lists read back as the right samples and standard
// splits; every kind of bad input throws a dml::Error whose one line names
// the file (and line) and says what is wrong.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "dml/data/cars196.h"
#include "dml/data/celeba.h"
#include "dml/data/csv_manifest.h"
#include "dml/data/cub200.h"
#include "dml/data/fashion_mnist.h"
#include "dml/data/idx.h"
#include "dml/data/inshop.h"
#include "dml/data/lfw.h"
#include "dml/data/online_products.h"
#include "dml/data/subset.h"
#include "tests/image_files.h"
#include "tests/test_support.h"

namespace {

namespace fs = std::filesystem;
namespace data = dml::data;
using dml::test::expect_error;
using dml::test::TempDir;
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

// root/CUB_200_2011 with four images of classes 1, 100, 101 and 200, and
// attributes.txt beside the folder as the archive ships it.
struct CubFixture {
  TempDir dir;
  std::string root = dir.file("CUB_200_2011");
  CubFixture() {
    write_text(root + "/images.txt",
               "1 001.Albatross/a_1.jpg\n2 100.Pelican/p_2.jpg\n"
               "3 101.Plover/w_3.jpg\n4 200.Wren/w_4.jpg\n");
    write_text(root + "/image_class_labels.txt", "1 1\n2 100\n3 101\n4 200\n");
    write_text(root + "/bounding_boxes.txt",
               "1 1.0 2.0 30.0 40.0\n2 0 0 5 6\n3 2.5 3.5 4 4\n4 7 8 9 10\n");
    std::string rows;
    for (int image = 1; image <= 4; ++image)
      for (int attribute = 1; attribute <= 3; ++attribute)
        rows += std::to_string(image) + " " + std::to_string(attribute) + " " +
                std::to_string((image + attribute) % 2) + " 3 " +
                (image == 2 && attribute == 3 ? "0 11.5\n" : "12.5\n");
    write_text(root + "/attributes/image_attribute_labels.txt", rows);
    write_text(dir.file("attributes.txt"),
               "1 has_bill_shape::curved_(up_or_down)\n2 has_wing_color::blue\n"
               "3 has_size::small_(5_-_9_in)\n");
    for (const char* f :
         {"001.Albatross/a_1.jpg", "100.Pelican/p_2.jpg", "101.Plover/w_3.jpg", "200.Wren/w_4.jpg"})
      touch(root + "/images/" + f);
  }
};

TEST(Cub200, StandardSplitsSelectTheClassRanges) {
  CubFixture cub;
  data::SampleSet train = data::read_cub200(cub.root, data::Split::train);
  EXPECT_EQ(train.name, "cub200 train");
  EXPECT_EQ(labels_of(train), (std::vector<int64_t>{1, 100}));
  EXPECT_EQ(labels_of(data::read_cub200(cub.root, data::Split::test)),
            (std::vector<int64_t>{101, 200}));
  data::SampleSet all = data::read_cub200(cub.root, data::Split::all);
  EXPECT_EQ(labels_of(all), (std::vector<int64_t>{1, 100, 101, 200}));
  EXPECT_EQ(all.samples[0].path, cub.root + "/images/001.Albatross/a_1.jpg");
  EXPECT_TRUE(all.attribute_names.empty());
  ASSERT_TRUE(all.samples[2].box.has_value());
  EXPECT_FLOAT_EQ(all.samples[2].box->x, 2.5f);
  EXPECT_FLOAT_EQ(all.samples[2].box->y, 3.5f);
  EXPECT_FLOAT_EQ(all.samples[2].box->width, 4.0f);
  EXPECT_FLOAT_EQ(all.samples[0].box->height, 40.0f);
  EXPECT_FALSE(data::read_cub200(cub.root, data::Split::all, {.boxes = false}).samples[0].box);
  expect_error([&] { data::read_cub200(cub.root, data::Split::val); },
               {"CUB-200-2011 has no split 'val'"});
}

TEST(Cub200, ChosenAttributesLoadInTheOrderAsked) {
  CubFixture cub;
  data::SampleSet set = data::read_cub200(
      cub.root, data::Split::all,
      {.attributes = {"has_size::small_(5_-_9_in)", "has_bill_shape::curved_(up_or_down)"}});
  EXPECT_EQ(set.attribute_names, (std::vector<std::string>{"has_size::small_(5_-_9_in)",
                                                           "has_bill_shape::curved_(up_or_down)"}));
  // is_present = (image + attribute) % 2.
  for (int image = 1; image <= 4; ++image)
    EXPECT_EQ(set.samples[size_t(image - 1)].attributes,
              (std::vector<int64_t>{(image + 3) % 2, (image + 1) % 2}));
  expect_error([&] { data::read_cub200(cub.root, data::Split::all, {.attributes = {"has_beak"}}); },
               {"no attribute named 'has_beak'", "attributes.txt"});
}

TEST(Cub200, BadListsNameTheFileAndLine) {
  {
    CubFixture cub;
    fs::remove(cub.root + "/images.txt");
    expect_error([&] { data::read_cub200(cub.root, data::Split::all); },
                 {"cannot open CUB-200-2011", cub.root + "/images.txt"});
  }
  {
    CubFixture cub;
    write_text(cub.root + "/images.txt", "\n");
    expect_error([&] { data::read_cub200(cub.root, data::Split::all); },
                 {cub.root + "/images.txt", "lists no images"});
  }
  {
    CubFixture cub;
    fs::remove(cub.root + "/image_class_labels.txt");
    fs::create_directories(cub.root + "/image_class_labels.txt");
    expect_error([&] { data::read_cub200(cub.root, data::Split::all); },
                 {"image_class_labels.txt: it is a folder"});
  }
  {
    CubFixture cub;
    write_text(cub.root + "/images.txt", "1 001.Albatross/a_1.jpg\n2\n");
    expect_error([&] { data::read_cub200(cub.root, data::Split::all); },
                 {cub.root + "/images.txt:2", "expected 2 fields"});
  }
  {
    CubFixture cub;
    write_text(cub.root + "/image_class_labels.txt", "1 1\n2 100\n3 x\n4 200\n");
    expect_error([&] { data::read_cub200(cub.root, data::Split::all); },
                 {"image_class_labels.txt:3", "class id 'x' is not an integer"});
  }
  {
    CubFixture cub;
    write_text(cub.root + "/image_class_labels.txt", "1 1\n2 100\n3 201\n4 200\n");
    expect_error([&] { data::read_cub200(cub.root, data::Split::all); },
                 {"image_class_labels.txt:3", "class id 201 is not a CUB-200-2011 class"});
  }
  {
    CubFixture cub;
    write_text(cub.root + "/bounding_boxes.txt", "1 1 2 3 4\n2 0 0 5 6\n4 7 8 9 10\n");
    expect_error([&] { data::read_cub200(cub.root, data::Split::all); },
                 {"bounding_boxes.txt", "no line for image 3"});
  }
  {
    CubFixture cub;
    write_text(cub.root + "/image_class_labels.txt", "1 1\n2 100\n3 101\n4 200\n9 5\n");
    expect_error([&] { data::read_cub200(cub.root, data::Split::all); },
                 {"image_class_labels.txt:5", "image 9 is not in", "images.txt"});
  }
  {
    CubFixture cub;
    write_text(cub.root + "/image_class_labels.txt", "1 1\n2 100\n2 100\n3 101\n4 200\n");
    expect_error([&] { data::read_cub200(cub.root, data::Split::all); },
                 {"image_class_labels.txt:3", "image 2 is listed twice"});
  }
  {
    CubFixture cub;
    write_text(cub.root + "/attributes/image_attribute_labels.txt", "1 1 0 3 1.0\n");
    expect_error(
        [&] {
          data::read_cub200(cub.root, data::Split::all,
                            {.attributes = {"has_bill_shape::curved_(up_or_down)"}});
        },
        {"image_attribute_labels.txt", "no row for image 2"});
  }
}

TEST(Cub200, MissingImageFilesAreFoundUnlessTurnedOff) {
  CubFixture cub;
  const std::string missing = cub.root + "/images/101.Plover/w_3.jpg";
  fs::remove(missing);
  expect_error([&] { data::read_cub200(cub.root, data::Split::all); },
               {"image file " + missing, "images.txt:3", "check_files"});
  EXPECT_EQ(data::read_cub200(cub.root, data::Split::all, {.check_files = false}).samples.size(),
            4u);
}

// ---- Cars196 ---------------------------------------------------------------

std::string fixture_mat(const std::string& name) {
  return std::string(DML_SOURCE_DIR) + "/tests/golden/fixtures/" + name;
}

// root/cars_annos.mat (the committed fixture, see make_mat_fixtures.py) with
// its five images.
std::string make_cars_devkit(const TempDir& dir, const std::string& fixture) {
  const std::string root = dir.file("cars");
  fs::create_directories(root + "/car_ims");
  fs::copy_file(fixture_mat(fixture), root + "/cars_annos.mat");
  for (int i = 1; i <= 5; ++i) touch(root + "/car_ims/00000" + std::to_string(i) + ".jpg");
  return root;
}

TEST(Cars196, DevkitAnnotationsPlainAndCompressed) {
  for (const char* fixture : {"cars_annos_plain.mat", "cars_annos_compressed.mat"}) {
    SCOPED_TRACE(fixture);
    TempDir dir;
    const std::string root = make_cars_devkit(dir, fixture);
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
  const std::string root = make_cars_devkit(dir, "cars_annos_compressed.mat");
  fs::remove(root + "/car_ims/000004.jpg");
  expect_error([&] { data::read_cars196_devkit(root, data::Split::all); },
               {"image file " + root + "/car_ims/000004.jpg", "annotations(4)"});
  EXPECT_EQ(
      data::read_cars196_devkit(root, data::Split::all, {.check_files = false}).samples.size(), 5u);
  fs::remove(root + "/cars_annos.mat");
  expect_error([&] { data::read_cars196_devkit(root, data::Split::all); },
               {"cannot open MAT file", root + "/cars_annos.mat"});
  fs::copy_file(fixture_mat("mat_types.mat"), root + "/cars_annos.mat");
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
  const std::string root = dir.file("Stanford_Online_Products");
  write_text(root + "/Ebay_train.txt",
             "image_id class_id super_class_id path\n"
             "1 1 1 bicycle_final/111085122871_0.JPG\n"
             "2 1 1 bicycle_final/111085122871_1.JPG\n"
             "3 2 5 chair_final/222_0.JPG\n");
  write_text(root + "/Ebay_test.txt",
             "image_id class_id super_class_id path\r\n4 11319 12 toaster_final/9_0.JPG\r\n");
  for (const char* f : {"bicycle_final/111085122871_0.JPG", "bicycle_final/111085122871_1.JPG",
                        "chair_final/222_0.JPG", "toaster_final/9_0.JPG"})
    touch(root + "/" + f);
  data::SampleSet train = data::read_online_products(root, data::Split::train);
  EXPECT_EQ(labels_of(train), (std::vector<int64_t>{1, 1, 2}));
  EXPECT_EQ(train.attribute_names, (std::vector<std::string>{"super_class"}));
  EXPECT_EQ(train.samples[2].attributes, (std::vector<int64_t>{5}));
  EXPECT_EQ(train.samples[2].path, root + "/chair_final/222_0.JPG");
  data::SampleSet test = data::read_online_products(root, data::Split::test);
  ASSERT_EQ(test.samples.size(), 1u);
  EXPECT_EQ(test.samples[0].label, 11319);
  EXPECT_EQ(test.samples[0].attributes, (std::vector<int64_t>{12}));
  EXPECT_EQ(data::read_online_products(root, data::Split::all).samples.size(), 4u);

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
  const std::string root = dir.file("inshop");
  const std::string list = root + "/list_eval_partition.txt";
  write_text(list,
             "4\nimage_name item_id evaluation_status\n"
             "img/WOMEN/Dresses/id_00000002/02_1_front.jpg id_00000002 train\n"
             "img/MEN/Denim/id_00000080/01_1_front.jpg     id_00000080 query\n"
             "img/MEN/Denim/id_00000080/01_2_side.jpg      id_00000080 gallery\n"
             "img/WOMEN/Dresses/id_00000002/02_2_side.jpg  id_00000002 train\n");
  for (const char* f :
       {"img/WOMEN/Dresses/id_00000002/02_1_front.jpg", "img/MEN/Denim/id_00000080/01_1_front.jpg",
        "img/MEN/Denim/id_00000080/01_2_side.jpg", "img/WOMEN/Dresses/id_00000002/02_2_side.jpg"})
    touch(root + "/" + f);
  EXPECT_EQ(labels_of(data::read_inshop(root, data::Split::train)), (std::vector<int64_t>{2, 2}));
  data::SampleSet query = data::read_inshop(root, data::Split::query);
  ASSERT_EQ(query.samples.size(), 1u);
  EXPECT_EQ(query.samples[0].label, 80);
  EXPECT_EQ(query.samples[0].path, root + "/img/MEN/Denim/id_00000080/01_1_front.jpg");
  EXPECT_EQ(files_of(data::read_inshop(root, data::Split::gallery)),
            (std::vector<std::string>{"01_2_side.jpg"}));
  EXPECT_EQ(data::read_inshop(root, data::Split::all).samples.size(), 4u);
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

struct CelebaFixture {
  TempDir dir;
  std::string root = dir.file("celeba");
  CelebaFixture() {
    write_text(root + "/identity_CelebA.txt",
               "000001.jpg 2880\n000002.jpg 2937\n000003.jpg 8692\n");
    write_text(root + "/list_attr_celeba.txt",
               "3\n5_o_Clock_Shadow Male Pale_Skin \n"
               "000001.jpg -1  1  1\n000002.jpg  1 -1 -1\n000003.jpg -1 -1  1\n");
    write_text(root + "/list_eval_partition.txt", "000001.jpg 0\n000002.jpg 2\n000003.jpg 1\n");
    for (const char* f : {"000001.jpg", "000002.jpg", "000003.jpg"})
      touch(root + "/img_align_celeba/" + f);
  }
};

TEST(CelebA, PartitionsIdentitiesAndAttributes) {
  CelebaFixture c;
  data::SampleSet all = data::read_celeba(c.root, data::Split::all);
  EXPECT_EQ(labels_of(all), (std::vector<int64_t>{2880, 2937, 8692}));
  EXPECT_EQ(all.attribute_names,
            (std::vector<std::string>{"5_o_Clock_Shadow", "Male", "Pale_Skin"}));
  EXPECT_EQ(all.samples[0].attributes, (std::vector<int64_t>{0, 1, 1}));
  EXPECT_EQ(all.samples[1].attributes, (std::vector<int64_t>{1, 0, 0}));
  EXPECT_EQ(all.samples[0].path, c.root + "/img_align_celeba/000001.jpg");
  EXPECT_EQ(labels_of(data::read_celeba(c.root, data::Split::train)), (std::vector<int64_t>{2880}));
  EXPECT_EQ(labels_of(data::read_celeba(c.root, data::Split::val)), (std::vector<int64_t>{8692}));
  EXPECT_EQ(labels_of(data::read_celeba(c.root, data::Split::test)), (std::vector<int64_t>{2937}));
}

TEST(CelebA, ListsInTheOriginalSubfolders) {
  CelebaFixture c;
  fs::create_directories(c.root + "/Anno");
  fs::create_directories(c.root + "/Eval");
  fs::rename(c.root + "/list_attr_celeba.txt", c.root + "/Anno/list_attr_celeba.txt");
  fs::rename(c.root + "/list_eval_partition.txt", c.root + "/Eval/list_eval_partition.txt");
  EXPECT_EQ(data::read_celeba(c.root, data::Split::all).samples.size(), 3u);
}

TEST(CelebA, MismatchedListsThrow) {
  {
    CelebaFixture c;
    write_text(c.root + "/list_eval_partition.txt", "000001.jpg 0\n000003.jpg 1\n");
    expect_error([&] { data::read_celeba(c.root, data::Split::all); },
                 {"list_eval_partition.txt", "no line for image 000002.jpg"});
  }
  {
    CelebaFixture c;
    write_text(c.root + "/list_attr_celeba.txt",
               "3\nA B C\n000001.jpg -1 1 1\n000002.jpg 1 0 -1\n000003.jpg -1 -1 1\n");
    expect_error([&] { data::read_celeba(c.root, data::Split::all); },
                 {"list_attr_celeba.txt:4", "B is 0; expected 1 or -1"});
  }
  {
    CelebaFixture c;
    write_text(c.root + "/list_attr_celeba.txt",
               "3\nA B C\n000001.jpg -1 1 1\n000002.jpg 1 -1\n000003.jpg -1 -1 1\n");
    expect_error([&] { data::read_celeba(c.root, data::Split::all); },
                 {"list_attr_celeba.txt:4", "expected the file name and 3 attribute values"});
  }
  {
    CelebaFixture c;
    write_text(c.root + "/list_eval_partition.txt", "000001.jpg 0\n000002.jpg 3\n000003.jpg 1\n");
    expect_error([&] { data::read_celeba(c.root, data::Split::all); },
                 {"list_eval_partition.txt:2", "partition 3"});
  }
  {
    CelebaFixture c;
    fs::remove(c.root + "/img_align_celeba/000003.jpg");
    EXPECT_EQ(data::read_celeba(c.root, data::Split::train).samples.size(), 1u);  // not checked
    expect_error([&] { data::read_celeba(c.root, data::Split::val); },
                 {"image file " + c.root + "/img_align_celeba/000003.jpg"});
  }
}

// ---- LFW -------------------------------------------------------------------------

std::string make_lfw(const TempDir& dir) {
  const std::string root = dir.file("lfw");
  for (const char* f :
       {"Zico/Zico_0001.jpg", "Zico/Zico_0002.jpg", "Aaron_Peirsol/Aaron_Peirsol_0001.jpg",
        "Aaron_Peirsol/Aaron_Peirsol_0002.jpg", "Abel_Pacheco/Abel_Pacheco_0001.jpg"})
    touch(root + "/" + f);
  return root;
}

TEST(Lfw, PeopleAreSortedClasses) {
  TempDir dir;
  data::SampleSet set = data::read_lfw(make_lfw(dir));
  EXPECT_EQ(labels_of(set), (std::vector<int64_t>{1, 1, 2, 3, 3}));
  EXPECT_EQ(files_of(set),
            (std::vector<std::string>{"Aaron_Peirsol_0001.jpg", "Aaron_Peirsol_0002.jpg",
                                      "Abel_Pacheco_0001.jpg", "Zico_0001.jpg", "Zico_0002.jpg"}));
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
  const std::string manifest = dir.file("set/manifest.csv");
  write_text(manifest,
             "\xEF\xBB\xBFpath,label,tone,age,split\r\n"
             "images/a.png,3,dark,30,train\r\n"
             "\"images/b, with comma.png\",5,light,41,test\r\n"
             "\r\n"
             "\"images/c \"\"quoted\"\".png\",3,\"dark\",30,train\r\n" +
                 dir.file("abs.png") + ",7,medium,52,train\r\n");
  for (const char* f : {"set/images/a.png", "set/images/b, with comma.png",
                        "set/images/c \"quoted\".png", "abs.png"})
    touch(dir.file(f));
  data::SampleSet all = data::read_csv_manifest(manifest);
  EXPECT_EQ(all.name, "csv:" + manifest);
  EXPECT_EQ(labels_of(all), (std::vector<int64_t>{3, 5, 3, 7}));
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
  ASSERT_EQ(test.samples.size(), 1u);
  EXPECT_EQ(test.samples[0].attributes, (std::vector<int64_t>{1, 41}));  // codes of the whole file
}

TEST(CsvManifest, StringLabelsAndMultilineFields) {
  TempDir dir;
  const std::string manifest = dir.file("m.csv");
  write_text(manifest, "label,path\nwren,a.png\n\"albatross\nlong\",b.png\nwren,c.png\n");
  data::SampleSet set = data::read_csv_manifest(manifest, {.check_files = false});
  EXPECT_EQ(labels_of(set), (std::vector<int64_t>{1, 0, 1}));
  EXPECT_TRUE(set.attribute_names.empty());
  EXPECT_EQ(set.samples[2].path, dir.file("c.png"));
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

// ---- Fashion-MNIST as samples, and subsets --------------------------------------------

void write_gzip(const std::string& path, const std::vector<unsigned char>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr) << path;
  ASSERT_EQ(gzwrite(f, bytes.data(), unsigned(bytes.size())), int(bytes.size()));
  ASSERT_EQ(gzclose(f), Z_OK);
}

std::vector<unsigned char> idx_file(uint32_t magic, const std::vector<uint32_t>& dims,
                                    const std::vector<unsigned char>& body) {
  std::vector<unsigned char> out;
  auto be32 = [&](uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back((unsigned char)(v >> shift));
  };
  be32(magic);
  for (uint32_t d : dims) be32(d);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

TEST(FashionMnistSamples, ClassFilterKeepsOnlyThoseImagesInMemory) {
  TempDir dir;
  const int n = 5, plane = 28 * 28;
  std::vector<unsigned char> pixels(size_t(n * plane));
  for (int i = 0; i < n; ++i) {
    std::fill_n(pixels.begin() + i * plane, plane, (unsigned char)(10 * i));
    pixels[size_t(i * plane + 1)] = 200;  // one distinct pixel per image
  }
  write_gzip(dir.file("train-images-idx3-ubyte.gz"),
             idx_file(data::kIdxImagesMagic, {5, 28, 28}, pixels));
  write_gzip(dir.file("train-labels-idx1-ubyte.gz"),
             idx_file(data::kIdxLabelsMagic, {5}, {3, 7, 3, 0, 9}));

  data::SampleSet set = data::read_fashion_mnist_samples(dir.file(""), data::Split::train, {9, 3});
  EXPECT_EQ(set.name, "fashion-mnist train classes 9,3");
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
