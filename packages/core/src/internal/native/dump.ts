/**
 * The fiber dump, formatted natively from the table (native/src/dump.c), on demand or
 * on SIGQUIT.
 *
 * SIGQUIT: Node installs no handler for it unless a `process.on('SIGQUIT')` listener
 * exists, so by default the signal kills the process (exit 131, core dump). Our
 * handler only wakes the monitor thread, which formats the dump and write(2)s it to
 * stderr, so it works while this thread is stuck in `while (true) {}`. A handler
 * installed before ours (libuv's, for a JavaScript listener) is chained. Install after
 * adding any JavaScript SIGQUIT listener: libuv replaces whatever handler it finds.
 */
import { RiocoError } from '../../errors.js';
import { loadNative } from './load.js';

let installs = 0;

/**
 * Every fiber of every runtime in the process (all threads): id, name, state,
 * priority, parent, what it waits on, for how long. The same text as the SIGQUIT dump.
 * @internal
 */
export function dumpFibers(): string {
  const text = loadNative().fn.dump();
  if (text === null) throw new RiocoError('NATIVE_UNAVAILABLE', 'the native fiber dump ran out of memory');
  return text;
}

/**
 * Make SIGQUIT (`kill -QUIT <pid>`, Ctrl-\ in a terminal) write the fiber dump to
 * stderr instead of killing the process. Reference counted; undone by
 * {@link uninstallDumpSignal} or when this thread's environment ends.
 * @internal
 */
export function installDumpSignal(): void {
  const lib = loadNative();
  const rc = lib.fn.signalInstall(lib.koffi.node.env);
  if (rc !== 0) throw new RiocoError('NATIVE_UNAVAILABLE', `could not install the SIGQUIT dump handler (native status ${rc})`);
  installs++;
}

/**
 * Undo one {@link installDumpSignal} of this thread; the last one restores the previous
 * SIGQUIT disposition and lets the monitor thread stop.
 * @internal
 */
export function uninstallDumpSignal(): void {
  if (installs === 0) return;
  installs--;
  const lib = loadNative();
  lib.fn.signalUninstall(lib.koffi.node.env);
}
