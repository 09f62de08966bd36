/**
 * Long work in short slices. A loader written as a generator yields at points where it may
 * pause (every few dozen records, say); {@link runToEnd} runs it at once, and
 * {@link Slicer.run} pauses it whenever a slice has lasted long enough, so that the event
 * loop answers queries in between. One slicer is shared by everything one load does, so
 * slices stay short across zones and steps.
 */

/** Steps of work that end with a `T`; each `yield` is a point where the work may pause. */
export type Steps<T> = Generator<void, T, void>;

/** Runs `steps` to the end without pausing. */
export function runToEnd<T>(steps: Steps<T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
  }
}

/** Runs steps in slices of about `sliceMs`, letting the event loop run between them. */
export interface Slicer {
  run<T>(steps: Steps<T>): Promise<T>;
}

/** Lets timers and I/O (queries) run before the work goes on. */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * A slicer that pauses once `sliceMs` have passed since the last pause.
 * @param sliceMs the longest slice; the event loop then handles what came in. @default 2
 * @param now the clock, in milliseconds. @default performance.now
 */
export function slicer(sliceMs = 2, now: () => number = () => performance.now()): Slicer {
  let sliceStart = now();
  return {
    async run<T>(steps: Steps<T>): Promise<T> {
      for (;;) {
        const step = steps.next();
        if (step.done === true) return step.value;
        if (now() - sliceStart < sliceMs) continue;
        await yieldToEventLoop();
        sliceStart = now();
      }
    },
  };
}
