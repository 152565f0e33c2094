/** Refcount with refcount_t semantics: every misuse is a finding, counts never wrap. */
import { describe, expect, it } from 'vitest';
import { kDefaultCapacities } from '../../src/layout.js';
import { Barrier } from '../../src/primitives/barrier.js';
import { Refcount, kRefSaturated } from '../../src/primitives/refcount.js';
import { freshMemory } from '../helpers/memory.js';
import { runOnThreads } from '../helpers/threads.js';

function setup() {
  const { memory, strings, log } = freshMemory();
  return { memory, strings, log, ref: new Refcount(memory, 0, 0, log, strings) };
}

describe('Refcount', () => {
  it('inc on zero is an inc-on-zero finding and saturates', () => {
    const { ref, log, strings } = setup();
    ref.inc('vfio-ap driver', 'vfio_ap_mdev_set_kvm');
    expect(ref.read()).toBe(kRefSaturated);
    const [record] = log.drain().records;
    expect(record?.kind).toBe('inc-on-zero');
    expect(strings.lookup(record?.args[1] ?? 0)).toBe('vfio-ap driver');
    expect(strings.lookup(record?.args[2] ?? 0)).toBe('vfio_ap_mdev_set_kvm');
  });

  it('incNotZero fails on zero and succeeds otherwise', () => {
    const { ref, log } = setup();
    expect(ref.incNotZero('core', 'kvm_get_kvm_safe')).toBe(false);
    expect(ref.read()).toBe(0);
    ref.reset(1, 'VM fd', 'kvm_create_vm');
    expect(ref.incNotZero('core', 'kvm_get_kvm_safe')).toBe(true);
    expect(ref.read()).toBe(2);
    expect(log.drain().records).toEqual([]);
  });

  it('decAndTest is true exactly at the last put', () => {
    const { ref } = setup();
    ref.reset(2, 'VM fd', 'create');
    expect(ref.decAndTest('VM fd', 'put')).toBe(false);
    expect(ref.decAndTest('VM fd', 'put')).toBe(true);
    expect(ref.read()).toBe(0);
  });

  it('a put at zero is a refcount-underflow finding and saturates, and saturation sticks', () => {
    const { ref, log } = setup();
    expect(ref.decAndTest('core', 'vfio_device_put_kvm')).toBe(false);
    expect(ref.read()).toBe(kRefSaturated);
    expect(log.drain().records.map((r) => r.kind)).toEqual(['refcount-underflow']);
    ref.inc('x', 'y');
    expect(ref.decAndTest('x', 'y')).toBe(false);
    expect(ref.read()).toBe(kRefSaturated);
    expect(log.drain().records).toEqual([]);
  });

  it('the ledger shows each holder\'s net references and its last get site', () => {
    const { ref, strings } = setup();
    ref.reset(1, 'VM fd', 'kvm_create_vm');
    ref.inc('vfio core', 'vfio_device_group_open');
    ref.inc('vfio core', 'vfio_device_group_open_again');
    ref.decAndTest('vfio core', 'vfio_device_put_kvm');
    const rows = ref.ledger().map((r) => ({ holder: strings.lookup(r.tag), net: r.net, site: strings.lookup(r.lastGetSite) }));
    expect(rows).toEqual([
      { holder: 'VM fd', net: 1, site: 'kvm_create_vm' },
      { holder: 'vfio core', net: 1, site: 'vfio_device_group_open_again' },
    ]);
  });

  it('4 threads racing inc and decAndTest keep the count exact', async () => {
    const { memory, log } = freshMemory();
    const ref = new Refcount(memory, 0, 0, log, null);
    ref.reset(1);
    new Barrier(memory).reset(4);
    const results = await runOnThreads(
      Array.from({ length: 4 }, (_, thread) => ({
        buffer: memory.buffer,
        capacities: kDefaultCapacities,
        thread,
        job: { mode: 'refcount-race' as const, iterations: 100_000 },
      })),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    expect(ref.read()).toBe(1);
    expect(log.drain().records).toEqual([]);
  });
});
