/**
 * How `braid broker describe` prints a `DescribeBroker` answer: one
 * aligned `Name:  value` line per field, byte counts as plain integers (for
 * scripts), a coordinator's empty broker id spelled out.
 */
import type { DescribeBrokerResponse } from '@braid/client';

/** The lines of `braid broker describe`. */
export function formatBrokerDescription(described: DescribeBrokerResponse): string {
  const memory = described.memory;
  const consume = described.consume;
  const count = (value: number | undefined): string => (value === undefined ? '?' : String(value));
  const fields: [string, string][] = [
    ['Broker', described.brokerId || '- (a coordinator answered)'],
    ['Address', described.address || '?'],
    ['RSS bytes', count(memory?.rssBytes)],
    ['Heap total bytes', count(memory?.heapTotalBytes)],
    ['Heap used bytes', count(memory?.heapUsedBytes)],
    ['External bytes', count(memory?.externalBytes)],
    ['Array buffers bytes', count(memory?.arrayBuffersBytes)],
    ['Subscribe streams', count(consume?.subscribeStreams)],
    ['Queued messages', count(consume?.queuedMessages)],
    ['Queued bytes', count(consume?.queuedBytes)],
    ['Dead-lettered', count(described.deadLetteredRecords)],
  ];
  const width = Math.max(...fields.map(([name]) => name.length)) + 1;
  return fields.map(([name, value]) => `${`${name}:`.padEnd(width)}  ${value}\n`).join('');
}
