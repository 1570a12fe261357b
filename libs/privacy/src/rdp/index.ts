export {
  rdpGaussianMechanism,
  rdpSubsampledGaussian,
  computeRdpSubsampledGaussian,
  logAInteger,
  logAFractional,
} from './subsampled-gaussian';
