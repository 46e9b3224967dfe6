import { afterEach, describe, expect, it } from 'vitest';
import type { ProjectionStatusView } from '../../projections/index.js';
import type { StoredSchema } from '../../store/types.js';
import { createFakeData, makeEvent, T0 } from '../testing/fake-inspector-data.js';
import { KEYS, lineWith, type RenderedInspector, renderInspector } from '../testing/render-inspector.js';

const events = Array.from({ length: 1000 }, (_, i) => makeEvent(i + 1));

function projection(name: string, fields: Partial<ProjectionStatusView> = {}): ProjectionStatusView {
  return {
    name,
    version: 1,
    storedVersion: 1,
    status: 'idle',
    checkpoint: 1000,
    head: 1000,
    lag: 0,
    keys: 12,
    lastError: null,
    rebuild: null,
    parked: 0,
    ...fields,
  };
}

function schema(type: string, version: number, document: object): StoredSchema {
  return { type, version, documentJson: JSON.stringify(document), registeredAt: T0 + version * 60_000 };
}

let app: RenderedInspector | undefined;
afterEach(() => app?.unmount());

describe('the projections view', () => {
  const projections = () => [
    projection('order-status'),
    projection('order-totals', {
      status: 'failed',
      checkpoint: 640,
      lag: 360,
      lastError: { message: 'Cannot read properties of undefined (reading "id")', position: 641 },
    }),
    projection('stock', { status: 'stale', version: 2, storedVersion: 1 }),
  ];

  it('lists name, version, status, checkpoint, lag, keys and the last error', async () => {
    const fake = createFakeData({ events, projections: projections() });
    app = await renderInspector(fake.data, { view: 'projections' });
    const frame = await app.waitFor((f) => f.includes('order-totals'));
    expect(frame).toContain('3 projections');
    expect(lineWith(frame, 'order-totals')).toMatch(/order-totals\s+1\s+failed\s+640\s+360\s+12\s+at 641: Cannot read/);
    expect(lineWith(frame, 'stock')).toMatch(/stock\s+2\s+stale/);
  });

  it('reads the lag again when another process commits', async () => {
    const fake = createFakeData({ events, projections: [projection('order-status')] });
    app = await renderInspector(fake.data, { view: 'projections' });
    await app.waitFor((f) => /order-status\s+1\s+idle\s+1,000\s+0/.test(f));
    (fake.projections[0] as ProjectionStatusView).lag = 5;
    fake.append(makeEvent(1001), makeEvent(1002), makeEvent(1003), makeEvent(1004), makeEvent(1005));
    await app.waitFor((f) => /order-status\s+1\s+idle\s+1,000\s+5/.test(f), 'the new lag');
  });

  it('opens the full last error with Enter', async () => {
    const fake = createFakeData({ events, projections: projections() });
    app = await renderInspector(fake.data, { view: 'projections' });
    await app.waitFor((f) => f.includes('order-totals'));
    await app.press('j', KEYS.enter);
    const frame = await app.waitFor((f) => f.includes('projection order-totals'));
    expect(frame).toContain('at position 641:');
    expect(frame).toContain('Cannot read properties of undefined (reading "id")');
    await app.press(KEYS.escape);
    await app.waitFor((f) => f.includes('3 projections'));
  });

  it('rebuilds the projection under the cursor with R, with a progress bar, then says what it did', async () => {
    const fake = createFakeData({ events, projections: projections() });
    const release = fake.holdRebuilds();
    app = await renderInspector(fake.data, { view: 'projections' });
    await app.waitFor((f) => f.includes('order-totals'));
    await app.press('j', 'R');
    const frame = await app.waitFor((f) => f.includes('rebuilding order-totals'));
    expect(lineWith(frame, 'rebuilding order-totals')).toMatch(/\[█+░+\]\s+50%\s+500 \/ 1,000/);
    expect(fake.calls.rebuild).toEqual(['order-totals']);
    // One at a time.
    await app.press('R');
    await app.waitFor((f) => f.includes('order-totals is being rebuilt: one rebuild at a time'));
    release();
    await app.waitFor((f) => f.includes('rebuilt order-totals: 1,000 events folded, checkpoint 1,000'));
    expect(app.frame()).not.toContain('rebuilding order-totals');
  });

  it('shows a failing rebuild as an error', async () => {
    const fake = createFakeData({ events, projections: projections() });
    fake.failures.set('rebuildProjection', 'the reducer threw at position 12');
    app = await renderInspector(fake.data, { view: 'projections' });
    await app.waitFor((f) => f.includes('order-status'));
    await app.press('R');
    await app.waitFor((f) => f.includes('rebuild of order-status failed: the reducer threw at position 12'));
    await app.press('j');
    await app.waitFor((f) => lineWith(f, 'order-totals')?.startsWith('›') === true, 'the view still moving');
  });

  it('keeps the full error of a failed rebuild and shows it in the projection detail', async () => {
    const fake = createFakeData({ events, projections: projections() });
    const error = `the reducer threw at position 12: ${'x'.repeat(120)} END\n  at fold (reducers/status.mjs:7)`;
    fake.failures.set('rebuildProjection', error);
    app = await renderInspector(fake.data, { view: 'projections' });
    await app.waitFor((f) => f.includes('order-status'));
    await app.press('R');
    await app.waitFor((f) => f.includes('rebuild of order-status failed'));
    await app.press(KEYS.enter);
    const frame = await app.waitFor((f) => f.includes('projection order-status'));
    expect(frame).toContain('last rebuild (R) failed');
    expect(frame.replace(/\s+/g, '')).toContain(`${'x'.repeat(120)}END`);
    expect(frame).toContain('at fold (reducers/status.mjs:7)');
  });

  it('does not rebuild when read-only', async () => {
    const fake = createFakeData({ events, projections: projections() });
    app = await renderInspector(fake.data, { view: 'projections', readonly: true });
    const frame = await app.waitFor((f) => f.includes('order-status'));
    expect(frame.split('\n').at(-1)).not.toContain('R rebuild');
    await app.press('R');
    await app.waitFor((f) => f.includes('read-only: rebuilding is off'));
    expect(fake.calls.rebuild).toEqual([]);
  });
});

describe('the consumers view', () => {
  const groups = [
    {
      name: 'mailer',
      topic: 'orders',
      checkpoint: 990,
      leaseOwner: 'host-a:4242',
      leaseExpiresAt: T0 + 4_000_000,
      handlerJson: '{}',
      createdAt: T0,
      updatedAt: T0,
      lag: 10,
      parked: 3,
    },
    {
      name: 'ledger',
      topic: 'payments',
      checkpoint: 1000,
      leaseOwner: null,
      leaseExpiresAt: null,
      handlerJson: '{}',
      createdAt: T0,
      updatedAt: T0,
      lag: 0,
      parked: 0,
    },
  ];

  it('lists groups with topic, checkpoint, lag, parked entries and who holds the lease', async () => {
    const fake = createFakeData({ events, groups });
    app = await renderInspector(fake.data, { view: 'consumers' });
    const frame = await app.waitFor((f) => f.includes('mailer'));
    expect(lineWith(frame, 'mailer')).toMatch(/mailer\s+orders\s+990\s+10\s+3\s+held by host-a:4242/);
    expect(lineWith(frame, 'ledger')).toMatch(/ledger\s+payments\s+1,000\s+0\s+0\s+idle 1h/);
  });

  it("shows a group's dead letters with Enter", async () => {
    const fake = createFakeData({ events, groups });
    app = await renderInspector(fake.data, { view: 'consumers' });
    await app.waitFor((f) => f.includes('mailer'));
    await app.press(KEYS.enter);
    await app.waitFor((f) => f.includes('filter: group:mailer'), 'the dead letters of mailer');
  });
});

describe('the schemas view', () => {
  const v1 = {
    type: 'object',
    additionalProperties: false,
    required: ['orderId', 'total'],
    properties: { orderId: { type: 'string' }, total: { type: 'number' } },
  };
  const v2 = { ...v1, properties: { ...v1.properties, channel: { type: 'string' } } };
  const v3 = { ...v2, properties: { ...v2.properties, total: { type: 'string' } } };
  const schemas = [
    schema('OrderPlaced', 1, v1),
    schema('OrderPlaced', 2, v2),
    schema('OrderPlaced', 3, v3),
    schema('PaymentFailed', 1, { type: 'object' }),
  ];

  it('lists types with their versions and compatibility mode', async () => {
    const fake = createFakeData({ events, schemas, compat: { PaymentFailed: 'full-transitive' } });
    app = await renderInspector(fake.data, { view: 'schemas' });
    const frame = await app.waitFor((f) => f.includes('OrderPlaced'));
    expect(lineWith(frame, 'OrderPlaced')).toMatch(/OrderPlaced\s+3\s+1, 2, 3\s+backward/);
    expect(lineWith(frame, 'PaymentFailed')).toMatch(/PaymentFailed\s+1\s+1\s+full-transitive/);
  });

  it('shows the difference between two versions, earlier ones with ←', async () => {
    const fake = createFakeData({ events, schemas });
    app = await renderInspector(fake.data, { view: 'schemas', rows: 40 });
    await app.waitFor((f) => f.includes('OrderPlaced'));
    await app.press(KEYS.enter);
    let frame = await app.waitFor((f) => f.includes('schema OrderPlaced v2 → v3'));
    expect(frame).toContain('backward: breaks, v3 cannot read all data written with v2:');
    expect(frame).toContain('property "total": type changed from "number" to "string"');
    expect(frame).toContain('-       "type": "number"');
    expect(frame).toContain('+       "type": "string"');
    await app.press(KEYS.left);
    frame = await app.waitFor((f) => f.includes('schema OrderPlaced v1 → v2'));
    expect(frame).toContain('backward: ok, v2 reads data written with v1');
    expect(frame).toContain('forward:  breaks');
    expect(frame).toContain('+     "channel": {');
    await app.press(KEYS.left);
    await app.waitFor((f) => f.includes('v1 is the first version: nothing to compare'));
    await app.press(KEYS.right, KEYS.right);
    await app.waitFor((f) => f.includes('schema OrderPlaced v2 → v3'));
    await app.press(KEYS.escape);
    await app.waitFor((f) => f.includes('event types with schemas'));
  });

  it('shows the document raw with p', async () => {
    const fake = createFakeData({ events, schemas });
    app = await renderInspector(fake.data, { view: 'schemas', rows: 60 });
    await app.waitFor((f) => f.includes('PaymentFailed'));
    await app.press('j', KEYS.enter);
    await app.waitFor((f) => f.includes('"type": "object"'));
    await app.press('p');
    await app.waitFor((f) => f.includes('(raw)') && f.includes('{"type":"object"}'));
  });
});
