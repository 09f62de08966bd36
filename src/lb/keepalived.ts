import type { Role } from '../cluster/role.js';
import type { LbSettings } from './settings.js';

/** The paths of one keepalived instance (all under the balancer's run directory). */
export interface KeepalivedPaths {
  readonly config: string;
  readonly fifo: string;
  readonly pid: string;
  readonly vrrpPid: string;
  readonly checkersPid: string;
  /** keepalived's track file: a non-zero number in it puts the instance in FAULT. */
  readonly trackFile: string;
}

/** The VRRP instance's name in keepalived's configuration and notify FIFO. */
export const INSTANCE = 'steerdns';

/**
 * keepalived's configuration: one VRRP v3 instance that holds the floating address (it adds
 * it and sends the gratuitous ARPs itself), reports its state changes on the notify FIFO,
 * re-announces it every second while master (a neighbour that followed the other node during
 * a split comes back), and goes to FAULT while steerdns writes a non-zero number to the track file (own checks
 * down, a state script failed). Both nodes start as BACKUP: the higher priority wins.
 */
export function keepalivedConfig(settings: LbSettings, paths: KeepalivedPaths): string {
  const { vrrp, floating } = settings;
  const peers =
    vrrp.peers.length === 0
      ? ''
      : `    unicast_peer {\n${vrrp.peers.map((p) => `        ${p}\n`).join('')}    }\n`;
  return `# Written by steerdns lb; every start rewrites it.
global_defs {
    router_id ${settings.node}
    notify_fifo "${paths.fifo}"
    vrrp_version 3
    vrrp_garp_master_delay 1
    vrrp_garp_master_repeat 3
    vrrp_garp_lower_prio_repeat 3
}

track_file steerdns_node {
    file "${paths.trackFile}"
    weight 0
}

vrrp_instance ${INSTANCE} {
    state BACKUP
    interface ${settings.interface}
    virtual_router_id ${vrrp.routerId}
    priority ${vrrp.priority}
    advert_int ${(vrrp.advertMs / 1000).toFixed(2)}
    # A gratuitous ARP every second while master: after a split (both master) the neighbours
    # come back to the master that stays within a second, whoever announced last.
    garp_master_refresh 1
${vrrp.preempt ? '' : '    nopreempt\n'}${peers}    virtual_ipaddress {
        ${floating.address}/${floating.prefixLength} dev ${settings.interface}
    }
    track_file {
        steerdns_node
    }
}
`;
}

/** keepalived's argv: foreground, VRRP only, its own files (two instances on one host). */
export function keepalivedArgv(paths: KeepalivedPaths): string[] {
  return [
    'keepalived',
    '--dont-fork',
    '--log-console',
    '--vrrp',
    '--use-file',
    paths.config,
    '--pid',
    paths.pid,
    '--vrrp_pid',
    paths.vrrpPid,
    '--checkers_pid',
    paths.checkersPid,
  ];
}

/** A state change keepalived wrote on its notify FIFO. */
export interface VrrpState {
  readonly instance: string;
  /** MASTER, BACKUP, FAULT or STOP. */
  readonly state: string;
  readonly priority: number;
}

/** Parses one FIFO line (`INSTANCE "steerdns" MASTER 150`); undefined for other lines. */
export function parseFifoLine(line: string): VrrpState | undefined {
  const match = /^INSTANCE "([^"]+)" (MASTER|BACKUP|FAULT|STOP) (\d+)/.exec(line.trim());
  if (match === null) return undefined;
  return { instance: match[1]!, state: match[2]!, priority: Number(match[3]) };
}

/** The seed's role for a keepalived state. */
export function roleOfVrrpState(state: string): { role: Role; reason: string } {
  switch (state) {
    case 'MASTER':
      return { role: 'active', reason: 'VRRP master' };
    case 'BACKUP':
      return { role: 'standby', reason: 'VRRP backup' };
    case 'FAULT':
      return { role: 'inop', reason: 'VRRP fault (own checks down or a state script failed)' };
    default:
      return { role: 'inop', reason: 'VRRP stopped' };
  }
}
