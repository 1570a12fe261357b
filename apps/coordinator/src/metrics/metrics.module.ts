import { type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';

@Module({ providers: [MetricsService], controllers: [MetricsController], exports: [MetricsService] })
export class MetricsModule implements NestModule {
  constructor(private readonly metrics: MetricsService) {}

  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply((req: Request, res: Response, next: NextFunction) => {
        const end = this.metrics.httpDuration.startTimer();
        res.on('finish', () => {
          // The route pattern, not the raw URL: ids in paths would explode the label set.
          const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
          end({ method: req.method, route: `${req.baseUrl}${route}`, status: String(res.statusCode) });
        });
        next();
      })
      .forRoutes('*path');
  }
}
