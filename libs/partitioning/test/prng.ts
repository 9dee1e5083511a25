/**
 * mulberry32: a tiny seeded PRNG, so the statistical tests draw the same
 * keys on every run and machine (a seeded failure reproduces; a flaky one
 * would not).
 */
export class Mulberry32 {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A uniformly distributed uint32. */
  nextUint32(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in 0..bound-1 (bound <= 2^32; the tiny modulo bias is irrelevant here). */
  nextInt(bound: number): number {
    return this.nextUint32() % bound;
  }

  /** A uniformly distributed unsigned 64-bit value. */
  nextUint64(): bigint {
    return (BigInt(this.nextUint32()) << 32n) | BigInt(this.nextUint32());
  }

  /** Fills `target` with random bytes and returns it. */
  fill(target: Uint8Array): Uint8Array {
    for (let i = 0; i < target.length; i += 4) {
      let word = this.nextUint32();
      for (let j = i; j < Math.min(i + 4, target.length); j++) {
        target[j] = word & 0xff;
        word >>>= 8;
      }
    }
    return target;
  }

  /** A fresh array of `length` random bytes. */
  bytes(length: number): Uint8Array {
    return this.fill(new Uint8Array(length));
  }
}
