// Workloads shared by the A/B script (pingpong.mjs) and the probes, written against any
// build of @rioco/core and @rioco/sync passed in (a snapshot, or this checkout's dist).

/** Channel ping-pong: `n` round trips between two fibers over two channels of `cap`. */
export const channelPingPong = (core, sync, cap) => (n) =>
  core.run(function* () {
    const ping = sync.channel(cap);
    const pong = sync.channel(cap);
    const echo = core.spawn(function* () {
      for (let i = 0; i < n; i++) yield* pong.send(yield* ping.recv());
    });
    for (let i = 0; i < n; i++) {
      yield* ping.send(i);
      yield* pong.recv();
    }
    yield* echo;
  });
