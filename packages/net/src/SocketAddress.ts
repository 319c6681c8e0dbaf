/**
 * An IP socket address.
 * @example
 * ```ts
 * const a: InetAddress = conn.remoteAddress as InetAddress; // { family: 'IPv4', address: '127.0.0.1', port: 51234 }
 * ```
 * @public
 */
export interface InetAddress {
  /** IP version. */
  readonly family: 'IPv4' | 'IPv6';
  /** The IP address, e.g. `'127.0.0.1'` or `'::1'`. */
  readonly address: string;
  /** The port. */
  readonly port: number;
}

/**
 * A Unix domain socket address (a path in the file system).
 * @example
 * ```ts
 * const a: UnixAddress = { family: 'unix', path: '/tmp/app.sock' };
 * ```
 * @public
 */
export interface UnixAddress {
  /** Always `'unix'`. */
  readonly family: 'unix';
  /** The socket's path; empty for the client end of an accepted connection. */
  readonly path: string;
}

/**
 * The local or remote address of a stream or listener.
 * @example
 * ```ts
 * const a = listener.address;
 * console.log(a.family === 'unix' ? a.path : `${a.address}:${a.port}`);
 * ```
 * @public
 */
export type SocketAddress = InetAddress | UnixAddress;
