import { defineCheck } from '../src/model/check.ts';
import { quoteIdent } from '../src/model/ident.ts';

export default defineCheck({
  meta: {
    id: 'extension_versions_outdated',
    title: 'Extension older than the available version',
    level: 'low',
    category: 'security',
    facing: 'internal',
    splinter: 'extension_versions_outdated',
    description: 'An installed extension is at a different version than the default version the server ships, missing its fixes.',
  },
  run(ctx) {
    return ctx.snapshot.extensions
      // Only when ALTER EXTENSION … UPDATE can get there: an installed version the server has no
      // script for (a hand-edited catalog, a removed package) cannot be updated (splinter skips it too).
      .filter((e) => e.defaultVersion !== null && e.version !== e.defaultVersion && e.updatePath !== null)
      .map((extension) => ({
        message:
          `Extension ${extension.name} is at version ${extension.version}, but the server ships ${extension.defaultVersion}: ` +
          'the update scripts (bug and security fixes) have not been applied.',
        object: { schema: extension.schema, name: extension.name, type: 'extension' as const },
        remediation: {
          text:
            'Update it to the default version after reading its release notes (some updates change function signatures). ' +
            'On hosted Supabase, extensions owned by supabase_admin are updated by the platform or from the dashboard.',
          sql: `ALTER EXTENSION ${quoteIdent(extension.name)} UPDATE;`,
        },
        evidence: { installed: extension.version, available: extension.defaultVersion, ...(extension.updatePath ? { updatePath: extension.updatePath } : {}) },
      }));
  },
});
