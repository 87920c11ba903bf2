/** Every scenario `npm run sim` knows, by name. */
import type { Scenario } from '../scenario.ts';
import { bootstrapLoad } from './bootstrap-load.ts';
import { dhtLookups } from './dht-lookups.ts';
import { itemSurvival } from './item-survival.ts';
import { sybil } from './sybil.ts';

export const SCENARIOS: ReadonlyMap<string, Scenario> = new Map([
  [dhtLookups.name, dhtLookups],
  [bootstrapLoad.name, bootstrapLoad],
  [itemSurvival.name, itemSurvival],
  [sybil.name, sybil],
]);
