"""How sure a measured value is: the confidence interval of each measure kind, written once.

An interval is computed from the statistics an engine gathered (see measures), never from
the records themselves, so every engine gives the same bytes. The methods, with their
references (docs/confidence.md explains each for a committee):

* share: Wilson score interval (Wilson 1927; Brown, Cai & DasGupta 2001).
* count: the Poisson score interval, Wilson's method for a count (Garwood 1936 is the
  exact one; the score interval keeps coverage near the nominal level instead of above it).
* nps: adjusted Wald on the promoter and detractor proportions, adding 3/4 of a promoter
  and of a detractor and 3 answers (Rocks 2016, *The American Statistician* 70:4).
* mean, sum: Student's t-interval, the sum's as n times the mean's.
* ratio of sums: the ratio estimator's t-interval from its residuals (Cochran 1977, §6.3).
* median, percentile: distribution-free, from the order statistics whose ranks the
  binomial distribution gives (Conover 1999, §3.2), interpolated between adjacent ones
  (Hettmansperger & Sheather 1986) so the level is met closely rather than exceeded.
* ratio of two measures: the numerator's interval over the denominator when that is a
  count of records (an exposure, taken as fixed); otherwise the delta method for
  independent estimates.
* any, all, value, min, max: none; they are not estimates of a rate.
"""

from __future__ import annotations

import functools
import math
from statistics import NormalDist

__all__ = [
    "delta_quotient",
    "mean_interval",
    "nps_interval",
    "order_statistic_ends",
    "poisson_interval",
    "ratio_interval",
    "t_quantile",
    "wilson_interval",
    "z_value",
]

Interval = tuple[float, float]


@functools.lru_cache(maxsize=64)
def z_value(level: float) -> float:
    """The standard normal quantile a two-sided interval at ``level`` spans: 1.959963984540054 at 0.95."""
    return NormalDist().inv_cdf(0.5 + level / 2.0)


def wilson_interval(successes: int, n: int, level: float) -> Interval | None:
    if n <= 0:
        return None
    z = z_value(level)
    p = successes / n
    z2n = z * z / n
    centre = (p + z2n / 2.0) / (1.0 + z2n)
    half = z / (1.0 + z2n) * math.sqrt(p * (1.0 - p) / n + z2n / (4.0 * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def poisson_interval(count: int, level: float) -> Interval:
    z = z_value(level)
    centre = count + z * z / 2.0
    half = z * math.sqrt(count + z * z / 4.0)
    return max(0.0, centre - half), centre + half


def nps_interval(promoters: int, detractors: int, n: int, level: float) -> Interval | None:
    """On the −100…100 scale of the score itself."""
    if n <= 0:
        return None
    z = z_value(level)
    m = n + 3.0
    p, d = (promoters + 0.75) / m, (detractors + 0.75) / m
    net = p - d
    half = z * math.sqrt(max(0.0, p + d - net * net) / m)
    return max(-100.0, 100.0 * (net - half)), min(100.0, 100.0 * (net + half))


def mean_interval(total: float, squares: float, n: int, level: float) -> Interval | None:
    """Student's t-interval of a mean from the sum and the sum of squares of its n values."""
    if n < 2:
        return None
    mean = total / n
    variance = max(0.0, (squares - total * mean) / (n - 1))
    half = t_quantile(level, n - 1) * math.sqrt(variance / n)
    if not math.isfinite(half):
        return None
    return mean - half, mean + half


def ratio_interval(num: float, den: float, nn: float, dd: float, nd: float, n: int, level: float) -> Interval | None:
    """The ratio estimator Σy/Σx of n pairs: its t-interval from the residuals y − Rx."""
    if n < 2 or den == 0:
        return None
    r = num / den
    residuals = max(0.0, nn - 2.0 * r * nd + r * r * dd)
    half = t_quantile(level, n - 1) * math.sqrt(residuals / (n - 1) / n) / abs(den / n)
    if not math.isfinite(half):
        return None
    return r - half, r + half


def delta_quotient(a: float, a_interval: Interval, b: float, b_interval: Interval | None,
                   level: float) -> Interval | None:
    """a / b where b is an estimate too (b_interval given) or fixed (None)."""
    if b == 0:
        return None
    if b_interval is None:
        lo, hi = a_interval[0] / b, a_interval[1] / b
        return (lo, hi) if lo <= hi else (hi, lo)
    if a == 0:
        return None
    z = z_value(level)
    se_a, se_b = (a_interval[1] - a_interval[0]) / (2.0 * z), (b_interval[1] - b_interval[0]) / (2.0 * z)
    r = a / b
    half = z * abs(r) * math.sqrt((se_a / a) ** 2 + (se_b / b) ** 2)
    return r - half, r + half


# One end of a percentile's interval: ranks a and b (0-based, adjacent) and how far from a's value to b's.
End = tuple[int, int, float]


@functools.lru_cache(maxsize=4096)
def order_statistic_ends(n: int, p: float, level: float) -> tuple[End, End] | None:
    """Where, among n values in ascending order, the p-th percentile's interval ends.

    Each end lies between two adjacent order statistics: the outer one alone would miss the
    true percentile with probability at most α/2 (B ~ Binomial(n, p/100) counts values below
    it), the inner one with more. Interpolating between them linearly in that probability
    brings the level close to the nominal one instead of above it, as Hettmansperger &
    Sheather (1986) do for the median. None when n is too small for even the outer ones (a
    median needs 6 values at 95%), or p is 0 or 100.
    """
    q = p / 100.0
    if n < 2 or not 0.0 < q < 1.0:
        return None
    tail = (1.0 - level) / 2.0
    cdf = _binomial_cdf(n, q)  # cdf[k] = P(B ≤ k)
    lower = None  # largest 1-based j with P(B ≤ j − 1) ≤ tail
    for j in range(1, n):
        if cdf[j - 1] > tail:
            break
        lower = j
    upper = None  # smallest 1-based j with P(B ≥ j) = 1 − P(B ≤ j − 1) ≤ tail
    for j in range(n, 1, -1):
        if 1.0 - cdf[j - 1] > tail:
            break
        upper = j
    if lower is None or upper is None:
        return None
    miss_out, miss_in = cdf[lower - 1], cdf[lower]
    low = (lower - 1, lower, (tail - miss_out) / (miss_in - miss_out))
    miss_out, miss_in = 1.0 - cdf[upper - 1], 1.0 - cdf[upper - 2]
    high = (upper - 1, upper - 2, (tail - miss_out) / (miss_in - miss_out))
    return low, high


def _binomial_cdf(n: int, q: float) -> list[float]:
    """P(B ≤ k) for k = 0…n, from log-probabilities so large n neither overflows nor underflows."""
    log_q, log_1q = math.log(q), math.log1p(-q)
    out, total = [], 0.0
    lgn = math.lgamma(n + 1)
    for k in range(n + 1):
        total += math.exp(lgn - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * log_q + (n - k) * log_1q)
        out.append(min(1.0, total))
    return out


# -- Student's t quantile, with no statistics library in the core install


@functools.lru_cache(maxsize=4096)
def t_quantile(level: float, df: int) -> float:
    """The two-sided ``level`` quantile of Student's t with integer ``df`` degrees of freedom.

    Up to 300 degrees of freedom the distribution function is the closed form for an
    integer df (Abramowitz & Stegun 26.7.3–4), inverted by bisection to the last bit;
    beyond, the Cornish–Fisher expansion in the normal quantile (A&S 26.7.5), whose error
    there is below 1e-12.
    """
    z = z_value(level)
    if df > 300:
        return _cornish_fisher(z, df)
    target = 0.5 + level / 2.0
    lo, hi = 0.0, max(2.0 * z, 1.0)
    while _t_cdf(hi, df) < target:
        hi *= 2.0
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if mid in (lo, hi):
            break
        if _t_cdf(mid, df) < target:
            lo = mid
        else:
            hi = mid
    return hi


def _t_cdf(t: float, df: int) -> float:
    theta = math.atan(t / math.sqrt(df))
    c2 = math.cos(theta) ** 2
    s = math.sin(theta)
    if df % 2:
        if df == 1:
            a = 2.0 * theta / math.pi
        else:
            term, series = 1.0, 1.0
            for k in range(1, (df - 3) // 2 + 1):
                term *= c2 * (2 * k) / (2 * k + 1)
                series += term
            a = 2.0 / math.pi * (theta + s * math.cos(theta) * series)
    else:
        term, series = 1.0, 1.0
        for k in range(1, (df - 2) // 2 + 1):
            term *= c2 * (2 * k - 1) / (2 * k)
            series += term
        a = s * series
    return 0.5 + a / 2.0


def _cornish_fisher(z: float, df: int) -> float:
    n = float(df)
    z2 = z * z
    g1 = (z2 + 1.0) * z / 4.0
    g2 = ((5.0 * z2 + 16.0) * z2 + 3.0) * z / 96.0
    g3 = (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) * z / 384.0
    g4 = ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) * z / 92160.0
    return z + g1 / n + g2 / n**2 + g3 / n**3 + g4 / n**4
