/**
 * Exceptions are for misuse, bad input and bugs; findings about the protocol under test are data
 * (see `runner/findings.ts`). Each error carries a stable code.
 */
export class LockstressError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad input: an environment variable, a flag, a scenario file. The CLI prints it and exits 2. */
export class ConfigError extends LockstressError {
  constructor(message: string) {
    super('ECONFIG', message);
  }
}

/** A primitive used against its contract where no tracker can record a finding. */
export class ProtocolError extends LockstressError {
  constructor(message: string) {
    super('EPROTOCOL', message);
  }
}

/**
 * Thrown out of a wait when the round is being torn down (the abort word is set). Scenario code
 * must let it pass; the worker trampoline turns it into an `aborted` result.
 */
export class RoundAborted extends LockstressError {
  constructor() {
    super('EABORTED', 'round aborted');
  }
}

/** A wait passed its hard bound with no abort: the tool refuses to block for ever. */
export class WaitTimeout extends LockstressError {
  constructor(what: string, ms: number) {
    super('EWAITTIMEOUT', `${what}: still waiting after ${ms} ms`);
  }
}

/**
 * A fixed capacity of lockstress was passed (lock classes, held locks, edges, strings). The
 * message names the limit and the value, in one line; the CLI exits 2, as for bad input.
 */
export class LimitError extends LockstressError {
  constructor(message: string) {
    super('ELIMIT', message);
  }
}

/**
 * A mistake in scenario code found while it runs: an unknown lock, refcount, word or slot name,
 * an op that is not defined. The message names the scenario's own words and lists what exists.
 */
export class ScenarioError extends LockstressError {
  constructor(message: string) {
    super('ESCENARIO', message);
  }
}
