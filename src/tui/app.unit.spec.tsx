import { afterEach, describe, expect, it } from 'vitest';
import { prepareFirstFrame } from './first-frame.js';
import { createFakeData, makeDeadLetter, makeEvent } from './testing/fake-inspector-data.js';
import { KEYS, type RenderedInspector, renderInspector } from './testing/render-inspector.js';

const events = Array.from({ length: 30 }, (_, i) => makeEvent(i + 1));
let app: RenderedInspector | undefined;
afterEach(() => app?.unmount());

describe('the inspector frame', () => {
  it('shows the tabs, the store path, the head and the keys of the view in the status bar', async () => {
    const fake = createFakeData({ events });
    app = await renderInspector(fake.data, { columns: 120 });
    const frame = await app.waitFor((f) => f.includes('head 30'), 'the head');
    const lines = frame.split('\n');
    expect(lines[0]).toContain('1 Dead letters');
    expect(lines[0]).toContain('5 Schemas');
    const status = lines.at(-1) as string;
    expect(status).toContain('/tmp/shop.db');
    expect(status).toContain('head 30');
    expect(status).toContain('/ filter');
    expect(status).toContain('? help  q quit');
  });

  it('switches views with 1-5, Tab and Shift-Tab', async () => {
    const fake = createFakeData({ events, groups: [] });
    app = await renderInspector(fake.data);
    await app.waitFor((f) => f.includes('all events'));
    await app.press('3');
    await app.waitFor((f) => f.includes('projections · lag'), 'the projections view');
    await app.press('4');
    await app.waitFor((f) => f.includes('consumer groups'), 'the consumers view');
    await app.press('5');
    await app.waitFor((f) => f.includes('event types with schemas'), 'the schemas view');
    await app.press(KEYS.tab);
    await app.waitFor((f) => f.includes('parked'), 'Tab after the last view: the first');
    await app.press(KEYS.shiftTab);
    await app.waitFor((f) => f.includes('event types with schemas'), 'Shift-Tab: back');
    await app.press('2');
    await app.waitFor((f) => f.includes('all events'), 'the events view again, as it was');
  });

  it('draws a whole first frame when given what was read for it: the list, the head, the keys', async () => {
    const fake = createFakeData({ events });
    const first = await prepareFirstFrame(fake.data, 24);
    expect(first.view).toBe('events');
    app = await renderInspector(fake.data, { first, rows: 24 });
    const [frame] = app.frames();
    expect(frame).toContain('head 30');
    expect(frame).toMatch(/›\s+30\s/);
    expect(frame).toContain('/ filter');
  });

  it('opens on the dead letters, read for the first frame, when anything is parked', async () => {
    const fake = createFakeData({
      events,
      deadLetters: [makeDeadLetter(1), makeDeadLetter(2, { status: 'redriven' })],
    });
    const first = await prepareFirstFrame(fake.data, 24);
    expect(first).toMatchObject({ view: 'dead-letters', parked: 1 });
    app = await renderInspector(fake.data, { first });
    const [frame] = app.frames();
    expect(frame).toContain('Dead letters (1)');
    expect(frame).toContain('1 parked');
    expect(frame).toMatch(/›\s+1\s+mailer/);
  });

  it('opens on the dead letters when anything is parked', async () => {
    const fake = createFakeData({ events, deadLetters: [makeDeadLetter(1)] });
    app = await renderInspector(fake.data, { view: 'dead-letters' });
    await app.waitFor((f) => f.includes('1 parked') && f.includes('mailer'));
    expect(app.frame().split('\n')[0]).toContain('Dead letters (1)');
  });

  it('lists every key with ? and closes the help with Esc', async () => {
    const fake = createFakeData({ events });
    app = await renderInspector(fake.data);
    await app.press('?');
    const help = await app.waitFor((f) => f.includes('Keys'));
    for (const key of [
      '1-5, Tab',
      'j/k',
      'PgUp/PgDn',
      'Enter',
      'Esc',
      '/',
      'space, a',
      '  r ',
      '  d ',
      '  p ',
      '  f ',
    ]) {
      expect(help).toContain(key);
    }
    expect(help).toContain('R                    rebuild');
    expect(help).toContain('q, Ctrl-C  quit');
    await app.press(KEYS.escape);
    await app.waitFor((f) => f.includes('all events'));
  });

  it('marks the actions off in the help when read-only', async () => {
    const fake = createFakeData({ events });
    app = await renderInspector(fake.data, { readonly: true });
    await app.press('?');
    const help = await app.waitFor((f) => f.includes('Keys'));
    expect(help.match(/\(off: --readonly\)/g)).toHaveLength(3);
    expect(help.split('\n').at(-1)).toContain('read-only');
  });

  it('quits with q', async () => {
    const fake = createFakeData({ events });
    app = await renderInspector(fake.data);
    await app.waitFor((f) => f.includes('all events'));
    expect(app.exited()).toBe(false);
    await app.press('q');
    expect(app.exited()).toBe(true);
  });

  it('quits with Ctrl-C, even while a prompt takes the keys', async () => {
    const fake = createFakeData({ events });
    app = await renderInspector(fake.data);
    await app.waitFor((f) => f.includes('all events'));
    await app.press('/', 'q');
    expect(app.exited()).toBe(false);
    await app.press(KEYS.ctrlC);
    expect(app.exited()).toBe(true);
  });

  it('takes keys that arrive together one at a time, as if typed one by one', async () => {
    const fake = createFakeData({ events: [...events, makeEvent(31, { type: 'OrderCancelled' })] });
    app = await renderInspector(fake.data);
    await app.waitFor((f) => f.includes('head 31'));
    // One read: a key that opens a prompt, the text for it, and Enter; then moves and Enter.
    await app.press('/type:OrderCancelled\r');
    await app.waitFor((f) => f.includes('filter: type:OrderCancelled · positions 31–31'), 'the filter applied');
    await app.press('\u001b');
    await app.waitFor((f) => f.includes('all events'));
    await app.press('kk\r');
    await app.waitFor((f) => f.includes('event 29 · OrderPlaced'), 'the detail of the event two up');
  });

  it('fits 80x24 and follows a resize', async () => {
    const fake = createFakeData({ events });
    app = await renderInspector(fake.data, { columns: 80, rows: 24 });
    let frame = await app.waitFor((f) => f.includes('head 30'));
    let lines = frame.split('\n');
    expect(lines).toHaveLength(24);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(80);
    expect(lines.at(-1)).toContain('q quit');
    app.resize(120, 30);
    frame = await app.waitFor((f) => f.split('\n').length === 30, 'a 30-row frame');
    lines = frame.split('\n');
    expect(Math.max(...lines.map((line) => line.length))).toBeGreaterThan(100);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(120);
    // The wider screen shows the year in the time column.
    expect(frame).toContain('2026-11-22');
  });

  it('shows a failing store operation as an error and keeps working', async () => {
    const fake = createFakeData({ events });
    fake.failures.set('head', 'disk I/O error');
    app = await renderInspector(fake.data);
    await app.waitFor((f) => f.includes('cannot read the head: disk I/O error'));
    fake.failures.set('listProjections', 'database is locked');
    await app.press('3');
    await app.waitFor((f) => f.includes('error: database is locked'));
    fake.failures.clear();
    // The next key reads the list again; then it moves.
    await app.press('2', 'k', 'k');
    await app.waitFor((f) => f.includes('› ') && f.includes('29  '), 'the events view still moving');
  });
});
