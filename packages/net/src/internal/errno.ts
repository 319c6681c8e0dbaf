/**
 * System errors of the native readiness path (`-errno` from @rioco/core's SocketReactor)
 * as the same NetErrors node:net errors map to: the error carries the system code in
 * `syscallCode` and, as `cause`, an Error shaped like Node's (`code`, `errno`,
 * `syscall`), so callers see one error model whichever driver ran.
 */
import { constants } from 'node:os';
import { errnoName } from '@rioco/core';
import type { NetError } from '../errors.js';
import { mapNodeError } from './nodeErrors.js';

export const EAGAIN = -constants.errno.EAGAIN;
export const EMFILE = -constants.errno.EMFILE;
export const ENFILE = -constants.errno.ENFILE;
export const ECONNABORTED = -constants.errno.ECONNABORTED;
export const ECONNREFUSED = -constants.errno.ECONNREFUSED;
export const EAFNOSUPPORT = -constants.errno.EAFNOSUPPORT;

/** The NetError for `-errno` `code` from `syscall`; `what` names the operation. */
export function errnoError(code: number, syscall: string, what: string): NetError {
  const name = errnoName(code);
  const cause = Object.assign(new Error(`${syscall} ${name}`), { code: name, errno: code, syscall });
  return mapNodeError(cause, what);
}
