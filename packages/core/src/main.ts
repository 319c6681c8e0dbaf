import type { Body } from './Operation.js';
import type { Task } from './Task.js';
import { run, type RunOptions } from './run.js';

/**
 * Run `body` as a program: SIGINT/SIGTERM cancel the root (cleanup runs, then the process
 * exits with 130/143); an error is printed and the exit code is 1. A second signal exits
 * at once.
 *
 * @example
 * ```ts
 * import { main } from '@rioco/core';
 * main(function* () { yield* serve(); });
 * ```
 * @public
 */
export function main<T>(body: Body<T>, options?: RunOptions): Task<T> {
  const task = run(body, options);
  let signalled: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (signalled !== undefined) process.exit(sig === 'SIGINT' ? 130 : 143);
    signalled = sig;
    task.cancel();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  task.then(
    () => {
      cleanup();
      if (signalled) process.exitCode = signalled === 'SIGINT' ? 130 : 143;
    },
    (err: unknown) => {
      cleanup();
      if (signalled && (err as { code?: string })?.code === 'CANCELLED') {
        process.exitCode = signalled === 'SIGINT' ? 130 : 143;
        return;
      }
      console.error(err);
      process.exitCode = 1;
    },
  );
  function cleanup(): void {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return task;
}
