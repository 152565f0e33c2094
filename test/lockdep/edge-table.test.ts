/**
 * The shared edge table's protocol: first writers racing for the same edges and sighters narrowing
 * their gates on real threads while the main thread polls, a sighter of an edge still being filled
 * waiting (bounded), and the reader's view of dirty gates.
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { RoundAborted } from '../../src/errors.js';
import {
  SharedEdgeTable,
  droppedEdgeCount,
  findEdge,
  publishedEdgeCount,
  readGate,
} from '../../src/lockdep/edge-table.js';
import { SharedLockOrderGraph } from '../../src/lockdep/lock-order-graph.js';
import {
  SharedMemory,
  edgeKeyOf,
  kDefaultCapacities,
  kEdgeKey,
  kEdgeReady,
  kHeaderAbort,
  kMaxEdgesLimit,
} from '../../src/layout.js';
import { Barrier } from '../../src/primitives/barrier.js';
import { StringTable } from '../../src/primitives/string-table.js';
import { compiledPath } from '../helpers/compiled.js';
import type { EdgeSighterResult, EdgeSighterTask } from './fixtures/edge-sighter.js';

const kSighter = compiledPath('test/lockdep/fixtures/edge-sighter.js');

function runSighter(task: EdgeSighterTask, timeoutMs = 60_000): { worker: Worker; result: Promise<EdgeSighterResult> } {
  const worker = new Worker(kSighter, { workerData: task });
  const result = new Promise<EdgeSighterResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`sighter ${task.thread} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    worker.once('message', (message: EdgeSighterResult) => {
      clearTimeout(timer);
      resolve(message);
    });
    worker.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
  return { worker, result };
}

describe('shared edge table', () => {
  it('4 threads claiming and narrowing the same 60,000 edges lose no narrowing, and the polling reader ends with the same gates', async () => {
    const capacities = { ...kDefaultCapacities, classes: 4096, edges: kMaxEdgesLimit };
    const memory = SharedMemory.create(capacities);
    const strings = new StringTable(memory);
    const edges: Array<[number, number]> = [];
    for (let from = 200; from < 1200; from++) for (let to = 2000; to < 2060; to++) edges.push([from, to]);
    // Every other edge is learned first by the main thread, holding 100..107: the workers must drop all
    // of it. The others are claimed by whichever worker gets there first.
    const main = new SharedEdgeTable(memory, 9, () => 0);
    const mainHeld = Int32Array.from([100, 101, 102, 103, 104, 105, 106, 107]);
    edges.forEach(([from, to], i) => {
      if (i % 2 === 0) main.sight(from, to, mainHeld, mainHeld.length, 0, '');
    });
    // Worker w holds 100..108 but for 100 + 2w and 101 + 2w: together they hold only 108 every time.
    const held = (w: number): number[] => [100, 101, 102, 103, 104, 105, 106, 107, 108].filter((c) => c !== 100 + 2 * w && c !== 101 + 2 * w);
    new Barrier(memory).reset(4);
    const graph = new SharedLockOrderGraph(memory, strings);
    const workers = [0, 1, 2, 3].map((thread) =>
      runSighter({ buffer: memory.buffer, capacities, thread, edges, held: held(thread) }),
    );
    let done = false;
    const all = Promise.all(workers.map((w) => w.result)).finally(() => {
      done = true;
    });
    // Poll while they run, as the runner does: every edge read must be whole.
    let polls = 0;
    while (!done) {
      expect(graph.poll()).toEqual([]);
      polls++;
      await new Promise((r) => setTimeout(r, 2));
    }
    try {
      expect(await all).toEqual([{ ok: true }, { ok: true }, { ok: true }, { ok: true }]);
    } finally {
      await Promise.all(workers.map((w) => w.worker.terminate()));
    }
    expect(graph.poll()).toEqual([]);
    expect(polls).toBeGreaterThan(0);
    expect(publishedEdgeCount(memory)).toBe(edges.length);
    expect(droppedEdgeCount(memory)).toBe(0);
    const wrong: string[] = [];
    edges.forEach(([from, to], i) => {
      const expected = i % 2 === 0 ? [] : [108];
      const stored = readGate(memory, findEdge(memory, from, to));
      const read = graph.graph.gateOf(from, to);
      if (JSON.stringify(stored) !== JSON.stringify(expected) || JSON.stringify(read) !== JSON.stringify(expected)) {
        wrong.push(`${from}->${to}: stored ${JSON.stringify(stored)}, read ${JSON.stringify(read)}`);
      }
    });
    expect(wrong.slice(0, 5)).toEqual([]);
    const learned = graph.graph.edges();
    expect(learned).toHaveLength(edges.length);
    expect(new Set(learned.map((e) => e.seq)).size).toBe(edges.length);
  }, 120_000);

  it('a sighter of an edge still being filled waits for it, and leaves with RoundAborted when the round is torn down', () => {
    const memory = SharedMemory.create();
    const table = new SharedEdgeTable(memory, 0, () => 0);
    // Learn the edge, then make it look claimed but not filled, as its first writer would leave it.
    table.sight(5, 6, new Int32Array([7]), 1, 0, '');
    const base = findEdge(memory, 5, 6);
    expect(Atomics.load(memory.i32, base + kEdgeKey)).toBe(edgeKeyOf(5, 6));
    Atomics.store(memory.i32, base + kEdgeReady, 0);
    Atomics.store(memory.i32, memory.layout.header + kHeaderAbort, 1);
    expect(() => table.sight(5, 6, new Int32Array(0), 0, 0, '')).toThrow(RoundAborted);
    // Not narrowed: it never read the gate.
    Atomics.store(memory.i32, base + kEdgeReady, 1);
    expect(readGate(memory, base)).toEqual([7]);
    table.sight(5, 6, new Int32Array(0), 0, 0, '');
    expect(readGate(memory, base)).toEqual([]);
  });

  it('the reader re-reads only gates marked dirty, and a narrowing after its read is seen at the next poll', () => {
    const memory = SharedMemory.create();
    const strings = new StringTable(memory);
    const table = new SharedEdgeTable(memory, 0, () => 0);
    const graph = new SharedLockOrderGraph(memory, strings);
    table.sight(1, 2, Int32Array.from([40, 41]), 2, 0, '');
    table.sight(2, 1, Int32Array.from([40]), 1, 0, '');
    expect(graph.poll()).toEqual([]);
    expect(graph.graph.gateOf(1, 2)).toEqual([40, 41]);
    table.sight(1, 2, Int32Array.from([40]), 1, 0, '');
    expect(graph.poll()).toEqual([]);
    expect(graph.graph.gateOf(1, 2)).toEqual([40]);
    table.sight(2, 1, Int32Array.from([41]), 1, 0, '');
    expect(graph.poll().map((c) => c.classes)).toEqual([[1, 2]]);
    expect(graph.poll()).toEqual([]);
  });
});
