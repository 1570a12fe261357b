import { HttpStatus, Injectable } from '@nestjs/common';
import { type FieldProblem, InvalidInputException, ProblemException } from '../common/problem';
import type { PoolSplit } from './entities/pool-example.entity';
import type { InputSpec } from './entities/task.entity';
import { type TaskWithCounts, TasksRepository } from './tasks.repository';

const MAX_FEATURES = 100_000;

/** Parses an input specification from untrusted JSON, naming the field that is wrong. */
export function parseInputSpec(value: Record<string, unknown>): InputSpec {
  const errors: FieldProblem[] = [];
  if (value.kind === 'image') {
    const shape = value.shape;
    if (!Array.isArray(shape) || shape.length < 1 || shape.length > 3 || !shape.every((d) => Number.isInteger(d) && d >= 1)) {
      errors.push({ field: 'body.inputSpec.shape', message: 'must be 1 to 3 positive integers, e.g. [28, 28, 1]' });
    } else if ((shape as number[]).reduce((a, b) => a * b, 1) > MAX_FEATURES) {
      errors.push({ field: 'body.inputSpec.shape', message: `at most ${MAX_FEATURES} features` });
    }
    const scale = value.scale;
    if (scale !== undefined && (typeof scale !== 'number' || !Number.isFinite(scale) || scale <= 0)) {
      errors.push({ field: 'body.inputSpec.scale', message: 'must be a positive number' });
    }
    for (const key of Object.keys(value))
      if (!['kind', 'shape', 'scale'].includes(key))
        errors.push({ field: `body.inputSpec.${key}`, message: 'is not a field of an image spec' });
    if (errors.length) throw new InvalidInputException(errors);
    return { kind: 'image', shape: shape as number[], ...(scale !== undefined ? { scale: scale as number } : {}) };
  }
  if (value.kind === 'tabular') {
    const features = value.features;
    if (!Array.isArray(features) || features.length < 1 || features.length > MAX_FEATURES) {
      throw new InvalidInputException([{ field: 'body.inputSpec.features', message: `must list 1 to ${MAX_FEATURES} features` }]);
    }
    const names = new Set<string>();
    const parsed = features.map((f: unknown, i) => {
      const field = `body.inputSpec.features[${i}]`;
      const r = f as Record<string, unknown>;
      if (typeof f !== 'object' || f === null || typeof r.name !== 'string' || r.name.length < 1) {
        errors.push({ field: `${field}.name`, message: 'must be a non-empty string' });
        return { name: '' };
      }
      if (names.has(r.name)) errors.push({ field: `${field}.name`, message: 'is a duplicate' });
      names.add(r.name);
      for (const key of ['mean', 'std'] as const) {
        const v = r[key];
        if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || (key === 'std' && v <= 0))) {
          errors.push({ field: `${field}.${key}`, message: key === 'std' ? 'must be a positive number' : 'must be a finite number' });
        }
      }
      return {
        name: r.name,
        ...(r.mean !== undefined ? { mean: r.mean as number } : {}),
        ...(r.std !== undefined ? { std: r.std as number } : {}),
      };
    });
    if (errors.length) throw new InvalidInputException(errors);
    return { kind: 'tabular', features: parsed };
  }
  throw new InvalidInputException([{ field: 'body.inputSpec.kind', message: 'must be "image" or "tabular"' }]);
}

export function featureCount(spec: InputSpec): number {
  return spec.kind === 'image' ? spec.shape.reduce((a, b) => a * b, 1) : spec.features.length;
}

@Injectable()
export class TasksService {
  constructor(private readonly repository: TasksRepository) {}

  async create(name: string, inputSpec: Record<string, unknown>, classes: string[]): Promise<TaskWithCounts> {
    const spec = parseInputSpec(inputSpec);
    if (new Set(classes).size !== classes.length)
      throw new InvalidInputException([{ field: 'body.classes', message: 'class names must be distinct' }]);
    const task = await this.repository.insert(name.trim(), spec, classes);
    if (!task) throw new ProblemException(HttpStatus.CONFLICT, 'Task exists', `a task named ${JSON.stringify(name.trim())} already exists`);
    return (await this.repository.find(task.id))!;
  }

  async get(id: string): Promise<TaskWithCounts> {
    const task = await this.repository.find(id);
    if (!task) throw new ProblemException(HttpStatus.NOT_FOUND, 'Task not found', `no task ${id}`);
    return task;
  }

  list(): Promise<TaskWithCounts[]> {
    return this.repository.list();
  }

  /** Validates every example against the task before anything is written. */
  async upload(
    taskId: string,
    split: PoolSplit,
    examples: unknown[],
    labels: number[] | undefined,
  ): Promise<{ split: PoolSplit; added: number; total: number }> {
    const task = await this.get(taskId);
    const width = featureCount(task.inputSpec);
    const errors: FieldProblem[] = [];
    examples.forEach((e, i) => {
      if (errors.length >= 20) return;
      if (!Array.isArray(e) || e.length !== width)
        errors.push({ field: `body.examples[${i}]`, message: `must hold exactly ${width} numbers` });
      else if (!e.every((v) => typeof v === 'number' && Number.isFinite(v)))
        errors.push({ field: `body.examples[${i}]`, message: 'must hold finite numbers only' });
    });
    if (split === 'holdout') {
      if (!labels || labels.length !== examples.length)
        errors.push({ field: 'body.labels', message: 'holdout examples need one label each' });
      else
        labels.forEach(
          (l, i) =>
            l >= task.classes.length &&
            errors.length < 40 &&
            errors.push({ field: `body.labels[${i}]`, message: `must be a class index below ${task.classes.length}` }),
        );
    } else if (labels !== undefined) {
      errors.push({ field: 'body.labels', message: 'the public pool is unlabelled: labels are not accepted' });
    }
    if (errors.length) throw new InvalidInputException(errors);
    const total = await this.repository.appendExamples(
      taskId,
      split,
      examples as number[][],
      split === 'holdout' ? labels! : examples.map(() => null),
    );
    return { split, added: examples.length, total };
  }
}
