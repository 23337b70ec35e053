#!/usr/bin/env node
// The installed package runs the compiled CLI in dist/. A checkout (the TypeScript sources are
// present) runs the sources through tsx, a development dependency, so edits need no rebuild.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/run.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import(new URL('../dist/src/cli/run.js', import.meta.url).href);
}
