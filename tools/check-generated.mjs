#!/usr/bin/env node
// Fails when libs/proto/src/generated differs from what proto/ generates,
// i.e. when someone changed a .proto without running `npm run generate`, or
// edited generated code by hand.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const committed = join(root, 'libs/proto/src/generated');
const scratch = mkdtempSync(join(tmpdir(), 'braid-generated-'));

function list(dir) {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((path) => statSync(join(dir, path)).isFile())
    .sort();
}

try {
  execFileSync(process.execPath, [join(root, 'tools/generate-proto.mjs'), '--out', scratch], { stdio: 'inherit' });
  const fresh = join(scratch, 'libs/proto/src/generated');
  const want = list(fresh);
  const have = list(committed);
  const problems = [];
  for (const path of want) {
    if (!have.includes(path)) problems.push(`missing: ${path}`);
    else if (!readFileSync(join(fresh, path)).equals(readFileSync(join(committed, path)))) problems.push(`stale: ${path}`);
  }
  for (const path of have) if (!want.includes(path)) problems.push(`unexpected: ${path}`);
  if (problems.length > 0) {
    console.error(`Generated code in ${relative(root, committed)} is out of date; run \`npm run generate\` and commit:`);
    for (const p of problems) console.error(`  ${p}`);
    process.exit(1);
  }
  console.log(`generated code up to date (${want.length} files)`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
