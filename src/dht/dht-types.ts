/** Types the dht layer re-uses from the layers below, gathered so dht files import them from one place. */
export type { BDict, BValue, NodeInfo } from '../wire/index.ts';
export type { UdpAddress } from '../runtime/index.ts';
