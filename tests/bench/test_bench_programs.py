"""Benchmark programs on tiny sizes, so CI builds and runs them in seconds and
the figures they print are of the right computation:
- peak_bench measures a positive peak for every instruction this CPU has,
  says "not available" for the others, and times the GEMM on every path the
  CPU has (and on no other);
- conv_onednn_bench's convolutions, ours and oneDNN's, agree on every
  ResNet-18 shape, pass, type and thread count (a wrong mapping of a shape
  to oneDNN's descriptors shows as a large relative error). Skipped (exit 77)
  where oneDNN is absent and the program was not built;
- train_step --eval embeds without training: in f32 and bf16 its checksum
  (the embeddings' sum) is the same after warm-up steps as without them.

    /usr/bin/python3 tests/bench/test_bench_programs.py PeakBench|ConvOnednnBench|TrainStepEval

Run by ctest with DML_PEAK_BENCH, DML_CONV_ONEDNN_BENCH (empty when not
built) and DML_TRAIN_STEP naming the programs.
"""
import json
import os
import subprocess
import sys
import unittest

PATHS = ["portable", "avx2", "avx512", "avx512_bf16", "amx"]


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


class PeakBench(unittest.TestCase):
    def test_peaks_and_gemm_rows_follow_the_cpu(self):
        r = run_json([os.environ["DML_PEAK_BENCH"], "--min-time", "0.002", "--reps", "1",
                      "--shape", "24x20x36", "--shape", "1x17x5"])
        best = PATHS.index(r["cpu_isa"])
        self.assertEqual([p["op"] for p in r["peaks"]],
                         ["fma_ymm_f32", "fma_zmm_f32", "vdpbf16ps_zmm", "amx_tdpbf16ps"])
        for p in r["peaks"]:
            self.assertEqual(p["available"], PATHS.index(p["path"]) <= best, p)
            if p["available"]:
                self.assertGreater(p["one_thread_gflops"], 0, p)
                self.assertGreater(p["all_threads_gflops"], 0, p)
        timed = {(g["path"], g["dtype"]) for g in r["gemm"]}
        expected = {(path, dtype) for path, dtype in [("avx2", "f32"), ("avx512", "f32"),
                                                       ("avx512_bf16", "bf16"), ("amx", "bf16")]
                    if PATHS.index(path) <= best}
        self.assertEqual(timed, expected)
        for g in r["gemm"]:
            self.assertGreater(g["gflops"], 0, g)
            self.assertIn(g["threads"], (1, r["threads"]))
        self.assertEqual({(g["m"], g["n"], g["k"]) for g in r["gemm"]},
                         {(24, 20, 36), (1, 17, 5)} if expected else set())


class ConvOnednnBench(unittest.TestCase):
    def test_ours_and_onednn_agree_on_every_resnet18_shape(self):
        r = run_json([os.environ["DML_CONV_ONEDNN_BENCH"], "--only", "r18", "--batch18", "2",
                      "--reps", "1", "--min-time", "0.002", "--threads", "2", "1"])
        rows = r["rows"]
        # 5 ResNet-18 shapes x 3 passes x 2 types x 2 thread counts.
        self.assertEqual(len(rows), 5 * 3 * 2 * 2)
        for row in rows:
            # bf16: both round every result to bf16 once (relative step 2^-8).
            tolerance = 1e-5 if row["dtype"] == "f32" else 1e-2
            self.assertLess(row["rel_error"], tolerance, row)
            self.assertGreater(row["ours_ms"], 0, row)
            self.assertGreater(row["onednn_ms"], 0, row)
            self.assertTrue(row["onednn_impl"], row)


class TrainStepEval(unittest.TestCase):
    def embed(self, precision, warmup):
        return run_json([os.environ["DML_TRAIN_STEP"], "--eval", "--model", "resnet18",
                         "--image", "32", "--batch", "4", "--steps", "1", "--warmup",
                         str(warmup), "--threads", "1", "--precision", precision])

    def test_eval_forward_changes_nothing_between_steps(self):
        for precision in ("f32", "bf16"):
            first, later = self.embed(precision, 0), self.embed(precision, 2)
            self.assertTrue(first["eval"], first)
            self.assertEqual(first["precision"], precision)
            # A training step (Adam, batch norm's running statistics) would move it.
            self.assertEqual(first["loss_value"], later["loss_value"], precision)


if __name__ == "__main__":
    if "ConvOnednnBench" in sys.argv[1:] and not os.environ.get("DML_CONV_ONEDNN_BENCH"):
        print("skipped: conv_onednn_bench was not built (oneDNN absent: apt-get install "
              "libdnnl-dev)")
        sys.exit(77)
    unittest.main()
