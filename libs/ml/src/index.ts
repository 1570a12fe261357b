export {
  type BackendName,
  type BackendPreference,
  type BackendSelection,
  activeBackend,
  canTrainConvolutions,
  selectBackend,
} from './backend';
export { type Dataset, DatasetError, checkDataset, classCounts, featureSize, flatten, subset } from './data/dataset';
export { type CsvOptions, parseCsv, readCsvFile } from './data/csv';
export {
  type IdxArray,
  type IdxData,
  type IdxDatasetOptions,
  type IdxDtype,
  encodeIdx,
  loadIdxDataset,
  parseIdx,
  readIdxFile,
  writeIdxFile,
} from './data/idx';
export { type Normalisation, fitStandardisation, imageScaling, normalise } from './data/normalise';
export { type HoldoutSplit, type Partitioning, holdoutSplit, partition } from './data/partition';
export { seededPermutation, seededRandom, shuffleInPlace } from './data/prng';
export { type PcaModel, type PcaOptions, applyPca, fitPca } from './features/pca';
export {
  DEFAULT_EDGE_ENERGY,
  EdgeEnergyLayer,
  type EdgeEnergySpec,
  type FeatureMap,
  applyFeatureMap,
  edgeEnergy,
  edgeEnergyFilters,
  edgeEnergyProblem,
  edgeEnergySize,
  edgeEnergyTensor,
  featureMapProblem,
  fitFeatureMap,
  withFeatureMap,
} from './features/feature-map';
export { type SymmetricEigen, symmetricEigen } from './features/symmetric-eigen';
export {
  type CnnSpec,
  type LinearProjection,
  type MlpSpec,
  type ModelSpec,
  PROJECTION_LAYER,
  applyProjection,
  buildCnn,
  buildMlp,
  buildModel,
  checkLinearProjection,
  checkProjection,
  inputShapeOf,
  setProjection,
} from './models';
export { type MlpBankOptions, type MlpBankResult, trainMlpBank } from './bank';
export {
  type BatchLoss,
  type TrainOptions,
  type TrainResult,
  type TrainingProgress,
  argmaxRows,
  evaluateAccuracy,
  gatherInputs,
  predictProbabilities,
  runTrainingLoop,
  trainClassifier,
} from './train';
export {
  type DistillOptions,
  type DistillResult,
  type PseudoLabelling,
  type ReleasedLabels,
  type StudentMetrics,
  distillStudent,
} from './distill';
export { MODEL_JSON, type ModelMetadata, WEIGHTS_BIN, fromDirectory, loadModel, readModelMetadata, saveModel } from './io';
export {
  type ParallelTeacherOptions,
  type ParallelTeacherResult,
  type ParallelTrainingEvent,
  type TeacherOutcome,
  type TeacherTrainingSettings,
  trainTeachersInParallel,
} from './parallel';
export {
  type FittedFeatures,
  trainStudentInWorker,
  type StudentFeatures,
  type StudentTrainingOptions,
  type StudentWorkerResult,
} from './student';
