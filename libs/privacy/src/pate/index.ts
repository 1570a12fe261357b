export {
  computeLogqGaussian,
  rdpDataIndependentGaussian,
  rdpGaussian,
  rdpGaussianScalar,
  addRdpGaussian,
  gnmaxDataDependentTerms,
  rdpGaussianAtOrder,
  isDataIndependentAlwaysOptGaussian,
  isClose,
} from './gnmax';
export type { GnmaxDdTerms } from './gnmax';
export {
  computeLogPrAnswered,
  rdpDataIndependentThreshold,
  computeRdpThreshold,
  computeRdpThresholdScalar,
  thresholdLogq,
  isDataIndependentAlwaysOptThreshold,
} from './threshold';
