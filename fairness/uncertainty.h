#pragma once
// How sure a fairness figure is: bootstrap intervals of per-query metric means
// per subgroup and of the minority-majority gap (one run), and Student-t
// intervals and paired t-tests across seeds (several runs). A gap of 0.02 on
// 300 minority queries, or one method beating another on 3 seeds, means
// little without them.
#include <cmath>
#include <cstdint>
#include <vector>

#include "fairness/groups.h"

namespace dml::fairness {

// NaN wherever the figure is undefined (no data, too few samples).
struct Interval {
  double estimate = NAN, low = NAN, high = NAN;
};

struct BootstrapOptions {
  int64_t resamples = 1000;
  double confidence = 0.95;
  uint64_t seed = 0;
};

struct GroupedBootstrap {
  Interval overall;
  std::vector<Interval> per_group;  // in subgroups.values order
  Interval gap_minority_majority;   // minority mean - majority mean
};

// Per-query metric values (NaN = an unscored query, left out of every mean as
// in eval::breakdown, and so out of the resampling too), the subgroup
// (attribute value) of each query, and the subgroups with their minority and
// majority. Estimates are the plain means on the data. Intervals are
// percentile intervals of `resamples` stratified bootstrap resamples: each
// subgroup's scored queries are resampled with replacement within the
// subgroup, its size fixed, because the subgroup sizes are a design choice of
// the split, not a random outcome; the overall mean is the mean of all
// resampled queries and the gap is the minority mean minus the majority mean
// of the same resample, so their dependence is kept. The percentiles
// interpolate linearly between order statistics (numpy.percentile's default).
// A subgroup with no scored query has a NaN estimate and interval, and so has
// the gap when that subgroup is the minority or majority. Seeded: the same
// seed gives the same intervals on any thread count. Throws dml::Error when
// the sizes differ, resamples < 1, confidence is outside (0, 1), or a group
// id, the minority or the majority is not one of subgroups.values.
GroupedBootstrap bootstrap_grouped_mean(const std::vector<double>& values,
                                        const std::vector<int64_t>& groups,
                                        const Subgroups& subgroups,
                                        const BootstrapOptions& options);

struct PairedComparison {
  int64_t n = 0;        // pairs used
  Interval difference;  // estimate = mean of treatment - baseline
  double t_statistic = NAN, p_value = NAN;
  bool significant = false;  // p < 1 - confidence
};

// Paired comparison across seeds: the differences treatment[i] - baseline[i]
// (a pair with a NaN on either side is dropped), their mean, the Student-t
// confidence interval of the mean, the paired t statistic and its two-sided
// p-value with n - 1 degrees of freedom (scipy.stats.ttest_rel). With n < 2 or
// zero variance the interval, t and p are NaN, except that identical pairs
// (every difference 0) give the interval [0, 0], t NaN and p = 1: no evidence
// of any difference, rather than no answer.
PairedComparison paired_difference(const std::vector<double>& baseline,
                                   const std::vector<double>& treatment, double confidence = 0.95);

// The mean of one sample (e.g. a metric across seeds; NaN values dropped) and
// its Student-t interval, mean +- t_{n-1} * sd / sqrt(n). With n < 2 the
// interval is NaN (and the estimate too when n = 0); with zero variance it is
// the point itself.
Interval mean_interval(const std::vector<double>& values, double confidence = 0.95);

// The Student t distribution with dof > 0 degrees of freedom (non-integer
// allowed): the CDF through the regularized incomplete beta function, and the
// quantile by bisection on the CDF. Both throw dml::Error for dof <= 0, the
// quantile also for p outside (0, 1).
double student_t_cdf(double t, double dof);
double student_t_quantile(double p, double dof);

}  // namespace dml::fairness
