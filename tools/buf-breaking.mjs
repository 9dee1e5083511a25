#!/usr/bin/env node
// Runs `buf breaking` against the previous commit so the contract only
// changes compatibly. On the very first commit there is nothing to compare.
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const against = process.env.BRAID_BUF_AGAINST ?? 'HEAD~1';

function hasProtoAt(ref) {
  try {
    execFileSync('git', ['cat-file', '-e', `${ref}:proto/braid/v1`], { cwd: root, stdio: 'ignore' });
    return true;
  } catch {
    // `git cat-file -e` exits non-zero when the ref or path does not exist.
    return false;
  }
}

if (!hasProtoAt(against)) {
  console.log(`buf breaking: ${against} has no proto/braid/v1 to compare against; nothing to check`);
  process.exit(0);
}
execFileSync(
  resolve(root, 'node_modules/.bin/buf'),
  ['breaking', '--against', `.git#ref=${against},subdir=proto`],
  { cwd: root, stdio: 'inherit' },
);
console.log(`buf breaking: compatible with ${against}`);
