/**
 * Randomness for privacy noise, from the operating system's CSPRNG (node:crypto). `Math.random`
 * is predictable and must never produce DP noise: an adversary who can predict the noise can
 * subtract it.
 *
 * Bytes are drawn in blocks (one syscall per 8 KiB) and each uniform uses 53 fresh bits, the full
 * precision of a float64 mantissa.
 */
import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 8192;
const pool = Buffer.alloc(POOL_BYTES);
let offset = POOL_BYTES;

function next53Bits(): number {
  if (offset + 8 > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const hi = pool.readUInt32LE(offset) >>> 11; // 21 bits
  const lo = pool.readUInt32LE(offset + 4); // 32 bits
  offset += 8;
  return hi * 4294967296 + lo;
}

/** A uniform float64 in the open interval (0, 1): never exactly 0, so `log(u)` is always finite. */
export function secureUniform(): number {
  return (next53Bits() + 0.5) / 9007199254740992;
}

/** A uniform integer in [0, n) without modulo bias (rejection sampling), n ≤ 2^53. */
export function secureInt(n: number): number {
  if (!Number.isSafeInteger(n) || n <= 0) throw new RangeError(`n must be a positive safe integer, got ${n}`);
  const limit = 9007199254740992 - (9007199254740992 % n);
  for (;;) {
    const x = next53Bits();
    if (x < limit) return x % n;
  }
}

/** A source of standard normal samples (injectable so that aggregation logic can be tested exactly). */
export type NormalSource = () => number;

let spare: number | undefined;

/**
 * A standard normal N(0, 1) sample by the Box–Muller transform on two CSPRNG uniforms (both
 * outputs are used). Only functions of noisy values (an argmax, a threshold decision) or values
 * rounded to a coarse grid are released, which is what keeps float64 artefacts of the sampler
 * (Mironov 2012) from carrying information.
 */
export const secureStandardNormal: NormalSource = () => {
  if (spare !== undefined) {
    const s = spare;
    spare = undefined;
    return s;
  }
  const r = Math.sqrt(-2 * Math.log(secureUniform()));
  const theta = 2 * Math.PI * secureUniform();
  spare = r * Math.sin(theta);
  return r * Math.cos(theta);
};
