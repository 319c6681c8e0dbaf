/**
 * Which driver a new socket uses: the native readiness path (@rioco/core's
 * SocketReactor: Linux with the native library) unless RIOCO_NET_DRIVER says
 * otherwise. Read at every listen()/connect(), so a test can switch it.
 *
 *   RIOCO_NET_DRIVER unset or 'auto'  native where available, else node:net
 *   RIOCO_NET_DRIVER=node             always node:net
 *   RIOCO_NET_DRIVER=native           native, or UnsupportedError where it is not available
 */
import { InvalidArgumentError, socketReactor, type SocketReactor } from '@rioco/core';
import { UnsupportedError } from '../errors.js';

export function nativeReactor(): SocketReactor | null {
  const d = process.env.RIOCO_NET_DRIVER;
  if (d === 'node') return null;
  if (d !== undefined && d !== '' && d !== 'auto' && d !== 'native') {
    throw new InvalidArgumentError(`RIOCO_NET_DRIVER must be 'node', 'native' or 'auto', got '${d}'`);
  }
  const r = socketReactor();
  if (r === null && d === 'native') {
    throw new UnsupportedError(
      'RIOCO_NET_DRIVER=native, but the native readiness path is not available here (it needs Linux and the built native library of @rioco/core)',
    );
  }
  return r;
}
