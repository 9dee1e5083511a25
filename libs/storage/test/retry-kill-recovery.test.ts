import { describe, expect, it } from 'vitest';
import { Database } from '../src/database.js';
import { Keyspace, decodeRetryDueKey, decodeRetryStateKey, keyspaceRange } from '../src/keys.js';
import { decodeRetryState, waitsForTimer } from '../src/retry-state.js';
import { runAndKill } from './kill-child.js';
import { tempDir } from './temp-dir.js';

const PARTITIONS = 4;
const BATCH = 10;

describe('retry states after kill -9', () => {
  it('keeps every resolved put and remove, applies each batch whole or not at all, and leaves the due index consistent', async () => {
    const dir = tempDir('braid-retry-kill-');
    const lines = await runAndKill('retry-kill-writer.ts', [dir, String(PARTITIONS)], 'put', 1000);

    // Per (partition, batch): the last stage the writer saw resolve: 1 = first put, 2 = replaced, 3 = removed.
    const printed = new Map<string, number>();
    for (const line of lines) {
      const [op, p, b, attempts] = line.split(' ');
      if (op === 'put') printed.set(`${p}/${b}`, Number(attempts));
      else if (op === 'remove') printed.set(`${p}/${b}`, 3);
    }
    expect(printed.size).toBeGreaterThan(PARTITIONS * 5);

    const db = await Database.open(dir);
    try {
      // What survived: per (partition, batch), the stages of its offsets; and every due entry.
      const stages = new Map<string, number[]>();
      const waiting = new Set<string>();
      for await (const [key, value] of db.entries(keyspaceRange(Keyspace.retry))) {
        const id = decodeRetryStateKey(key);
        const state = decodeRetryState(id, value);
        const b = Math.floor(id.offset / BATCH);
        // The writer's due times: 10,000 + b for the first put of batch b, 20,000,000 + b + 1 for its replacement.
        expect(state.dueMs).toBe(state.attempts.length === 1 ? 10_000 + b : 20_000_000 + b + 1);
        const batchKey = `${id.partition}/${b}`;
        stages.set(batchKey, [...(stages.get(batchKey) ?? []), state.attempts.length]);
        if (waitsForTimer(state)) waiting.add(`${state.dueMs}/${id.partition}/${id.offset}`);
      }
      const indexed = new Set<string>();
      for await (const [key] of db.entries(keyspaceRange(Keyspace.retryDue), { values: false })) {
        const d = decodeRetryDueKey(key);
        indexed.add(`${d.dueMs}/${d.partition}/${d.offset}`);
      }
      // Every waiting state has its due entry and no entry is stale or orphaned.
      expect([...indexed].sort()).toEqual([...waiting].sort());

      for (const [batchKey, stage] of printed) {
        const found = stages.get(batchKey);
        // A batch is written whole: its 10 offsets are at one stage.
        if (found) {
          expect(found).toHaveLength(BATCH);
          expect(new Set(found).size).toBe(1);
        }
        const recovered = found?.[0] ?? 3;
        // Never older than what resolved; at most the one operation in flight at the kill beyond it.
        expect(recovered, batchKey).toBeGreaterThanOrEqual(stage);
        expect(recovered, batchKey).toBeLessThanOrEqual(stage + 1);
      }
      // Nothing the writer never asked for.
      for (const batchKey of stages.keys()) {
        const [p, b] = batchKey.split('/').map(Number);
        const known = printed.has(batchKey) || printed.has(`${p}/${(b ?? 0) - 1}`);
        expect(known, batchKey).toBe(true);
      }
    } finally {
      await db.close();
    }
  });
});
