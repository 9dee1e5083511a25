/**
 * What a feature costs: the throughput benchmark run alternately in
 * several variants (`bench tracing-cost`: tracing off and each sampling
 * ratio; `bench retry-cost`: no failures and a share of failing first
 * attempts), each run in its own process (an OpenTelemetry SDK, once
 * registered, stays for the process's life; every run gets a fresh
 * cluster), so that the drift of a small noisy machine spreads over all
 * variants alike. Prints each round and, per variant, the median end-to-end
 * records/s and its ratio to the first variant's median.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { ThroughputReport } from './consume-throughput.js';
import { grouped, median } from './stats.js';

const run = promisify(execFile);

/** One way to run `bench throughput`. */
export interface Variant {
  /** Its name in the report (`off`, `1%`, `no failures`, ...). */
  label: string;
  /** Flags added to `bench throughput`. */
  args: string[];
}

/** What to compare. */
export interface VariantCostOptions {
  /** The command, for the report (`tracing-cost`, `retry-cost`). */
  command: string;
  /** The first is the baseline the others are compared with. */
  variants: Variant[];
  /** Rounds: each runs every variant once. */
  rounds: number;
  records: number;
  /** Measured runs inside each benchmark process (it reports their median). */
  runs: number;
}

/** One variant's figures. */
export interface VariantFigures {
  label: string;
  args: string[];
  /** End-to-end records/s of each round (each the median of its runs). */
  endToEnd: number[];
  median: number;
  /** `median` over the baseline's median. */
  ratioToBaseline: number;
  /** This round's figure over the baseline's in the same round, per round (the pairs the noise affects least). */
  roundRatios: number[];
}

/** Everything measured. */
export interface VariantCostReport {
  options: VariantCostOptions;
  startedAt: string;
  variants: VariantFigures[];
}

/** Runs one `bench throughput --json` process and returns its median end-to-end records/s. */
async function throughputOnce(options: VariantCostOptions, variant: Variant): Promise<number> {
  const args = [
    ...process.execArgv,
    process.argv[1] ?? 'tools/bench/main.ts',
    'throughput',
    '--json',
    '--records',
    String(options.records),
    '--runs',
    String(options.runs),
    ...variant.args,
  ];
  const { stdout } = await run(process.execPath, args, { maxBuffer: 64 * 1024 * 1024 });
  const report = JSON.parse(stdout) as ThroughputReport;
  const [endToEnd] = report.median.endToEndRecordsPerSecond;
  if (endToEnd === undefined) throw new Error('throughput report without an end-to-end figure');
  const wrong = report.checks.reduce((sum, check) => sum + check.lost + check.duplicates + check.outOfOrder, 0);
  if (wrong > 0) throw new Error(`throughput run "${variant.label}" lost, duplicated or reordered ${wrong} records`);
  return endToEnd;
}

/** Runs the rounds, printing each as it finishes through `progress`. */
export async function benchVariantCost(options: VariantCostOptions, progress: (line: string) => void): Promise<VariantCostReport> {
  const startedAt = new Date().toISOString();
  const figures = options.variants.map(() => [] as number[]);
  for (let round = 1; round <= options.rounds; round++) {
    const line: string[] = [];
    for (const [i, variant] of options.variants.entries()) {
      const endToEnd = await throughputOnce(options, variant);
      figures[i]?.push(endToEnd);
      line.push(`${variant.label} ${grouped(endToEnd)}`);
    }
    progress(`  round ${round}  ${line.join('  ')}`);
  }
  const baseline = figures[0] ?? [];
  const baselineMedian = median(baseline);
  const variants = options.variants.map((variant, i) => {
    const endToEnd = figures[i] ?? [];
    const m = median(endToEnd);
    return {
      label: variant.label,
      args: variant.args,
      endToEnd,
      median: m,
      ratioToBaseline: baselineMedian > 0 ? m / baselineMedian : 0,
      roundRatios: endToEnd.map((figure, round) => figure / (baseline[round] ?? Number.NaN)),
    };
  });
  return { options, startedAt, variants };
}

/** The report as text. */
export function formatVariantCostReport(report: VariantCostReport): string {
  const { options } = report;
  const [baseline] = report.variants;
  const lines = [
    `braid bench ${options.command}, ${report.startedAt}`,
    `  workload   bench throughput --records ${options.records} --runs ${options.runs}, ${options.rounds} rounds alternating ${options.variants.map((v) => v.label).join(', ')}`,
  ];
  for (const variant of report.variants) {
    const relative =
      variant === baseline
        ? ''
        : `, ${(variant.ratioToBaseline * 100).toFixed(1)}% of ${baseline?.label ?? 'the first'} (per round: ${variant.roundRatios.map((r) => `${(r * 100).toFixed(0)}%`).join(' ')}; median ${(median(variant.roundRatios) * 100).toFixed(1)}%)`;
    lines.push(`  ${variant.label.padEnd(12)} median ${grouped(variant.median)} records/s end to end${relative}`);
  }
  return `${lines.join('\n')}\n`;
}
