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
  // Formatting is Prettier's (npm run format; npm run lint checks it): no ESLint rule argues with it.
  prettier,
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
