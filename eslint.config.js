// ESLint flat config for the whole workspace. Type-aware rules follow
// Temporal's setup (no floating promises, consistent type imports, no any);
// @nx/enforce-module-boundaries makes the architecture bite:
//   proto imports no workspace package; libs import libs and proto; apps
//   import libs (never another app); the client SDK imports only shared libs.
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

/** The architecture as lint constraints; tests may also use test tooling. */
function moduleBoundaries({ tests }) {
  const testing = tests ? ['scope:testing'] : [];
  return [
    'error',
    {
      enforceBuildableLibDependency: false,
      allowCircularSelfDependency: false,
      banTransitiveDependencies: false,
      depConstraints: [
        { sourceTag: 'type:proto', onlyDependOnLibsWithTags: [] },
        { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib', 'type:proto'] },
        { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib', 'type:proto'] },
        { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared', ...testing] },
        { sourceTag: 'scope:client', onlyDependOnLibsWithTags: ['scope:shared', 'scope:client', ...testing] },
        { sourceTag: 'scope:server', onlyDependOnLibsWithTags: ['scope:shared', 'scope:server', ...testing] },
        // The CLI is a client like any other: no server internals.
        { sourceTag: 'scope:cli', onlyDependOnLibsWithTags: ['scope:shared', 'scope:client', ...testing] },
        // Test tooling may use anything but servers' internals.
        { sourceTag: 'scope:testing', onlyDependOnLibsWithTags: ['scope:shared', 'scope:client', 'scope:testing'] },
        // Production code never imports test tooling.
        ...(tests ? [] : [{ sourceTag: 'type:app', notDependOnLibsWithTags: ['scope:testing'] }]),
      ],
    },
  ];
}

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/node_modules/**', 'libs/proto/src/generated/**', 'data/**', '.nx/**', 'test-artifacts/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': moduleBoundaries({ tests: false }),
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'separate-type-imports' }],
      '@typescript-eslint/no-floating-promises': 'error',
      // An AbortSignal's reason is whatever the aborter passed; pass it on as is.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/ban-ts-comment': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      'no-empty': ['error', { allowEmptyCatch: false }],
      'no-restricted-syntax': [
        'error',
        { selector: "MemberExpression[property.name='_readableState']", message: 'Never reach into private stream state.' },
      ],
    },
  },
  {
    // Only apps read the environment, once, into a validated config.
    files: ['libs/**/*.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Libraries take options; only apps read process.env.' },
      ],
    },
  },
  {
    files: ['**/*.test.ts', '**/testing.ts', '**/test/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': moduleBoundaries({ tests: true }),
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // Test tooling passes the environment on to the processes it starts.
    files: ['libs/testkit/**/*.ts'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly' },
    },
  },
);
