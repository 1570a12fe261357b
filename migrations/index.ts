import { Institutions1764470000000 } from './1764470000000-Institutions';

/** Every migration, in order. Listed explicitly so that compiled and source runs see the same set. */
export const MIGRATIONS = [Institutions1764470000000];
