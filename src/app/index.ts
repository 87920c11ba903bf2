/** The app layer's reusable pieces (the CLI entry is cli.ts, run by bin/dhtchat.js). */
export {
  defaultDataDir,
  ensureDataDir,
  ROUTING_TABLE_FILE,
  readDataFile,
  writeDataFileAtomic,
} from './data-dir.ts';
export { DEFAULT_BOOTSTRAP_ROUTERS } from './default-routers.ts';
export { EXIT_CODE } from './exit-codes.ts';
export {
  type HostPort,
  parseDurationMs,
  parseHex,
  parseHostPort,
  parseHostPortList,
  parseId20,
  parseNonNegativeInt,
  parsePort,
  resolveHostPorts,
} from './parse-args.ts';
