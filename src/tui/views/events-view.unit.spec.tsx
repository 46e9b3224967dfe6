import { afterEach, describe, expect, it } from 'vitest';
import { createFakeData, makeEvent, T0 } from '../testing/fake-inspector-data.js';
import { KEYS, lineWith, type RenderedInspector, renderInspector } from '../testing/render-inspector.js';

/** 200 events; every tenth is a PaymentProcessed of topic payments; events 5, 50 and 150 share a correlation id. */
function shopEvents() {
  return Array.from({ length: 200 }, (_, i) => {
    const position = i + 1;
    const payment = position % 10 === 0;
    return makeEvent(position, {
      topic: payment ? 'payments' : 'orders',
      type: payment ? 'PaymentProcessed' : 'OrderPlaced',
      data: { orderId: `order-${position}`, note: position === 77 ? 'fragile mug' : 'standard' },
      metadata: { correlationId: [5, 50, 150].includes(position) ? 'flow-a' : `corr-${position}`, source: 'shop' },
    });
  });
}

/** The position in the cursor's row. */
function cursorPosition(frame: string): number {
  const line = frame.split('\n').find((l) => l.startsWith('›'));
  return Number(line?.slice(2).trim().split(/\s+/)[0]);
}

let app: RenderedInspector | undefined;
afterEach(() => app?.unmount());

describe('the events view', () => {
  it('shows the log newest last, with the cursor on the last event', async () => {
    const fake = createFakeData({ events: shopEvents() });
    app = await renderInspector(fake.data);
    const frame = await app.waitFor((f) => f.includes('  200  '));
    expect(cursorPosition(frame)).toBe(200);
    const rows = frame.split('\n').filter((line) => /^[ ›] {2,}\d+ /.test(line));
    expect(rows.length).toBeGreaterThan(15);
    const positions = rows.map((line) => Number(line.slice(2).trim().split(/\s+/)[0]));
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(lineWith(frame, '  190  ')).toContain('payments/order-190@1');
    expect(lineWith(frame, '  190  ')).toContain('PaymentProcessed');
  });

  it('moves with ↑/↓, j/k, PgUp/PgDn and Home/End, reading older pages as it goes', async () => {
    const fake = createFakeData({ events: shopEvents() });
    app = await renderInspector(fake.data);
    await app.waitFor((f) => cursorPosition(f) === 200);
    await app.press('k', KEYS.up);
    expect(cursorPosition(app.frame())).toBe(198);
    await app.press('j');
    expect(cursorPosition(app.frame())).toBe(199);
    await app.press(KEYS.down);
    expect(cursorPosition(app.frame())).toBe(200);
    await app.press(KEYS.pageUp);
    const afterPage = cursorPosition(app.frame());
    expect(afterPage).toBeLessThan(185);
    await app.press(KEYS.pageDown);
    expect(cursorPosition(app.frame())).toBe(200);
    await app.press(KEYS.home);
    await app.waitFor((f) => cursorPosition(f) === 1, 'the first event');
    await app.press(KEYS.end);
    await app.waitFor((f) => cursorPosition(f) === 200, 'the last event');
  });

  it('opens an event with Enter: its envelope, data and metadata, pretty or raw with p; Esc closes it', async () => {
    const fake = createFakeData({ events: shopEvents() });
    app = await renderInspector(fake.data);
    await app.waitFor((f) => cursorPosition(f) === 200);
    await app.press('k', KEYS.enter);
    let frame = await app.waitFor((f) => f.includes('event 199 · OrderPlaced'));
    expect(frame).toContain('stream        orders/order-199 (version 1)');
    expect(frame).toContain(`recorded      ${new Date(T0 + 199_000).toISOString()}`);
    expect(frame).toContain('"orderId": "order-199"');
    expect(frame).toContain('"correlationId": "corr-199"');
    await app.press('p');
    frame = await app.waitFor((f) => f.includes('(raw)'));
    expect(frame).toContain('{"orderId":"order-199","note":"standard"}');
    await app.press(KEYS.escape);
    frame = await app.waitFor((f) => f.includes('all events'));
    expect(cursorPosition(frame)).toBe(199);
  });

  it('filters by topic and type in the store, and by text in what it reads; Esc clears', async () => {
    const fake = createFakeData({ events: shopEvents() });
    app = await renderInspector(fake.data);
    await app.waitFor((f) => cursorPosition(f) === 200);
    await app.press('/', ...'type:PaymentProcessed', KEYS.enter);
    let frame = await app.waitFor((f) => f.includes('filter: type:PaymentProcessed'));
    const rows = frame.split('\n').filter((line) => /^[ ›] {2,}\d+ /.test(line));
    // A screenful of the 20 (the newest last), and nothing else.
    expect(rows).toHaveLength(19);
    for (const row of rows) expect(row).toContain('PaymentProcessed');
    expect(cursorPosition(frame)).toBe(200);
    expect(fake.calls.readEvents.at(-1)?.filter.types).toEqual(['PaymentProcessed']);

    await app.press('/', KEYS.backspace.repeat(1));
    // Ctrl-U clears the prompt; then a text filter.
    await app.press('\u0015', ...'fragile', KEYS.enter);
    frame = await app.waitFor((f) => f.includes('filter: fragile'));
    expect(frame.split('\n').filter((line) => /^[ ›] {2,}\d+ /.test(line))).toHaveLength(1);
    expect(cursorPosition(frame)).toBe(77);

    await app.press(KEYS.escape);
    frame = await app.waitFor((f) => f.includes('all events'));
    expect(cursorPosition(frame)).toBe(200);
  });

  it('goes to a position, or to a time, with g', async () => {
    const fake = createFakeData({ events: shopEvents() });
    app = await renderInspector(fake.data);
    await app.waitFor((f) => cursorPosition(f) === 200);
    await app.press('g', ...'42', KEYS.enter);
    await app.waitFor((f) => cursorPosition(f) === 42, 'position 42');
    await app.press('g', ...new Date(T0 + 120_500).toISOString(), KEYS.enter);
    await app.waitFor((f) => cursorPosition(f) === 121, 'the first event at or after that time');
    await app.press('g', ...'soon', KEYS.enter);
    await app.waitFor((f) => f.includes('"soon" is not a start'), 'the error');
    expect(cursorPosition(app.frame())).toBe(121);
  });

  it('shows every event sharing the correlation id with c, and goes back with Esc', async () => {
    const fake = createFakeData({ events: shopEvents() });
    app = await renderInspector(fake.data);
    await app.waitFor((f) => cursorPosition(f) === 200);
    await app.press('g', ...'50', KEYS.enter);
    await app.waitFor((f) => cursorPosition(f) === 50);
    await app.press('c');
    const frame = await app.waitFor((f) => f.includes('trace of correlation id flow-a'));
    const rows = frame.split('\n').filter((line) => /^[ ›] {2,}\d+ /.test(line));
    expect(rows.map((row) => Number(row.slice(2).trim().split(/\s+/)[0]))).toEqual([5, 50, 150]);
    expect(cursorPosition(frame)).toBe(50);
    await app.press(KEYS.escape);
    await app.waitFor((f) => f.includes('all events'));
    // Back on the event the trace was opened on, not at the end.
    expect(cursorPosition(app.frame())).toBe(50);
  });

  it('goes back from a trace to the event and the filter it was opened on', async () => {
    const fake = createFakeData({ events: shopEvents() });
    app = await renderInspector(fake.data);
    await app.waitFor((f) => cursorPosition(f) === 200);
    await app.press('/', ...'topic:orders', KEYS.enter);
    await app.waitFor((f) => f.includes('filter: topic:orders'));
    await app.press('g', ...'41', KEYS.enter);
    await app.waitFor((f) => cursorPosition(f) === 41);
    await app.press(KEYS.enter, 'c');
    await app.waitFor((f) => f.includes('trace of correlation id corr-41') && cursorPosition(f) === 41);
    await app.press(KEYS.escape);
    const frame = await app.waitFor((f) => f.includes('filter: topic:orders'));
    expect(cursorPosition(frame)).toBe(41);
  });

  it('cuts the DATA column between whole characters: no half of a surrogate pair', async () => {
    // At 100 columns the DATA column is 24 wide: the first emoji straddles its edge.
    const fake = createFakeData({ events: [makeEvent(1, { data: { x: `${'a'.repeat(17)}😀😀` } })] });
    app = await renderInspector(fake.data);
    const frame = await app.waitFor((f) => cursorPosition(f) === 1);
    const row = lineWith(frame, '{"x":') ?? '';
    expect(row).toContain(`{"x":"${'a'.repeat(17)}`);
    expect(row).not.toMatch(/[\ud800-\udfff]|\ufffd/u);
  });

  it('shows every wide character of an event in its detail pane', async () => {
    const fake = createFakeData({ events: [makeEvent(1, { data: { x: '世'.repeat(150) } })] });
    app = await renderInspector(fake.data);
    await app.waitFor((f) => cursorPosition(f) === 1);
    await app.press(KEYS.enter);
    const frame = await app.waitFor((f) => f.includes('event 1 · OrderPlaced'));
    expect([...frame].filter((char) => char === '世')).toHaveLength(150);
    expect(frame).not.toContain('世…');
  });

  it('follows new events live with f', async () => {
    const fake = createFakeData({ events: shopEvents() });
    app = await renderInspector(fake.data);
    await app.waitFor((f) => cursorPosition(f) === 200);
    await app.press('k', 'k', 'f');
    await app.waitFor((f) => f.includes('following') && cursorPosition(f) === 200);
    fake.append(makeEvent(201, { type: 'OrderShipped' }), makeEvent(202, { type: 'OrderDelivered' }));
    const frame = await app.waitFor((f) => cursorPosition(f) === 202, 'the new events');
    expect(lineWith(frame, '  201  ')).toContain('OrderShipped');
    expect(frame.split('\n').at(-1)).toContain('head 202');
    // Not following: new events are read, the cursor stays.
    await app.press('f', 'k');
    await app.waitFor((f) => !f.includes('following') && cursorPosition(f) === 201);
    fake.append(makeEvent(203));
    await app.waitFor((f) => f.includes('–203 held'), 'event 203 read');
    expect(cursorPosition(app.frame())).toBe(201);
  });
});
