/**
 * @concord/privacy — DP events, the RDP accountant, PATE analysis, smooth sensitivity, filters.
 * Pure TypeScript, float64, natural-log units. See README.md for what is promised.
 */
export * from './events';
export { DPA_ORDERS, TFP_ORDERS, PATE_ORDERS, checkOrders } from './orders';
export { rdpOfEvent, addRdpOfEvent } from './rdp-of-event';
export type { AccountingMode } from './rdp-of-event';
export { RdpAccountant } from './accountant';
export { epsilonFromRdp, deltaFromRdp, epsilonFromRdpBasic } from './conversion';
export type { EpsilonResult, DeltaResult, ConversionOptions } from './conversion';
export { checkFits, privacyFilter, PrivacyFilter } from './filter';
export type { PrivacyCap, FitResult } from './filter';
export { calibrateGnmaxSigma, calibrateConfidentGnmax } from './calibrate';
export type { CalibrationResult, ConfidentCalibrationResult } from './calibrate';
export * from './rdp';
export * from './pate';
export * from './smooth-sensitivity';
export * as special from './special';
export { deltaOfGaussianDp, epsilonOfGaussianDp, exactGaussianEpsilon, gaussianMuSquaredOfEvent } from './gaussian-dp';
export { CONVERSIONS, conversionAdmits, epsilonOfTotal, gaussianMuSquaredOfRdp } from './gaussian-dp';
export type { Conversion, TotalEpsilon } from './gaussian-dp';
