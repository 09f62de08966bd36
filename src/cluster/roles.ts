import type { Logger } from '../observability/log.js';
import { formatServiceAddress, type AddressHolder, type ServiceAddress } from './address.js';
import { runHooks, type HookOutcome, type RoleHooks } from './hooks.js';
import type { Role } from './role.js';

export type { Role } from './role.js';

/** What a node's role follows from. */
export interface RoleInputs {
  /** This node's epoch while it is the elected master; undefined otherwise. */
  readonly masterEpoch: number | undefined;
  /** The epoch of the master the node follows; 0 while it knows of none. */
  readonly followedEpoch: number;
  /**
   * The etcd session renews in time (false from its at-risk point on); undefined before
   * its first lease.
   */
  readonly sessionOk: boolean | undefined;
  /** The node's own checks: undefined before the first round. */
  readonly checksOk: boolean | undefined;
  /** A hook failed recently (the node stays inop for a hold time). */
  readonly hookFailed: boolean;
  readonly stopping: boolean;
}

/** The role the inputs call for, with the reason logged and given to hooks. */
export function roleFor(inputs: RoleInputs): { role: Role; reason: string } {
  if (inputs.stopping) return { role: 'inop', reason: 'stopping' };
  if (inputs.hookFailed) return { role: 'inop', reason: 'a hook failed' };
  if (inputs.checksOk === false) return { role: 'inop', reason: 'own checks fail' };
  if (inputs.sessionOk === false) return { role: 'inop', reason: 'etcd session not renewed' };
  if (inputs.sessionOk === undefined) return { role: 'initial', reason: 'joining etcd' };
  if (inputs.checksOk === undefined) return { role: 'initial', reason: 'checks pending' };
  if (inputs.masterEpoch !== undefined) return { role: 'active', reason: 'elected master' };
  if (inputs.followedEpoch === 0) return { role: 'initial', reason: 'no master known yet' };
  return { role: 'standby', reason: 'another node is master' };
}

/** Options of a {@link RoleKeeper}. */
export interface RoleKeeperOptions {
  readonly node: string;
  readonly addresses: readonly ServiceAddress[];
  readonly holder: AddressHolder;
  readonly hooks: RoleHooks;
  readonly hookTimeoutMs: number;
  readonly log: Logger;
  /** Told when a transition has finished (hooks run), and when a hook fails. */
  readonly onChange?: (role: Role, epoch: number) => void;
  readonly onHookFailure?: (outcome: HookOutcome) => void;
}

interface Target {
  readonly role: Role;
  readonly epoch: number;
  readonly reason: string;
}

/**
 * Carries out role changes one at a time, in order, latest wish first: a node asked to go
 * active, then standby, while its active hook runs, goes straight to standby after it.
 * Entering `active` adds the addresses and then runs the hooks; leaving it deletes them
 * first. {@link release} deletes the addresses at once, whatever is running: the cluster
 * calls it when its lease is at risk, so that the address is gone before another node can be
 * elected.
 */
export class RoleKeeper {
  private current: Role = 'initial';
  private epoch = 0;
  private target: Target | undefined;
  private running: Promise<void> | undefined;
  private held = false;

  private readonly options: RoleKeeperOptions;

  constructor(options: RoleKeeperOptions) {
    this.options = options;
  }

  /** The role the last finished transition reached. */
  get role(): Role {
    return this.current;
  }

  /** Whether this node holds (or is adding) the service addresses. */
  get holding(): boolean {
    return this.held;
  }

  /** Asks for `role`; resolves when the node has reached it or a later wish replaced it. */
  set(role: Role, epoch: number, reason: string): Promise<void> {
    if (this.target === undefined && role === this.current && epoch === this.epoch) {
      return this.running ?? Promise.resolve();
    }
    this.target = { role, epoch, reason };
    this.running ??= this.drive().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /**
   * Deletes the service addresses (a node that starts holds nothing: a previous run killed
   * with SIGKILL may have left them), then runs the `initial` hooks.
   */
  async start(): Promise<void> {
    await this.removeAddresses();
    await this.runHooksFor({ role: 'initial', epoch: 0, reason: 'starting' }, 'initial');
  }

  /** Deletes the service addresses now (lease at risk); the role change follows in order. */
  async release(reason: string): Promise<void> {
    if (!this.held) return;
    this.held = false;
    this.options.log.warn({ reason }, 'deleting the service addresses');
    await this.removeAddresses();
  }

  private async drive(): Promise<void> {
    while (this.target !== undefined) {
      const next = this.target;
      this.target = undefined;
      if (next.role === this.current && next.epoch === this.epoch) continue;
      if (next.role === this.current) {
        // A new epoch in the same role (another master elected, or this node elected again
        // while it held the role): nothing to add, delete or run.
        this.epoch = next.epoch;
        this.options.onChange?.(next.role, next.epoch);
        continue;
      }
      await this.transition(next);
    }
  }

  private async transition(next: Target): Promise<void> {
    const from = this.current;
    if (next.role === 'active') {
      if (!(await this.addAddresses())) {
        this.current = 'inop';
        this.options.onChange?.('inop', next.epoch);
        return;
      }
    } else if (this.held) {
      this.held = false;
      await this.removeAddresses();
    }
    this.current = next.role;
    this.epoch = next.epoch;
    this.options.log.info(
      { role: next.role, from, epoch: next.epoch, reason: next.reason },
      `role ${from} -> ${next.role}`,
    );
    this.options.onChange?.(next.role, next.epoch);
    await this.runHooksFor(next, from);
  }

  private async addAddresses(): Promise<boolean> {
    this.held = true;
    try {
      await this.options.holder.add(this.options.addresses);
    } catch (error) {
      this.options.log.error({ err: error }, 'cannot add the service addresses; going inop');
      this.held = false;
      await this.removeAddresses();
      return false;
    }
    // A release while adding wins: the address must not stay. (`holding` reads the field
    // again: the await above may have changed it.)
    if (!this.holding) await this.removeAddresses();
    return this.holding;
  }

  private async removeAddresses(): Promise<void> {
    try {
      await this.options.holder.remove(this.options.addresses);
    } catch (error) {
      this.options.log.error({ err: error }, 'cannot delete the service addresses');
    }
  }

  private async runHooksFor(next: Target, from: Role): Promise<void> {
    const outcomes = await runHooks(
      this.options.hooks,
      {
        node: this.options.node,
        from,
        to: next.role,
        epoch: next.epoch,
        addresses: this.options.addresses.map((a) => `${a.address}/${a.prefixLength}`).join(' '),
        reason: next.reason,
      },
      this.options.hookTimeoutMs,
    );
    for (const outcome of outcomes) {
      const fields = { hook: outcome.script, role: next.role, ms: outcome.durationMs };
      if (outcome.failure === undefined) {
        this.options.log.info(fields, 'hook ran');
      } else {
        this.options.log.error(
          { ...fields, failure: outcome.failure, output: outcome.output.slice(-1024) },
          'hook failed',
        );
        this.options.onHookFailure?.(outcome);
      }
    }
  }
}

/** The addresses as written in logs. */
export const describeAddresses = (addresses: readonly ServiceAddress[]): string =>
  addresses.map(formatServiceAddress).join(', ');
