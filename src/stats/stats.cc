// Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.

#include "stats/stats.h"

#include <cmath>

namespace cairn::internal {

Interval WilsonInterval(int64_t successes, int64_t trials, double z) {
  if (trials <= 0) return {};
  const double n = static_cast<double>(trials);
  const double p = static_cast<double>(successes) / n;
  const double z2 = z * z;
  const double denom = 1 + z2 / n;
  const double center = (p + z2 / (2 * n)) / denom;
  const double half = z * std::sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom;
  return {center - half, center + half};
}

TestResult TwoProportionZTest(int64_t successes_a, int64_t trials_a,
                              int64_t successes_b, int64_t trials_b) {
  TestResult r;
  if (trials_a <= 0 || trials_b <= 0) return r;
  const double na = static_cast<double>(trials_a);
  const double nb = static_cast<double>(trials_b);
  const double pa = successes_a / na;
  const double pb = successes_b / nb;
  const double pooled = static_cast<double>(successes_a + successes_b) / (na + nb);
  const double se = std::sqrt(pooled * (1 - pooled) * (1 / na + 1 / nb));
  if (se == 0) return r;
  r.statistic = (pa - pb) / se;
  r.p_value = std::erfc(std::fabs(r.statistic) / std::sqrt(2.0));
  r.valid = true;
  return r;
}

namespace {

// Series for the lower regularized gamma P(a, x), good for x < a + 1.
double GammaPSeries(double a, double x) {
  double sum = 1.0 / a;
  double term = sum;
  for (int n = 1; n < 10000; ++n) {
    term *= x / (a + n);
    sum += term;
    if (std::fabs(term) < std::fabs(sum) * 1e-16) break;
  }
  return sum * std::exp(-x + a * std::log(x) - std::lgamma(a));
}

// Continued fraction (modified Lentz) for Q(a, x), good for x >= a + 1.
double GammaQFraction(double a, double x) {
  constexpr double kTiny = 1e-300;
  double b = x + 1 - a;
  double c = 1 / kTiny;
  double d = 1 / b;
  double h = d;
  for (int i = 1; i < 10000; ++i) {
    const double an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = b + an / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1) < 1e-16) break;
  }
  return std::exp(-x + a * std::log(x) - std::lgamma(a)) * h;
}

}  // namespace

double RegularizedGammaQ(double a, double x) {
  if (x <= 0) return 1;
  if (x < a + 1) return 1 - GammaPSeries(a, x);
  return GammaQFraction(a, x);
}

TestResult ChiSquareTest(const std::vector<int64_t>& successes,
                         const std::vector<int64_t>& trials) {
  TestResult r;
  const size_t k = trials.size();
  if (k < 2 || successes.size() != k) return r;
  double total = 0, total_success = 0;
  for (size_t i = 0; i < k; ++i) {
    if (trials[i] <= 0) return r;
    total += static_cast<double>(trials[i]);
    total_success += static_cast<double>(successes[i]);
  }
  const double rate = total_success / total;
  if (rate <= 0 || rate >= 1) return r;
  double chi2 = 0;
  for (size_t i = 0; i < k; ++i) {
    const double n = static_cast<double>(trials[i]);
    const double expected_yes = n * rate;
    const double expected_no = n * (1 - rate);
    const double yes = static_cast<double>(successes[i]);
    const double no = n - yes;
    chi2 += (yes - expected_yes) * (yes - expected_yes) / expected_yes +
            (no - expected_no) * (no - expected_no) / expected_no;
  }
  r.statistic = chi2;
  r.degrees_of_freedom = static_cast<int>(k) - 1;
  r.p_value = RegularizedGammaQ(r.degrees_of_freedom / 2.0, chi2 / 2);
  r.valid = true;
  return r;
}

}  // namespace cairn::internal
