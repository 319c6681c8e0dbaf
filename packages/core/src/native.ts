import {
  dumpFibers as nativeDump,
  installDumpSignal as nativeInstall,
  uninstallDumpSignal as nativeUninstall,
} from './internal/native/index.js';

/**
 * Every fiber of every runtime in this process that keeps its table in native memory
 * (`run(body, { native: true })`), as text: id, name, state, priority, parent, what it
 * waits on and for how long. Produced by the native library from native memory.
 *
 * @example
 * ```ts
 * await run(function* () { … console.error(dumpFibers()); }, { native: true });
 * ```
 * @throws {@link RiocoError} `NATIVE_UNAVAILABLE` when the library cannot load.
 * @public
 */
export function dumpFibers(): string {
  return nativeDump();
}

/**
 * Make `SIGQUIT` (Ctrl-\\) write {@link dumpFibers} to stderr, as the JVM and Go do —
 * from the native monitor thread, so it works even while JavaScript is stuck in a loop.
 * The process keeps running. Install it once, early: a `process.on('SIGQUIT')` listener
 * added afterwards replaces it.
 *
 * @example
 * ```ts
 * installDumpSignal();
 * main(server, { native: true }); // kill -QUIT <pid> prints every fiber
 * ```
 * @public
 */
export function installDumpSignal(): void {
  nativeInstall();
}

/**
 * Undo {@link installDumpSignal}.
 * @example
 * ```ts
 * uninstallDumpSignal();
 * ```
 * @public
 */
export function uninstallDumpSignal(): void {
  nativeUninstall();
}
