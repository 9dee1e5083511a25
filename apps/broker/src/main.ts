/** Entry point of the broker: wiring only. */

// RocksDB reads and writes run on libuv's thread pool, which is sized once,
// on first use, from UV_THREADPOOL_SIZE (default 4). Group commit keeps up
// to 4 batches in flight, so with the default, reads would queue behind
// synced writes. Set it before anything touches the pool, then load the rest.
process.env.UV_THREADPOOL_SIZE ??= '12';

await import('./run-broker.js');
