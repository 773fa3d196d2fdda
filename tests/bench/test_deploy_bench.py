"""The deployment benchmarks' programs (bench/inference_bench.cpp,
bench/index_bench.cpp) on tiny inputs, so the figures they time are of the
right computation:
- inference_bench embeds an exported model through the C API and its
  `--path training` through the training engine; both give the same
  embeddings of the same images, and its JSON line has the fields
  bench/compare_inference_torch.py reads;
- index_bench searches through the C API and finds the brute-force
  neighbours;
- the exported model file bench/compare_inference_torch.py writes for both
  sides opens through the C API and embeds as PyTorch does (skipped where
  Debian's python3-torch is missing: CI does not need it).

Run by ctest with Debian's /usr/bin/python3 and
  DML_INFERENCE_BENCH, DML_INDEX_BENCH   the built programs
  DML_FIXTURE_MAKER                      tests/api/make_deploy_fixture
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

try:
    import numpy as np
except ImportError:  # Debian's python3-numpy: ctest counts exit 77 as skipped
    print("skipped: numpy is not installed (apt-get install python3-numpy)")
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH_DIR = os.path.join(HERE, os.pardir, os.pardir, "bench")


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


class InferenceBench(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def embed(self, model_file, path, images, threads=1):
        out = os.path.join(self.dir, path + ".npy")
        result = run_json([os.environ["DML_INFERENCE_BENCH"], "--model-file", model_file,
                           "--path", path, "--batch", str(len(images)),
                           "--input", images_file(self.dir, images), "--output", out,
                           "--repeats", "1", "--warmup", "0", "--threads", str(threads)])
        return result, np.load(out)

    def test_c_api_and_training_engine_give_the_same_embeddings(self):
        subprocess.run([os.environ["DML_FIXTURE_MAKER"], self.dir], check=True)
        model_file = os.path.join(self.dir, "model.safetensors")
        # The fixture: an RGB small_resnet10 on 32 x 32 crops, 16-float embeddings.
        images = np.random.default_rng(0).standard_normal((3, 3, 32, 32), dtype=np.float32)
        api, ours = self.embed(model_file, "api", images)
        training, theirs = self.embed(model_file, "training", images)
        self.assertEqual(ours.shape, (3, 16))
        np.testing.assert_allclose(ours, theirs, atol=1e-5)
        self.assertGreater(np.abs(ours[0] - ours[1]).max(), 1e-3)  # not a constant
        for key in ("img_per_s", "latency_ms", "cpu_s", "peak_rss_bytes",
                    "rss_increase_bytes"):
            self.assertGreater(api[key], 0 if key != "rss_increase_bytes" else -1, key)
        self.assertEqual((api["path"], training["path"]), ("api", "training"))
        self.assertEqual((api["image"], api["channels"], api["batch"]), (32, 3, 3))

    def test_input_of_the_wrong_size_is_refused_naming_the_model_input(self):
        subprocess.run([os.environ["DML_FIXTURE_MAKER"], self.dir], check=True)
        images = np.zeros((2, 3, 28, 28), dtype=np.float32)
        run = subprocess.run([os.environ["DML_INFERENCE_BENCH"], "--model-file",
                              os.path.join(self.dir, "model.safetensors"), "--batch", "2",
                              "--input", images_file(self.dir, images)],
                             capture_output=True, text=True)
        self.assertEqual(run.returncode, 1)
        self.assertIn("[2, 3, 32, 32]", run.stderr)

    def test_the_comparison_model_file_embeds_as_pytorch_does(self):
        try:
            import torch
        except ImportError:
            self.skipTest("no python3-torch")
        sys.path.insert(0, BENCH_DIR)
        import compare_inference_torch as cmp

        model_file = os.path.join(self.dir, "small.safetensors")
        cmp.make_model_file("small_resnet10", 1, 28, model_file)
        images = np.random.default_rng(1).standard_normal((2, 1, 28, 28), dtype=np.float32)
        _, ours = self.embed(model_file, "api", images, threads=2)
        net = cmp.EmbeddingNet("small_resnet10", 1)
        net.load(cmp.read_safetensors(model_file))
        with torch.no_grad():
            theirs = net(torch.from_numpy(images)).numpy()
        np.testing.assert_allclose(ours, theirs, atol=1e-5)


class IndexBench(unittest.TestCase):
    def test_neighbours_are_the_brute_force_ones(self):
        rng = np.random.default_rng(2)
        database = rng.standard_normal((500, 8), dtype=np.float32)
        queries = rng.standard_normal((7, 8), dtype=np.float32)
        with tempfile.TemporaryDirectory() as tmp:
            np.save(os.path.join(tmp, "db.npy"), database)
            np.save(os.path.join(tmp, "q.npy"), queries)
            prefix = os.path.join(tmp, "out")
            result = run_json([os.environ["DML_INDEX_BENCH"], "--database",
                               os.path.join(tmp, "db.npy"), "--queries",
                               os.path.join(tmp, "q.npy"), "--k", "5", "--reps", "1",
                               "--single-reps", "1", "--threads", "1", "--out", prefix])
            ids = np.load(prefix + "_ids.npy")
            distances = np.load(prefix + "_distances.npy")
        squared = ((queries[:, None, :] - database[None, :, :]) ** 2).sum(-1)
        np.testing.assert_array_equal(ids, np.argsort(squared, axis=1, kind="stable")[:, :5])
        np.testing.assert_allclose(distances, np.sort(squared, axis=1)[:, :5], rtol=1e-4)
        self.assertEqual((result["rows"], result["queries"], result["k"]), (500, 7, 5))
        self.assertGreater(result["peak_rss_mib"], 0)


def images_file(directory, images):
    path = os.path.join(directory, "images.npy")
    np.save(path, images)
    return path


if __name__ == "__main__":
    unittest.main()
