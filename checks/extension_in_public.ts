import { defineCheck } from '../src/model/check.ts';
import { quoteIdent } from '../src/model/ident.ts';

export default defineCheck({
  meta: {
    id: 'extension_in_public',
    title: 'Extension installed in the public schema',
    level: 'medium',
    category: 'security',
    facing: 'external',
    splinter: 'extension_in_public',
    description:
      'An extension is installed in schema public, so its functions, types and tables sit among the application\'s objects and in the API\'s schema.',
  },
  run(ctx) {
    return ctx.snapshot.extensions
      .filter((e) => e.schema === 'public')
      .map((extension) => {
        const name = quoteIdent(extension.name);
                return {
          message:
            `Extension ${extension.name} is installed in schema public: its functions ${ctx.isExposed('public') ? 'are callable through the API (/rest/v1/rpc) and ' : ''}` +
            'mix with the application\'s objects, and anyone with CREATE on public can shadow them.',
          object: { schema: extension.schema, name: extension.name, type: 'extension' as const },
          remediation: extension.relocatable
            ? {
                text:
                  'Move it to the extensions schema (on the search_path of Supabase roles); code that calls its functions as public.<name> must be updated.',
                sql: `ALTER EXTENSION ${name} SET SCHEMA extensions;`,
              }
            : {
                text:
                  `${extension.name} cannot be relocated with ALTER EXTENSION … SET SCHEMA: drop it and create it again with ` +
                  `CREATE EXTENSION ${name} WITH SCHEMA extensions, in a migration that also recreates what depends on it (DROP EXTENSION … CASCADE removes dependent columns and functions).`,
              },
          evidence: { version: extension.version, relocatable: extension.relocatable },
        };
      });
  },
});
