#include "fairness/uncertainty.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "base/error.h"
#include "base/parallel.h"
#include "base/philox.h"
#include "engine/rng.h"

namespace dml::fairness {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

void check_confidence(double confidence, const char* caller) {
  DML_CHECK(confidence > 0 && confidence < 1, caller, ": confidence ", confidence,
            " must be in (0, 1), e.g. 0.95");
}

// ---- The Student t distribution ------------------------------------------

// Stirling's series for log Gamma(x) - ((x - 1/2) log x - x + log(2 pi) / 2),
// to the x^-13 term: below 1e-16 from x = 10 on.
double stirling_correction(double x) {
  const double z = 1 / (x * x);
  return (1.0 / 12 +
          z * (-1.0 / 360 +
               z * (1.0 / 1260 +
                    z * (-1.0 / 1680 + z * (1.0 / 1188 + z * (-691.0 / 360360 + z / 156)))))) /
         x;
}

// log B(a, b). For a large argument the plain lgamma(a) + lgamma(b) -
// lgamma(a + b) subtracts two numbers near a log a and loses their rounding
// (1e-12 relative at 1000 degrees of freedom), so the large pair is taken
// from Stirling's series, where the difference of the leading terms is a
// log1p.
double log_beta(double a, double b) {
  const double big = std::max(a, b), small = std::min(a, b);
  if (big < 10) return std::lgamma(a) + std::lgamma(b) - std::lgamma(a + b);
  // log Gamma(big) - log Gamma(big + small)
  const double ratio = -(big - 0.5) * std::log1p(small / big) - small * std::log(big + small) +
                       small + stirling_correction(big) - stirling_correction(big + small);
  return std::lgamma(small) + ratio;
}

// P(T > s) for s >= 0 is I_x(a, 1/2) / 2 with a = dof / 2 and x = dof /
// (dof + s^2). I_x(a, b) = x^a y^b / (a B(a, b)) * F with y = 1 - x, and F
// is evaluated in one of two forms whose terms are all positive, so no step
// cancels (the textbook continued fraction, Numerical Recipes' betacf, has
// terms near -1 when x is near 1, and loses 1e-11 at 10^6 degrees of freedom):
//  - t^2 large: the continued fraction in z = x / y (cephes' incbd),
//      F = y^-1 / (1 + d1 / (1 + d2 / (1 + ...))),
//      d(2m+1) = -z (a + m)(b - 1 - m) / ((a + 2m)(a + 2m + 1)),
//      d(2m+2) =  z (m + 1)(a + b + m) / ((a + 2m + 1)(a + 2m + 2)),
//    positive for b = 1/2 < 1, and short for small z;
//  - t^2 small: I_x(a, 1/2) = 1 - I_y(1/2, a) by the hypergeometric series
//    I_y(p, q) = y^p x^q / (p B(p, q)) * sum_n (p + q)_n / (p + 1)_n y^n,
//    short for small a y (about t^2 / 2), and the tail is then near 1/2, so
//    the subtraction from 1 costs little.
// The switch is where the two cost the same, x = (a + 1) / (a + b + 2).
// A guard only: either form takes at most about 120 terms on its side of the
// switch (measured for dof from 0.1 to 10^15, the most near t^2 = 3).
constexpr int kMaxTerms = 100000;
// Stop when a factor or term is within 3 half-ulps of 1 (cephes' bound): a
// product of roundings may sit at 1 + 1 ulp forever.
constexpr double kEpsilon = 3 * 1.11e-16;

// 1 + d1 / (1 + d2 / (1 + ...)) by the modified Lentz method.
double ratio_continued_fraction(double a, double b, double z) {
  double f = 1, c = 1, d = 0;
  for (int n = 1; n <= kMaxTerms; ++n) {
    const double m = double((n - 1) / 2);
    const double term = n % 2 == 1
                            ? -z * (a + m) * (b - 1 - m) / ((a + 2 * m) * (a + 2 * m + 1))
                            : z * (m + 1) * (a + b + m) / ((a + 2 * m + 1) * (a + 2 * m + 2));
    d = 1 / (1 + term * d);
    c = 1 + term / c;
    f *= c * d;
    if (std::fabs(c * d - 1) < kEpsilon) return f;
  }
  throw Error(
      detail::concat("student_t: continued fraction did not converge for a = ", a, ", z = ", z));
}

// sum_n (p + q)_n / (p + 1)_n y^n.
double hypergeometric_series(double p, double q, double y) {
  double term = 1, sum = 1;
  for (int n = 0; n < kMaxTerms; ++n) {
    term *= (p + q + n) / (p + 1 + n) * y;
    sum += term;
    if (term < kEpsilon * sum) return sum;
  }
  throw Error(detail::concat("student_t: series did not converge for q = ", q, ", y = ", y));
}

// P(T > s) for s >= 0, through r = s^2 / dof so that neither x = 1 / (1 + r)
// nor y = r / (1 + r) is formed by a subtraction, and through log r when s^2
// overflows (the tail then still has a value for small dof).
double upper_tail(double s, double dof) {
  if (s == kInf) return 0;
  const double r = s * s / dof;
  if (r == 0) return 0.5;
  const double log_r = std::isfinite(r) ? std::log(r) : 2 * std::log(s) - std::log(dof);
  const double inv = std::exp(-log_r);  // 1 / r = x / y, possibly 0
  const double a = dof / 2, b = 0.5;
  const double log_x = r <= 1 ? -std::log1p(r) : -log_r - std::log1p(inv);
  const double log_y = r <= 1 ? log_r - std::log1p(r) : -std::log1p(inv);
  const double x = r <= 1 ? 1 / (1 + r) : inv / (1 + inv);
  const double log_front = a * log_x + b * log_y - log_beta(a, b);
  if (x < (a + 1) / (a + b + 2))
    return 0.5 * std::exp(log_front - log_y) / (a * ratio_continued_fraction(a, b, inv));
  const double y = r <= 1 ? r / (1 + r) : 1 / (1 + inv);
  return 0.5 * (1 - std::exp(log_front) / b * hypergeometric_series(b, a, y));
}

void check_dof(double dof, const char* caller) {
  DML_CHECK(dof > 0, caller, ": degrees of freedom ", dof, " must be > 0");
}

// ---- Samples across seeds ------------------------------------------------

struct Summary {
  int64_t n = 0;
  double mean = kNaN, sd = kNaN;  // sd with n - 1; NaN when n < 2
};

Summary summarize(const std::vector<double>& x) {
  Summary s;
  s.n = int64_t(x.size());
  if (x.empty()) return s;
  // A constant sample gets exactly its value and sd 0: summing 0.1 three
  // times and dividing by 3 would not give 0.1, and a spread of one ulp
  // would make a t statistic of 10^16.
  if (std::all_of(x.begin(), x.end(), [&](double v) { return v == x[0]; })) {
    s.mean = x[0];
    s.sd = s.n >= 2 ? 0.0 : kNaN;
    return s;
  }
  s.mean = std::accumulate(x.begin(), x.end(), 0.0) / double(s.n);
  double squares = 0;
  for (double v : x) squares += (v - s.mean) * (v - s.mean);
  s.sd = std::sqrt(squares / double(s.n - 1));
  return s;
}

// mean +- t_{n-1} * sd / sqrt(n), the quantile at (1 + confidence) / 2 as
// scipy.stats.t.interval takes it.
Interval t_interval(const Summary& s, double confidence) {
  Interval in{s.mean, kNaN, kNaN};
  if (s.n < 2) return in;
  const double half =
      student_t_quantile((1 + confidence) / 2, double(s.n - 1)) * s.sd / std::sqrt(double(s.n));
  in.low = s.mean - half;
  in.high = s.mean + half;
  return in;
}

// ---- The bootstrap --------------------------------------------------------

// The value at quantile `q` of sorted `x` by linear interpolation between
// order statistics (numpy.percentile's default, "type 7").
double sorted_quantile(const std::vector<double>& x, double q) {
  const double h = double(x.size() - 1) * q;
  const size_t below = size_t(std::floor(h));
  if (below + 1 >= x.size()) return x.back();
  return x[below] + (h - double(below)) * (x[below + 1] - x[below]);
}

// Position of attribute value `value` in subgroups.values, which are ascending.
size_t position_of(const Subgroups& subgroups, int64_t value, const char* what,
                   const char* caller) {
  const auto it = std::lower_bound(subgroups.values.begin(), subgroups.values.end(), value);
  DML_CHECK(it != subgroups.values.end() && *it == value, caller, ": ", what, " ", value,
            " is not one of the subgroups' ", subgroups.values.size(), " attribute values");
  return size_t(it - subgroups.values.begin());
}

// 64 random bits from one half of a Philox block: one block serves two draws,
// and the modulo bias of 64 bits % (a subgroup size) is negligible.
uint64_t half_block_bits(const PhiloxBlock& r, size_t half) {
  return half == 0 ? (uint64_t(r[0]) << 32) | r[1] : (uint64_t(r[2]) << 32) | r[3];
}

}  // namespace

double student_t_cdf(double t, double dof) {
  check_dof(dof, "student_t_cdf");
  if (std::isnan(t)) return kNaN;
  const double tail = upper_tail(std::fabs(t), dof);
  return t < 0 ? tail : 1 - tail;
}

double student_t_quantile(double p, double dof) {
  check_dof(dof, "student_t_quantile");
  DML_CHECK(p > 0 && p < 1, "student_t_quantile: p = ", p, " must be in (0, 1)");
  // Solve in the tail that holds p, where the CDF is computed without
  // cancellation; 1 - p is exact for p >= 1/2.
  const double tail = std::min(p, 1 - p), sign = p < 0.5 ? -1.0 : 1.0;
  if (tail == 0.5) return 0;
  // Bracket s with P(T > s) = tail by doubling from 1 (the tail shrinks only
  // polynomially for small dof), then bisect to adjacent doubles: slower than
  // Newton but it cannot diverge, and costs about 60 evaluations.
  double lo = 0, hi = 1;
  while (upper_tail(hi, dof) > tail) {
    lo = hi;
    hi *= 2;
    if (hi == kInf) return sign * kInf;
  }
  for (;;) {
    const double mid = lo + (hi - lo) / 2;
    if (mid <= lo || mid >= hi) break;
    (upper_tail(mid, dof) > tail ? lo : hi) = mid;
  }
  return sign * hi;
}

Interval mean_interval(const std::vector<double>& values, double confidence) {
  check_confidence(confidence, "mean_interval");
  std::vector<double> present;
  for (double v : values)
    if (!std::isnan(v)) present.push_back(v);
  return t_interval(summarize(present), confidence);
}

PairedComparison paired_difference(const std::vector<double>& baseline,
                                   const std::vector<double>& treatment, double confidence) {
  DML_CHECK(baseline.size() == treatment.size(), "paired_difference: ", baseline.size(),
            " baseline values but ", treatment.size(), " treatment values; pass one pair per seed");
  check_confidence(confidence, "paired_difference");
  std::vector<double> differences;
  for (size_t i = 0; i < baseline.size(); ++i)
    if (!std::isnan(baseline[i]) && !std::isnan(treatment[i]))
      differences.push_back(treatment[i] - baseline[i]);
  const Summary s = summarize(differences);
  PairedComparison c;
  c.n = s.n;
  c.difference.estimate = s.mean;
  if (s.n < 2) return c;
  if (s.sd == 0) {
    if (s.mean == 0) {
      c.difference.low = c.difference.high = 0;
      c.p_value = 1;
    }
    return c;
  }
  c.difference = t_interval(s, confidence);
  c.t_statistic = s.mean / (s.sd / std::sqrt(double(s.n)));
  c.p_value = 2 * student_t_cdf(-std::fabs(c.t_statistic), double(s.n - 1));
  c.significant = c.p_value < 1 - confidence;
  return c;
}

GroupedBootstrap bootstrap_grouped_mean(const std::vector<double>& values,
                                        const std::vector<int64_t>& groups,
                                        const Subgroups& subgroups,
                                        const BootstrapOptions& options) {
  constexpr const char* kCaller = "bootstrap_grouped_mean";
  DML_CHECK(values.size() == groups.size(), kCaller, ": ", values.size(), " values but ",
            groups.size(), " group ids; pass one id per query");
  DML_CHECK(options.resamples >= 1, kCaller, ": resamples = ", options.resamples, " must be >= 1");
  check_confidence(options.confidence, kCaller);
  const size_t group_count = subgroups.values.size();
  const size_t minority = position_of(subgroups, subgroups.minority, "minority", kCaller);
  const size_t majority = position_of(subgroups, subgroups.majority, "majority", kCaller);

  // The scored values grouped by subgroup: subgroup g's at [start[g], start[g + 1]).
  std::vector<std::vector<double>> by_group(group_count);
  for (size_t q = 0; q < values.size(); ++q) {
    const auto it = std::lower_bound(subgroups.values.begin(), subgroups.values.end(), groups[q]);
    DML_CHECK(it != subgroups.values.end() && *it == groups[q], kCaller, ": query ", q,
              " has group id ", groups[q], ", which is not one of the subgroups' ", group_count,
              " attribute values");
    if (!std::isnan(values[q]))
      by_group[size_t(it - subgroups.values.begin())].push_back(values[q]);
  }
  std::vector<double> pooled;
  std::vector<size_t> start(group_count + 1, 0), group_at;  // group_at: pooled position -> g
  for (size_t g = 0; g < group_count; ++g) {
    pooled.insert(pooled.end(), by_group[g].begin(), by_group[g].end());
    group_at.insert(group_at.end(), by_group[g].size(), g);
    start[g + 1] = pooled.size();
  }
  const size_t n = pooled.size();

  // One row per resample, columns: the subgroup means, then overall, then the gap.
  const size_t columns = group_count + 2, overall_col = group_count, gap_col = group_count + 1;
  // Means of a sample in the same layout; the estimates are the row of the data itself.
  const auto finish_row = [&](double* row) {
    double total = 0;
    for (size_t g = 0; g < group_count; ++g) {
      const size_t size = start[g + 1] - start[g];
      total += row[g];
      row[g] = size > 0 ? row[g] / double(size) : kNaN;
    }
    row[overall_col] = n > 0 ? total / double(n) : kNaN;
    row[gap_col] = row[minority] - row[majority];
  };
  std::vector<double> data_row(columns, 0.0);
  for (size_t k = 0; k < n; ++k) data_row[group_at[k]] += pooled[k];
  finish_row(data_row.data());

  // Resample b draws query k of the pooled order from half k % 2 of block
  // first + b * blocks + k / 2: a pure function of (seed, b, k), so threads
  // cannot change the result, and the sums run in a fixed order.
  const auto resamples = size_t(options.resamples);
  const uint64_t blocks = (n + 1) / 2;
  Generator gen(options.seed);
  const uint64_t first = gen.reserve(uint64_t(resamples) * blocks);
  std::vector<double> rows(resamples * columns, 0.0);
  parallel_for(
      int64_t(resamples),
      [&](int64_t b) {
        double* row = rows.data() + size_t(b) * columns;
        PhiloxBlock r{};
        for (size_t k = 0; k < n; ++k) {
          if (k % 2 == 0) r = philox4x32_10(first + uint64_t(b) * blocks + k / 2, gen.seed());
          const size_t g = group_at[k], size = start[g + 1] - start[g];
          row[g] += pooled[start[g] + size_t(half_block_bits(r, k % 2) % size)];
        }
        finish_row(row);
      },
      std::max<int64_t>(1, kParallelGrain / int64_t(std::max<size_t>(n, 1))));

  const double alpha = 1 - options.confidence;
  std::vector<double> column(resamples);
  const auto interval = [&](size_t c) {
    Interval in{data_row[c], kNaN, kNaN};
    for (size_t b = 0; b < resamples; ++b) column[b] = rows[b * columns + c];
    // A column is NaN in every resample or in none (an empty subgroup).
    if (std::isnan(column[0])) return in;
    std::sort(column.begin(), column.end());
    in.low = sorted_quantile(column, alpha / 2);
    in.high = sorted_quantile(column, 1 - alpha / 2);
    return in;
  };
  GroupedBootstrap result;
  for (size_t g = 0; g < group_count; ++g) result.per_group.push_back(interval(g));
  result.overall = interval(overall_col);
  result.gap_minority_majority = interval(gap_col);
  return result;
}

}  // namespace dml::fairness
