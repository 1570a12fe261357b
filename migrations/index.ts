import { Institutions1764470000000 } from './1764470000000-Institutions';
import { PrivacyLedger1764470100000 } from './1764470100000-PrivacyLedger';
import { ApiKeys1764470200000 } from './1764470200000-ApiKeys';
import { Agents1764470300000 } from './1764470300000-Agents';
import { TasksAndJobs1764470400000 } from './1764470400000-TasksAndJobs';
import { Students1764470500000 } from './1764470500000-Students';
import { BatchLeases1764470800000 } from './1764470800000-BatchLeases';
import { StudentSettings1764471000000 } from './1764471000000-StudentSettings';
import { EvaluationQueries1764472000000 } from './1764472000000-EvaluationQueries';
import { LedgerGroupSignatures1764473000000 } from './1764473000000-LedgerGroupSignatures';
import { QuerySelection1764474000000 } from './1764474000000-QuerySelection';

/** Every migration, in order. Listed explicitly so that compiled and source runs see the same set. */
export const MIGRATIONS = [
  Institutions1764470000000,
  PrivacyLedger1764470100000,
  ApiKeys1764470200000,
  Agents1764470300000,
  TasksAndJobs1764470400000,
  Students1764470500000,
  BatchLeases1764470800000,
  StudentSettings1764471000000,
  EvaluationQueries1764472000000,
  LedgerGroupSignatures1764473000000,
  QuerySelection1764474000000,
];
