// Bundles the GitHub Action (src/action/index.ts) into dist/: ESM, every dependency inlined
// (a runner has no node_modules), one chunk per command so a start loads only what it runs.
import { build } from 'esbuild';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

// The embedded database (PGlite, megabytes of wasm) has no place on a runner: the action
// needs `database-url`. Anything that reaches for it gets a module that says so.
const noEmbeddedDb = {
  name: 'no-embedded-db',
  setup(b) {
    b.onResolve({ filter: /^@electric-sql\/pglite/ }, (args) => ({ path: args.path, namespace: 'no-pglite' }));
    b.onLoad({ filter: /.*/, namespace: 'no-pglite' }, () => ({
      contents:
        'export class PGlite { constructor() { throw new Error("the GitHub Action has no embedded database: give it database-url"); } }\n' +
        'export class PGLiteSocketHandler extends PGlite {}',
      loader: 'js',
    }));
  },
};

// zod re-exports every locale through `z.locales`, which a bundler cannot drop; Levqor's
// messages are English only (zod itself configures `en` from its own module).
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    // The module's path is a fixed name, not an absolute one: esbuild hashes plugin paths into
    // chunk names, and dist/ must come out byte for byte the same wherever the repository sits.
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      args.importer.includes(`${join('node_modules', 'zod')}`)
        ? { path: 'zod-locales-en-only.js', namespace: 'zod-locales', pluginData: { resolveDir: join(args.resolveDir, '..') } }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: "export { default as en } from './locales/en.js';",
      resolveDir: /** @type {{ resolveDir: string }} */ (args.pluginData).resolveDir,
      loader: 'js',
    }));
  },
};

// The toolkit (@actions/core, @actions/github) declares no `sideEffects`, so a bundler keeps
// every module it imports: getIDToken's HTTP client (undici, ~400 KB) and @actions/github's own
// Octokit (the action brings its own with retry and throttling) for `context` alone. Their
// modules only define things: marked side-effect free, what the action does not use drops out.
const toolkitSideEffectFree = {
  name: 'toolkit-side-effect-free',
  setup(b) {
    const toolkit = /[\\/]node_modules[\\/]@actions[\\/]/;
    b.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData?.toolkit) return undefined;
      if (!args.path.startsWith('@actions/') && !toolkit.test(args.importer)) return undefined;
      const r = await b.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: { toolkit: true },
      });
      if (r.errors.length > 0 || !toolkit.test(r.path)) return r.errors.length > 0 ? { errors: r.errors } : undefined;
      return { ...r, sideEffects: false };
    });
  },
};

/**
 * Builds the action into `outdir` (default dist/) and returns its files. Only files whose
 * content changed are written, and files of an older build removed, so builds running at
 * once (test runs in parallel) never leave a half-written dist/.
 */
export async function buildAction(outdir = join(root, 'dist')) {
  const result = await build({
    absWorkingDir: root,
    entryPoints: { index: 'src/action/index.ts' },
    outdir,
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify: true,
    legalComments: 'none',
    chunkNames: 'chunks/[name]-[hash]',
    // CommonJS dependencies (pg, pino) call require(): give the ESM bundle one.
    banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
    plugins: [noEmbeddedDb, zodEnglishOnly, toolkitSideEffectFree],
    logLevel: 'warning',
    write: false,
  });
  const wanted = new Map(result.outputFiles.map((f) => [relative(outdir, f.path), f.contents]));
  mkdirSync(outdir, { recursive: true });
  for (const file of readdirSync(outdir, { recursive: true, withFileTypes: true })) {
    const rel = relative(outdir, join(file.parentPath ?? file.path, file.name));
    if (file.isFile() && !wanted.has(rel)) rmSync(join(outdir, rel), { force: true });
  }
  for (const [rel, contents] of wanted) {
    const path = join(outdir, rel);
    if (existsSync(path) && Buffer.compare(readFileSync(path), contents) === 0) continue;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, contents);
  }
  return [...wanted.keys()].sort();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2];
  const files = await buildAction(out ? resolve(out) : undefined);
  console.log(`action bundle: ${files.length} files`);
}
