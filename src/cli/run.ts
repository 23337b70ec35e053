import { main } from './main.ts';

/** Process entry: wires the CLI to the real streams and signals, and exits with its code. */
const controller = new AbortController();
process.on('SIGINT', () => {
  // First Ctrl-C: cancel the running query and close the connection cleanly. Second: leave now.
  if (controller.signal.aborted) process.exit(130);
  process.stderr.write('\nsupaudit: cancelling… (Ctrl-C again to quit at once)\n');
  controller.abort();
});
const code = await main(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
  cwd: process.cwd(),
  isTTY: Boolean(process.stdout.isTTY),
  signal: controller.signal,
});
process.exitCode = code;
