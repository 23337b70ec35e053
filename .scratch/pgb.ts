import { startPgBouncer } from '../test/support/pgbouncer.ts';
const b = await startPgBouncer('127.0.0.1', 54990, 'demo', 'postgres', 'x', 2);
console.log(b.port);
await new Promise((r) => setTimeout(r, 600000));
