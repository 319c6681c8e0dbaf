/**
 * TCP, UDP and Unix domain sockets for Rioco fibers, in blocking style
 * (`yield* listener.accept()`, `yield* conn.read()`, `yield* conn.write(bytes)`), with
 * timeouts and cancellation on every blocking call, backpressure in both directions, and
 * sockets that close when the fiber that opened them ends. Built on node:net and node:dgram.
 *
 * @packageDocumentation
 */
export { connect, type StreamOptions, type TcpConnectOptions, type UnixConnectOptions } from './connect.js';
export { listen, Listener, type ServeOptions, type TcpListenOptions, type UnixListenOptions } from './Listener.js';
export { Stream, type ReadLineOptions } from './Stream.js';
export { bindUdp, UdpSocket, type Datagram, type UdpTarget, type UdpBindOptions } from './UdpSocket.js';
export type { SocketAddress, InetAddress, UnixAddress } from './SocketAddress.js';
export type { WaitOptions } from './WaitOptions.js';
export {
  NetError,
  ConnectionResetError,
  BrokenPipeError,
  ConnectionRefusedError,
  AddressInUseError,
  TooManyOpenFilesError,
  TimeoutError,
  AbortedError,
  SocketClosedError,
  UnexpectedEofError,
  LineTooLongError,
  ReadInProgressError,
  UnsupportedError,
  type NetErrorCode,
} from './errors.js';
