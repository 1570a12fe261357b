import { gunzipSync } from 'node:zlib';
import { HttpStatus, Injectable } from '@nestjs/common';
import { DatasetError, type IdxArray, parseIdx } from '@concord/ml';
import type { UploadPoolDto } from './dto/task.dto';
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

const MAX_UPLOAD_EXAMPLES = 20_000;

function decodeIdx(value: unknown, field: string): IdxArray {
  if (typeof value !== 'string' || value.length === 0)
    throw new InvalidInputException([{ field, message: 'required: base64 of an IDX file' }]);
  let bytes: Uint8Array = Buffer.from(value, 'base64');
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch {
      throw new InvalidInputException([{ field, message: 'corrupt or truncated gzip stream' }]);
    }
  }
  try {
    const idx = parseIdx(bytes, field);
    if (idx.shape[0] > MAX_UPLOAD_EXAMPLES)
      throw new InvalidInputException([{ field, message: `at most ${MAX_UPLOAD_EXAMPLES} examples per upload` }]);
    return idx;
  } catch (err) {
    if (err instanceof DatasetError) throw new InvalidInputException([{ field, message: err.message }]);
    throw err;
  }
}

/**
 * A CSV with a header: the task's feature columns (any order; other columns ignored) and, for a
 * holdout, a label column of class indices. Errors name the line.
 */
export function parseFeatureCsv(
  text: string,
  features: readonly string[],
  labelColumn?: string,
): { examples: number[][]; labels?: number[] } {
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '').split(',').map((h) => h.trim());
  const missing = [...features, ...(labelColumn ? [labelColumn] : [])].filter((f) => !header.includes(f));
  if (missing.length)
    throw new InvalidInputException([
      { field: 'body.csv', message: `line 1: the header lacks ${missing.map((m) => `'${m}'`).join(', ')}` },
    ]);
  const columns = features.map((f) => header.indexOf(f));
  const labelAt = labelColumn ? header.indexOf(labelColumn) : -1;
  const examples: number[][] = [];
  const labels: number[] = [];
  for (let n = 1; n < lines.length; n++) {
    if (lines[n].trim() === '') continue;
    const cells = lines[n].split(',');
    if (cells.length !== header.length) {
      throw new InvalidInputException([
        { field: 'body.csv', message: `line ${n + 1}: ${cells.length} cells, the header has ${header.length}` },
      ]);
    }
    const row = columns.map((c) => Number(cells[c].trim()));
    const bad = row.findIndex((v, i) => cells[columns[i]].trim() === '' || !Number.isFinite(v));
    if (bad >= 0)
      throw new InvalidInputException([{ field: 'body.csv', message: `line ${n + 1}: column '${features[bad]}' is not a number` }]);
    examples.push(row);
    if (labelAt >= 0) {
      const label = Number(cells[labelAt].trim());
      if (!Number.isInteger(label) || label < 0)
        throw new InvalidInputException([{ field: 'body.csv', message: `line ${n + 1}: label '${cells[labelAt]}' is not a class index` }]);
      labels.push(label);
    }
    if (examples.length > MAX_UPLOAD_EXAMPLES)
      throw new InvalidInputException([{ field: 'body.csv', message: `at most ${MAX_UPLOAD_EXAMPLES} examples per upload` }]);
  }
  if (examples.length === 0) throw new InvalidInputException([{ field: 'body.csv', message: 'no examples after the header' }]);
  return labelColumn ? { examples, labels } : { examples };
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

  /** Decodes a JSON, IDX or CSV upload into examples (and labels), naming the field that is wrong. */
  async uploadFrom(taskId: string, body: UploadPoolDto): Promise<{ split: PoolSplit; added: number; total: number }> {
    const format = body.format ?? 'json';
    if (format === 'json') {
      if (!body.examples) throw new InvalidInputException([{ field: 'body.examples', message: 'required for format json' }]);
      return this.upload(taskId, body.split, body.examples, body.labels);
    }
    const task = await this.get(taskId);
    if (format === 'idx') {
      const images = decodeIdx(body.images, 'body.images');
      const width = featureCount(task.inputSpec);
      const perExample = images.shape.slice(1).reduce((a, b) => a * b, 1);
      if (perExample !== width) {
        throw new InvalidInputException([
          {
            field: 'body.images',
            message: `examples of shape [${images.shape.slice(1).join(', ')}] have ${perExample} values; the task expects ${width}`,
          },
        ]);
      }
      const examples = Array.from({ length: images.shape[0] }, (_, i) => Array.from(images.data.subarray(i * width, (i + 1) * width)));
      const labels = body.split === 'holdout' ? Array.from(decodeIdx(body.labelsIdx, 'body.labelsIdx').data) : undefined;
      return this.upload(taskId, body.split, examples, labels);
    }
    if (task.inputSpec.kind !== 'tabular') throw new InvalidInputException([{ field: 'body.format', message: 'csv is for tabular tasks' }]);
    if (typeof body.csv !== 'string') throw new InvalidInputException([{ field: 'body.csv', message: 'required for format csv' }]);
    const { examples, labels } = parseFeatureCsv(
      body.csv,
      task.inputSpec.features.map((f) => f.name),
      body.split === 'holdout' ? (body.labelColumn ?? 'label') : undefined,
    );
    return this.upload(taskId, body.split, examples, labels);
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
