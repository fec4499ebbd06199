/**
 * Timing harness for the benchmark: interleaved rounds, median ns per evaluation. Each round
 * starts after a young-generation garbage collection, so the previous engine's garbage is not
 * collected on the next engine's clock (each still pays for the garbage it makes itself).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as (options?: { type: 'minor' | 'major' }) => void;
/** A young-generation collection: clears the previous contender's fresh garbage without resizing the heap. */
const collect = (): void => gc({ type: 'minor' });

/** One contender in a scenario: a batch function and how many evaluations one call performs. */
export interface Contender {
  /** Display name. */
  readonly name: string;
  /** Runs a batch of evaluations and returns a checksum (kept so the work cannot be elided). */
  readonly batch: () => number;
  /** Evaluations per `batch()` call. */
  readonly evaluationsPerBatch: number;
}

/** Median ns/evaluation of each contender, in input order. */
export interface Measurement {
  /** Contender name. */
  readonly name: string;
  /** Median nanoseconds per evaluation over the rounds. */
  readonly nsPerEval: number;
  /** Evaluations per second at the median. */
  readonly evalsPerSecond: number;
}

let sink = 0;

/** The accumulated checksum (printed so no engine can optimise the work away). */
export function checksum(): number {
  return sink;
}

function timeBatches(c: Contender, batches: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < batches; i++) sink = (sink + c.batch()) | 0;
  return Number(process.hrtime.bigint() - start);
}

/**
 * Measures contenders in interleaved rounds (the order rotates each round).
 * @param contenders - what to time
 * @param rounds - number of rounds
 * @param roundMs - target duration of one contender's round
 * @returns the medians
 */
export function measure(contenders: readonly Contender[], rounds = 9, roundMs = 100): Measurement[] {
  // Warm up and calibrate: batches per round so that a round lasts about roundMs.
  const batchesPerRound = contenders.map((c) => {
    let batches = 1;
    let elapsed = 0;
    while ((elapsed = timeBatches(c, batches)) < 30e6) batches *= 2;
    timeBatches(c, batches); // more warm-up
    return Math.max(1, Math.round((batches * roundMs * 1e6) / elapsed));
  });
  const samples: number[][] = contenders.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let j = 0; j < contenders.length; j++) {
      const i = (j + r) % contenders.length;
      const c = contenders[i]!;
      collect();
      const ns = timeBatches(c, batchesPerRound[i]!);
      samples[i]!.push(ns / (batchesPerRound[i]! * c.evaluationsPerBatch));
    }
  }
  return contenders.map((c, i) => {
    const sorted = samples[i]!.slice().sort((a, b) => a - b);
    const nsPerEval = sorted[Math.floor(sorted.length / 2)]!;
    return { name: c.name, nsPerEval, evalsPerSecond: 1e9 / nsPerEval };
  });
}
