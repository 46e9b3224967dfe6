// Builds dist/ with esbuild: one ESM bundle per entry, shared chunks split out so that
// heavy modules (tables, progress bars, Ink and React) load only when a command needs them.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

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
