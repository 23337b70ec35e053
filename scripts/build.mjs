#!/usr/bin/env node
// Compiles supaudit to dist/ (what the package runs) and copies the files it reads at run time next
// to the compiled code: the Supabase base SQL, the extension stand-ins, the check docs (`supaudit explain`, SARIF help) and
// the demo project (`npm start`, `supaudit --demo`). Run by `npm run build` and before `npm pack`.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const built = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (built.status !== 0) process.exit(built.status ?? 1);

const copy = (from, to = from) => {
  mkdirSync(dirname(join(dist, to)), { recursive: true });
  cpSync(join(root, from), join(dist, to), { recursive: true });
};
copy('src/introspect/targets/supabase-base.sql');
for (const file of readdirSync(join(root, 'src/introspect/targets/stand-ins'))) if (file.endsWith('.sql')) copy(join('src/introspect/targets/stand-ins', file));
for (const file of readdirSync(join(root, 'checks'))) if (file.endsWith('.md')) copy(join('checks', file));
// The demo project: config, migrations and seed (not the .temp/.branches folders the CLI makes).
for (const entry of ['config.toml', 'migrations', 'seed.sql']) if (existsSync(join(root, 'supabase', entry))) copy(join('supabase', entry));
process.stdout.write('supaudit: built dist/\n');
