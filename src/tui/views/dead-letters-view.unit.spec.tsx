import { afterEach, describe, expect, it } from 'vitest';
import { createFakeData, makeDeadLetter, makeEvent, T0 } from '../testing/fake-inspector-data.js';
import { KEYS, type RenderedInspector, renderInspector } from '../testing/render-inspector.js';

const events = Array.from({ length: 50 }, (_, i) => makeEvent(i + 1));

/** Entries 1-40: mailer (handler-failed) for odd ids, ledger (timeout) for even ones; 41 is already redriven. */
function entries() {
  const list = Array.from({ length: 40 }, (_, i) => {
    const id = i + 1;
    return makeDeadLetter(id, {
      group: id % 2 ? 'mailer' : 'ledger',
      reason: id % 2 ? 'handler-failed' : 'timeout',
      type: id % 3 ? 'OrderPlaced' : 'PaymentFailed',
      error:
        id % 2 ? `smtp 550 mailbox unavailable (entry ${id})\n  at send (mailer.js:12)` : 'handler timed out after 30s',
    });
  });
  list.push(makeDeadLetter(41, { status: 'redriven' }));
  return list;
}

/** The id in the cursor's row. */
function cursorId(frame: string): number {
  const line = frame.split('\n').find((l) => l.startsWith('›'));
  return Number(line?.slice(2).trim().split(/\s+/)[0]);
}

/** The row of entry `id`. */
function row(frame: string, id: number): string | undefined {
  return frame.split('\n').find((line) => new RegExp(`^[ ›][ ●] +${id}  `).test(line));
}

function rowIds(frame: string): number[] {
  return frame
    .split('\n')
    .filter((line) => /^[ ›][ ●] +\d+ {2}/.test(line))
    .map((line) => Number(line.slice(2).trim().split(/\s+/)[0]));
}

let app: RenderedInspector | undefined;
afterEach(() => app?.unmount());

async function open(fake: ReturnType<typeof createFakeData>, options: { readonly?: boolean; rows?: number } = {}) {
  app = await renderInspector(fake.data, { view: 'dead-letters', columns: 140, ...options });
  await app.waitFor((f) => cursorId(f) === 1, 'the first entry');
  return app;
}

describe('the dead letters view', () => {
  it('lists the parked entries by id with group, type, reason, attempts, age and the error line', async () => {
    const fake = createFakeData({ events, deadLetters: entries() });
    const frame = (await open(fake)).frame();
    expect(frame).toContain('40 parked');
    expect(row(frame, 1)).toMatch(
      /1\s+mailer\s+OrderPlaced\s+handler-failed\s+3\s+59m\s+smtp 550 mailbox unavailable \(entry 1\)$/,
    );
    expect(row(frame, 3)).toContain('PaymentFailed');
    expect(rowIds(frame)).not.toContain(41);
  });

  it('pages through the store as the cursor moves', async () => {
    const fake = createFakeData({ events, deadLetters: entries() });
    await open(fake);
    await app?.press(KEYS.pageDown, KEYS.pageDown);
    expect(cursorId(app?.frame() ?? '')).toBeGreaterThan(30);
    await app?.press(KEYS.end);
    await app?.waitFor((f) => cursorId(f) === 40, 'the last entry');
    await app?.press(KEYS.home);
    await app?.waitFor((f) => cursorId(f) === 1, 'the first entry');
  });

  it('filters by group, type, reason, status and text with /, and clears with Esc', async () => {
    const fake = createFakeData({ events, deadLetters: entries() });
    await open(fake);
    await app?.press('/', ...'group:ledger', KEYS.enter);
    let frame = await app!.waitFor((f) => f.includes('20 parked · filter: group:ledger'));
    expect(rowIds(frame).every((id) => id % 2 === 0)).toBe(true);
    await app?.press('/', '\u0015', ...'reason:handler-failed type:PaymentFailed', KEYS.enter);
    frame = await app!.waitFor((f) => f.includes('filter: reason:handler-failed type:PaymentFailed'));
    expect(rowIds(frame)).toEqual([3, 9, 15, 21, 27, 33, 39]);
    await app?.press('/', '\u0015', ...'mailbox unavailable (entry 2', KEYS.enter);
    frame = await app!.waitFor((f) => f.includes('filter: mailbox'));
    expect(rowIds(frame)).toEqual([21, 23, 25, 27, 29]);
    await app?.press('/', '\u0015', ...'status:redriven', KEYS.enter);
    frame = await app!.waitFor((f) => f.includes('1 redriven'));
    expect(rowIds(frame)).toEqual([41]);
    await app?.press('/', '\u0015', ...'status:gone', KEYS.enter);
    await app?.waitFor((f) => f.includes('filter: status is one of parked, redriven, discarded or all'));
    await app?.press(KEYS.escape);
    await app?.waitFor((f) => f.split('\n')[1] === '40 parked', 'the filter cleared');
  });

  it('opens an entry with Enter: the event envelope, the full error and the redrive history; p shows it raw', async () => {
    const deadLetters = entries();
    (deadLetters[4] as (typeof deadLetters)[number]).history = [
      { at: T0 + 90_000, action: 'failed', error: 'smtp 421 try again later', position: null, note: null },
    ];
    const fake = createFakeData({ events, deadLetters });
    await open(fake, { rows: 50 });
    await app?.press('j', 'j', 'j', 'j', KEYS.enter);
    let frame = await app!.waitFor((f) => f.includes('dead letter 5 · mailer · OrderPlaced'));
    expect(frame).toContain('reason        handler-failed, after 3 attempts');
    expect(frame).toContain('smtp 550 mailbox unavailable (entry 5)');
    expect(frame).toContain('  at send (mailer.js:12)');
    expect(frame).toContain(`${new Date(T0 + 90_000).toISOString()}  failed: smtp 421 try again later`);
    expect(frame).toContain('"position": 5,');
    expect(frame).toContain('"type": "OrderPlaced",');
    await app?.press('p');
    frame = await app!.waitFor((f) => f.includes('(raw)'));
    expect(frame).toContain('{"position":5,"id":"id-5","topic":"orders"');
    await app?.press(KEYS.escape);
    await app?.waitFor((f) => f.includes('40 parked'));
  });

  it('redrives the entry under the cursor with r, at once, and shows its outcome in place', async () => {
    const fake = createFakeData({ events, deadLetters: entries() });
    await open(fake);
    await app?.press('r');
    const frame = await app!.waitFor((f) => f.includes('✓ redriven'));
    expect(fake.calls.redrive).toEqual([[1]]);
    expect(row(frame, 1)).toContain('✓ redriven');
    expect(frame).toContain('redrive: 1 redriven');
    expect(frame).toContain('39 parked');
  });

  it('asks y/n before redriving several selected entries, and shows each outcome, failed again with its new error', async () => {
    const fake = createFakeData({
      events,
      deadLetters: entries(),
      failingRedrives: new Map([[3, 'smtp 554 rejected for policy reasons']]),
    });
    await open(fake);
    await app?.press(' ', ' ', ' ');
    let frame = await app!.waitFor((f) => f.includes('3 selected'));
    expect(row(frame, 2)?.startsWith(' ●')).toBe(true);
    expect(cursorId(frame)).toBe(4);
    await app?.press('r');
    await app?.waitFor((f) => f.includes('redrive 3 entries? y/n'));
    await app?.press('n');
    await app?.waitFor((f) => !f.includes('y/n'));
    expect(fake.calls.redrive).toEqual([]);
    await app?.press('r', 'y');
    frame = await app!.waitFor((f) => f.includes('redrive: 2 redriven, 1 failed again'));
    expect(fake.calls.redrive).toEqual([[1, 2, 3]]);
    expect(row(frame, 1)).toContain('✓ redriven');
    expect(row(frame, 2)).toContain('✓ redriven');
    expect(row(frame, 3)).toMatch(/\s4\s.*✗ failed again: smtp 554 rejected for policy reasons/);
    expect(frame).not.toContain('selected');
  });

  it('selects everything the filter shows with a, and discards it with d after y', async () => {
    const fake = createFakeData({ events, deadLetters: entries() });
    await open(fake);
    await app?.press('/', ...'group:ledger', KEYS.enter);
    await app?.waitFor((f) => f.includes('20 parked'));
    await app?.press('a');
    await app?.waitFor((f) => f.includes('20 selected'));
    // Space takes one out of the selection.
    await app?.press(' ');
    await app?.waitFor((f) => f.includes('19 selected'));
    await app?.press('d');
    await app?.waitFor((f) => f.includes('discard 19 entries? y/n'));
    await app?.press('y');
    const frame = await app!.waitFor((f) => f.includes('discard: 19 discarded'));
    expect(fake.calls.discard.flat()).toHaveLength(19);
    expect(fake.calls.discard.flat()).not.toContain(2);
    expect(row(frame, 4)).toContain('✓ discarded');
    expect(frame).toContain('1 parked');
  });

  it('acts on what a selected and counted, not on entries parked after it; marks only parked rows', async () => {
    const fake = createFakeData({ events, deadLetters: entries() });
    await open(fake);
    await app?.press('/', ...'status:redriven', KEYS.enter);
    await app?.waitFor((f) => row(f, 41) !== undefined, 'the redriven entry');
    await app?.press('a');
    // Nothing parked is shown: nothing is selected, and the redriven row carries no mark.
    let frame = await app!.waitFor((f) => f.includes('nothing parked to select here'));
    expect(row(frame, 41)).toMatch(/^. {2}/);
    await app?.press(KEYS.escape);
    await app?.press('/', ...'group:ledger', KEYS.enter);
    await app?.waitFor((f) => f.includes('20 parked'));
    await app?.press('a');
    await app?.waitFor((f) => f.includes('20 selected'));
    // A consumer parks another ledger entry meanwhile.
    fake.deadLetters.push(makeDeadLetter(42, { group: 'ledger', reason: 'timeout' }));
    await app?.press('d');
    await app?.waitFor((f) => f.includes('discard 20 entries? y/n'));
    await app?.press('y');
    frame = await app!.waitFor((f) => f.includes('discard: 20 discarded'));
    expect(fake.calls.discard.flat()).toHaveLength(20);
    expect(fake.calls.discard.flat()).not.toContain(42);
  });

  it('does not redrive or discard when read-only', async () => {
    const fake = createFakeData({ events, deadLetters: entries() });
    await open(fake, { readonly: true });
    expect(app?.frame().split('\n').at(-1)).not.toContain('r redrive');
    await app?.press('r');
    await app?.waitFor((f) => f.includes('read-only: redrive is off'));
    await app?.press('d');
    await app?.waitFor((f) => f.includes('read-only: discard is off'));
    expect(fake.calls.redrive).toEqual([]);
    expect(fake.calls.discard).toEqual([]);
  });

  it('shows a failing redrive as an error and keeps the entries', async () => {
    const fake = createFakeData({ events, deadLetters: entries() });
    fake.failures.set('redrive', 'the handler of group mailer is not in the config');
    await open(fake);
    await app?.press('r');
    await app?.waitFor((f) =>
      f.includes('redrive stopped after 0 of 1: the handler of group mailer is not in the config'),
    );
    expect(app?.frame()).toContain('40 parked');
    await app?.press('j');
    await app?.waitFor((f) => cursorId(f) === 2);
  });
});
