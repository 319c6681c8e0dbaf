/**
 * Address helpers: Node.js reports addresses as loose objects (and as nothing at all for
 * a socket that died before we asked); these turn them into the frozen SocketAddress
 * shapes and readable labels for error messages.
 */
import type { InetAddress, SocketAddress, UnixAddress } from '../SocketAddress.js';
import { InvalidArgumentError } from '@rioco/core';

export function inet(address: string | undefined, port: number | undefined, family: string | number | undefined): InetAddress {
  return Object.freeze({
    // Node.js 18.0-18.3 reported the family as a number.
    family: family === 'IPv6' || family === 6 ? 'IPv6' : 'IPv4',
    address: address ?? '',
    port: port ?? 0,
  });
}

export function unix(path: string): UnixAddress {
  return Object.freeze({ family: 'unix', path });
}

export function label(a: SocketAddress): string {
  if (a.family === 'unix') return `unix:${a.path}`;
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

export function checkPort(port: unknown, what: string, allowZero: boolean): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < (allowZero ? 0 : 1) || port > 65535) {
    throw new InvalidArgumentError(`${what}: port must be an integer from ${allowZero ? 0 : 1} to 65535, got ${String(port)}`);
  }
  return port;
}

export function checkHost(host: unknown, what: string): string | undefined {
  if (host === undefined) return undefined;
  if (typeof host !== 'string' || host === '') throw new InvalidArgumentError(`${what}: host must be a non-empty string`);
  return host;
}

export function checkPath(path: unknown, what: string): string {
  if (typeof path !== 'string' || path === '') throw new InvalidArgumentError(`${what}: path must be a non-empty string`);
  return path;
}
