import { Injectable } from '@nestjs/common';
import { calibrateConfidentGnmax, calibrateGnmaxSigma } from '@concord/privacy';
import { InvalidInputException } from '../common/problem';
import { CONVERSION } from '../ledger/ledger.service';
import type { CalibrateDto, CalibrationDto } from './dto/calibrate.dto';

/** Planned with the conversion new budgets are charged with (see LedgerService CONVERSION). */
const ACCOUNTING = 'rdp, data-independent, a composition of Gaussian mechanisms / exact analytic-Gaussian conversion';

/** Planning figures for admins: the noise a job needs to stay within a target ε, whatever the votes. */
@Injectable()
export class PlanningService {
  calibrate(input: CalibrateDto): CalibrationDto {
    switch (input.mechanism) {
      case 'gnmax': {
        const r = calibrateGnmaxSigma({ queries: input.queries, epsilon: input.epsilon, delta: input.delta, conversion: CONVERSION });
        return {
          mechanism: 'gnmax',
          sigma: r.sigma,
          epsilon: r.epsilon,
          delta: input.delta,
          optimalOrder: r.optimalOrder,
          accounting: ACCOUNTING,
        };
      }
      case 'confident_gnmax': {
        if (input.answered !== undefined && input.answered > input.queries) {
          throw new InvalidInputException([{ field: 'body.answered', message: 'must not exceed queries' }]);
        }
        const r = calibrateConfidentGnmax({
          queries: input.queries,
          answered: input.answered,
          epsilon: input.epsilon,
          delta: input.delta,
          ratio: input.ratio ?? 3.75,
          conversion: CONVERSION,
        });
        return {
          mechanism: 'confident_gnmax',
          sigma1: r.sigma1,
          sigma2: r.sigma2,
          epsilon: r.epsilon,
          delta: input.delta,
          optimalOrder: r.optimalOrder,
          accounting: ACCOUNTING,
        };
      }
      case 'gaussian_soft_labels': {
        // RDP α·C²/σ² per query (μ² = 2C²/σ²) is GNMax's with σ' = σ/C: calibrate σ' and scale back.
        const clip = input.clipNorm ?? 1;
        const r = calibrateGnmaxSigma({ queries: input.queries, epsilon: input.epsilon, delta: input.delta, conversion: CONVERSION });
        return {
          mechanism: 'gaussian_soft_labels',
          sigma: r.sigma * clip,
          epsilon: r.epsilon,
          delta: input.delta,
          optimalOrder: r.optimalOrder,
          accounting: ACCOUNTING,
        };
      }
    }
  }
}
