// One lint toolchain: ESLint + typescript-eslint with type-aware rules (TypeScript 5.9).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  { ignores: ['lib/**', 'dist/**', 'node_modules/**', '.levqor/**', 'coverage/**', 'bench/**/.cli-snapshot-*'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', 'scripts/*.mjs', 'bench/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
      globals: Object.fromEntries(
        [
          'process',
          'console',
          'URL',
          'setTimeout',
          'clearTimeout',
          'setInterval',
          'clearInterval',
          'setImmediate',
          'AbortController',
          'AbortSignal',
          'crypto',
          'fetch',
          'Buffer',
          'performance',
          'structuredClone',
          'TextEncoder',
          'TextDecoder',
        ].map((g) => [g, 'readonly']),
      ),
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  // Browser code (src/http/client/: its own tsconfig with the DOM library, bundled by the build
  // and inlined into the pages): text reaches the page as textContent and attributes, never as
  // markup, and nothing outside the folder is imported (it would not be browser code).
  {
    files: ['src/http/client/**/*.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        ...['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'createContextualFragment'].map((property) => ({
          property,
          message: 'Build elements and set textContent or attributes: markup from data could inject script.',
        })),
        { object: 'document', property: 'write', message: 'Build elements and set textContent or attributes.' },
      ],
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['../*', 'node:*'], message: 'Browser code imports only from src/http/client/.' }] },
      ],
    },
  },
  // ---- Engine layering (issue 21): approvals → workflows → runs → db, one way only. -------------
  // The engine (workflows/) gets the ledger, the audit log and Slack as ports (workflows/ports.ts,
  // wired in src/runtime.ts); the run lifecycle (runs/) sits on the database alone. These blocks
  // use the typescript-eslint variant of no-restricted-imports so that they add to, and are not
  // replaced by, any no-restricted-imports block elsewhere in this file for the same files.
  ...[
    {
      files: ['src/runs/**/*.ts'],
      regex: String.raw`^(\.\./)+(?!(db|lib)/|config\.js$)`,
      message: 'src/runs/ is the bottom of the engine: it may import only db/, lib/ and config.js.',
    },
    {
      files: ['src/audit/**/*.ts'],
      regex: String.raw`^(\.\./)+(?!(db|lib)/)`,
      message: 'src/audit/ sits below the ledger and the engine: it may import only db/ and lib/.',
    },
    {
      files: ['src/workflows/**/*.ts'],
      regex: String.raw`^(\.\./)+((approvals|slack|scheduler|reports|health|maintenance|checks|http|cli|action|bot)/|(runtime|cli)\.js$)`,
      message:
        'src/workflows/ is the engine: no ledger, chat, scheduler, capability above it or face. Take what it needs as a port (workflows/ports.ts, wired in runtime.ts).',
    },
    {
      files: ['src/approvals/**/*.ts'],
      regex: String.raw`^(\.\./)+((scheduler|slack|reports|health|maintenance|checks|http|cli|action|bot)/|(runtime|cli)\.js$)`,
      message:
        'src/approvals/ is the ledger: it may use the engine below it (workflows/, runs/, audit/), never a capability above it or a face.',
    },
  ].map(({ files, regex, message }) => ({
    files,
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ regex, message }] }] },
  })),
  // ---- end of engine layering ------------------------------------------------------------------
  // Formatting is Prettier's (npm run format; npm run lint checks it): no ESLint rule argues with it.
  prettier,
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
