// fairness/uncertainty: the Student t CDF and quantile against scipy and
// closed forms, paired t-tests and t intervals against scipy.stats.ttest_rel
// and t.interval with the edge rules done by hand, and the stratified
// bootstrap on cases whose bootstrap distribution is known (constant
// subgroups, a two-point subgroup), its seeding and thread independence, its
// handling of unscored queries, and its coverage on synthetic Bernoulli data.
//
// The scipy values come from tests/fairness/reference_uncertainty.py (scipy
// 1.10.1); rerun it with Debian's /usr/bin/python3 and paste its rows here if
// the data sets change.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <limits>
#include <vector>

#include "base/philox.h"
#include "fairness/groups.h"
#include "fairness/uncertainty.h"
#include "tests/support/test_support.h"

namespace dml::fairness {
namespace {

using test::expect_error;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kPi = 3.14159265358979323846;

// Equal, or both NaN.
void expect_close(double got, double want, double relative, const char* what) {
  if (std::isnan(want)) {
    EXPECT_TRUE(std::isnan(got)) << what << ": " << got << ", expected NaN";
    return;
  }
  EXPECT_NEAR(got, want, relative * std::fabs(want) + 1e-300) << what;
}

void expect_interval(const Interval& in, double estimate, double low, double high,
                     double relative = 1e-12) {
  expect_close(in.estimate, estimate, relative, "estimate");
  expect_close(in.low, low, relative, "low");
  expect_close(in.high, high, relative, "high");
}

// ---- The Student t distribution ------------------------------------------

struct TPoint {
  double x, dof, want;  // x = t for the CDF, p for the quantile
};

// scipy.stats.t.cdf(t, dof).
const std::vector<TPoint> kCdf = {
    {-40.0, 1.0, 0.007956089912025812},
    {-6.5, 1.0, 0.04858979034752892},
    {-2.5, 1.0, 0.12111894159084335},
    {-1.0, 1.0, 0.24999999999999978},
    {-0.3, 1.0, 0.4072264209222577},
    {0.0, 1.0, 0.5},
    {0.01, 1.0, 0.5031829927649083},
    {0.7, 1.0, 0.6944001122142147},
    {1.96, 1.0, 0.8498285541119834},
    {3.0, 1.0, 0.8975836176504333},
    {12.0, 1.0, 0.9735353239404101},
    {1000.0, 1.0, 0.9996816902199194},
    {-40.0, 2.0, 0.0003122073360923703},
    {-6.5, 2.0, 0.011430081798161244},
    {-2.5, 2.0, 0.0648058601107554},
    {-1.0, 2.0, 0.21132486540518713},
    {-0.3, 2.0, 0.3962428304200888},
    {0.0, 2.0, 0.5},
    {0.01, 2.0, 0.5035354455208995},
    {0.7, 2.0, 0.7218034876835673},
    {1.96, 2.0, 0.9054713451991339},
    {3.0, 2.0, 0.9522670168666454},
    {12.0, 2.0, 0.9965635331614208},
    {1000.0, 2.0, 0.99999950000075},
    {-40.0, 2.5, 7.097817145246693e-05},
    {-6.5, 2.5, 0.006314371053781234},
    {-2.5, 2.5, 0.052284981539077686},
    {-1.0, 2.5, 0.20203051363913677},
    {-0.3, 2.5, 0.39367118574759863},
    {0.0, 2.5, 0.5},
    {0.01, 2.5, 0.5036180028210459},
    {0.7, 2.5, 0.7282975284052259},
    {1.96, 2.5, 0.918526217763593},
    {3.0, 2.5, 0.9637119522254841},
    {12.0, 2.5, 0.9985818924849609},
    {1000.0, 2.5, 0.9999999772525361},
    {-40.0, 4.0, 1.1670081613006347e-06},
    {-6.5, 4.0, 0.0014450035585503672},
    {-2.5, 4.0, 0.03338327240599406},
    {-1.0, 4.0, 0.1869504831500295},
    {-0.3, 4.0, 0.38956071413872984},
    {0.0, 4.0, 0.5},
    {0.01, 4.0, 0.5037499218770507},
    {0.7, 4.0, 0.738749917203275},
    {1.96, 4.0, 0.9392226800749083},
    {3.0, 4.0, 0.9800290159641406},
    {12.0, 4.0, 0.9998617857257486},
    {1000.0, 4.0, 0.999999999997},
    {-40.0, 9.0, 9.491499224669917e-12},
    {-6.5, 9.0, 5.572539368430762e-05},
    {-2.5, 9.0, 0.016930913841492853},
    {-1.0, 9.0, 0.17171819806895677},
    {-0.3, 9.0, 0.38549535187076245},
    {0.0, 9.0, 0.5},
    {0.01, 9.0, 0.5038802772318374},
    {0.7, 9.0, 0.7491904803919274},
    {1.96, 9.0, 0.9591777972697917},
    {3.0, 9.0, 0.9925218180447929},
    {12.0, 9.0, 0.9999996150056888},
    {1000.0, 9.0, 1.0},
    {-40.0, 30.0, 6.863022597203181e-28},
    {-6.5, 30.0, 1.7390235439860082e-07},
    {-2.5, 30.0, 0.009057824534033353},
    {-1.0, 30.0, 0.16265430771301492},
    {-0.3, 30.0, 0.3831230526421764},
    {0.0, 30.0, 0.5},
    {0.01, 30.0, 0.5039562537134111},
    {0.7, 30.0, 0.7553397782501642},
    {1.96, 30.0, 0.9703288435519748},
    {3.0, 30.0, 0.997305017967174},
    {12.0, 30.0, 0.999999999999721},
    {1000.0, 30.0, 1.0},
    {-40.0, 1000.0, 5.239426077586736e-210},
    {-6.5, 1000.0, 6.327141266003595e-11},
    {-2.5, 1000.0, 0.006289283900545397},
    {-1.0, 1000.0, 0.1587762090423363},
    {-0.3, 1000.0, 0.3821197520836221},
    {0.0, 1000.0, 0.5},
    {0.01, 1000.0, 0.5039883590339064},
    {0.7, 1000.0, 0.7579549430036987},
    {1.96, 1000.0, 0.9748634075221256},
    {3.0, 1000.0, 0.9986166454778809},
    {12.0, 1000.0, 1.0},
    {1000.0, 1000.0, 1.0},
    {-40.0, 1000000.0, 0.0},
    {-6.5, 1000000.0, 4.017877167651719e-11},
    {-2.5, 1000000.0, 0.006209744751081614},
    {-1.0, 1000000.0, 0.15865537491678905},
    {-0.3, 1000000.0, 0.3820886089894972},
    {0.0, 1000000.0, 0.5},
    {0.01, 1000000.0, 0.5039893553172261},
    {0.7, 1000000.0, 0.758036266356729},
    {1.96, 1000000.0, 0.9750019662073651},
    {3.0, 1000000.0, 0.9986500687292891},
    {12.0, 1000000.0, 1.0},
    {1000.0, 1000000.0, 1.0},
};

// scipy.stats.t.ppf(p, dof), polished by Newton steps on scipy's CDF.
const std::vector<TPoint> kQuantile = {
    {1e-12, 1.0, -318309886183.79065},
    {0.0001, 1.0, -3183.09875711815},
    {0.025, 1.0, -12.706204736174703},
    {0.2, 1.0, -1.3763819204711722},
    {0.5, 1.0, 0.0},
    {0.6, 1.0, 0.3249196962329063},
    {0.95, 1.0, 6.313751514675038},
    {0.975, 1.0, 12.706204736174692},
    {0.999, 1.0, 318.3088389855501},
    {1e-12, 2.0, -707106.7811854868},
    {0.0001, 2.0, -70.70007107496427},
    {0.025, 2.0, -4.302652729749463},
    {0.2, 2.0, -1.0606601717798214},
    {0.5, 2.0, 0.0},
    {0.6, 2.0, 0.28867513459481287},
    {0.95, 2.0, 2.919985580353724},
    {0.975, 2.0, 4.302652729749461},
    {0.999, 2.0, 22.327124770119866},
    {1e-12, 2.5, -55306.174076515796},
    {0.0001, 2.5, -34.86796932111478},
    {0.025, 2.5, -3.574654842003683},
    {0.2, 2.5, -1.0101638747222388},
    {0.5, 2.5, 0.0},
    {0.6, 2.5, 0.2814595127485476},
    {0.95, 2.5, 2.558218614135935},
    {0.975, 2.5, 3.5746548420036817},
    {0.999, 2.5, 13.822193110865964},
    {1e-12, 4.0, -1316.072746559257},
    {0.0001, 4.0, -13.033671720896455},
    {0.025, 4.0, -2.776445105197794},
    {0.2, 4.0, -0.9409645772351808},
    {0.5, 4.0, 0.0},
    {0.6, 4.0, 0.27072229470759746},
    {0.95, 4.0, 2.131846786326649},
    {0.975, 4.0, 2.7764451051977934},
    {0.999, 4.0, 7.173182219782307},
    {1e-12, 9.0, -51.414916023282245},
    {0.0001, 9.0, -6.010132129081441},
    {0.025, 9.0, -2.262157162798205},
    {0.2, 9.0, -0.8834038596855344},
    {0.5, 9.0, 0.0},
    {0.6, 9.0, 0.26095533647391106},
    {0.95, 9.0, 1.8331129326562368},
    {0.975, 9.0, 2.2621571627982044},
    {0.999, 9.0, 4.296805662729917},
    {1e-12, 30.0, -11.39721752331141},
    {0.0001, 30.0, -4.23398595727202},
    {0.025, 30.0, -2.042272456301238},
    {0.2, 30.0, -0.8537672614712974},
    {0.5, 30.0, 0.0},
    {0.6, 30.0, 0.25560536495191283},
    {0.95, 30.0, 1.6972608865939571},
    {0.975, 30.0, 2.042272456301238},
    {0.999, 30.0, 3.3851848668293045},
    {1e-12, 1000.0, -7.124228925314409},
    {0.0001, 1000.0, -3.732851604575368},
    {0.025, 1000.0, -1.9623390808264085},
    {0.2, 1000.0, -0.8419808221624286},
    {0.5, 1000.0, 0.0},
    {0.6, 1000.0, 0.25341451583949864},
    {0.95, 1000.0, 1.6463788172854645},
    {0.975, 1000.0, 1.962339080826408},
    {0.999, 1000.0, 3.0984021639129224},
    {1e-12, 1000000.0, -7.034572608411257},
    {0.0001, 1000000.0, -3.719030274762543},
    {0.025, 1000000.0, -1.9599663568141066},
    {0.2, 1000000.0, -0.8416215930139845},
    {0.5, 1000000.0, 0.0},
    {0.6, 1000000.0, 0.2533471705378421},
    {0.95, 1000000.0, 1.64485515072204},
    {0.975, 1000000.0, 1.9599663568141064},
    {0.999, 1000000.0, 3.0902404563165184},
};

// Both sides form the tail as exp(a log x + ...) with a = dof / 2, which
// carries a relative error of about 1e-16 times that exponent (up to 500 here,
// at t = -40 and 1000 degrees of freedom): 1e-13 covers ours and scipy's.
TEST(StudentT, CdfMatchesScipy) {
  for (const TPoint& c : kCdf)
    EXPECT_NEAR(student_t_cdf(c.x, c.dof), c.want, 1e-13 * c.want)
        << "t = " << c.x << ", dof = " << c.dof;
}

// The quantile inherits the CDF's relative error, scaled by F / (t f(t)),
// which stays below about 5 at these points.
TEST(StudentT, QuantileMatchesScipy) {
  for (const TPoint& c : kQuantile)
    EXPECT_NEAR(student_t_quantile(c.x, c.dof), c.want, 1e-13 * std::fabs(c.want))
        << "p = " << c.x << ", dof = " << c.dof;
}

// Closed forms, written so that the lower tail is not a difference of nearly
// equal numbers and can be checked to relative precision: dof 1 is the
// Cauchy distribution, F(t) = atan(1 / -t) / pi below 0 and quantile
// -1 / tan(pi p) below 1/2; dof 2 has F(t) = 1 / (u (u - t)) below 0 with u =
// sqrt(2 + t^2), and quantile (2p - 1) / sqrt(2 p (1 - p)).
TEST(StudentT, ClosedFormsForOneAndTwoDegreesOfFreedom) {
  for (double t : {-1e12, -1e6, -30.0, -2.0, -0.5, -1e-3}) {
    const double cauchy = std::atan(-1 / t) / kPi, u = std::sqrt(2 + t * t);
    EXPECT_NEAR(student_t_cdf(t, 1), cauchy, 1e-14 * cauchy) << t;
    EXPECT_NEAR(student_t_cdf(-t, 1), 1 - cauchy, 1e-15) << t;
    EXPECT_NEAR(student_t_cdf(t, 2), 1 / (u * (u - t)), 1e-14 / (u * (u - t))) << t;
  }
  for (double p : {1e-300, 1e-9, 0.01, 0.3, 0.4999, 0.8, 1 - 1e-9}) {
    // 1 - p is exact for p >= 1/2, so the upper half is written through it.
    // Near the median the CDF is known to 1e-16 absolute, the quantile to
    // about that divided by the density: hence the absolute term.
    const double cauchy = p < 0.5 ? -1 / std::tan(kPi * p) : 1 / std::tan(kPi * (1 - p));
    EXPECT_NEAR(student_t_quantile(p, 1), cauchy, 1e-13 * std::fabs(cauchy) + 1e-15) << p;
    const double two = (2 * p - 1) / std::sqrt(2 * p * (1 - p));
    EXPECT_NEAR(student_t_quantile(p, 2), two, 1e-13 * std::fabs(two) + 1e-15) << p;
  }
}

TEST(StudentT, SymmetricTailsAndRoundTrip) {
  for (double dof : {0.5, 1.0, 3.0, 17.0, 250.0})
    for (double t : {0.1, 1.5, 4.0, 60.0}) {
      EXPECT_NEAR(student_t_cdf(-t, dof) + student_t_cdf(t, dof), 1.0, 1e-15);
      EXPECT_NEAR(student_t_quantile(student_t_cdf(-t, dof), dof), -t, 1e-12 * t);
    }
  EXPECT_EQ(student_t_cdf(-kInf, 3), 0.0);
  EXPECT_EQ(student_t_cdf(kInf, 3), 1.0);
  EXPECT_EQ(student_t_cdf(0, 3), 0.5);
  EXPECT_TRUE(std::isnan(student_t_cdf(kNaN, 3)));
  EXPECT_EQ(student_t_quantile(0.5, 7), 0.0);
  // Far tails of a heavy-tailed t: t^2 overflows, the tail is still ~ C t^-dof.
  EXPECT_NEAR(student_t_cdf(-1e300, 1), 1 / (kPi * 1e300), 1e-12 / (kPi * 1e300));
}

TEST(StudentT, RejectsBadArguments) {
  expect_error([] { student_t_cdf(1.0, 0.0); }, {"student_t_cdf", "degrees of freedom", "> 0"});
  expect_error([] { student_t_cdf(1.0, -2.0); }, {"student_t_cdf", "-2"});
  expect_error([] { student_t_cdf(1.0, kNaN); }, {"student_t_cdf", "degrees of freedom"});
  expect_error([] { student_t_quantile(0.5, 0.0); }, {"student_t_quantile", "degrees of freedom"});
  for (double p : {0.0, 1.0, -0.1, 1.5, kNaN})
    expect_error([p] { student_t_quantile(p, 3.0); }, {"student_t_quantile", "(0, 1)"});
}

// ---- Paired comparisons and t intervals ----------------------------------

struct PairedCase {
  const char* name;
  std::vector<double> baseline, treatment;
  double confidence;
  // scipy: n, mean, low, high, t, p
  int64_t n;
  double mean, low, high, t, p;
};

const std::vector<PairedCase> kPaired = {
    {"five_seeds",
     {0.612, 0.598, 0.634, 0.605, 0.621},
     {0.640, 0.611, 0.652, 0.637, 0.629},
     0.95,
     5,
     0.01980000000000002,
     0.007309082346566449,
     0.03229091765343359,
     4.401086822296432,
     0.011681302393535865},
    {"two_seeds",
     {0.50, 0.55},
     {0.58, 0.60},
     0.95,
     2,
     0.06499999999999995,
     -0.12559307104262057,
     0.25559307104262047,
     4.333333333333326,
     0.14438463102129467},
    {"nan_pairs_dropped",
     {0.70, kNaN, 0.72, 0.69, 0.71, 0.73},
     {0.69, 0.75, 0.74, kNaN, 0.70, 0.76},
     0.95,
     4,
     0.007500000000000007,
     -0.025303905661353508,
     0.04030390566135352,
     0.7276068751089989,
     0.5194979618654488},
    {"ten_seeds_90",
     {0.81, 0.79, 0.83, 0.80, 0.82, 0.78, 0.84, 0.80, 0.81, 0.79},
     {0.82, 0.78, 0.83, 0.82, 0.81, 0.79, 0.85, 0.79, 0.83, 0.80},
     0.90,
     10,
     0.004999999999999982,
     -0.0018316085464222254,
     0.01183160854642219,
     1.3416407864998736,
     0.21257989232273608},
};

TEST(PairedDifference, MatchesScipyTtestRel) {
  for (const PairedCase& c : kPaired) {
    SCOPED_TRACE(c.name);
    const PairedComparison r = paired_difference(c.baseline, c.treatment, c.confidence);
    EXPECT_EQ(r.n, c.n);
    expect_interval(r.difference, c.mean, c.low, c.high, 1e-11);
    EXPECT_NEAR(r.t_statistic, c.t, 1e-11 * std::fabs(c.t));
    EXPECT_NEAR(r.p_value, c.p, 1e-11 * c.p);
    EXPECT_EQ(r.significant, c.p < 1 - c.confidence);
  }
  // Five seeds: p = 0.0117 is significant at 95% but not at 99%, and the
  // interval agrees: the 95% one excludes 0, the 99% one holds it.
  const PairedComparison strict =
      paired_difference(kPaired[0].baseline, kPaired[0].treatment, 0.99);
  EXPECT_TRUE(paired_difference(kPaired[0].baseline, kPaired[0].treatment).significant);
  EXPECT_GT(kPaired[0].low, 0);
  EXPECT_FALSE(strict.significant);
  EXPECT_LT(strict.difference.low, 0);
}

// The rules scipy does not share: identical pairs are "no difference"
// (scipy gives t = p = NaN), constant non-zero differences have no t
// statistic (scipy gives t = inf, p = 0), fewer than two pairs have no
// interval.
TEST(PairedDifference, EdgeCasesByHand) {
  const PairedComparison same = paired_difference({0.7, 0.8, 0.9}, {0.7, 0.8, 0.9});
  EXPECT_EQ(same.n, 3);
  expect_interval(same.difference, 0, 0, 0);
  EXPECT_TRUE(std::isnan(same.t_statistic));
  EXPECT_EQ(same.p_value, 1.0);
  EXPECT_FALSE(same.significant);

  // Differences of exactly 0.25 each (representable, so no rounding spread).
  const PairedComparison shifted = paired_difference({0.25, 0.5, 0.0}, {0.5, 0.75, 0.25});
  EXPECT_EQ(shifted.n, 3);
  expect_interval(shifted.difference, 0.25, kNaN, kNaN);
  EXPECT_TRUE(std::isnan(shifted.t_statistic));
  EXPECT_TRUE(std::isnan(shifted.p_value));
  EXPECT_FALSE(shifted.significant);
  // The same with a difference that is not exact in binary: three times 0.1
  // summed and divided by 3 is 0.10000000000000002, which must not turn into
  // a spread of one ulp and t = 10^16.
  const PairedComparison tenth = paired_difference({0, 0, 0}, {0.1, 0.1, 0.1});
  EXPECT_EQ(tenth.difference.estimate, 0.1);
  EXPECT_TRUE(std::isnan(tenth.t_statistic));
  EXPECT_TRUE(std::isnan(tenth.difference.low));

  const PairedComparison one = paired_difference({0.5, kNaN}, {0.75, 0.9});
  EXPECT_EQ(one.n, 1);
  expect_interval(one.difference, 0.25, kNaN, kNaN);
  EXPECT_TRUE(std::isnan(one.p_value));
  EXPECT_FALSE(one.significant);

  const PairedComparison none = paired_difference({}, {});
  EXPECT_EQ(none.n, 0);
  expect_interval(none.difference, kNaN, kNaN, kNaN);
  EXPECT_TRUE(std::isnan(none.t_statistic));
}

TEST(PairedDifference, RejectsBadArguments) {
  expect_error(
      [] {
        paired_difference({1, 2, 3}, {1, 2});
      },
      {"paired_difference", "3 baseline", "2 treatment"});
  for (double confidence : {0.0, 1.0, 95.0, kNaN})
    expect_error(
        [confidence] {
          paired_difference({1, 2}, {2, 4}, confidence);
        },
        {"paired_difference", "confidence", "(0, 1)"});
}

struct MeanCase {
  const char* name;
  std::vector<double> values;
  double confidence;
  double mean, low, high;  // scipy
};

const std::vector<MeanCase> kMeans = {
    {"five_seeds",
     {0.61, 0.63, 0.58, 0.66, 0.60},
     0.95,
     0.616,
     0.5781343371836054,
     0.6538656628163946},
    {"nan_dropped", {0.5, kNaN, 0.7}, 0.95, 0.6, -0.6706204736174689, 1.870620473617469},
    {"ten_seeds_99",
     {0.81, 0.79, 0.83, 0.80, 0.82, 0.78, 0.84, 0.80, 0.81, 0.79},
     0.99,
     0.807,
     0.7875914698987679,
     0.8264085301012322},
};

TEST(MeanInterval, MatchesScipyTInterval) {
  for (const MeanCase& c : kMeans) {
    SCOPED_TRACE(c.name);
    expect_interval(mean_interval(c.values, c.confidence), c.mean, c.low, c.high, 1e-11);
  }
}

TEST(MeanInterval, EdgeCasesByHand) {
  expect_interval(mean_interval({0.4}), 0.4, kNaN, kNaN);
  expect_interval(mean_interval({kNaN, 0.4, kNaN}), 0.4, kNaN, kNaN);
  expect_interval(mean_interval({}), kNaN, kNaN, kNaN);
  // No spread across seeds: the interval is the point (1.0 is exact).
  expect_interval(mean_interval({1.0, 1.0, 1.0, 1.0}), 1.0, 1.0, 1.0);
  expect_interval(mean_interval({0.1, 0.1, 0.1}), 0.1, 0.1, 0.1);
  expect_error([] { mean_interval({1, 2}, 1.0); }, {"mean_interval", "confidence"});
}

// ---- The stratified bootstrap --------------------------------------------

Subgroups two_groups(int64_t minority, int64_t majority, std::vector<int64_t> counts) {
  Subgroups s;
  s.values = {0, 1};
  s.counts = std::move(counts);
  s.minority = minority;
  s.majority = majority;
  return s;
}

// Each subgroup is constant, so every resample has the same means: every
// interval collapses to its estimate. A NaN query of the minority is not
// scored and changes nothing.
TEST(Bootstrap, ConstantSubgroupsCollapseToThePoint) {
  const std::vector<double> values = {0.75, 0.75, kNaN, 0.75, 0.5, 0.75, 0.5, 0.75, 0.5};
  const std::vector<int64_t> groups = {0, 0, 1, 0, 1, 0, 1, 0, 1};
  const Subgroups s = find_subgroups(groups, 1, "test");
  const GroupedBootstrap r = bootstrap_grouped_mean(values, groups, s, {200, 0.95, 3});
  ASSERT_EQ(r.per_group.size(), 2u);
  expect_interval(r.per_group[0], 0.75, 0.75, 0.75, 0);
  expect_interval(r.per_group[1], 0.5, 0.5, 0.5, 0);
  // (5 * 0.75 + 3 * 0.5) / 8: all exact in binary.
  expect_interval(r.overall, 0.65625, 0.65625, 0.65625, 0);
  expect_interval(r.gap_minority_majority, -0.25, -0.25, -0.25, 0);
}

// Subgroup 0 holds {0, 1}: a resample's mean is 0, 1/2 or 1 with probability
// 1/4, 1/2, 1/4; subgroup 1 is constant 1/2. With 4000 resamples the share
// of each outcome is within 0.03 of its probability (10 standard errors), so
// the percentile interval is known exactly: 95% -> [0, 1], 60% (the 20th and
// 80th percentiles) -> [0, 1], 40% (30th and 70th) -> [1/2, 1/2]. The gap
// (minority 0 - majority 1) and the overall mean (2 m0 + 2) / 6 follow.
TEST(Bootstrap, TwoPointSubgroupHasAKnownDistribution) {
  const std::vector<double> values = {0.5, 0.0, 0.5, 1.0, 0.5, 0.5};
  const std::vector<int64_t> groups = {1, 0, 1, 0, 1, 1};
  const Subgroups s = two_groups(0, 1, {2, 4});
  const auto run = [&](double confidence) {
    return bootstrap_grouped_mean(values, groups, s, {4000, confidence, 11});
  };
  for (double confidence : {0.95, 0.6}) {
    SCOPED_TRACE(confidence);
    const GroupedBootstrap r = run(confidence);
    expect_interval(r.per_group[0], 0.5, 0, 1, 0);
    expect_interval(r.per_group[1], 0.5, 0.5, 0.5, 0);
    expect_interval(r.gap_minority_majority, 0, -0.5, 0.5, 0);
    expect_interval(r.overall, 0.5, 2.0 / 6, 4.0 / 6, 1e-15);
  }
  const GroupedBootstrap narrow = run(0.4);
  expect_interval(narrow.per_group[0], 0.5, 0.5, 0.5, 0);
  expect_interval(narrow.gap_minority_majority, 0, 0, 0, 0);
  expect_interval(narrow.overall, 0.5, 0.5, 0.5, 1e-15);
}

// A metric with spread: the value of query q in subgroup g.
std::vector<double> spread_values(const std::vector<int64_t>& groups) {
  std::vector<double> v;
  for (size_t q = 0; q < groups.size(); ++q)
    v.push_back(double((q * 37) % 11) / 10 + 0.2 * double(groups[q]));
  return v;
}

std::vector<int64_t> alternating_groups(size_t n, size_t every) {
  std::vector<int64_t> g;
  for (size_t q = 0; q < n; ++q) g.push_back(q % every == 0 ? 1 : 0);
  return g;
}

double width(const Interval& in) {
  return in.high - in.low;
}

TEST(Bootstrap, IntervalsHoldTheEstimateAndNarrowWithMoreQueries) {
  const BootstrapOptions options{500, 0.95, 7};
  double previous_gap_width = kInf;
  for (size_t n : {40, 400, 4000}) {
    SCOPED_TRACE(n);
    const std::vector<int64_t> groups = alternating_groups(n, 4);  // 1 in 4 is minority
    const std::vector<double> values = spread_values(groups);
    const Subgroups s = find_subgroups(groups, kSmallestGroup, "test");
    const GroupedBootstrap r = bootstrap_grouped_mean(values, groups, s, options);
    for (const Interval* in :
         {&r.overall, &r.per_group[0], &r.per_group[1], &r.gap_minority_majority}) {
      EXPECT_LE(in->low, in->estimate);
      EXPECT_GE(in->high, in->estimate);
      EXPECT_GT(width(*in), 0);
    }
    // The minority's quarter of the queries makes its interval the wider one.
    EXPECT_GT(width(r.per_group[1]), width(r.per_group[0]));
    EXPECT_LT(width(r.overall), width(r.per_group[1]));
    // Ten times the queries: about sqrt(10) = 3.2 times narrower.
    EXPECT_LT(width(r.gap_minority_majority), previous_gap_width / 2);
    previous_gap_width = width(r.gap_minority_majority);
  }
}

TEST(Bootstrap, SeededAndIndependentOfThreads) {
  const std::vector<int64_t> groups = alternating_groups(3000, 3);
  const std::vector<double> values = spread_values(groups);
  const Subgroups s = find_subgroups(groups, kSmallestGroup, "test");
  const auto same = [](const GroupedBootstrap& a, const GroupedBootstrap& b) {
    bool equal = a.overall.low == b.overall.low && a.overall.high == b.overall.high &&
                 a.gap_minority_majority.low == b.gap_minority_majority.low &&
                 a.gap_minority_majority.high == b.gap_minority_majority.high;
    for (size_t g = 0; g < a.per_group.size(); ++g)
      equal = equal && a.per_group[g].low == b.per_group[g].low &&
              a.per_group[g].high == b.per_group[g].high;
    return equal;
  };
  // 200 resamples of 3000 queries: enough work for parallel_for to split.
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const GroupedBootstrap one = bootstrap_grouped_mean(values, groups, s, {200, 0.9, 42});
  omp_set_num_threads(4);
  const GroupedBootstrap four = bootstrap_grouped_mean(values, groups, s, {200, 0.9, 42});
  omp_set_num_threads(threads);
  EXPECT_TRUE(same(one, four));
  const GroupedBootstrap other = bootstrap_grouped_mean(values, groups, s, {200, 0.9, 43});
  EXPECT_FALSE(same(one, other));
  EXPECT_EQ(one.overall.estimate, other.overall.estimate);
}

// Unscored queries are dropped before resampling, so they change nothing,
// not even the draws; a subgroup with none scored has NaN intervals, and the
// gap is NaN when it is the minority.
TEST(Bootstrap, UnscoredQueriesAndEmptySubgroups) {
  const std::vector<int64_t> groups = alternating_groups(60, 3);
  const std::vector<double> values = spread_values(groups);
  std::vector<double> with_nan = values;
  std::vector<int64_t> with_nan_groups = groups;
  for (int64_t g : {0, 1, 2, 1}) {  // a third subgroup 2 that is never scored
    with_nan.push_back(kNaN);
    with_nan_groups.push_back(g);
  }
  with_nan.insert(with_nan.begin() + 5, kNaN);
  with_nan_groups.insert(with_nan_groups.begin() + 5, 0);
  const BootstrapOptions options{300, 0.95, 5};
  const GroupedBootstrap plain =
      bootstrap_grouped_mean(values, groups, two_groups(1, 0, {40, 20}), options);
  Subgroups three;
  three.values = {0, 1, 2};
  three.counts = {42, 22, 1};
  three.minority = 1;
  three.majority = 0;
  const GroupedBootstrap r = bootstrap_grouped_mean(with_nan, with_nan_groups, three, options);
  ASSERT_EQ(r.per_group.size(), 3u);
  for (size_t g = 0; g < 2; ++g)
    expect_interval(r.per_group[g], plain.per_group[g].estimate, plain.per_group[g].low,
                    plain.per_group[g].high, 0);
  expect_interval(r.gap_minority_majority, plain.gap_minority_majority.estimate,
                  plain.gap_minority_majority.low, plain.gap_minority_majority.high, 0);
  expect_interval(r.overall, plain.overall.estimate, plain.overall.low, plain.overall.high, 0);
  expect_interval(r.per_group[2], kNaN, kNaN, kNaN);

  three.minority = 2;
  const GroupedBootstrap empty_minority =
      bootstrap_grouped_mean(with_nan, with_nan_groups, three, options);
  expect_interval(empty_minority.gap_minority_majority, kNaN, kNaN, kNaN);
  EXPECT_FALSE(std::isnan(empty_minority.overall.low));
}

// Coverage: 200 data sets of Bernoulli outcomes with known rates (150
// majority queries at 0.7, 100 minority at 0.55); the 95% percentile
// interval should hold the true value in about 95% of them. The percentile
// bootstrap runs a little short on small samples, and 200 data sets give a
// standard error of 1.5 points, hence the 90-99% band.
TEST(Bootstrap, CoversTheTruthOnBernoulliData) {
  constexpr int kDataSets = 200;
  constexpr int64_t kMajority = 150, kMinority = 100;
  constexpr double kRateMajority = 0.7, kRateMinority = 0.55;
  const double truth_overall =
      (kMajority * kRateMajority + kMinority * kRateMinority) / double(kMajority + kMinority);
  std::vector<int64_t> groups(kMajority, 0);
  groups.insert(groups.end(), kMinority, 1);
  const Subgroups s = two_groups(1, 0, {kMajority, kMinority});
  int covered_overall = 0, covered_majority = 0, covered_minority = 0, covered_gap = 0;
  const auto holds = [](const Interval& in, double truth) {
    return in.low <= truth && truth <= in.high;
  };
  for (int d = 0; d < kDataSets; ++d) {
    std::vector<double> values;
    for (size_t q = 0; q < groups.size(); ++q)
      values.push_back(bernoulli_value<double>(philox4x32_10(q, 1000 + uint64_t(d)),
                                               groups[q] == 0 ? kRateMajority : kRateMinority));
    const GroupedBootstrap r = bootstrap_grouped_mean(values, groups, s, {400, 0.95, uint64_t(d)});
    covered_overall += holds(r.overall, truth_overall);
    covered_majority += holds(r.per_group[0], kRateMajority);
    covered_minority += holds(r.per_group[1], kRateMinority);
    covered_gap += holds(r.gap_minority_majority, kRateMinority - kRateMajority);
  }
  for (int covered : {covered_overall, covered_majority, covered_minority, covered_gap}) {
    EXPECT_GE(covered, 180);  // 90%
    EXPECT_LE(covered, 198);  // 99%
  }
}

TEST(Bootstrap, RejectsBadArguments) {
  const std::vector<double> values = {0.1, 0.2, 0.3};
  const std::vector<int64_t> groups = {0, 1, 1};
  const Subgroups s = two_groups(0, 1, {1, 2});
  expect_error(
      [&] {
        bootstrap_grouped_mean({0.1, 0.2}, groups, s, {});
      },
      {"bootstrap_grouped_mean", "2 values", "3 group ids"});
  expect_error(
      [&] {
        bootstrap_grouped_mean(values, groups, s, {0, 0.95, 0});
      },
      {"bootstrap_grouped_mean", "resamples = 0", ">= 1"});
  for (double confidence : {0.0, 1.0, -0.5, kNaN})
    expect_error(
        [&] {
          bootstrap_grouped_mean(values, groups, s, {10, confidence, 0});
        },
        {"bootstrap_grouped_mean", "confidence", "(0, 1)"});
  expect_error(
      [&] {
        bootstrap_grouped_mean(values, {0, 7, 1}, s, {});
      },
      {"bootstrap_grouped_mean", "query 1", "group id 7", "subgroups"});
  expect_error(
      [&] {
        bootstrap_grouped_mean(values, groups, two_groups(5, 1, {1, 2}), {});
      },
      {"bootstrap_grouped_mean", "minority 5"});
}

}  // namespace
}  // namespace dml::fairness
