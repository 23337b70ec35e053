import { main } from './main.ts';

/** Process entry: wires the CLI to the real streams and exits with its code. */
const code = await main(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
  cwd: process.cwd(),
  isTTY: Boolean(process.stdout.isTTY),
});
process.exitCode = code;
