import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { startEmbedded } from '../../src/introspect/targets/embedded.ts';
import { migrationFiles } from '../../src/introspect/targets/sql-files.ts';
import { locationKey, objectLocations } from '../../src/introspect/targets/locations.ts';
import { pgliteBase } from '../support/audit.ts';

describe('migration locations', () => {
  test('each demo object points at the file and line of the statement that created it', async () => {
    const files = [...migrationFiles('supabase/migrations'), 'supabase/seed.sql'];
    const db = await startEmbedded(files, process.cwd(), { base: await pgliteBase() });
    await db.session.close();
    const map = objectLocations(db.statements);
    const lineOf = (file: string, text: string) => readFileSync(file, 'utf8').split('\n').findIndex((l) => l.startsWith(text)) + 1;
    const init = 'supabase/migrations/20250101000000_init.sql';
    expect(map.get(locationKey('public', 'organizations'))).toEqual({ file: init, line: lineOf(init, 'create table public.organizations') });
    expect(map.get(locationKey('public', 'profiles', 'Users can update own profile.'))).toEqual({ file: init, line: lineOf(init, 'create policy "Users can update own profile."') });
    const billing = 'supabase/migrations/20250115093000_billing.sql';
    expect(map.get(locationKey('public', 'payment_methods'))).toEqual({ file: billing, line: lineOf(billing, 'create table public.payment_methods') });
  });
});
