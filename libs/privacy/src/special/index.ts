export { logAddExp, logSubExp, log1mExp, logSumExp, SignedLogSum } from './logspace';
export { lgamma, logComb } from './lgamma';
export { erf, erfc, erfcx, logErfc } from './erf';
export { logNdtr, ndtr, normLogSf, erfcinv, erfcinvLog } from './ndtr';
export { roundHalfEven } from './round';
export { brentRoot } from './brent';
export { softplus } from './softplus';
