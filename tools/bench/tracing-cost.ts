/**
 * What tracing costs (`bench tracing-cost`): the throughput benchmark run
 * alternately without tracing and with each sampling ratio, each run in its
 * own process (an OpenTelemetry SDK, once registered, stays for the
 * process's life), so that drift of a small noisy machine spreads over all
 * variants alike. Prints each round and, per variant, the median end-to-end
 * records/s and its ratio to the untraced median.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { ThroughputReport } from './consume-throughput.js';
import { grouped, median } from './stats.js';

const run = promisify(execFile);

/** What to compare. */
export interface TracingCostOptions {
  /** Rounds: each runs every variant once. */
  rounds: number;
  /** Sampling ratios to compare with tracing off. */
  samples: number[];
  records: number;
  /** Measured runs inside each benchmark process (it reports their median). */
  runs: number;
}

/** One variant's figures. */
export interface TracingCostVariant {
  /** undefined: tracing off. */
  sample: number | undefined;
  /** End-to-end records/s of each round (each the median of its runs). */
  endToEnd: number[];
  median: number;
  /** `median` over the untraced median. */
  ratioToOff: number;
}

/** Everything measured. */
export interface TracingCostReport {
  options: TracingCostOptions;
  startedAt: string;
  variants: TracingCostVariant[];
}

/** Runs one `bench throughput --json` process and returns its median end-to-end records/s. */
async function throughputOnce(options: TracingCostOptions, sample: number | undefined): Promise<number> {
  const args = [...process.execArgv, process.argv[1] ?? 'tools/bench/main.ts', 'throughput', '--json', '--records', String(options.records), '--runs', String(options.runs)];
  if (sample !== undefined) args.push('--trace-sample', String(sample));
  const { stdout } = await run(process.execPath, args, { maxBuffer: 64 * 1024 * 1024 });
  const report = JSON.parse(stdout) as ThroughputReport;
  const [endToEnd] = report.median.endToEndRecordsPerSecond;
  if (endToEnd === undefined) throw new Error('throughput report without an end-to-end figure');
  const lost = report.checks.reduce((sum, check) => sum + check.lost + check.duplicates + check.outOfOrder, 0);
  if (lost > 0) throw new Error(`throughput run with tracing ${sample ?? 'off'} lost, duplicated or reordered ${lost} records`);
  return endToEnd;
}

/** Runs the rounds, printing each as it finishes through `progress`. */
export async function benchTracingCost(options: TracingCostOptions, progress: (line: string) => void): Promise<TracingCostReport> {
  const startedAt = new Date().toISOString();
  const samples: (number | undefined)[] = [undefined, ...options.samples];
  const figures = samples.map(() => [] as number[]);
  for (let round = 1; round <= options.rounds; round++) {
    const line: string[] = [];
    for (const [i, sample] of samples.entries()) {
      const endToEnd = await throughputOnce(options, sample);
      figures[i]?.push(endToEnd);
      line.push(`${label(sample)} ${grouped(endToEnd)}`);
    }
    progress(`  round ${round}  ${line.join('  ')}`);
  }
  const offMedian = median(figures[0] ?? []);
  const variants = samples.map((sample, i) => {
    const endToEnd = figures[i] ?? [];
    const m = median(endToEnd);
    return { sample, endToEnd, median: m, ratioToOff: offMedian > 0 ? m / offMedian : 0 };
  });
  return { options, startedAt, variants };
}

function label(sample: number | undefined): string {
  return sample === undefined ? 'off' : `${+(sample * 100).toFixed(3)}%`;
}

/** The report as text. */
export function formatTracingCostReport(report: TracingCostReport): string {
  const { options } = report;
  const lines = [
    `braid bench tracing-cost, ${report.startedAt}`,
    `  workload   bench throughput --records ${options.records} --runs ${options.runs}, ${options.rounds} rounds alternating tracing off and ${options.samples.map(label).join(', ')} sampled`,
  ];
  for (const variant of report.variants) {
    const relative = variant.sample === undefined ? '' : `, ${((variant.ratioToOff - 1) * 100).toFixed(1)}% vs off`;
    lines.push(`  ${label(variant.sample).padEnd(10)} median ${grouped(variant.median)} records/s end to end${relative}`);
  }
  return `${lines.join('\n')}\n`;
}
