// `braid topic ...` and `braid produce` against real coordinator and broker
// processes (started from source on free loopback ports, storage in a temp
// dir). These need the broker's ProducerService and the AdminService
// forwarding to the coordinator; until those land they fail with
// UNIMPLEMENTED, by design (see commands.test.ts for the same commands
// against the SDK's fake broker).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startApp } from '@braid/testkit';
import type { AppProcess } from '@braid/testkit';

let coordinator: AppProcess | undefined;
let broker: AppProcess | undefined;
let dataDir: string;

function brokerAddress(): string {
  if (!broker) throw new Error('broker did not start');
  return broker.address;
}

const braid = (args: string[], stdin?: string) => runCli(['--broker', brokerAddress(), ...args], { stdin });

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'braid-cli-topics-'));
  coordinator = await startApp('coordinator', { args: ['--data-dir', join(dataDir, 'coordinator')] });
  broker = await startApp('broker', { args: ['--coordinator', coordinator.address, '--data-dir', join(dataDir, 'broker')] });
}, 120_000);

afterAll(async () => {
  await broker?.stop();
  await coordinator?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('braid topic and braid produce against a real broker', () => {
  it('creates, lists and describes a topic', async () => {
    const created = await braid(['topic', 'create', 'orders', '--partitions', '4', '--durability', 'write', '--retention-ms', '3600000']);
    expect(created).toMatchObject({ code: 0, stdout: 'created topic orders (4 partitions, durability write)\n' });

    const list = await braid(['topic', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^NAME +PARTITIONS +DURABILITY/);
    expect(list.stdout).toMatch(/\norders +4 +write +3600000 +unlimited +\d+\n/);

    const described = await braid(['topic', 'describe', 'orders']);
    expect(described.code).toBe(0);
    expect(described.stdout).toMatch(/^Topic: +orders\n/);
    expect(described.stdout).toContain('Durability:        write\n');
    for (const partition of [0, 1, 2, 3]) {
      expect(described.stdout).toMatch(new RegExp(`\\n${partition} +\\S+ +${brokerAddress().replace(/\./g, '\\.')} +\\d+ +AVAILABLE +0\\n`));
    }
  });

  it('produces stdin lines and the high watermarks account for every record', async () => {
    await braid(['topic', 'create', 'events', '--partitions', '2']);
    const lines = Array.from({ length: 100 }, (_, i) => `user-${i % 7}:event ${i}`).join('\n') + '\n';
    const produced = await braid(['produce', 'events', '--key-sep', ':', '--header', 'source=cli'], lines);
    expect(produced).toMatchObject({ code: 0, stdout: '100 records acknowledged\n', stderr: '' });

    const described = await braid(['topic', 'describe', 'events']);
    const watermarks = [...described.stdout.matchAll(/\n[01] +\S+ +\S+ +\d+ +AVAILABLE +(\d+)/g)].map((m) => Number(m[1]));
    expect(watermarks).toHaveLength(2);
    expect(watermarks.reduce((a, b) => a + b, 0)).toBe(100);
  });

  it('prints partition and offset per record with --verbose, taking the broker from BRAID_BROKER', async () => {
    await braid(['topic', 'create', 'verbose', '--partitions', '1']);
    const result = await runCli(['produce', 'verbose', '--verbose'], { stdin: 'a\nb\nc\n', env: { BRAID_BROKER: brokerAddress() } });
    expect(result).toMatchObject({
      code: 0,
      stdout: 'partition=0 offset=0\npartition=0 offset=1\npartition=0 offset=2\n3 records acknowledged\n',
    });
  });

  it('deletes a topic; using it afterwards fails with NOT_FOUND', async () => {
    await braid(['topic', 'create', 'doomed', '--partitions', '1']);
    expect(await braid(['topic', 'delete', 'doomed'])).toMatchObject({ code: 0, stdout: 'deleted topic doomed\n' });
    const described = await braid(['topic', 'describe', 'doomed']);
    expect(described.code).toBe(1);
    expect(described.stderr).toMatch(/^NOT_FOUND: /);
    const produced = await braid(['produce', 'doomed'], 'x\n');
    expect(produced.code).toBe(1);
    expect(produced.stderr).toMatch(/^NOT_FOUND: /);
  });

  it('prints the status of a refused call and exits 1', async () => {
    await braid(['topic', 'create', 'twice', '--partitions', '1']);
    const again = await braid(['topic', 'create', 'twice', '--partitions', '1']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^ALREADY_EXISTS: /);
    const invalid = await braid(['topic', 'create', 'bad/name', '--partitions', '1']);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/^INVALID_ARGUMENT: /);
  });
});
