// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
//
// The statistics behind A/B verdicts: Wilson score intervals for a
// conversion rate, the two-proportion z-test for two arms, and Pearson's
// chi-square test of independence for more.
//
// Thread-safety: pure functions.

#ifndef CAIRN_STATS_STATS_H_
#define CAIRN_STATS_STATS_H_

#include <cstdint>
#include <vector>

namespace cairn::internal {

// z for a two-sided 95% interval.
inline constexpr double kZ95 = 1.959963984540054;

struct Interval {
  double low = 0;
  double high = 0;
};

// successes / trials; 0 when there are no trials.
inline double Rate(int64_t successes, int64_t trials) {
  return trials > 0 ? static_cast<double>(successes) / static_cast<double>(trials) : 0;
}

// The Wilson score interval for `successes` out of `trials` at normal
// quantile `z` (default 95%). [0, 0] when trials is 0.
Interval WilsonInterval(int64_t successes, int64_t trials, double z = kZ95);

struct TestResult {
  double statistic = 0;  // z, or chi-square
  double p_value = 1;    // two-sided
  int degrees_of_freedom = 0;  // chi-square only
  bool valid = false;    // false when the test is undefined (empty arm, no variance)
};

// Two-proportion z-test with pooled variance: arm a against arm b.
TestResult TwoProportionZTest(int64_t successes_a, int64_t trials_a,
                              int64_t successes_b, int64_t trials_b);

// Pearson's chi-square test on a k x 2 table (converted / not, per arm).
TestResult ChiSquareTest(const std::vector<int64_t>& successes,
                         const std::vector<int64_t>& trials);

// Upper regularized incomplete gamma Q(a, x) = Gamma(a, x) / Gamma(a); the
// chi-square survival function is Q(df / 2, x / 2).
double RegularizedGammaQ(double a, double x);

// The standard normal quantile: the z with Phi(z) = p, for 0 < p < 1 (NaN
// otherwise). Acklam's rational approximation refined by one Halley step
// on erfc: within 1e-12 of the true value.
double NormalQuantile(double p);

}  // namespace cairn::internal

#endif  // CAIRN_STATS_STATS_H_
