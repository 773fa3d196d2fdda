#!/usr/bin/python3
"""Prints the reference values tests/fairness/test_uncertainty.cpp hard-codes.

    /usr/bin/python3 tests/fairness/reference_uncertainty.py

(Debian's python3 with python3-numpy and python3-scipy.) Everything here is
scipy's: the Student t CDF and quantile (scipy.stats.t.cdf / .ppf), the paired
t-test (scipy.stats.ttest_rel, with NaN pairs omitted) and the t interval of a
mean (scipy.stats.t.interval: mean +- quantile * standard error). scipy 1.10's
t quantile (ppf) is good to only about 1e-9, so the quantiles, and the
intervals built on them, are polished by Newton steps on its CDF, which is
good to about 1e-15; the script checks that scipy's own values agree to 1e-8.
Nothing here calls the engine. The output is C++ initializer rows to paste
into the test's tables; the data sets are repeated in the test, so keep the
two in step.
"""
import math

import numpy as np
import scipy
from scipy import stats

T_POINTS = [-40.0, -6.5, -2.5, -1.0, -0.3, 0.0, 0.01, 0.7, 1.96, 3.0, 12.0, 1000.0]
DOFS = [1.0, 2.0, 2.5, 4.0, 9.0, 30.0, 1000.0, 1e6]
PROBABILITIES = [1e-12, 1e-4, 0.025, 0.2, 0.5, 0.6, 0.95, 0.975, 0.999]

# (name, baseline, treatment, confidence); NaN pairs are dropped.
NAN = float("nan")
PAIRED = [
    ("five_seeds", [0.612, 0.598, 0.634, 0.605, 0.621],
     [0.640, 0.611, 0.652, 0.637, 0.629], 0.95),
    ("two_seeds", [0.50, 0.55], [0.58, 0.60], 0.95),
    ("nan_pairs_dropped", [0.70, NAN, 0.72, 0.69, 0.71, 0.73],
     [0.69, 0.75, 0.74, NAN, 0.70, 0.76], 0.95),
    ("ten_seeds_90", [0.81, 0.79, 0.83, 0.80, 0.82, 0.78, 0.84, 0.80, 0.81, 0.79],
     [0.82, 0.78, 0.83, 0.82, 0.81, 0.79, 0.85, 0.79, 0.83, 0.80], 0.90),
]

# (name, values, confidence); NaN values are dropped.
MEANS = [
    ("five_seeds", [0.61, 0.63, 0.58, 0.66, 0.60], 0.95),
    ("nan_dropped", [0.5, NAN, 0.7], 0.95),
    ("ten_seeds_99", [0.81, 0.79, 0.83, 0.80, 0.82, 0.78, 0.84, 0.80, 0.81, 0.79], 0.99),
]


def cpp(x):
    if math.isnan(x):
        return "kNaN"
    if math.isinf(x):
        return "kInf" if x > 0 else "-kInf"
    return repr(float(x))


def t_quantile(p, dof):
    """scipy.stats.t.ppf polished by Newton steps on scipy.stats.t.cdf (or .sf
    above the median): scipy 1.10's ppf is only good to about 1e-9, its cdf
    to about 1e-15."""
    t = stats.t.ppf(p, dof)
    for _ in range(4):
        if p < 0.5:
            t -= (stats.t.cdf(t, dof) - p) / stats.t.pdf(t, dof)
        elif p > 0.5:
            t += (stats.t.sf(t, dof) - (1 - p)) / stats.t.pdf(t, dof)
        else:
            t = 0.0
    assert abs(t - stats.t.ppf(p, dof)) <= 1e-7 * abs(t) + 1e-15  # a polish, not a new answer
    return t


def t_interval(d, confidence):
    """mean +- t * sem as scipy.stats.t.interval, with the polished quantile."""
    n = len(d)
    mean = float(np.mean(d))
    sem = float(np.std(d, ddof=1)) / math.sqrt(n)
    half = t_quantile((1 + confidence) / 2, n - 1) * sem
    low, high = stats.t.interval(confidence, n - 1, loc=mean, scale=sem)
    assert math.isclose(low, mean - half, rel_tol=1e-8)
    assert math.isclose(high, mean + half, rel_tol=1e-8)
    return mean - half, mean + half


def main():
    print(f"// scipy {scipy.__version__}, numpy {np.__version__}")
    print("// student_t_cdf: {t, dof, cdf}")
    for dof in DOFS:
        for t in T_POINTS:
            print(f"{{{cpp(t)}, {cpp(dof)}, {cpp(stats.t.cdf(t, dof))}}},")
    print("// student_t_quantile: {p, dof, quantile}")
    for dof in DOFS:
        for p in PROBABILITIES:
            print(f"{{{cpp(p)}, {cpp(dof)}, {cpp(t_quantile(p, dof))}}},")

    print("// paired_difference: {n, mean, low, high, t, p}")
    for name, baseline, treatment, confidence in PAIRED:
        b, t = np.array(baseline), np.array(treatment)
        keep = ~(np.isnan(b) | np.isnan(t))
        result = stats.ttest_rel(t[keep], b[keep])
        omitted = stats.ttest_rel(t, b, nan_policy="omit")
        assert math.isclose(result.statistic, omitted.statistic, rel_tol=1e-12)
        d = t[keep] - b[keep]
        low, high = t_interval(d, confidence)
        ci = result.confidence_interval(confidence)
        assert math.isclose(low, ci.low, rel_tol=1e-8) and math.isclose(high, ci.high, rel_tol=1e-8)
        print(f"// {name}\n{{{len(d)}, {cpp(np.mean(d))}, {cpp(low)}, {cpp(high)}, "
              f"{cpp(result.statistic)}, {cpp(result.pvalue)}}},")

    print("// mean_interval: {mean, low, high}")
    for name, values, confidence in MEANS:
        v = np.array(values)
        v = v[~np.isnan(v)]
        low, high = t_interval(v, confidence)
        ci = stats.ttest_1samp(v, 0.0).confidence_interval(confidence)
        assert math.isclose(low, ci.low, rel_tol=1e-8) and math.isclose(high, ci.high, rel_tol=1e-8)
        print(f"// {name}\n{{{cpp(np.mean(v))}, {cpp(low)}, {cpp(high)}}},")


if __name__ == "__main__":
    main()
