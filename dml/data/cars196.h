#pragma once
// Cars196 (Stanford Cars, Krause et al. 2013): 16185 photographs of 196 car
// models, read from either of two layouts under `root`:
//   devkit   root/cars_annos.mat (a MATLAB v5 file: `annotations`, a struct
//            array with relative_im_path, bbox_x1, bbox_y1, bbox_x2, bbox_y2,
//            class, test; and `class_names`), images at
//            root/<relative_im_path> (car_ims/000001.jpg). The box becomes
//            BoundingBox{x1, y1, x2 - x1, y2 - y1}, the crop PIL's
//            img.crop((x1, y1, x2, y2)) takes in the usual DML code. The
//            devkit's `test` flag (a classification split) is not used.
//   folders  root/<class name>/*.jpg (see class_folders.h), no boxes.
// The zero-shot DML split: classes 1-98 train, 99-196 test.
#include <string>

#include "dml/data/sample.h"
#include "dml/data/subset.h"

namespace dml::data {

constexpr int64_t kCars196Classes = 196;
constexpr ClassSplit kCars196Split{{1, 98}, {99, 196}};

// Split::train, Split::test (the class ranges above) or Split::all; labels
// are the devkit's class numbers 1..196 (1..number of class_names).
SampleSet read_cars196_devkit(const std::string& root, Split split,
                              const ReaderOptions& options = {});
// The same from class folders; labels number the sorted folder names from 1.
SampleSet read_cars196_folders(const std::string& root, Split split);
// The devkit layout when root/cars_annos.mat exists, else the class folders.
SampleSet read_cars196(const std::string& root, Split split, const ReaderOptions& options = {});

}  // namespace dml::data
