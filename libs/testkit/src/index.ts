/**
 * Test tooling for integration tests that run real Braid processes: free
 * loopback ports, app processes started from source and stopped by PID,
 * and a real etcd for the coordinator's etcd metadata store.
 * Never imported by production code (enforced by lint).
 *
 * @packageDocumentation
 */
export { freePort, isPortFree } from './free-port.js';
export { startApp, waitUntilServing, waitUntilListening, AppProcess, workspaceRoot } from './app-process.js';
export type { StartAppOptions, AppExit } from './app-process.js';
export { callEveryRpc } from './call-every-rpc.js';
export type { CallEveryRpcOptions, RpcOutcome } from './call-every-rpc.js';
export { runCli } from './run-cli.js';
export type { CliResult } from './run-cli.js';
export { runProcess } from './run-process.js';
export type { ProcessResult, RunProcessOptions } from './run-process.js';
export { startLocalCluster, LocalCluster } from './local-cluster.js';
export type { LocalClusterOptions, LocalClusterPorts } from './local-cluster.js';
export { startEtcd, EtcdServer, etcdBinary } from './etcd-server.js';
export type { StartEtcdOptions } from './etcd-server.js';
export { call, failure } from './grpc-calls.js';
export { OtlpReceiver, decodeExportRequest } from './otlp-receiver.js';
export type { ReceivedSpan } from './otlp-receiver.js';
export { parsePrometheusText, samplesOf, sumOf } from './prometheus-text.js';
export type { Exposition, Sample } from './prometheus-text.js';
