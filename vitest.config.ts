import { readdirSync, existsSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// One vitest project per workspace package, so `nx test <project>` runs
// `vitest run --project <name>` and the root run covers everything.
const packages = ['libs', 'apps'].flatMap((dir) =>
  readdirSync(dir)
    .filter((name) => existsSync(`${dir}/${name}/package.json`))
    .map((name) => ({ name, root: `${dir}/${name}` })),
);
// Checks of the workspace itself (lint rules, scripts) live in tools/.
packages.push({ name: 'workspace', root: 'tools' });

export default defineConfig({
  // Resolve workspace libs to their TypeScript sources (see each lib's
  // package.json "exports"), so tests need no prior build.
  ssr: { resolve: { conditions: ['@braid/source'] } },
  resolve: { conditions: ['@braid/source'] },
  test: {
    projects: packages.map(({ name, root }) => ({
      extends: true,
      test: {
        name,
        root,
        include: ['src/**/*.test.ts', 'test/**/*.test.ts', '*.test.ts'],
        testTimeout: 60_000,
        hookTimeout: 60_000,
      },
    })),
  },
});
