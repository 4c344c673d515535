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

double NormalQuantile(double p) {
  if (!(p > 0 && p < 1)) return std::nan("");
  // Acklam's coefficients: the central region, and the two tails.
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                 -2.759285104469687e+02, 1.383577518672690e+02,
                                 -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                 -1.556989798598866e+02, 6.680131188771972e+01,
                                 -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                 -2.400758277161838e+00, -2.549732539343734e+00,
                                 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                                 2.445134137142996e+00, 3.754408661907416e+00};
  constexpr double kLow = 0.02425;
  double x;
  if (p < kLow || p > 1 - kLow) {
    const double q = std::sqrt(-2 * std::log(p < kLow ? p : 1 - p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    if (p > 1 - kLow) x = -x;
  } else {
    const double q = p - 0.5;
    const double r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  }
  // One step of Halley's method on Phi(x) - p.
  const double e = 0.5 * std::erfc(-x / std::sqrt(2.0)) - p;
  const double u = e * std::sqrt(2 * M_PI) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

}  // namespace cairn::internal
