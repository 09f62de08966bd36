import type { LbSettings } from './settings.js';

/** The paths of one conntrackd instance. */
export interface ConntrackdPaths {
  readonly config: string;
  readonly lock: string;
  readonly socket: string;
  readonly log: string;
}

/**
 * conntrackd's configuration: FTFW (reliable) sync with the peer over UDP, the external
 * cache disabled so that the peer's flows go straight into this kernel's table (with their
 * marks, which carry the server each flow goes to), so a standby forwards them the moment it
 * gets the floating address. Only flows to the cluster address are synced; the filter runs
 * in user space (kernel-space event filtering dropped every event on this kernel: measured).
 */
export function conntrackdConfig(
  settings: LbSettings,
  sync: NonNullable<LbSettings['sync']>,
  paths: ConntrackdPaths,
): string {
  return `# Written by steerdns lb; every start rewrites it.
Sync {
    Mode FTFW {
        DisableExternalCache On
    }
    UDP {
        IPv4_address ${sync.address}
        IPv4_Destination_Address ${sync.peer}
        Port ${sync.port}
        Interface ${settings.interface}
        Checksum on
    }
}
General {
    HashSize 32768
    HashLimit 262144
    LogFile ${paths.log}
    Syslog off
    LockFile ${paths.lock}
    UNIX {
        Path ${paths.socket}
    }
    NetlinkBufferSize 2097152
    NetlinkBufferSizeMaxGrowth 8388608
    Filter From Userspace {
        Protocol Accept {
            TCP
        }
        Address Accept {
            IPv4_address ${settings.clusterAddress}
        }
    }
}
`;
}

/** conntrackd's argv: it stays in the foreground without -d. */
export const conntrackdArgv = (config: string): string[] => ['conntrackd', '-C', config];
