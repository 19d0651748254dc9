// One lint toolchain: ESLint + typescript-eslint with type-aware rules (TypeScript 5.9).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

/** The faces: they parse input, call a capability, render output. */
const FACES = ['src/http/**/*.ts', 'src/cli/**/*.ts', 'src/cli.ts', 'src/action/**/*.ts', 'bot/**/*.ts'];

export default tseslint.config(
  { ignores: ['lib/**', 'dist/**', 'node_modules/**', '.levqor/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', 'scripts/*.mjs'] },
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
  // ── Boundaries (issue 21): faces, capabilities and the environment ───────────────────────
  // Faces parse, call and render: they reach the database only through a capability (its
  // queries module) or src/runtime.ts; `import type { Db }` of the port is allowed.
  {
    files: FACES,
    // src/action/db.ts opens `database-url` with db/open's openDatabase (its own pool size and
    // application name), which src/runtime.ts does not offer yet.
    ignores: ['src/action/db.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\.{1,2}/(\\.\\./)*(src/)?db/',
              allowTypeImports: true,
              message:
                'A face (cli, http, action, bot) does not import db/: call a capability or src/runtime.ts (import type { Db } is fine).',
            },
          ],
        },
      ],
    },
  },
  // Capabilities (everything in src/ that is not a face, runtime.ts or config.ts) never import
  // upward: no face, no runtime.ts (which wires them), no bench/.
  {
    files: ['src/**/*.ts'],
    ignores: [...FACES, 'src/runtime.ts', 'src/config.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\.{1,2}/(\\.\\./)*((http|cli|action|bot|bench)/|(cli|runtime)\\.js$)',
              message:
                'A capability does not import a face (cli, http, action, bot), src/runtime.ts or bench/: pass what it needs in as an argument.',
            },
          ],
        },
      ],
    },
  },
  // src/config.ts is the only reader of the environment (tests, scripts and bench may read it).
  // The GitHub Action reads its runner's environment (the workspace, what check commands and
  // loadConfig receive) in src/action/runner-env.ts, so that a checks run does not load zod.
  {
    files: ['src/**/*.ts', 'bot/**/*.ts'],
    // (Browser code under src/http/client/ has its own no-restricted-properties block below.)
    ignores: ['src/config.ts', 'src/action/runner-env.ts', 'src/http/client/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Only src/config.ts reads process.env: take the parsed Config (or an argument).' },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "ImportDeclaration[source.value=/^(node:)?process$/] > ImportSpecifier[imported.name='env']",
          message: 'Only src/config.ts reads the environment: take the parsed Config (or an argument).',
        },
      ],
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
      regex: String.raw`^(\.\./)+((approvals|slack|scheduler|reports|health|maintenance|checks|http|cli|action|bot|bench)/|(runtime|cli)\.js$)`,
      message:
        'src/workflows/ is the engine: no ledger, chat, scheduler, capability above it or face. Take what it needs as a port (workflows/ports.ts, wired in runtime.ts).',
    },
    {
      files: ['src/approvals/**/*.ts'],
      regex: String.raw`^(\.\./)+((scheduler|slack|reports|health|maintenance|checks|http|cli|action|bot|bench)/|(runtime|cli)\.js$)`,
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
