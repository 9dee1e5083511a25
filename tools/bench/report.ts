/** Shared pieces of the consume benchmarks' reports: the machine and the label/value layout. */
import { cpus, totalmem } from 'node:os';
import { mib } from './stats.js';

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
