/**
 * One simulated world from a seed: the event scheduler (virtual time), the Internet (latency and loss model),
 * the address pool and the DHT population on it. Every random stream is forked from the seed by name, so a
 * scenario that draws more in one part does not shift what another part sees.
 */
import { ChurnModel, SESSION_SHAPE } from './churn-model.ts';
import { DhtPopulation, type PopulationOptions } from './dht-population.ts';
import { EventScheduler } from './event-scheduler.ts';
import { Internet } from './internet.ts';
import { INTERNET_LATENCY, LatencyModel, type LatencyModelOptions } from './latency-model.ts';
import { PublicAddresses } from './public-addresses.ts';
import { SimRandom } from './sim-random.ts';

export interface WorldOptions {
  seed: string;
  latency?: LatencyModelOptions;
  libtorrentShare: number;
  nodeOptions?: PopulationOptions['nodeOptions'];
  onJoinEvent?: PopulationOptions['onJoinEvent'];
}

export class SimWorld {
  readonly random: SimRandom;
  readonly scheduler = new EventScheduler();
  readonly internet: Internet;
  /** The address pool the population draws from (other hosts of the scenario draw here too: never twice). */
  readonly addresses: PublicAddresses;
  readonly population: DhtPopulation;

  constructor(options: WorldOptions) {
    this.random = new SimRandom(options.seed);
    const latency = new LatencyModel(options.latency ?? INTERNET_LATENCY, options.seed);
    this.internet = new Internet(this.scheduler, latency, this.random.fork('internet'));
    this.addresses = new PublicAddresses(this.random.fork('addresses'));
    this.population = new DhtPopulation({
      internet: this.internet,
      addresses: this.addresses,
      random: this.random.fork('population'),
      libtorrentShare: options.libtorrentShare,
      ...(options.nodeOptions === undefined ? {} : { nodeOptions: options.nodeOptions }),
      ...(options.onJoinEvent === undefined ? {} : { onJoinEvent: options.onJoinEvent }),
    });
  }

  /**
   * One wall-clock budget (a scenario's --max-wall) for the whole run: `runFor` advances `ms` of virtual time and
   * throws when the budget or the event queue ran out first; `settle` runs the world until `work` settles, within
   * what is left of the budget.
   */
  wallBudget(maxWallMs: number): {
    runFor(ms: number): Promise<void>;
    settle<T>(work: Promise<T>): Promise<T>;
  } {
    const wallEnd = performance.now() + maxWallMs;
    const limits = (): { maxWallMs: number } => ({ maxWallMs: Math.max(0, wallEnd - performance.now()) });
    return {
      runFor: async (ms) => {
        const outcome = await this.scheduler.runFor(ms, limits());
        if (outcome !== 'time')
          throw new Error(`simulation stopped (${outcome}) at ${this.scheduler.monotonicMs()}`);
      },
      settle: (work) => this.scheduler.settle(work, limits()),
    };
  }

  /** The churn model for a level: the share of the population replaced per windowMs. */
  static churn(level: number, windowMs: number): ChurnModel {
    return new ChurnModel({ level, sessionShape: SESSION_SHAPE, windowMs });
  }
}
