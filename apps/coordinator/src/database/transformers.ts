import type { ValueTransformer } from 'typeorm';

/** Postgres bigint arrives as a string (it may exceed 2^53); ledger sequence numbers never do. */
export const bigintAsNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};
