// Proves that the architecture rules in eslint.config.js bite: each probe
// file breaks one rule, and ESLint (with the nx project graph) must reject
// it. The probes are written into the real projects for the duration of one
// lint run, because the rule decides by the project a file belongs to.
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

const probes = [
  // Probes import packages that do not depend back on the prober, or the
  // circular-dependency check would fire first; `batch` keeps probes whose
  // edges would form a cycle together in separate lint runs.
  { file: 'libs/partitioning/src/boundary-probe-a.ts', source: "export { createServer } from '@braid/server';\n", rule: 'scope:shared' },
  { file: 'libs/proto/src/boundary-probe-b.ts', source: "export { jumpHash } from '@braid/partitioning';\n", rule: 'type:proto', batch: 2 },
  { file: 'libs/client/src/boundary-probe-c.ts', source: "export { createServer } from '@braid/server';\n", rule: 'scope:client' },
  { file: 'apps/broker/src/boundary-probe-d.ts', source: "export { freePort } from '@braid/testkit';\n", rule: 'scope:testing' },
  { file: 'apps/cli/src/boundary-probe-e.ts', source: "export { createServer } from '@braid/server';\n", rule: 'scope:cli' },
  { file: 'libs/server/src/boundary-probe-f.ts', source: "export const env = process.env.HOME;\n", rule: 'process.env' },
];

let output = '';

function lintProbes(batch: typeof probes): string {
  for (const probe of batch) writeFileSync(join(root, probe.file), probe.source);
  try {
    // The boundary rule reads nx's cached project graph; refresh it with the
    // probes in place.
    execFileSync('npx', ['nx', 'show', 'projects'], { cwd: root, stdio: 'ignore', env: { ...process.env, NX_DAEMON: 'false' } });
    const result = spawnSync('npx', ['eslint', '--no-cache', ...batch.map((p) => p.file)], { cwd: root, encoding: 'utf8' });
    return result.stdout + result.stderr;
  } finally {
    for (const probe of batch) rmSync(join(root, probe.file), { force: true });
  }
}

beforeAll(() => {
  output = lintProbes(probes.filter((p) => p.batch === undefined)) + lintProbes(probes.filter((p) => p.batch === 2));
  // Leave the cached graph as the real tree is.
  execFileSync('npx', ['nx', 'show', 'projects'], { cwd: root, stdio: 'ignore', env: { ...process.env, NX_DAEMON: 'false' } });
}, 180_000);

afterAll(() => {
  for (const probe of probes) rmSync(join(root, probe.file), { force: true });
});

describe('module boundaries', () => {
  it('runs with the project graph (the rule is not skipped)', () => {
    expect(output).not.toContain('No cached ProjectGraph');
  });

  it.each(probes)('rejects $file ($rule)', (probe) => {
    const section = output.split(/\n(?=\/)/).find((block) => block.includes(probe.file)) ?? '';
    expect(section, output).toMatch(/error/);
    if (probe.rule === 'process.env') expect(section).toContain('only apps read process.env');
    else expect(section).toContain(probe.rule);
  });
});
