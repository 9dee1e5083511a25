/** Shared pieces of the consume benchmarks' reports: the machine and the label/value layout. */
import { cpus, totalmem } from 'node:os';
import { mib, sumKnown } from './stats.js';

/** The machine a report was measured on. */
export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryBytes: number;
  node: string;
  platform: string;
}

/** This machine. */
export function machineInfo(): MachineInfo {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryBytes: totalmem(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

/** The `machine` row of a report. */
export function machineRow(machine: MachineInfo): [string, string] {
  return ['machine', `${machine.cpus} CPUs (${machine.cpuModel}), ${mib(machine.memoryBytes)} RAM, Node ${machine.node}, ${machine.platform}`];
}

/** A titled block of aligned `label  value` lines, as `bench publish` prints them. */
export function formatRows(title: string, rows: readonly [string, string][]): string {
  const width = Math.max(...rows.map(([label]) => label.length));
  return [title, ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`)].join('\n') + '\n';
}

function cores(value: number | undefined): string {
  return value === undefined ? 'n/a' : `${value.toFixed(2)} cores`;
}

/**
 * One row per broker (peak RSS, and CPU cores if measured), and with
 * several brokers a row of their sums; `n/a` for an external broker.
 */
export function brokerRows(names: readonly string[], peakRss: readonly (number | undefined)[], cpuCores?: readonly (number | undefined)[]): [string, string][] {
  const row = (rss: number | undefined, cpu: number | undefined): string =>
    `peak RSS ${mib(rss)} (VmHWM)${cpuCores === undefined ? '' : `, CPU ${cores(cpu)}`}`;
  if (names.length === 0) return [['broker', row(undefined, undefined)]];
  const rows = names.map((name, i): [string, string] => [name, row(peakRss[i], cpuCores?.[i])]);
  if (names.length > 1) {
    rows.push(['brokers (sum)', row(sumKnown(peakRss), cpuCores === undefined ? undefined : sumKnown(cpuCores))]);
  }
  return rows;
}

/** `broker-1 3 / broker-2 3 / broker-3 2`: partitions led per broker id. */
export function formatLeaders(leaders: Readonly<Record<string, number>>): string {
  return Object.entries(leaders)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([id, count]) => `${id === '' ? '(none)' : id} ${count}`)
    .join(' / ');
}
