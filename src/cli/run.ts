import { killOpenSessions } from '../introspect/session.ts';
import { main } from './main.ts';

/**
 * Process entry: wires the CLI to the real streams and signals, and exits with its code.
 *
 * Ctrl-C (SIGINT) and SIGTERM (what CI runners and process managers send) both cancel: the running
 * statement gets a protocol-level cancel request (which PgBouncer forwards to the right server
 * connection), the connection is dropped, and nothing more is sent. A second signal drops every
 * connection at once and exits; the server then ends the session on its own (every transaction
 * sets client_connection_check_interval and idle_in_transaction_session_timeout).
 */
const controller = new AbortController();
/** 130 after Ctrl-C, 143 after SIGTERM: set by the first signal. */
let signalExitCode: number | undefined;
const onSignal = (signal: 'SIGINT' | 'SIGTERM') => {
  const code = signal === 'SIGINT' ? 130 : 143;
  if (controller.signal.aborted) {
    killOpenSessions();
    process.exit(code);
  }
  process.stderr.write(`\nsupaudit: cancelling… (${signal === 'SIGINT' ? 'Ctrl-C' : 'SIGTERM'} again to quit at once)\n`);
  signalExitCode = code;
  controller.abort();
};
process.on('SIGINT', () => onSignal('SIGINT'));
process.on('SIGTERM', () => onSignal('SIGTERM'));
const code = await main(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
  cwd: process.cwd(),
  isTTY: Boolean(process.stdout.isTTY),
  signal: controller.signal,
});
// main reports a cancel as 130; after SIGTERM the process says so with 143.
process.exitCode = code === 130 && signalExitCode !== undefined ? signalExitCode : code;
