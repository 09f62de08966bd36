/**
 * The roles of seed 004: `initial` until the node knows where it stands, `active` while it
 * is the master and holds the service addresses, `standby` while another node is, `inop`
 * while it cannot serve as either (its own checks fail, etcd is out of reach, a hook failed,
 * or it is stopping).
 */
export type Role = 'initial' | 'active' | 'standby' | 'inop';
