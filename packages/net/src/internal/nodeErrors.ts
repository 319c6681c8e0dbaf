/**
 * Maps Node.js socket errors (`err.code === 'ECONNRESET'`, …) to the NetError subclass
 * with the stable Rioco code. Invariant: the result always keeps the system code in
 * `syscallCode` and the Node.js error as `cause`, so nothing the OS said is lost; an
 * error that is already a NetError passes through unchanged (it was mapped once).
 */
import {
  AddressInUseError,
  BrokenPipeError,
  ConnectionRefusedError,
  ConnectionResetError,
  NetError,
  TimeoutError,
  TooManyOpenFilesError,
} from '../errors.js';

/** Turn whatever Node.js raised into a NetError; `what` names the operation ("connect to 127.0.0.1:80"). */
export function mapNodeError(err: unknown, what: string): NetError {
  if (err instanceof NetError) return err;
  const e = err as NodeJS.ErrnoException | null;
  const sys = typeof e?.code === 'string' ? e.code : undefined;
  const opts = { cause: err, syscallCode: sys };
  const detail = e instanceof Error ? e.message : String(err);
  switch (sys) {
    case 'ECONNRESET':
      return new ConnectionResetError(`${what}: the peer reset the connection (ECONNRESET)`, opts);
    case 'EPIPE':
      return new BrokenPipeError(`${what}: the peer closed the connection (EPIPE); stop writing and close it`, opts);
    case 'ECONNREFUSED':
      return new ConnectionRefusedError(`${what}: connection refused (ECONNREFUSED); is anything listening there?`, opts);
    case 'ENOENT':
      if (e?.syscall === 'connect') {
        return new ConnectionRefusedError(`${what}: no socket at that path (ENOENT); is the server running?`, opts);
      }
      break;
    case 'EADDRINUSE':
      return new AddressInUseError(`${what}: the address is already in use (EADDRINUSE); pick another port or stop the other server`, opts);
    case 'EMFILE':
    case 'ENFILE':
      return new TooManyOpenFilesError(
        `${what}: out of file descriptors (${sys}); close idle connections or raise the limit (ulimit -n)`,
        opts,
      );
    case 'ETIMEDOUT':
      return new TimeoutError(`${what}: the operating system timed out (ETIMEDOUT)`, opts);
  }
  return new NetError('NET_ERROR', `${what}: ${detail}`, opts);
}
