/** Public surface of the bootstrap layer: the DHT bootstrap server core, its persistence and stats. */
export { AMPLIFICATION_LIMIT, BootstrapServer } from './bootstrap-server.ts';
export {
  decodeNodeFile,
  encodeNodeFile,
  loadNodes,
  type NodeStore,
  nodeFileName,
  saveNodes,
} from './persistence.ts';
export type { BootstrapServerOptions, BootstrapSocket, DatagramSender } from './server-options.ts';
export {
  type BootstrapCounters,
  type BootstrapGauges,
  type BootstrapStatsSnapshot,
  COUNTER_NAMES,
  sumSnapshots,
  zeroCounters,
} from './stats.ts';
export { TimeoutScheduler } from './timeout-scheduler.ts';
