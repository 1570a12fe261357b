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
export { type PcaModel, applyPca, fitPca } from './features/pca';
export { type SymmetricEigen, symmetricEigen } from './features/symmetric-eigen';
export { type CnnSpec, type MlpSpec, type ModelSpec, buildCnn, buildMlp, buildModel, inputShapeOf } from './models';
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
export { trainStudentInWorker, type StudentTrainingOptions, type StudentWorkerResult } from './student';
