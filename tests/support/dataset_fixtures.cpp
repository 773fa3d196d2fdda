#include "tests/support/dataset_fixtures.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <map>

#include "dml/data/idx.h"
#include "tests/support/image_files.h"

namespace dml::test {

namespace {

namespace fs = std::filesystem;

// "%03d"-style zero padding without printf's buffer handling.
std::string padded(int64_t value, int width) {
  std::string digits = std::to_string(value);
  return std::string(size_t(std::max(0, width - int(digits.size()))), '0') + digits;
}

void write_gzip(const std::string& path, const std::vector<unsigned char>& bytes) {
  fs::create_directories(fs::path(path).parent_path());
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

}  // namespace

data::Image class_image(int64_t label, int64_t index) {
  constexpr int64_t kSize = 12;
  // Well-separated colours for neighbouring labels; 20..219 leaves room for
  // the pattern below.
  const int64_t colour[3] = {label * 67 % 200 + 20, label * 131 % 200 + 20, label * 29 % 200 + 20};
  data::Image image{kSize, kSize, 3, {}};
  for (int64_t y = 0; y < kSize; ++y)
    for (int64_t x = 0; x < kSize; ++x)
      for (int64_t c = 0; c < 3; ++c)
        image.pixels.push_back(uint8_t(colour[c] + (x + 2 * y + index) % 5 * 8));
  return image;
}

void write_class_image(const std::string& path, int64_t label, int64_t index) {
  write_image(path, class_image(label, index));
}

std::string make_cub200(const TempDir& dir, const std::vector<int64_t>& image_classes) {
  const std::string root = dir.file("CUB_200_2011");
  std::string images, labels, boxes, attributes;
  for (size_t i = 1; i <= image_classes.size(); ++i) {
    const int64_t label = image_classes[i - 1];
    const std::string id = std::to_string(i), file = padded(label, 3) + ".Class" +
                                                     std::to_string(label) + "/img_" + id + ".jpg";
    images += id + " " + file + "\n";
    labels += id + " " + std::to_string(label) + "\n";
    boxes += id + " " + std::to_string(double(i) - 0.5) + " " + std::to_string(double(i) + 0.5) +
             " 4 " + std::to_string(10 * i) + "\n";
    for (size_t attribute = 1; attribute <= 3; ++attribute)
      attributes += id + " " + std::to_string(attribute) + " " +
                    std::to_string((i + attribute) % 2) + " 3 " +
                    (i == 2 && attribute == 3 ? "0 11.5\n" : "12.5\n");
    write_class_image(root + "/images/" + file, label, int64_t(i));
  }
  write_text(root + "/images.txt", images);
  write_text(root + "/image_class_labels.txt", labels);
  write_text(root + "/bounding_boxes.txt", boxes);
  write_text(root + "/attributes/image_attribute_labels.txt", attributes);
  write_text(dir.file("attributes.txt"),
             "1 has_bill_shape::curved_(up_or_down)\n2 has_wing_color::blue\n"
             "3 has_size::small_(5_-_9_in)\n");
  return root;
}

std::string golden_fixture(const std::string& name) {
  return std::string(DML_SOURCE_DIR) + "/tests/golden/fixtures/" + name;
}

std::string make_cars_devkit(const TempDir& dir, const std::string& mat,
                             const std::vector<int64_t>& image_classes) {
  const std::string root = dir.file("cars");
  fs::create_directories(root);
  fs::copy_file(golden_fixture(mat), root + "/cars_annos.mat");
  for (size_t i = 1; i <= image_classes.size(); ++i)
    write_class_image(root + "/car_ims/" + padded(int64_t(i), 6) + ".jpg", image_classes[i - 1],
                      int64_t(i));
  return root;
}

std::string make_online_products(const TempDir& dir) {
  const std::string root = dir.file("Stanford_Online_Products");
  write_text(root + "/Ebay_train.txt",
             "image_id class_id super_class_id path\n"
             "1 1 1 bicycle_final/111085122871_0.JPG\n"
             "2 1 1 bicycle_final/111085122871_1.JPG\n"
             "3 2 5 chair_final/222_0.JPG\n"
             "4 2 5 chair_final/222_1.JPG\n");
  write_text(root + "/Ebay_test.txt",
             "image_id class_id super_class_id path\r\n"
             "5 11319 12 toaster_final/9_0.JPG\r\n"
             "6 11319 12 toaster_final/9_1.JPG\r\n"
             "7 11320 12 toaster_final/10_0.JPG\r\n"
             "8 11320 12 toaster_final/10_1.JPG\r\n");
  const std::vector<std::pair<const char*, int64_t>> images = {
      {"bicycle_final/111085122871_0.JPG", 1},
      {"bicycle_final/111085122871_1.JPG", 1},
      {"chair_final/222_0.JPG", 2},
      {"chair_final/222_1.JPG", 2},
      {"toaster_final/9_0.JPG", 11319},
      {"toaster_final/9_1.JPG", 11319},
      {"toaster_final/10_0.JPG", 11320},
      {"toaster_final/10_1.JPG", 11320}};
  for (size_t i = 0; i < images.size(); ++i)
    write_class_image(root + "/" + images[i].first, images[i].second, int64_t(i));
  return root;
}

std::string make_inshop(const TempDir& dir) {
  const std::string root = dir.file("inshop");
  const std::vector<std::pair<const char*, int64_t>> images = {
      {"img/WOMEN/Dresses/id_00000002/02_1_front.jpg", 2},
      {"img/MEN/Denim/id_00000080/01_1_front.jpg", 80},
      {"img/MEN/Denim/id_00000080/01_2_side.jpg", 80},
      {"img/WOMEN/Dresses/id_00000002/02_2_side.jpg", 2},
      {"img/WOMEN/Skirts/id_00000007/07_1_front.jpg", 7},
      {"img/WOMEN/Skirts/id_00000007/07_2_side.jpg", 7},
      {"img/MEN/Shirts/id_00000081/01_1_front.jpg", 81},
      {"img/MEN/Shirts/id_00000081/01_2_side.jpg", 81}};
  write_text(root + "/list_eval_partition.txt",
             "8\nimage_name item_id evaluation_status\n"
             "img/WOMEN/Dresses/id_00000002/02_1_front.jpg id_00000002 train\n"
             "img/MEN/Denim/id_00000080/01_1_front.jpg     id_00000080 query\n"
             "img/MEN/Denim/id_00000080/01_2_side.jpg      id_00000080 gallery\n"
             "img/WOMEN/Dresses/id_00000002/02_2_side.jpg  id_00000002 train\n"
             "img/WOMEN/Skirts/id_00000007/07_1_front.jpg  id_00000007 train\n"
             "img/WOMEN/Skirts/id_00000007/07_2_side.jpg   id_00000007 train\n"
             "img/MEN/Shirts/id_00000081/01_1_front.jpg    id_00000081 query\n"
             "img/MEN/Shirts/id_00000081/01_2_side.jpg     id_00000081 gallery\n");
  for (size_t i = 0; i < images.size(); ++i)
    write_class_image(root + "/" + images[i].first, images[i].second, int64_t(i));
  return root;
}

std::string make_celeba(const TempDir& dir, const std::vector<CelebaImage>& images) {
  const std::string root = dir.file("celeba");
  std::string identity_list, partition_list, attribute_list = std::to_string(images.size()) + "\n";
  for (const std::string& name : kCelebaAttributeNames) attribute_list += name + " ";
  attribute_list += "\n";  // the published header ends with a space
  for (size_t i = 0; i < images.size(); ++i) {
    const CelebaImage& image = images[i];
    const std::string file = padded(int64_t(i) + 1, 6) + ".jpg";
    identity_list += file + " " + std::to_string(image.identity) + "\n";
    partition_list += file + " " + std::to_string(image.partition) + "\n";
    attribute_list += file;
    // Published rows align the values in columns: " 1" and "-1".
    for (int v : image.attributes) attribute_list += v == 1 ? "  1" : " -1";
    attribute_list += "\n";
    write_class_image(root + "/img_align_celeba/" + file, image.identity, int64_t(i));
  }
  write_text(root + "/identity_CelebA.txt", identity_list);
  write_text(root + "/list_attr_celeba.txt", attribute_list);
  write_text(root + "/list_eval_partition.txt", partition_list);
  return root;
}

std::string make_lfw(const TempDir& dir) {
  const std::string root = dir.file("lfw");
  const std::string people[] = {"Zico", "Aaron_Peirsol", "Abel_Pacheco", "Yao_Ming"};
  for (size_t person = 0; person < std::size(people); ++person)
    for (int64_t number : {1, 2})
      write_class_image(
          root + "/" + people[person] + "/" + people[person] + "_" + padded(number, 4) + ".jpg",
          int64_t(person), number);
  return root;
}

std::string make_csv_manifest(const TempDir& dir) {
  const std::string manifest = dir.file("set/manifest.csv");
  write_text(manifest,
             "\xEF\xBB\xBFpath,label,tone,age,split\r\n"
             "images/a.png,3,dark,30,train\r\n"
             "\"images/b, with comma.png\",5,light,41,test\r\n"
             "\r\n"
             "\"images/c \"\"quoted\"\".png\",3,\"dark\",30,train\r\n" +
                 dir.file("abs.png") +
                 ",7,medium,52,train\r\n"
                 "images/d.png,7,light,30,train\r\n"
                 "images/e.png,5,dark,41,test\r\n"
                 "images/f.png,8,medium,52,test\r\n"
                 "images/g.png,8,light,30,test\r\n");
  const std::vector<std::pair<std::string, int64_t>> images = {{"set/images/a.png", 3},
                                                               {"set/images/b, with comma.png", 5},
                                                               {"set/images/c \"quoted\".png", 3},
                                                               {"abs.png", 7},
                                                               {"set/images/d.png", 7},
                                                               {"set/images/e.png", 5},
                                                               {"set/images/f.png", 8},
                                                               {"set/images/g.png", 8}};
  for (size_t i = 0; i < images.size(); ++i)
    write_class_image(dir.file(images[i].first), images[i].second, int64_t(i));
  return manifest;
}

void write_fashion_mnist(const std::string& dir, const std::string& prefix,
                         const std::vector<unsigned char>& labels,
                         const std::vector<unsigned char>& pixels) {
  const uint32_t n = uint32_t(labels.size());
  ASSERT_EQ(pixels.size(), size_t(n) * 28 * 28) << "one 28 x 28 image per label";
  write_gzip(dir + "/" + prefix + "-images-idx3-ubyte.gz",
             idx_file(data::kIdxImagesMagic, {n, 28, 28}, pixels));
  write_gzip(dir + "/" + prefix + "-labels-idx1-ubyte.gz",
             idx_file(data::kIdxLabelsMagic, {n}, labels));
}

std::string make_fashion_mnist(const TempDir& dir) {
  const std::string root = dir.file("fashion-mnist");
  for (const auto& [prefix, first] :
       std::map<std::string, unsigned char>{{"train", 0}, {"t10k", 5}}) {
    std::vector<unsigned char> labels, pixels;
    for (unsigned char label = first; label < first + 5; ++label)
      for (int copy = 0; copy < 2; ++copy) {
        labels.push_back(label);
        for (int i = 0; i < 28 * 28; ++i)
          pixels.push_back((unsigned char)(label * 25 + (i + copy) % 3 * 5));
      }
    write_fashion_mnist(root, prefix, labels, pixels);
  }
  return root;
}

}  // namespace dml::test
