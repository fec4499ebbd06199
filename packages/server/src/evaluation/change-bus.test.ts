import { describe, expect, it } from 'vitest';
import { InProcessChangeBus, type ConfigChange } from './change-bus.js';

const change: ConfigChange = { organizationId: 1, projectId: 2, environmentIds: 'all', entity: 'flag', action: 'updated', key: 'f' };

describe('InProcessChangeBus', () => {
  it('awaits every listener in subscription order before publish resolves', async () => {
    const bus = new InProcessChangeBus();
    const seen: string[] = [];
    bus.subscribe(async () => {
      await new Promise((r) => setTimeout(r, 10));
      seen.push('first');
    });
    bus.subscribe(() => {
      seen.push('second');
    });
    await bus.publish(change);
    expect(seen).toEqual(['first', 'second']);
  });

  it('reports a failing listener and still delivers to the rest; unsubscribe stops delivery', async () => {
    const errors: unknown[] = [];
    const bus = new InProcessChangeBus((e) => errors.push(e));
    const seen: ConfigChange[] = [];
    bus.subscribe(() => {
      throw new Error('boom');
    });
    const off = bus.subscribe((c) => {
      seen.push(c);
    });
    await bus.publish(change);
    expect(errors).toHaveLength(1);
    expect(seen).toEqual([change]);
    off();
    await bus.publish(change);
    expect(seen).toHaveLength(1);
  });
});
