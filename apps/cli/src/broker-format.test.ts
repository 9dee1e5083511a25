import { describe, expect, it } from 'vitest';
import { formatBrokerDescription } from './broker-format.js';

describe('broker formatting', () => {
  it('prints identity, memory and Subscribe stream buffers as aligned lines', () => {
    const text = formatBrokerDescription({
      brokerId: 'b-1',
      address: '10.0.0.1:7401',
      memory: { rssBytes: 104857600, heapTotalBytes: 50000000, heapUsedBytes: 40000000, externalBytes: 3000000, arrayBuffersBytes: 2000000 },
      consume: { subscribeStreams: 3, queuedMessages: 17, queuedBytes: 2500000 },
      deadLetteredRecords: 4,
    });
    expect(text).toBe(
      [
        'Broker:               b-1',
        'Address:              10.0.0.1:7401',
        'RSS bytes:            104857600',
        'Heap total bytes:     50000000',
        'Heap used bytes:      40000000',
        'External bytes:       3000000',
        'Array buffers bytes:  2000000',
        'Subscribe streams:    3',
        'Queued messages:      17',
        'Queued bytes:         2500000',
        'Dead-lettered:        4',
        '',
      ].join('\n'),
    );
  });

  it('spells out a coordinator and missing parts', () => {
    const text = formatBrokerDescription({ brokerId: '', address: '127.0.0.1:7400', deadLetteredRecords: 0 });
    expect(text).toContain('Broker:               - (a coordinator answered)\n');
    expect(text).toContain('RSS bytes:            ?\n');
    expect(text).toContain('Queued bytes:         ?\n');
  });
});
