export {
  computeLogq0Gnmax,
  computeLogq1Gnmax,
  dataDependentBoundGnmax,
  rdpGnmaxWithSwitch,
  localSensitivityGnmaxAtLogq,
  localSensitivityBoundsGnmax,
  logBlGnmax,
  logBuGnmax,
} from './gnmax';
export { localSensitivityBoundsThreshold } from './threshold';
export { computeDiscountedMax, rdpOfSmoothSensitivityGaussian, optimalSigmaSs } from './release';
export { computeConfidentGnmaxRdp, planSmoothSensitivityRelease, defaultBetas, sanitizedEpsilon } from './pipeline';
export type { ConfidentGnmaxParams, ConfidentRdpResult, SmoothSensitivityPlan } from './pipeline';
