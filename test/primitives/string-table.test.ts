/** Sites and names as shared ids: every view of one buffer agrees on them. */
import { describe, expect, it } from 'vitest';
import { kHeaderStringCount } from '../../src/layout.js';
import { StringTable } from '../../src/primitives/string-table.js';
import { freshMemory } from '../helpers/memory.js';

describe('StringTable', () => {
  it('gives one id per string, stable and shared between views of one buffer', () => {
    const { memory } = freshMemory();
    const a = new StringTable(memory);
    const b = new StringTable(memory);
    const id = a.intern('vfio_device_group_open');
    expect(a.intern('vfio_device_group_open')).toBe(id);
    expect(b.intern('vfio_device_group_open')).toBe(id);
    expect(b.lookup(id)).toBe('vfio_device_group_open');
    expect(b.intern('kvm->lock')).not.toBe(id);
  });

  it('a view finds the strings other views added since, and never appends one twice', () => {
    const { memory } = freshMemory();
    const a = new StringTable(memory);
    const b = new StringTable(memory);
    const first = b.intern('first');
    const ids = ['x', 'y', 'z'].map((t) => a.intern(t));
    const before = Atomics.load(memory.i32, memory.layout.header + kHeaderStringCount);
    // b has seen only 'first': it reads a's entries, appends nothing, and gets a's ids.
    expect(['x', 'y', 'z'].map((t) => b.intern(t))).toEqual(ids);
    expect(Atomics.load(memory.i32, memory.layout.header + kHeaderStringCount)).toBe(before);
    expect(b.intern('first')).toBe(first);
    expect(new Set([first, ...ids]).size).toBe(4);
  });

  it('keeps 0 for the empty string and reads unknown ids as empty', () => {
    const { memory } = freshMemory();
    const table = new StringTable(memory);
    expect(table.intern('')).toBe(0);
    expect(table.lookup(0)).toBe('');
    expect(table.lookup(999)).toBe('');
  });

  it('round-trips non-ASCII text', () => {
    const { memory } = freshMemory();
    const table = new StringTable(memory);
    expect(new StringTable(memory).lookup(table.intern('max hold µs — D′'))).toBe('max hold µs — D′');
  });
});
