/**
 * Label-preserving image augmentation for the student, in pixel space, on row-major single-channel
 * images. Randomness comes from the seeded libs/ml prng: NOT privacy noise (it only perturbs public
 * pool inputs), but reproducible from the run's seed.
 */
export interface Augmentation {
  /** [height, width] of each pool row, which must be one channel of height × width values. */
  readonly imageShape: readonly [number, number];
  /** Mirror left–right with probability 1/2 (label-preserving for clothing, NOT for digits or text). */
  readonly flip: boolean;
  /** Translate by independent uniform integers in [−shift, shift] on each axis; 0 disables. */
  readonly shift: number;
  /** Value of the pixels shifted in (the normalised background); default 0. */
  readonly fill?: number;
}

export function checkAugmentation(augment: Augmentation, rowSize: number): void {
  const [h, w] = augment.imageShape;
  if (!(Number.isInteger(h) && Number.isInteger(w) && h > 0 && w > 0)) {
    throw new Error(`augment: imageShape must be two positive integers, got [${augment.imageShape.join(', ')}]`);
  }
  if (h * w !== rowSize) throw new Error(`augment: images of ${h} × ${w} need ${h * w} features per row, the pool has ${rowSize}`);
  if (!(Number.isInteger(augment.shift) && augment.shift >= 0 && augment.shift < Math.min(h, w))) {
    throw new Error(`augment: shift must be an integer in [0, ${Math.min(h, w)}), got ${augment.shift}`);
  }
}

/**
 * Writes a flipped (if `flip`) then shifted-by-(dx, dy) copy of image `row` of `source` into row
 * `outRow` of `out`: out(y, x) = in(y − dy, x′ − dx) where x′ mirrors x when flipping.
 */
export function transformImage(
  source: Float32Array,
  row: number,
  out: Float32Array,
  outRow: number,
  imageShape: readonly [number, number],
  flip: boolean,
  dx: number,
  dy: number,
  fill = 0,
): void {
  const [h, w] = imageShape;
  const s = row * h * w;
  const o = outRow * h * w;
  for (let y = 0; y < h; y++) {
    const sy = y - dy;
    for (let x = 0; x < w; x++) {
      const sx = flip ? w - 1 - (x - dx) : x - dx;
      out[o + y * w + x] = sy >= 0 && sy < h && sx >= 0 && sx < w ? source[s + sy * w + sx] : fill;
    }
  }
}

/** Gathers pool rows into one buffer, each randomly flipped and shifted as `augment` says. */
export function augmentRows(features: Float32Array, rows: ArrayLike<number>, augment: Augmentation, random: () => number): Float32Array {
  const [h, w] = augment.imageShape;
  const out = new Float32Array(rows.length * h * w);
  const draw = (): number => (augment.shift > 0 ? Math.floor(random() * (2 * augment.shift + 1)) - augment.shift : 0);
  for (let i = 0; i < rows.length; i++) {
    const flip = augment.flip && random() < 0.5;
    const dx = draw();
    const dy = draw();
    transformImage(features, rows[i], out, i, augment.imageShape, flip, dx, dy, augment.fill ?? 0);
  }
  return out;
}
