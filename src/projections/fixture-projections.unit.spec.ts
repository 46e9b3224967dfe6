import { describe, expect, it } from 'vitest';
import shopConfig from '../../fixtures/shop/evlog.config.mjs';
import type { ProjectionDefinition, ProjectionEvent } from './define-projection.js';
import { foldEvents, projectionOutput } from './fold.js';

function shopProjection(name: string): ProjectionDefinition {
  const found = shopConfig.projections.find((projection) => projection.name === name);
  if (!found) throw new Error(`no ${name} in the shop config`);
  return found as ProjectionDefinition;
}
const orderTotals = shopProjection('order-totals');
const stock = shopProjection('stock');
const orderStatus = shopProjection('order-status');

let position = 0;
function event(topic: string, key: string, type: string, data: Record<string, unknown>): ProjectionEvent {
  position++;
  return {
    position,
    id: `id-${position}`,
    topic,
    key,
    version: 1,
    type,
    schemaVersion: null,
    time: 0,
    data,
    metadata: {},
  };
}

/** given(past events).when(new events).thenState(state of every key) */
function given(definition: ProjectionDefinition, past: ProjectionEvent[]) {
  return {
    when(...events: ProjectionEvent[]) {
      return {
        thenState(expected: unknown) {
          const states = new Map<string, unknown>();
          const matching = (e: ProjectionEvent) =>
            (!definition.topics || definition.topics.includes(e.topic)) &&
            (!definition.types || definition.types.includes(e.type));
          foldEvents(definition, states, past.filter(matching));
          foldEvents(definition, states, events.filter(matching));
          expect(projectionOutput(definition, states)).toEqual(expected);
        },
      };
    },
  };
}

const placed = (orderId: string, customer: string, total: number, channel?: string) =>
  event('orders', orderId, 'OrderPlaced', {
    orderId,
    customer: { id: customer },
    total,
    ...(channel ? { channel } : {}),
  });

describe('order-totals', () => {
  it('counts a first order of a customer', () => {
    given(orderTotals, [])
      .when(placed('order-1', 'cust-1', 10.1, 'web'))
      .thenState({ 'cust-1': { orders: 1, total: 10.1, channels: { web: 1 } } });
  });

  it('adds orders per customer, rounded to cents, and keeps customers apart', () => {
    given(orderTotals, [placed('order-1', 'cust-1', 10.1, 'web'), placed('order-2', 'cust-2', 5, 'app')])
      .when(placed('order-3', 'cust-1', 0.2, 'app'))
      .thenState({
        'cust-1': { orders: 2, total: 10.3, channels: { web: 1, app: 1 } },
        'cust-2': { orders: 1, total: 5, channels: { app: 1 } },
      });
  });

  it('ignores other topics and types', () => {
    given(orderTotals, [])
      .when(
        event('payments', 'order-1', 'PaymentProcessed', { orderId: 'order-1', amount: 3 }),
        event('orders', 'order-1', 'OrderCancelled', { orderId: 'order-1' }),
      )
      .thenState({});
  });
});

describe('stock', () => {
  const replenished = (sku: string, qty: number) => event('inventory', sku, 'StockReplenished', { sku, qty });
  const reserved = (sku: string, qty: number) => event('inventory', sku, 'InventoryReserved', { sku, qty });
  const released = (sku: string, qty: number) => event('inventory', sku, 'InventoryReleased', { sku, qty });

  it('reserves from stock on hand, and a release puts it back', () => {
    given(stock, [replenished('mug', 10), reserved('mug', 3)])
      .when(released('mug', 2))
      .thenState({ mug: { onHand: 9, reserved: 1, replenished: 10 } });
  });

  it('goes negative when more is reserved than was replenished (the log is the truth)', () => {
    given(stock, [])
      .when(reserved('poster', 2))
      .thenState({ poster: { onHand: -2, reserved: 2, replenished: 0 } });
  });
});

describe('order-status', () => {
  it('follows an order from placed to delivered', () => {
    given(orderStatus, [placed('order-1', 'cust-1', 20)])
      .when(
        event('payments', 'order-1', 'PaymentFailed', { orderId: 'order-1' }),
        event('payments', 'order-1', 'PaymentProcessed', { orderId: 'order-1' }),
        event('shipping', 'order-1', 'OrderShipped', { orderId: 'order-1', carrier: 'DHL' }),
        event('shipping', 'order-1', 'OrderDelivered', { orderId: 'order-1' }),
      )
      .thenState({ 'order-1': { status: 'delivered', total: 20, paymentAttempts: 2, carrier: 'DHL' } });
  });

  it('marks a cancelled order, and ignores inventory events', () => {
    given(orderStatus, [placed('order-2', 'cust-1', 7)])
      .when(
        event('orders', 'order-2', 'OrderCancelled', { orderId: 'order-2' }),
        event('inventory', 'mug', 'InventoryReleased', { orderId: 'order-2', sku: 'mug', qty: 1 }),
      )
      .thenState({ 'order-2': { status: 'cancelled', total: 7, paymentAttempts: 0, carrier: null } });
  });
});
