#!/usr/bin/python3
"""Writes the tiny MAT-files the MAT reader and the Cars196 reader are tested on.

Run with Debian's python3-scipy:
    /usr/bin/python3 tests/golden/make_mat_fixtures.py
It writes into tests/golden/fixtures/:
  cars_annos_plain.mat, cars_annos_compressed.mat
      shaped like the Cars196 devkit's cars_annos.mat: `annotations`, a 1x5
      struct array (relative_im_path, bbox_x1, bbox_y1, bbox_x2, bbox_y2,
      class, test; integer fields stored as uint8/uint16 as in the real file)
      and `class_names`, a 1x196 cell of strings. Saved without and with
      compression (miCOMPRESSED).
  cars_annos_two_per_class.mat
      the same layout with 8 images, two of each of classes 1, 2 (train) and
      99, 100 (test): enough to train and evaluate on (tests/test_train_e2e.cpp).
  mat_types.mat
      one variable per kind of array the reader handles, with the values the
      test expects (see MatFile tests in tests/test_datasets.cpp).
CI only reads the committed files.
"""
import os

import numpy as np
import scipy.io

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")

# (relative_im_path, x1, y1, x2, y2, class, test): classes on both sides of
# the 98/99 boundary of the zero-shot split.
CARS = [
    ("car_ims/000001.jpg", 1, 2, 30, 20, 1, 0),
    ("car_ims/000002.jpg", 3, 4, 300, 200, 98, 1),
    ("car_ims/000003.jpg", 5, 1, 40, 25, 99, 0),
    ("car_ims/000004.jpg", 1, 1, 16, 12, 196, 1),
    ("car_ims/000005.jpg", 2, 3, 17, 13, 150, 0),
]

# Two images of each of two training and two held-out classes, boxes inside
# the 12x12 images the tests write.
CARS_TWO_PER_CLASS = [
    ("car_ims/%06d.jpg" % (i + 1), 1, 2, 11, 10, cls, int(cls >= 99))
    for i, cls in enumerate([1, 1, 2, 2, 99, 99, 100, 100])
]


def cars_annos(cars):
    fields = ["relative_im_path", "bbox_x1", "bbox_y1", "bbox_x2", "bbox_y2", "class", "test"]
    ann = np.zeros((1, len(cars)), dtype=[(f, "O") for f in fields])
    for i, (path, x1, y1, x2, y2, cls, test) in enumerate(cars):
        ann[0, i]["relative_im_path"] = path
        # The devkit stores small integers as uint8 and larger ones as uint16.
        for f, v in zip(fields[1:5], (x1, y1, x2, y2)):
            ann[0, i][f] = np.array([[v]], dtype=np.uint16 if v > 255 else np.uint8)
        ann[0, i]["class"] = np.array([[cls]], dtype=np.uint8)
        ann[0, i]["test"] = np.array([[test]], dtype=np.uint8)
    names = np.empty((1, 196), dtype=object)
    for c in range(196):
        names[0, c] = "Car Model %03d" % (c + 1)
    names[0, 0] = "AM General Hummer SUV 2000"
    names[0, 1] = "Citro\u00ebn C6 Sedan 2008"  # non-ASCII: written as UTF-8
    return {"annotations": ann, "class_names": names}


def mat_types():
    nested = np.empty((1, 2), dtype=object)
    inner = np.empty((1, 1), dtype=object)
    inner[0, 0] = np.array([[7.5]])
    nested[0, 0] = inner
    nested[0, 1] = "leaf"
    person = np.zeros((1, 1), dtype=[("name", "O"), ("scores", "O"), ("empty", "O")])
    person[0, 0]["name"] = "ada"
    person[0, 0]["scores"] = np.array([[1, 2, 3]], dtype=np.int16)
    person[0, 0]["empty"] = np.zeros((0, 0))
    return {
        "f64": np.array([[1.5, -2.0, 3.25], [4.0, 5.0, 6.0]]),  # 2x3, column-major on disk
        "f32": np.array([[0.5, -1.5]], dtype=np.float32),
        "i8": np.array([[-128, 127]], dtype=np.int8),
        "u8": np.array([[0, 255]], dtype=np.uint8),
        "i16": np.array([[-32768, 32767]], dtype=np.int16),
        "u16": np.array([[0, 65535]], dtype=np.uint16),
        "i32": np.array([[-2147483648, 2147483647]], dtype=np.int32),
        "u32": np.array([[0, 4294967295]], dtype=np.uint32),
        "i64": np.array([[-(2 ** 40), 2 ** 40]], dtype=np.int64),
        "u64": np.array([[0, 2 ** 52]], dtype=np.uint64),
        "flag": np.array([[True, False, True]]),
        "word": "h\u00e9llo",
        "lines": np.array(["ab", "cd"]),  # a 2x2 char matrix
        "empty_text": "",
        "nested": nested,
        "person": person,
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    annos = cars_annos(CARS)
    for suffix, compress in (("plain", False), ("compressed", True)):
        scipy.io.savemat(os.path.join(OUT, "cars_annos_%s.mat" % suffix), annos,
                         do_compression=compress, oned_as="row")
    scipy.io.savemat(os.path.join(OUT, "cars_annos_two_per_class.mat"),
                     cars_annos(CARS_TWO_PER_CLASS), do_compression=True, oned_as="row")
    scipy.io.savemat(os.path.join(OUT, "mat_types.mat"), mat_types(), do_compression=False,
                     oned_as="row")
    # Read back with scipy as a check of the fixtures themselves.
    back = scipy.io.loadmat(os.path.join(OUT, "cars_annos_compressed.mat"))
    assert back["annotations"].shape == (1, len(CARS))
    assert back["class_names"][0, 1][0] == "Citro\u00ebn C6 Sedan 2008"
    back = scipy.io.loadmat(os.path.join(OUT, "cars_annos_two_per_class.mat"))
    assert [int(a["class"][0, 0]) for a in back["annotations"][0]] == [1, 1, 2, 2, 99, 99, 100, 100]


if __name__ == "__main__":
    main()
