import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, deriveSeed } from './random.ts';

test('the same seed gives the same sequence (fixed values, so a changed generator fails)', () => {
  const r = new Rng(0);
  assert.deepEqual([r.uint32(), r.uint32(), r.uint32()], [2841665079, 940820928, 568392]);
  const a = new Rng(42);
  assert.equal(a.next(), 0.14733875612728298);
  assert.equal(a.uniform(2, 3), 2.3751068646088243);
  assert.equal(a.int(0, 10), 2);
  assert.equal(a.normal(), 0.6055399767937564);
  assert.equal(a.beta(1.5, 1.5), 0.4011852278779242);
  assert.deepEqual(a.shuffle([0, 1, 2, 3, 4, 5]), [1, 3, 0, 4, 5, 2]);
});

test('different seeds differ, and deriveSeed depends on order and high bits', () => {
  assert.notEqual(new Rng(1).uint32(), new Rng(2).uint32());
  assert.equal(deriveSeed(1, 2), 3206190802);
  assert.notEqual(deriveSeed(1, 2), deriveSeed(2, 1));
  assert.notEqual(deriveSeed(2 ** 33), deriveSeed(0));
});

test('int stays in [lo, hi) and hits every value; an empty range throws', () => {
  const r = new Rng(3);
  const seen = new Set<number>();
  for (let i = 0; i < 1000; i++) {
    const v = r.int(-2, 3);
    assert.ok(Number.isInteger(v) && v >= -2 && v < 3, `out of range: ${v}`);
    seen.add(v);
  }
  assert.deepEqual([...seen].sort((x, y) => x - y), [-2, -1, 0, 1, 2]);
  assert.throws(() => r.int(4, 4), RangeError);
});

test('beta(1.5, 1.5) and gamma have the textbook moments', () => {
  const r = new Rng(7);
  const n = 50000;
  let sum = 0;
  let sumSq = 0;
  let gammaSum = 0;
  for (let i = 0; i < n; i++) {
    const b = r.beta(1.5, 1.5);
    assert.ok(b >= 0 && b <= 1);
    sum += b;
    sumSq += b * b;
    gammaSum += r.gamma(0.5);
  }
  const mean = sum / n;
  // Beta(a, a): mean 1/2, variance 1 / (4 (2a + 1)) = 0.0625 for a = 1.5; Gamma(k): mean k.
  assert.ok(Math.abs(mean - 0.5) < 0.005, `beta mean ${mean}`);
  assert.ok(Math.abs(sumSq / n - mean * mean - 0.0625) < 0.002, 'beta variance');
  assert.ok(Math.abs(gammaSum / n - 0.5) < 0.02, `gamma mean ${gammaSum / n}`);
});

test('normal has mean 0 and variance 1', () => {
  const r = new Rng(11);
  let s = 0;
  let s2 = 0;
  const n = 50000;
  for (let i = 0; i < n; i++) {
    const x = r.normal();
    s += x;
    s2 += x * x;
  }
  assert.ok(Math.abs(s / n) < 0.02);
  assert.ok(Math.abs(s2 / n - 1) < 0.03);
});
