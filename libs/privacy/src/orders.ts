/**
 * Rényi order lists used by the reference implementations. Order lists change ε (the
 * minimum is taken over them), so a ledger records which list its RDP vectors use.
 */

function freezeOrders(xs: number[]): readonly number[] {
  return Object.freeze(xs);
}

/** dp_accounting DEFAULT_RDP_ORDERS: 1.1..10.9 step 0.1, 11..63, 128, 256, 512, 1024 (156 orders). */
export const DPA_ORDERS: readonly number[] = freezeOrders([
  ...Array.from({ length: 99 }, (_, i) => 1 + (i + 1) / 10),
  ...Array.from({ length: 53 }, (_, i) => 11 + i),
  128,
  256,
  512,
  1024,
]);

/** TF Privacy compute_dp_sgd_privacy_lib order list (72 orders). */
export const TFP_ORDERS: readonly number[] = freezeOrders([
  1.25,
  1.5,
  1.75,
  2,
  2.25,
  2.5,
  3,
  3.5,
  4,
  4.5,
  ...Array.from({ length: 59 }, (_, i) => 5 + i),
  128,
  256,
  512,
]);

/**
 * numpy.logspace(log10(100), log10(500), 100). Written out because it is 10 ** linspace(...)
 * through C's pow (the values the reference scripts saw), and V8's Math.pow differs from it in
 * the last bit for a few entries, which would make the duplicated-order argmins differ from upstream.
 */
const PATE_LOGSPACE_100_500: readonly number[] = [
  100.0, 101.63898118064394, 103.30482495439303, 104.99797159409269, 106.71886858857785, 108.46797076094077, 110.24574038873908,
  112.05264732617208, 113.88916912826149, 115.75579117706543, 117.65300680996316, 119.58131745004017, 121.54123273861255,
  123.53327066992105, 125.55795772803499, 127.6158290259985, 129.70742844725734, 131.83330878940524, 133.9940319102838, 136.19016887647953,
  138.4223001142522, 140.69101556293944, 142.99691483087284, 145.34060735385242, 147.72271255621567, 150.14386001454895, 152.60468962407978,
  155.1058517677987, 157.6480074883504, 160.23182866274476, 162.85799817992879, 165.52721012127128, 168.24016994400404, 170.99759466766963,
  173.80021306362673, 176.64876584765864, 179.5440058757417, 182.48669834301936, 185.4776209860401, 188.5175642883074, 191.6073316892013,
  194.7477397963213, 197.93961860131265, 201.18381169922654, 204.481176511479, 207.83258451246166, 211.23892145986682, 214.70108762878948,
  218.2199980496632, 221.79658275009896, 225.43178700068444, 229.12657156481524, 232.8819129526172, 236.69880367903446, 240.57825252614316,
  244.52128480976896, 248.52894265046982, 252.6022852489644, 256.7423891660717, 260.9503486072392, 265.2272757117369, 269.5743008465869,
  273.99257290531517, 278.48325961159543, 283.0475478278736, 287.6866438690466, 292.40177382128667, 297.19418386608663, 302.0651406096204,
  307.01593141749777, 312.04786475500924, 317.1622705329454, 322.3605004590837, 327.64392839543774, 333.0139507213615, 338.4719867026038,
  344.01947886641113, 349.6578933827813, 355.38872045196115, 361.21347469830044, 367.13369557055563, 373.15094774876, 379.2668215577567,
  385.4829333875148, 391.80092612033076, 398.22246956503204, 404.7492608982984, 411.38302511321695, 418.1255154751867, 424.97851398529554,
  431.9438318512952, 439.02330996629024, 446.2188193952783, 453.53226186965844, 460.9655702898514, 468.5207092361501, 476.19967548795006,
  484.0044985514856, 491.937241196215, 499.99999999999994,
];

function buildPateOrders(): number[] {
  const out: number[] = [];
  for (let i = 0; i < 198; i++) out.push(2 + i * 0.5);
  return out.concat(PATE_LOGSPACE_100_500);
}

/**
 * The "long list" of the PATE ICLR 2018 scripts:
 * np.concatenate((np.arange(2, 101, .5), np.logspace(log10(100), log10(500), 100))).
 * 298 entries, unsorted, 100.0 appears twice; kept as is so that argmins match upstream.
 */
export const PATE_ORDERS: readonly number[] = freezeOrders(buildPateOrders());

/** Validates an order list: finite, every order > 1. */
export function checkOrders(orders: ArrayLike<number>, name = 'orders'): void {
  if (orders.length === 0) throw new RangeError(`${name}: must not be empty`);
  for (let i = 0; i < orders.length; i++) {
    const a = orders[i];
    if (!(a > 1) || !Number.isFinite(a)) throw new RangeError(`${name}[${i}]: Rényi order must be finite and > 1, got ${a}`);
  }
}
