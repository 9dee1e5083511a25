/**
 * A source of uniform random numbers in [0, 1). Injected wherever Braid
 * randomises (jitter, member ids) so tests are reproducible.
 */
export interface Random {
  /** A uniformly distributed number in [0, 1). */
  next(): number;
}

/** `Math.random()`. */
export const systemRandom: Random = { next: () => Math.random() };

/**
 * A deterministic generator (mulberry32) for tests and benchmarks: the same
 * seed yields the same sequence on every machine.
 */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return {
    next(): number {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}
