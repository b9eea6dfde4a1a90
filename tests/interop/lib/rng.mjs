// rng.mjs — a small seeded pseudo-random generator for the interop tests. Every generated
// instance must be reproducible from the seed alone, so no Math.random() anywhere.
// Algorithm: mulberry32 (32-bit state, public-domain construction), seeded per schema from
// a string hash so that adding a schema does not shift the values of the others.

export function hashString(s) {
  // FNV-1a, 32-bit: deterministic, order-sensitive, good enough to derive seeds.
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export class Rng {
  constructor(seed) {
    this.state = seed >>> 0;
  }
  // Uniform float in [0, 1).
  next() {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  // Integer in [lo, hi] (both inclusive).
  int(lo, hi) {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p) {
    return this.next() < p;
  }
  pick(arr) {
    return arr[Math.floor(this.next() * arr.length)];
  }
  // A derived generator, so that one consumer's draws do not shift another's.
  fork(label) {
    return new Rng(hashString(label) ^ this.state);
  }
}
