// Builds dist/ with esbuild: one ESM bundle per entry, shared chunks split out so that
// heavy modules (tables, progress bars, Ink and React) load only when a command needs them.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/**
 * Ink caches the size of every text it has laid out, forever (ink/build/measure-text.js): an
 * inspector paging through 100,000 dead letters would keep every row it ever showed. The
 * bundle's copy empties that cache when it reaches MAX entries (a screen needs a few hundred).
 * If Ink changes the file, the build fails here rather than ship an unbounded cache unseen.
 */
/** @type {import('esbuild').Plugin} */
const boundInkTextCache = {
  name: 'bound-ink-text-cache',
  setup(build) {
    const MAX = 4096;
    build.onLoad({ filter: /[\\/]ink[\\/]build[\\/]measure-text\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const store = 'cache.set(text, dimensions);';
      if (!source.includes(store))
        throw new Error(`${args.path}: Ink's text cache changed; look again at bound-ink-text-cache`);
      return {
        contents: source.replace(store, `if (cache.size >= ${MAX}) cache.clear();\n    ${store}`),
        loader: 'js',
      };
    });
  },
};

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
await build({
  logLevel: 'warning',
  entryPoints: { cli: 'src/cli.ts', index: 'src/index.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  // The native driver must stay a real package; everything else is bundled to start fast.
  external: ['better-sqlite3'],
  // Bundled CommonJS packages (commander) call require(); give them one.
  banner: {
    js: "import { createRequire as __evlogCreateRequire } from 'node:module'; const require = __evlogCreateRequire(import.meta.url);",
  },
  chunkNames: 'chunks/[name]-[hash]',
  jsx: 'automatic',
  // Ink loads react-devtools-core only when DEV=true; the bundle has no devtools to offer.
  alias: { 'react-devtools-core': './scripts/stubs/react-devtools-core.mjs' },
  // React picks its production build by NODE_ENV: bundle that one.
  define: { 'process.env.NODE_ENV': '"production"' },
  plugins: [boundInkTextCache],
});

// Type declarations for the library entry (`import { openStore } from 'evlog'`).
execFileSync(
  process.execPath,
  [fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url)), '-p', 'tsconfig.build.json'],
  {
    stdio: 'inherit',
    cwd: fileURLToPath(new URL('..', import.meta.url)),
  },
);
