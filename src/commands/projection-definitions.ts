import { EvlogError } from '../errors.js';
import type { ProjectionDefinition } from '../projections/define-projection.js';
import { type CommandContext, configFor } from './context.js';

/** The projections the config declares (none without a config). */
export async function projectionDefinitions(context: CommandContext): Promise<ProjectionDefinition[]> {
  return ((await configFor(context))?.config.projections ?? []) as ProjectionDefinition[];
}

/** One projection of the config, or a not-found error that lists the known ones. */
export async function projectionDefinition(context: CommandContext, name: string): Promise<ProjectionDefinition> {
  const loaded = await configFor(context);
  const definitions = (loaded?.config.projections ?? []) as ProjectionDefinition[];
  const definition = definitions.find((candidate) => candidate.name === name);
  if (definition) return definition;
  if (!loaded) {
    throw new EvlogError('not_found', `no projection "${name}": there is no config file`, {
      hint: 'declare projections in evlog.config.mjs (here or in a folder above), or name one with --config',
    });
  }
  throw new EvlogError('not_found', `no projection "${name}" in ${loaded.path}`, {
    hint:
      definitions.length > 0
        ? `projections: ${definitions.map((d) => d.name).join(', ')}`
        : 'the config declares no projections: add them under `projections: [ … ]`',
  });
}
