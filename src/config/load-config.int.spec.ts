import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EvlogError } from '../errors.js';
import { findConfigFile, loadConfig } from './load-config.js';

const folders: string[] = [];
function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'evlog-config-'));
  folders.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function loadError(options: { cwd: string; configPath?: string }): Promise<EvlogError> {
  const error = await loadConfig(options).catch((e: unknown) => e);
  if (!(error instanceof EvlogError)) throw new Error('expected an EvlogError');
  return error;
}

describe('the config file', () => {
  it('is found in the current folder or the nearest one above, .mjs first', async () => {
    const root = folder();
    const deep = join(root, 'a', 'b');
    mkdirSync(deep, { recursive: true });
    expect(findConfigFile(deep)).toBeUndefined();
    writeFileSync(join(root, 'evlog.config.json'), '{"db":"data/shop.db"}');
    expect(findConfigFile(deep)).toBe(join(root, 'evlog.config.json'));
    writeFileSync(join(root, 'evlog.config.mjs'), 'export default { db: "other.db" }');
    expect(findConfigFile(deep)).toBe(join(root, 'evlog.config.mjs'));
    const loaded = await loadConfig({ cwd: deep });
    // db is relative to the config file's folder.
    expect(loaded?.config.db).toBe(join(root, 'other.db'));
  });

  it('loads upcasters, and keeps keys that later features read', async () => {
    const dir = folder();
    writeFileSync(
      join(dir, 'evlog.config.mjs'),
      'export default { upcasters: { OrderPlaced: { 1: (d) => ({ ...d, v: 2 }) } }, projections: [] }',
    );
    const loaded = await loadConfig({ cwd: dir });
    expect(loaded?.config.upcasters?.OrderPlaced?.[1]?.({})).toEqual({ v: 2 });
    expect(loaded?.config.projections).toEqual([]);
  });

  it('with --config, loads that file, and says so when it is missing', async () => {
    const dir = folder();
    writeFileSync(join(dir, 'custom.json'), '{"db":"x.db"}');
    expect((await loadConfig({ cwd: dir, configPath: 'custom.json' }))?.config.db).toBe(join(dir, 'x.db'));
    const error = await loadError({ cwd: dir, configPath: 'missing.mjs' });
    expect(error.code).toBe('usage');
    expect(error.message).toBe(`--config: no file at ${join(dir, 'missing.mjs')}`);
  });

  it.each([
    [
      'export default { upcasters: { OrderPlaced: { 1: 5 } } }',
      'upcasters.OrderPlaced.1: must be a function (data) => data',
    ],
    [
      'export default { upcasters: { OrderPlaced: { first: (d) => d } } }',
      'upcasters.OrderPlaced: keys must be the versions',
    ],
    ['export default { db: 42 }', 'db: '],
    ['export default [1]', 'must export a plain object'],
    ['export default {', 'cannot load the config'],
  ])('reports a bad config as a usage error naming the file: %s', async (text, problem) => {
    const dir = folder();
    const path = join(dir, 'evlog.config.mjs');
    writeFileSync(path, text);
    const error = await loadError({ cwd: dir });
    expect(error.code).toBe('usage');
    expect(error.message).toContain(path);
    expect(error.message).toContain(problem);
  });
});
