import { loadOn, outcomeAs } from '../test/support/audit.ts';
