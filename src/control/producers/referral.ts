import type { CompiledBalancer, CompiledConfig, CompiledReferral } from '../../config/compiled.js';
import type { Logger } from '../../observability/log.js';
import { Backbone } from '../../referral/backbone.js';
import { Balancer } from '../../referral/balancer.js';
import type { Ranking, SiteEntry } from '../../referral/message.js';
import { rankingOf } from '../../referral/ranking.js';
import { MeasurementListener, type AgentMeasurement } from '../../referral/measurements.js';
import { Owner } from '../../referral/owner.js';
import { BalancerProxy, type ProxySite } from '../../referral/proxy.js';
import type { ReceiverStats } from '../../referral/receiver.js';
import { NO_REFERRAL, type ReferralLayer } from '../../referral/state.js';
import type { ControlNode, NodeSnapshot } from '../node.js';

/** The client-centric roles this process plays (seed 002), publishing into the node. */
export interface ReferralProducer {
  /** Where the map listeners are bound: the DNS-B's, the DNS-LB's (site lists). */
  bound(): {
    readonly backbone?: string;
    readonly balancer?: string;
    readonly measurements?: string;
    readonly proxy?: string;
  };
  /** Accepted and dropped map messages of each role that receives them. */
  stats(): {
    readonly backbone?: ReceiverStats;
    readonly balancer?: ReceiverStats;
    readonly measurements?: ReceiverStats;
    readonly proxy?: BalancerProxy['counts'];
  };
  stop(): Promise<void>;
}

/** The sites of the owner's service now: an address is online while a member of it is up. */
export function ownerSites(snapshot: NodeSnapshot, service: string): SiteEntry[] {
  const online = new Map<string, boolean>();
  const found = snapshot.config.services.find((s) => s.name === service);
  for (const pool of found?.pools ?? [])
    for (const member of pool.members) {
      const state = snapshot.state.member(member.key);
      const up = state.up !== false && member.admin === 'enabled' && state.admin !== 'disabled';
      for (const address of member.addresses)
        online.set(address, (online.get(address) ?? false) || up);
    }
  return [...online].map(([address, isUp]) => ({ address, online: isUp }));
}

/**
 * A DNS-LB's rankings now (the rankings variant): for each name it ranks, what its service
 * `<label>.<name>` answers its first resolver, best first.
 */
export function balancerRankings(snapshot: NodeSnapshot, balancer: CompiledBalancer): Ranking[] {
  const steered = [...snapshot.services.byKey.values()];
  const now = Date.now();
  return balancer.rank.map((name) => {
    const found = steered.find((s) => s.service.name === `${balancer.label}.${name}.`);
    const resolver = balancer.resolvers[0]!;
    return { name, sites: found ? rankingOf(found.service, snapshot.state, resolver, now) : [] };
  });
}

/**
 * The site a DNS-LB's proxy fetches `name` from now: the first its service
 * `<label>.<name>` answers its first resolver (the live decision, as the rankings), at the
 * `origins` entry of that address, else port 80 of it.
 */
export function proxySite(
  snapshot: NodeSnapshot,
  balancer: CompiledBalancer,
  name: string,
): ProxySite | undefined {
  const service = `${balancer.label}.${name}.`;
  const found = [...snapshot.services.byKey.values()].find((s) => s.service.name === service);
  if (!found) return undefined;
  const [best] = rankingOf(found.service, snapshot.state, balancer.resolvers[0]!, Date.now());
  if (best === undefined) return undefined;
  const origin = balancer.proxy?.origins[best];
  return { address: best, host: origin?.host ?? best, port: origin?.port ?? 80 };
}

/** The roles running now, and their parts of the layer. */
interface Roles {
  backbone: Backbone | undefined;
  balancer: Balancer | undefined;
  owner: Owner | undefined;
  measurements: MeasurementListener | undefined;
  proxy: BalancerProxy | undefined;
  fromBackbone: ReferralLayer;
  fromBalancer: ReferralLayer;
  measured: readonly AgentMeasurement[];
}

const sameBackbone = (a: CompiledReferral | undefined, b: CompiledReferral | undefined): boolean =>
  JSON.stringify([
    a?.key,
    a?.maxSkewMs,
    a?.backbone?.name,
    a?.backbone?.listen,
    a?.backbone?.stateFile,
    a?.backbone?.multicast,
  ]) ===
  JSON.stringify([
    b?.key,
    b?.maxSkewMs,
    b?.backbone?.name,
    b?.backbone?.listen,
    b?.backbone?.stateFile,
    b?.backbone?.multicast,
  ]);

/**
 * Runs the roles of the `referral:` section: a DNS-B's map listener and table, a DNS-LB's
 * registrations and site lists, the owner's site-list notices (sent at once when a site of
 * its service changes state). Follows reloads: a DNS-B keeps its table unless its listener,
 * key or state file changed; a DNS-LB registers again when what it registers changed.
 */
export async function startReferralProducer(
  node: ControlNode,
  log: Logger,
): Promise<ReferralProducer> {
  const roles: Roles = {
    backbone: undefined,
    balancer: undefined,
    owner: undefined,
    measurements: undefined,
    proxy: undefined,
    fromBackbone: NO_REFERRAL,
    fromBalancer: NO_REFERRAL,
    measured: [],
  };
  const publish = (): void => {
    const referral: ReferralLayer = {
      balancers: roles.fromBackbone.balancers,
      siteLists: [...roles.fromBackbone.siteLists, ...roles.fromBalancer.siteLists],
      ...(roles.measured.length > 0 ? { measurements: roles.measured } : {}),
    };
    void node.publish({ kind: 'referral', referral });
  };
  let current: CompiledReferral | undefined;
  const follow = async (config: CompiledConfig): Promise<void> => {
    const wanted = config.referral;
    const key = Buffer.from(wanted?.key ?? '', 'base64');
    const rlog = log.child({ component: 'referral' });
    if (!sameBackbone(current, wanted) || !wanted?.backbone) {
      await roles.backbone?.close();
      roles.backbone = undefined;
      roles.fromBackbone = NO_REFERRAL;
    }
    if (wanted?.backbone && !roles.backbone) {
      roles.backbone = new Backbone({
        ...wanted.backbone,
        key,
        maxSkewMs: wanted.maxSkewMs,
        log: rlog,
        publish: (layer) => {
          roles.fromBackbone = layer;
          publish();
        },
      });
      await roles.backbone.start();
    }
    await followBalancer(roles, wanted, key, rlog, publish);
    await followMeasurements(roles, current, wanted, key, rlog, publish);
    await followProxy(roles, current, wanted, node, rlog);
    if (wanted?.balancer)
      void roles.balancer?.setRankings(balancerRankings(node.snapshot(), wanted.balancer));
    roles.owner?.close();
    roles.owner = undefined;
    if (wanted?.owner) {
      roles.owner = new Owner(wanted.owner, key, rlog);
      roles.owner.start();
      void roles.owner.update(ownerSites(node.snapshot(), wanted.owner.service));
    }
    current = wanted;
  };
  await follow(node.snapshot().config);
  let following = Promise.resolve();
  const unsubscribe = node.subscribe((snapshot, change) => {
    if (change.kind === 'config') {
      const applied = following.then(() => follow(snapshot.config));
      following = applied.catch(() => undefined);
      return applied;
    }
    // Any other change may move a site's state: the owner sends only when the list moved.
    const owner = snapshot.config.referral?.owner;
    if (roles.owner && owner && change.kind !== 'referral')
      void roles.owner.update(ownerSites(snapshot, owner.service));
    // ... and a DNS-LB's ranking (a site list too: an offline site leaves it).
    const balancer = snapshot.config.referral?.balancer;
    if (roles.balancer && balancer && balancer.rank.length > 0)
      void roles.balancer.setRankings(balancerRankings(snapshot, balancer));
    return undefined;
  });
  return {
    bound: () => ({
      ...(roles.backbone?.bound() === undefined ? {} : { backbone: roles.backbone.bound()! }),
      ...(roles.balancer?.bound() === undefined ? {} : { balancer: roles.balancer.bound()! }),
      ...(roles.measurements?.bound() === undefined
        ? {}
        : { measurements: roles.measurements.bound()! }),
      ...(roles.proxy ? { proxy: roles.proxy.bound() } : {}),
    }),
    stats: () => ({
      ...(roles.backbone ? { backbone: roles.backbone.receiver.stats } : {}),
      ...(roles.balancer ? { balancer: roles.balancer.receiver.stats } : {}),
      ...(roles.measurements ? { measurements: roles.measurements.receiver.stats } : {}),
      ...(roles.proxy ? { proxy: roles.proxy.counts } : {}),
    }),
    async stop() {
      unsubscribe();
      await following;
      roles.owner?.close();
      await roles.proxy?.close();
      await roles.measurements?.close();
      await roles.balancer?.close();
      await roles.backbone?.close();
    },
  };
}

async function followBalancer(
  roles: Roles,
  wanted: CompiledReferral | undefined,
  key: Buffer,
  log: Logger,
  publish: () => void,
): Promise<void> {
  if (!wanted?.balancer) {
    await roles.balancer?.close();
    roles.balancer = undefined;
    roles.fromBalancer = NO_REFERRAL;
    return;
  }
  if (roles.balancer) {
    await roles.balancer.update(wanted.balancer);
    return;
  }
  roles.balancer = new Balancer(wanted.balancer, {
    key,
    maxSkewMs: wanted.maxSkewMs,
    log,
    publish: (layer) => {
      roles.fromBalancer = layer;
      publish();
    },
  });
  await roles.balancer.start();
}

/**
 * The measurement agents' listener: kept across a reload unless its address or the key
 * changed (then the agents' figures start over: they come again within a round).
 */
async function followMeasurements(
  roles: Roles,
  current: CompiledReferral | undefined,
  wanted: CompiledReferral | undefined,
  key: Buffer,
  log: Logger,
  publish: () => void,
): Promise<void> {
  const same =
    JSON.stringify([current?.key, current?.maxSkewMs, current?.measurements]) ===
    JSON.stringify([wanted?.key, wanted?.maxSkewMs, wanted?.measurements]);
  if (roles.measurements && same) return;
  await roles.measurements?.close();
  roles.measurements = undefined;
  roles.measured = [];
  if (wanted?.measurements) {
    roles.measurements = new MeasurementListener({
      listen: wanted.measurements.listen,
      key,
      maxSkewMs: wanted.maxSkewMs,
      log,
      publish: (agents) => {
        roles.measured = agents;
        publish();
      },
    });
    await roles.measurements.start();
  }
  publish();
}

/**
 * A DNS-LB's proxy cache: kept across a reload unless its settings changed (then it starts
 * over with an empty cache). Each miss asks the node's snapshot of that moment for the site.
 */
async function followProxy(
  roles: Roles,
  current: CompiledReferral | undefined,
  wanted: CompiledReferral | undefined,
  node: ControlNode,
  log: Logger,
): Promise<void> {
  const settings = (r: CompiledReferral | undefined) =>
    JSON.stringify([r?.balancer?.label, r?.balancer?.proxy]);
  if (roles.proxy && settings(current) === settings(wanted)) return;
  await roles.proxy?.close();
  roles.proxy = undefined;
  const proxy = wanted?.balancer?.proxy;
  if (!wanted?.balancer || !proxy) return;
  const label = wanted.balancer.label;
  roles.proxy = new BalancerProxy(
    { label, ...proxy },
    (name) => {
      const balancer = node.snapshot().config.referral?.balancer;
      return balancer && proxySite(node.snapshot(), balancer, name);
    },
    log,
  );
  await roles.proxy.start();
  log.info({ proxy: roles.proxy.bound() }, `proxy cache of ${label} listening`);
}
