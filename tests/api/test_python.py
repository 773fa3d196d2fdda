"""python/dml_deploy.py over libdml: every method of Model and Index, numpy
dtypes and layouts (strided arrays passed as they are or copied, giving the
same results as contiguous ones; wrong dtypes and shapes refused), and every
failure a DmlError with the library's status and message.

Run by ctest with Debian's /usr/bin/python3 and
  DML_LIBRARY         the built libdml.so
  DML_FIXTURE_MAKER   tests/api/make_deploy_fixture (a small model and PNGs)
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest
import zlib

try:
    import numpy as np
except ImportError:  # Debian's python3-numpy: ctest counts exit 77 as skipped
    print("skipped: numpy is not installed (apt-get install python3-numpy)")
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir, os.pardir, "python"))
import dml_deploy  # noqa: E402
from dml_deploy import DmlError, Index, Model  # noqa: E402


def write_png(path, pixels):
    """An 8-bit RGB PNG of pixels [H, W, 3] (no filter, one IDAT)."""
    height, width, _ = pixels.shape

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    rows = b"".join(b"\x00" + pixels[y].tobytes() for y in range(height))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8,
                                                                    2, 0, 0, 0)) +
                chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


class ErrorCase(unittest.TestCase):
    def assertDmlError(self, status, fragment, f, *args):
        with self.assertRaises(DmlError) as caught:
            f(*args)
        self.assertEqual(caught.exception.status, status, caught.exception.message)
        self.assertIn(fragment, caught.exception.message)
        return caught.exception


class LibraryTest(unittest.TestCase):
    def test_version_and_api_version(self):
        self.assertTrue(dml_deploy.version().startswith("0."), dml_deploy.version())
        self.assertGreaterEqual(dml_deploy.library().dml_api_version(), dml_deploy.API_VERSION)

    def run_module(self, module_dir, env):
        """dml_deploy.version() in a fresh interpreter importing from module_dir."""
        code = ("import sys; sys.path.insert(0, sys.argv[1]); import dml_deploy\n"
                "try:\n    print(dml_deploy.version())\n"
                "except dml_deploy.DmlError as e:\n    print(e.status, e.message)")
        return subprocess.run([sys.executable, "-c", code, module_dir], env=env, check=True,
                              capture_output=True, text=True).stdout

    def test_found_beside_an_installed_module(self):
        with tempfile.TemporaryDirectory() as prefix:
            module_dir = os.path.join(prefix, "share", "dml", "python")
            os.makedirs(module_dir)
            os.makedirs(os.path.join(prefix, "lib"))
            shutil.copy(dml_deploy.__file__, module_dir)
            os.symlink(os.path.abspath(os.environ["DML_LIBRARY"]),
                       os.path.join(prefix, "lib", "libdml.so"))
            env = {k: v for k, v in os.environ.items() if k != "DML_LIBRARY"}
            self.assertEqual(self.run_module(module_dir, env).strip(), dml_deploy.version())

    def test_a_library_that_does_not_load_is_a_dml_error(self):
        env = dict(os.environ, DML_LIBRARY="/nonexistent/libdml.so")
        out = self.run_module(os.path.dirname(dml_deploy.__file__), env)
        self.assertIn(f"{dml_deploy.ERROR_IO} cannot load libdml from /nonexistent", out)


@unittest.skipUnless(os.environ.get("DML_FIXTURE_MAKER"), "DML_FIXTURE_MAKER not set")
class ModelTest(ErrorCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        subprocess.run([os.environ["DML_FIXTURE_MAKER"], cls.dir.name], check=True)
        cls.model_path = os.path.join(cls.dir.name, "model.safetensors")
        cls.images = [os.path.join(cls.dir.name, n) for n in ("a.png", "b.png", "c.png")]
        cls.model = Model(cls.model_path, num_threads=1)

    @classmethod
    def tearDownClass(cls):
        cls.model.close()
        cls.dir.cleanup()

    def picture(self, height, width, seed):
        return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)

    def test_info(self):
        info = self.model.info
        self.assertEqual(self.model.embedding_dim, info["embedding_dim"])
        self.assertGreater(info["embedding_dim"], 0)
        self.assertIn(info["channels"], (1, 3))
        self.assertGreater(info["image_size"], 0)
        self.assertEqual(len(info["mean"]), 3)
        self.assertEqual(len(info["std"]), 3)
        self.assertTrue(info["backbone"])

    def test_embed_files(self):
        out = self.model.embed_files(self.images)
        self.assertEqual(out.dtype, np.float32)
        self.assertEqual(out.shape, (3, self.model.embedding_dim))
        self.assertTrue(np.isfinite(out).all())
        self.assertFalse(np.array_equal(out[0], out[1]))
        self.assertEqual(self.model.embed_files([]).shape, (0, self.model.embedding_dim))
        # One file at a time gives the same rows.
        np.testing.assert_allclose(self.model.embed_files(self.images[1:2])[0], out[1],
                                   rtol=1e-5, atol=1e-6)

    def test_embed_images_equals_the_same_pixels_as_a_file(self):
        pixels = self.picture(37, 45, 1)
        path = os.path.join(self.dir.name, "pixels.png")
        write_png(path, pixels)
        np.testing.assert_allclose(self.model.embed_images([pixels]),
                                   self.model.embed_files([path]), rtol=1e-5, atol=1e-6)

    def test_embed_images_of_any_layout_equal_contiguous_ones(self):
        pixels = self.picture(40, 50, 2)
        want = self.model.embed_images([pixels])
        wide = np.zeros((40, 60, 3), dtype=np.uint8)
        wide[:, 3:53] = pixels
        layouts = {
            "row stride beyond the row": wide[:, 3:53],
            "every other pixel": np.repeat(pixels, 2, axis=1)[:, ::2],
            "rows reversed twice": pixels[::-1][::-1],
            "rows upside down": np.ascontiguousarray(pixels[::-1])[::-1],
            "fortran order": np.asfortranarray(pixels),
            "channels reversed twice": np.ascontiguousarray(pixels[:, :, ::-1])[:, :, ::-1],
        }
        for name, image in layouts.items():
            np.testing.assert_array_equal(self.model.embed_images([image]), want, err_msg=name)

    def test_embed_grey_images(self):
        grey = self.picture(30, 34, 3)[:, :, 0]
        want = self.model.embed_images([grey])
        self.assertEqual(want.shape, (1, self.model.embedding_dim))
        np.testing.assert_array_equal(self.model.embed_images([grey[:, :, None]]), want)
        np.testing.assert_array_equal(self.model.embed_images([np.asfortranarray(grey)]), want)

    def test_embed_images_refuses_what_is_not_8_bit_pixels(self):
        self.assertDmlError(dml_deploy.ERROR_INVALID_ARGUMENT, "uint8",
                            self.model.embed_images, [self.picture(8, 8, 4).astype(np.float32)])
        self.assertDmlError(dml_deploy.ERROR_SHAPE, "[H, W, 3]",
                            self.model.embed_images, [np.zeros((8, 8, 4), dtype=np.uint8)])
        self.assertDmlError(dml_deploy.ERROR_INVALID_ARGUMENT, "width",
                            self.model.embed_images, [np.zeros((8, 0, 3), dtype=np.uint8)])

    def test_embed_tensor(self):
        info = self.model.info
        shape = (2, info["channels"], info["image_size"], info["image_size"])
        batch = np.random.default_rng(5).standard_normal(shape, dtype=np.float32)
        out = self.model.embed_tensor(batch)
        self.assertEqual(out.shape, (2, self.model.embedding_dim))
        # An NHWC array seen as NCHW is copied, with the same result.
        nhwc = np.ascontiguousarray(batch.transpose(0, 2, 3, 1))
        np.testing.assert_array_equal(self.model.embed_tensor(nhwc.transpose(0, 3, 1, 2)), out)
        self.assertDmlError(dml_deploy.ERROR_INVALID_ARGUMENT, "float32",
                            self.model.embed_tensor, batch.astype(np.float64))
        self.assertDmlError(dml_deploy.ERROR_SHAPE, "NCHW", self.model.embed_tensor, batch[0])
        wrong = np.zeros((1, shape[1], shape[2] + 1, shape[3]), dtype=np.float32)
        self.assertDmlError(dml_deploy.ERROR_SHAPE, "height", self.model.embed_tensor, wrong)

    def test_file_errors(self):
        missing = os.path.join(self.dir.name, "missing.png")
        self.assertDmlError(dml_deploy.ERROR_IO, "missing.png", self.model.embed_files,
                            [self.images[0], missing])
        self.assertDmlError(dml_deploy.ERROR_IO, "nothing.safetensors", Model,
                            os.path.join(self.dir.name, "nothing.safetensors"))
        garbage = os.path.join(self.dir.name, "garbage.safetensors")
        with open(garbage, "wb") as f:
            f.write(b"\x10\x00\x00\x00\x00\x00\x00\x00not a header....")
        self.assertDmlError(dml_deploy.ERROR_FORMAT, "garbage.safetensors", Model, garbage)

    def test_closed_model(self):
        with Model(self.model_path) as model:
            self.assertEqual(model.embed_files(self.images[:1]).shape[0], 1)
        self.assertDmlError(dml_deploy.ERROR_INVALID_ARGUMENT, "closed", model.embed_files,
                            self.images[:1])
        model.close()  # twice is harmless


def brute_force(database, queries, k, metric):
    if metric == "l2":
        d = ((queries[:, None, :].astype(np.float64) - database[None]) ** 2).sum(-1)
    else:
        qn = queries / np.linalg.norm(queries, axis=1, keepdims=True)
        xn = database / np.linalg.norm(database, axis=1, keepdims=True)
        d = 1 - qn.astype(np.float64) @ xn.T
    order = np.argsort(d, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(d, order, axis=1)


class IndexTest(ErrorCase):
    def setUp(self):
        rng = np.random.default_rng(6)
        self.database = rng.standard_normal((300, 8), dtype=np.float32)
        self.queries = rng.standard_normal((5, 8), dtype=np.float32)
        self.ids = np.arange(300, dtype=np.int64) * 7 + 100  # not row numbers
        self.dir = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.dir.cleanup()

    def filled(self, metric="l2"):
        index = Index(8, metric)
        index.add(self.database, self.ids)
        return index

    def test_search_matches_brute_force(self):
        for metric in ("l2", "cosine"):
            with self.filled(metric) as index:
                self.assertEqual(index.metric, metric)
                self.assertEqual(index.dim, 8)
                self.assertEqual(len(index), 300)
                ids, distances = index.search(self.queries, 10)
                self.assertEqual(ids.dtype, np.int64)
                self.assertEqual(distances.dtype, np.float32)
                rows, want = brute_force(self.database, self.queries, 10, metric)
                np.testing.assert_array_equal(ids, self.ids[rows])
                np.testing.assert_allclose(distances, want, rtol=1e-4, atol=1e-5)

    def test_beyond_the_rows_held(self):
        index = Index(2)
        index.add([[0, 0], [3, 4]], [5, 6])
        ids, distances = index.search([[0, 1]], 4)
        np.testing.assert_array_equal(ids, [[5, 6, -1, -1]])
        np.testing.assert_array_equal(distances, [[1, 18, np.inf, np.inf]])

    def test_strided_arrays_equal_contiguous_ones(self):
        want = self.filled().search(self.queries, 7)
        index = Index(8)
        wide = np.zeros((300, 16), dtype=np.float32)
        wide[:, ::2] = self.database
        index.add(wide[:, ::2], np.repeat(self.ids, 2)[::2].astype(np.int32))
        got = index.search(np.asfortranarray(self.queries), 7)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])

    def test_adds_in_parts(self):
        index = Index(8)
        index.add(self.database[:1], self.ids[:1])
        index.add(self.database[1:1], self.ids[1:1])
        index.add(np.zeros((0, 8), dtype=np.float32), [])
        index.add(self.database[1:], self.ids[1:])
        want = self.filled().search(self.queries, 12)
        got = index.search(self.queries, 12)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])

    def test_save_and_load(self):
        path = os.path.join(self.dir.name, "gallery.index")
        index = self.filled("cosine")
        index.save(path)
        loaded = Index.load(path)
        self.assertEqual((len(loaded), loaded.dim, loaded.metric), (300, 8, "cosine"))
        want, got = index.search(self.queries, 9), loaded.search(self.queries, 9)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])
        with open(path, "r+b") as f:
            f.truncate(100)
        self.assertDmlError(dml_deploy.ERROR_FORMAT, path, Index.load, path)
        self.assertDmlError(dml_deploy.ERROR_IO, "missing", Index.load,
                            os.path.join(self.dir.name, "missing"))

    def test_bad_arguments(self):
        index = self.filled()
        self.assertDmlError(dml_deploy.ERROR_INVALID_ARGUMENT, "float32", index.add,
                            self.database.astype(np.float64), self.ids)
        self.assertDmlError(dml_deploy.ERROR_SHAPE, "[rows, 8]", index.add,
                            self.database[:, :4], self.ids)
        self.assertDmlError(dml_deploy.ERROR_SHAPE, "one per row", index.add,
                            self.database, self.ids[:5])
        self.assertDmlError(dml_deploy.ERROR_INVALID_ARGUMENT, "integers", index.add,
                            self.database, self.ids.astype(np.float64))
        self.assertDmlError(dml_deploy.ERROR_INVALID_ARGUMENT, "k is 0", index.search,
                            self.queries, 0)
        self.assertDmlError(dml_deploy.ERROR_INVALID_ARGUMENT, "metric 'ip'", Index, 8, "ip")
        self.assertDmlError(dml_deploy.ERROR_INVALID_ARGUMENT, "dim", Index, 0)

    def test_refused_adds_add_nothing(self):
        index = self.filled()
        bad_ids = self.ids.copy()
        bad_ids[7] = -3
        self.assertDmlError(dml_deploy.ERROR_INVALID_ARGUMENT, "negative", index.add,
                            self.database, bad_ids)
        nan_rows = self.database.copy()
        nan_rows[4, 2] = np.nan
        self.assertDmlError(dml_deploy.ERROR_INVALID_ARGUMENT, "NaN", index.add, nan_rows,
                            self.ids)
        self.assertEqual(len(index), 300)

    def test_closed_index(self):
        with Index(3) as index:
            self.assertEqual(len(index), 0)
        self.assertDmlError(dml_deploy.ERROR_INVALID_ARGUMENT, "closed", len, index)


if __name__ == "__main__":
    unittest.main()
