/** Tolerance checks used by the reference-vector evaluation. */

export interface Failure {
  readonly field: string;
  readonly expected: unknown;
  readonly actual: unknown;
  readonly rule: string;
}

export class Checker {
  readonly failures: Failure[] = [];
  checked = 0;

  private fail(field: string, expected: unknown, actual: unknown, rule: string): void {
    this.failures.push({ field, expected, actual, rule });
  }

  /** |a - e| <= max(atol, rtol |e|); equal non-finite values match. */
  close(field: string, actual: number, expected: number, rtol: number, atol = 0): boolean {
    this.checked++;
    if (actual === expected || (Number.isNaN(actual) && Number.isNaN(expected))) return true;
    if (!Number.isFinite(actual) || !Number.isFinite(expected) || Math.abs(actual - expected) > Math.max(atol, rtol * Math.abs(expected))) {
      this.fail(field, expected, actual, `rtol ${rtol}${atol ? ` / atol ${atol}` : ''}`);
      return false;
    }
    return true;
  }

  closeArray(field: string, actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol = 0): boolean {
    if (actual.length !== expected.length) {
      this.checked++;
      this.fail(`${field}.length`, expected.length, actual.length, 'length');
      return false;
    }
    let ok = true;
    for (let i = 0; i < expected.length; i++) {
      if (!this.close(`${field}[${i}]`, actual[i], expected[i], rtol, atol)) {
        ok = false;
        break; // one failure per array is enough to report
      }
    }
    return ok;
  }

  /** Ours may be tighter (smaller), never larger beyond rtol. */
  notLarger(field: string, actual: number, expected: number, rtol: number): boolean {
    this.checked++;
    if (expected === Infinity || actual <= expected + rtol * Math.abs(expected)) return true;
    this.fail(field, expected, actual, `ours <= expected (rtol ${rtol})`);
    return false;
  }

  exact(field: string, actual: unknown, expected: unknown): boolean {
    this.checked++;
    if (actual === expected) return true;
    this.fail(field, expected, actual, 'exact');
    return false;
  }

  /**
   * Same optimal order, or a tie within rtol: the ε our own RDP gives at the expected order is
   * within rtol of our minimum (our RDP differs from the reference's by up to its own tolerance,
   * which can swap two orders whose ε agree to that tolerance).
   */
  order(field: string, actual: number, expected: number, epsAtExpected: number | undefined, ourMin: number, rtol: number): boolean {
    this.checked++;
    if (actual === expected) return true;
    if (epsAtExpected !== undefined && Math.abs(epsAtExpected - ourMin) <= rtol * Math.abs(ourMin)) return true;
    this.fail(field, expected, actual, 'same order (or tie within tolerance)');
    return false;
  }
}

/** JSON.parse reviver for the vectors' non-finite strings. */
export function reviveNonFinite(_key: string, v: unknown): unknown {
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  if (v === 'NaN') return NaN;
  return v;
}

/** JSON.stringify replacer writing non-finite numbers as strings and typed arrays as arrays. */
export function replaceNonFinite(_key: string, v: unknown): unknown {
  if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  if (v instanceof Float64Array) return Array.from(v);
  return v;
}
