#!/usr/bin/env python3
"""Constants of src/ir/MathAlgorithms.h, recomputed (run it and compare).

- kErfcxChebyshev: erfc(x) e^(x^2) on [1, 6] interpolated at 64 Chebyshev nodes in
  t = (x - 3.5) / 2.5, coefficients c_0..c_22 (c_0 halved, as Clenshaw sums them);
  math.erfc and math.exp are accurate to a few ulp in double, the coefficients to
  ~1e-16, and those from c_23 on are below 1e-13.
- kTwoOverPiBits: 2/pi in 24-bit pieces, from pi by Machin's formula in integers.
- the pi/2 pieces of sinCosWide's Cody-Waite reduction (33 + 33 bits, then a double).
"""
import math
from fractions import Fraction


def erfcx_chebyshev(a=1.0, b=6.0, nodes=64, terms=23):
    theta = [math.pi * (j + 0.5) / nodes for j in range(nodes)]
    xs = [(a + b) / 2 + (b - a) / 2 * math.cos(t) for t in theta]
    fs = [math.erfc(x) * math.exp(x * x) for x in xs]
    c = [2.0 / nodes * sum(fs[j] * math.cos(k * theta[j]) for j in range(nodes)) for k in range(nodes)]
    c[0] /= 2
    return c[:terms]


def pi_fraction(bits=300):
    def arctan_inverse(n):
        one, s, t, k, sign = 1 << bits, 0, (1 << bits) // n, 1, 1
        while t:
            s += sign * (t // k)
            t //= n * n
            k += 2
            sign = -sign
        return s
    return Fraction(4 * (4 * arctan_inverse(5) - arctan_inverse(239)), 1 << bits)


def truncated(x, bits):
    q = Fraction(2) ** (math.floor(math.log2(float(x))) - bits + 1)
    return Fraction(math.floor(x / q)) * q


if __name__ == "__main__":
    print("kErfcxChebyshev:", ", ".join(repr(v) for v in erfcx_chebyshev()))
    pi = pi_fraction()
    scaled = math.floor(2 / pi * 2 ** 192)
    print("kTwoOverPiBits:", ", ".join(hex((scaled >> (192 - 24 * (i + 1))) & 0xFFFFFF) for i in range(8)))
    half = pi / 2
    p1 = truncated(half, 33)
    p2 = truncated(half - p1, 33)
    print("pi/2 pieces:", repr(float(p1)), repr(float(p2)), repr(float(half - p1 - p2)))
