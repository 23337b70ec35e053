/**
 * Keys → what they mean in the current state. Pure: a state change (`action`) or a command with
 * a side effect the review hook performs (write, re-run). Every key of the help overlay is here.
 */
import type { Key } from 'ink';
import { focusedFinding, type Action, type State, type View } from './state.ts';

export type Command =
  | { readonly kind: 'action'; readonly action: Action }
  | { readonly kind: 'rerun' }
  | { readonly kind: 'export' }
  | { readonly kind: 'ask-fixes' }
  | { readonly kind: 'write-fixes' }
  | { readonly kind: 'none' };

const act = (action: Action): Command => ({ kind: 'action', action });
const none: Command = { kind: 'none' };

/** `pageSize`: rows the findings list shows; `bodyHeight`: lines of the scrolling views; `scrollMax`: how far the current one scrolls. */
export function commandFor(state: State, input: string, key: Key, layout: { readonly pageSize: number; readonly bodyHeight: number; readonly scrollMax: number }): Command {
  if (key.ctrl && input === 'c') return act({ type: 'quit' });
  const dialog = state.dialog;
  if (dialog) {
    if (key.escape) return act({ type: 'close-dialog' });
    if (dialog.kind === 'confirm-fixes') {
      if (input === 'y' || input === 'Y') return { kind: 'write-fixes' };
      if (input === 'n' || input === 'N' || input === 'q') return act({ type: 'close-dialog' });
    }
    return none;
  }
  if (input === 'q') return act({ type: 'quit' });
  if (key.escape) return act({ type: 'back' });
  if (input === '?') return state.view === 'help' ? act({ type: 'back' }) : act({ type: 'show', view: 'help' });
  if (state.run.status === 'running') return none;
  if (input === 'r') return { kind: 'rerun' };
  if (!state.report) return none;
  if (input === 'e') return { kind: 'export' };
  if (key.tab) {
    const order = ['overview', 'findings', 'roles', ...(state.report.load ? ['load'] : []), ...(state.report.lab ? ['lab'] : [])] as readonly View[];
    const at = order.indexOf(state.view as (typeof order)[number]);
    return act({ type: 'show', view: order[(at + (key.shift ? order.length - 1 : 1)) % order.length]! });
  }
  if (input === '1') return act({ type: 'show', view: 'overview' });
  if (input === '2') return act({ type: 'show', view: 'findings' });
  if (input === '3') return act({ type: 'show', view: 'roles' });
  if (input === '4') return act({ type: 'show', view: 'load' });
  if (input === '5') return act({ type: 'show', view: 'lab' });
  const up = key.upArrow || input === 'k';
  const down = key.downArrow || input === 'j';
  switch (state.view) {
    case 'findings':
    case 'detail': {
      if (state.view === 'findings') {
        if (up || down) return act({ type: 'move', delta: up ? -1 : 1, pageSize: layout.pageSize });
        if (key.pageUp || key.pageDown) return act({ type: 'move', delta: (key.pageUp ? -1 : 1) * Math.max(1, layout.pageSize - 1), pageSize: layout.pageSize });
        if (key.home || key.end) return act({ type: 'move-to', edge: key.home ? 'first' : 'last', pageSize: layout.pageSize });
        if (key.return) return act({ type: 'show', view: 'detail' });
        if (input === '/') return act({ type: 'open-dialog', dialog: { kind: 'search' } });
        if (input === 'g') return act({ type: 'cycle-grouping' });
        if (input === 'l') return act({ type: 'cycle-level' });
        if (input === 'c') return act({ type: 'cycle-category' });
        if (input === 'o') return act({ type: 'cycle-role' });
        if (input === 'x') return act({ type: 'clear-filters' });
      } else {
        if (up || down) return act({ type: 'scroll-detail', delta: up ? -1 : 1, max: layout.scrollMax });
        if (key.pageUp || key.pageDown) return act({ type: 'scroll-detail', delta: (key.pageUp ? -1 : 1) * Math.max(1, layout.bodyHeight - 2), max: layout.scrollMax });
        if (key.home || key.end) return act({ type: 'scroll-detail', delta: key.home ? -layout.scrollMax : layout.scrollMax, max: layout.scrollMax });
        if (key.leftArrow || key.rightArrow) return act({ type: 'move', delta: key.leftArrow ? -1 : 1, pageSize: layout.pageSize });
      }
      if (input === ' ') return act({ type: 'toggle-selected' });
      if (input === 'w') return { kind: 'ask-fixes' };
      if (input === 'a') {
        const f = focusedFinding(state);
        return f ? act({ type: 'open-dialog', dialog: { kind: 'accept', fingerprint: f.fingerprint } }) : none;
      }
      return none;
    }
    case 'roles':
      if (up || down) return act({ type: 'move-role', delta: up ? -1 : 1 });
      if (key.pageUp || key.pageDown) return act({ type: 'scroll-role', delta: (key.pageUp ? -1 : 1) * Math.max(1, layout.bodyHeight - 3), max: layout.scrollMax });
      return none;
    case 'overview':
    case 'load':
    case 'lab':
    case 'help':
      if (up || down) return act({ type: 'scroll-detail', delta: up ? -1 : 1, max: layout.scrollMax });
      if (key.return && state.view === 'overview') return act({ type: 'show', view: 'findings' });
      return none;
    case 'progress':
      return none;
  }
}
