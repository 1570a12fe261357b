import { Module } from '@nestjs/common';
import { PlanningController } from './planning.controller';
import { PlanningService } from './planning.service';

@Module({ providers: [PlanningService], controllers: [PlanningController], exports: [PlanningService] })
export class PlanningModule {}
