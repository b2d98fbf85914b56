// Assertions for scenarios: a failed one throws with what was expected.
export class ScenarioFailure extends Error {}

export function check(condition, message) {
  if (!condition) throw new ScenarioFailure(message);
}

export function equal(actual, expected, message) {
  if (actual !== expected) throw new ScenarioFailure(`${message}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

// Polls `probe` until it returns a truthy value or `ms` passes.
export async function eventually(probe, message, ms = 30000) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await probe();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new ScenarioFailure(`${message} (waited ${ms / 1000} s)`);
}
