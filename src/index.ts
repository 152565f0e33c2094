/**
 * The package's exports: what a scenario author imports (`import { defineScenario } from
 * 'lockstress'`), and the types of the `--json` document for tools that read it. Scenario modules
 * are imported by every worker thread, so this entry point stays light: the contract and types,
 * not the runner.
 */
export { defineScenario, scenarioProblems } from './scenarios/contract.js';
export type {
  Completion,
  CompletionDeclaration,
  Expectation,
  Irq,
  IrqContext,
  Lock,
  LockDeclaration,
  LockKindName,
  Objects,
  OpContext,
  Operation,
  Plan,
  Ref,
  RefcountDeclaration,
  Rng,
  Scenario,
  SharedObjects,
  SharedWord,
  Variant,
  WorldView,
} from './scenarios/contract.js';
export { kFindingKinds } from './finding-kinds.js';
export type { FindingKind } from './finding-kinds.js';
export type { FindingDocument, LockOrderEdgeDocument, RunVerdict, StressDocument, VariantDocument, VariantStatus } from './report/document-types.js';
export type { EventKindName, FindingTimeline, ThreadTimeline, TimelineEvent } from './event-types.js';
export type { ShardSpec } from './runner/shard.js';
