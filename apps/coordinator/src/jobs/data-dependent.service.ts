import { Inject, Injectable, Logger } from '@nestjs/common';
import { base64ToBytes, openEnvelope, secureStandardNormal } from '@concord/crypto';
import { PATE_ORDERS, planSmoothSensitivityRelease, sanitizedEpsilon } from '@concord/privacy';
import { answerContext, type BatchAnswerPayload } from '@concord/protocol';
import { COORDINATOR_KEYS, type CoordinatorKeys } from '../agents/coordinator-keys';
import { JobsRepository } from './jobs.repository';

/**
 * At the end of a GNMax or Confident-GNMax job, the tighter data-dependent ε of Scalable PATE
 * (Papernot et al. 2018): computed from the aggregated votes of the run that happened (threshold
 * step on every query, GNMax on the answered ones), and published only after sanitisation with
 * smooth sensitivity (GNSS, §B), its own cost included. The figure is drawn once and stored: it is
 * never recomputed with fresh noise, which would leak more. The budget is never charged with it —
 * the ledger charges the data-independent cost, a guarantee.
 */
@Injectable()
export class DataDependentService {
  private readonly logger = new Logger('DataDependentEpsilon');

  constructor(
    private readonly jobs: JobsRepository,
    @Inject(COORDINATOR_KEYS) private readonly keys: CoordinatorKeys,
  ) {}

  async publish(jobId: string): Promise<void> {
    const { epsilon, note } = await this.compute(jobId);
    if (await this.jobs.publishDataDependent(jobId, epsilon, note)) {
      this.logger.log({ jobId, published: epsilon !== null }, note ?? 'sanitised data-dependent ε published');
    }
  }

  private async compute(jobId: string): Promise<{ epsilon: number | null; note: string | null }> {
    const job = await this.jobs.findJob(jobId);
    if (!job || job.status !== 'completed') return { epsilon: null, note: 'job did not complete' };
    const mechanism = job.mechanism;
    if (mechanism.kind === 'gaussian_soft_labels') return { epsilon: null, note: 'soft labels are accounted data-independently only' };
    const labels = new Map((await this.jobs.releasedLabels(jobId)).map((l) => [l.queryIndex, l]));
    const votes: number[][] = [];
    const answered: boolean[] = [];
    const teacherCounts = new Set<number>();
    for (const { batch, charged } of await this.jobs.releasedBatchesWithCharges(jobId)) {
      const paid = new Set(charged);
      const subs = (await this.jobs.submissions(batch.id, batch.attempt)).filter((s) => paid.has(s.institutionId));
      const rows = subs.map((s) => {
        const opened = openEnvelope(
          s.envelope,
          this.keys.box.secretKey,
          base64ToBytes(s.signerPublicKey, 'signer', 32),
          answerContext(job.id, batch.id, batch.attempt, s.nonce),
        );
        return (opened.payload as BatchAnswerPayload).rows;
      });
      teacherCounts.add(subs.reduce((a, s) => a + s.teachers, 0));
      batch.queryIndices.forEach((q, i) => {
        votes.push(rows[0].map((_, c) => rows.reduce((sum, r) => sum + r[i][c], 0)));
        answered.push(labels.get(q)?.answered ?? false);
      });
    }
    if (votes.length === 0) return { epsilon: null, note: 'no batch was released' };
    if (teacherCounts.size !== 1) return { epsilon: null, note: 'the number of teachers varied across batches (participants stopped)' };
    const plan = planSmoothSensitivityRelease({
      votes,
      numTeachers: [...teacherCounts][0],
      params:
        mechanism.kind === 'gnmax'
          ? { threshold: null, sigma1: null, sigma2: mechanism.sigma }
          : { threshold: mechanism.threshold, sigma1: mechanism.sigma1, sigma2: mechanism.sigma2 },
      delta: job.delta,
      orders: PATE_ORDERS,
      answered,
      // The same RDP → (ε, δ) conversion as the ledger's (Canonne–Kamath–Steinke); the PATE 2018
      // code uses the basic one, which is up to ~0.4 larger at these orders.
      conversion: 'improved',
    });
    return { epsilon: sanitizedEpsilon(plan, secureStandardNormal()), note: null };
  }
}
