/**
 * Turns command-line flags and the config file into what the audit needs. Flags win over the
 * config file; paths in the config file are relative to it.
 */
import { allChecks } from '../../checks/index.ts';
import { loadConfig, loadSuppressions, suppressionsFile, type LoadedConfig } from '../config/load.ts';
import type { AuditOptions } from '../engine/audit.ts';
import { DEFAULT_CHECK_OPTIONS } from '../engine/context.ts';
import { UserError } from '../model/errors.ts';
import { isLevel, LEVELS, type Level } from '../model/level.ts';

export interface ConfigFlags {
  readonly config?: string;
  readonly ignoreFile?: string;
  readonly schemas?: string;
}

export const KNOWN_CHECKS: readonly string[] = allChecks.map((c) => c.meta.id);

import { splitList } from './lists.ts';
export { splitList };

export interface Settings {
  readonly config: LoadedConfig;
  /** Audit options that come from the config and suppression files (not the session or probes). */
  readonly options: Pick<AuditOptions, 'exposedSchemas' | 'checkOptions' | 'levels' | 'disabled' | 'suppressions'>;
  /** The suppressions file in use (read, and appended to by the interactive review), if any. */
  readonly ignoreFile?: string;
}

export function resolveSettings(flags: ConfigFlags, cwd: string): Settings {
  const loaded = loadConfig({ cwd, ...(flags.config !== undefined ? { explicit: flags.config } : {}), knownChecks: KNOWN_CHECKS });
  const c = loaded.config;
  const ignore = suppressionsFile(cwd, flags.ignoreFile, c.ignoreFile);
  const schemas = flags.schemas !== undefined ? splitList(flags.schemas) : c.schemas;
  return {
    config: loaded,
    ...(ignore ? { ignoreFile: ignore } : {}),
    options: {
      ...(schemas ? { exposedSchemas: schemas } : {}),
      checkOptions: {
        sensitiveColumnPatterns: [...DEFAULT_CHECK_OPTIONS.sensitiveColumnPatterns, ...(c.sensitiveColumns ?? [])],
        realtimeSubscribers: c.realtimeSubscribers ?? DEFAULT_CHECK_OPTIONS.realtimeSubscribers,
        ...(c.roles ? { extraRoles: c.roles } : {}),
      },
      ...(c.levels ? { levels: c.levels } : {}),
      ...(c.disable ? { disabled: c.disable } : {}),
      ...(ignore ? { suppressions: loadSuppressions(ignore, cwd, KNOWN_CHECKS) } : {}),
    },
  };
}

/** `--fail-on` (flag, else config `failOn`, else none). */
export function failLevel(flag: string | undefined, fromConfig: Level | 'none' | undefined): Level | 'none' {
  if (flag === undefined) return fromConfig ?? 'none';
  const value = flag.toLowerCase();
  if (value !== 'none' && !isLevel(value)) throw new UserError('usage', `--fail-on must be one of ${LEVELS.join(', ')} or none, got "${flag}"`);
  return value;
}
