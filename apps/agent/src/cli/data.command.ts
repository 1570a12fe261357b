import { extname } from 'node:path';
import { Command } from 'commander';
import { type CliEnvironment, line } from './context';
import { AgentError, EXIT } from './errors';
import { loadMl } from '../training/load-ml';

interface InspectOptions {
  labels?: string;
  labelColumn?: string;
}

/** `data inspect`: schema and class balance of a local dataset. Reads the file only; sends nothing. */
export function dataCommand(env: CliEnvironment): Command {
  const data = new Command('data').description('look at local training data (nothing is sent)');
  data
    .command('inspect <path>')
    .description('report the schema and class balance of a CSV file or an IDX images file (with --labels)')
    .option('--labels <path>', 'IDX labels file for an IDX images file')
    .option('--label-column <name>', 'CSV: header of the label column', 'label')
    .action(async (path: string, options: InspectOptions) => {
      // libs/ml pulls in tfjs: loaded only for this command.
      const ml = await loadMl();
      const isCsv = extname(path).toLowerCase() === '.csv';
      if (!isCsv && options.labels === undefined)
        throw new AgentError('an IDX images file needs --labels <labels.idx>', EXIT.configuration);
      let dataset: ReturnType<typeof ml.readCsvFile>;
      try {
        dataset = isCsv
          ? ml.readCsvFile(path, { labelColumn: options.labelColumn ?? 'label' })
          : ml.loadIdxDataset(path, options.labels as string);
      } catch (error) {
        if (error instanceof ml.DatasetError) throw new AgentError(error.message, EXIT.configuration);
        throw error;
      }
      const counts = ml.classCounts(dataset);
      line(env, `file:     ${path}${options.labels ? ` + ${options.labels}` : ''}`);
      line(env, `examples: ${dataset.count}`);
      line(env, `shape:    [${dataset.shape.join(', ')}] (${ml.featureSize(dataset.shape)} features per example)`);
      line(env, `classes:  ${dataset.classes}`);
      counts.forEach((n, c) => {
        const name = dataset.classNames?.[c] ?? String(c);
        line(env, `  ${name.padEnd(12)} ${String(n).padStart(8)}  ${dataset.count > 0 ? ((100 * n) / dataset.count).toFixed(1) : '0.0'}%`);
      });
    });
  return data;
}
