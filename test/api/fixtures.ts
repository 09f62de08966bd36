/** A zone with two services: www (two members, no checks) and sticky (persistence). */
export const ZONE = `
zones:
  - origin: example.org
    ttl: 3600
    records: |
      @    IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @    IN NS  ns1
      ns1  IN A   192.0.2.53
services:
  - name: www.example.org
    ttl: 30
    answers: 2
    pools:
      - name: web
        members:
          - { name: a, address: 192.0.2.1 }
          - { name: b, address: 192.0.2.2 }
  - name: sticky.example.org
    ttl: 30
    policies: [up, admin, round-robin, { policy: persistence, ttl: 600 }]
    pools:
      - name: main
        members:
          - { name: x, address: 192.0.2.11 }
          - { name: y, address: 192.0.2.12 }
`;

/** Site A of seed 003 (distributedSites:) with one peer, B, that never answers (port 9). */
export const SITE_A = `
workers: 1
api: { listen: 127.0.0.1:0, tokenFile: tokens }
zones:
  - origin: example.org
    ttl: 3600
    records: |
      @    IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @    IN NS  ns1
      ns1  IN A   192.0.2.53
services:
  - name: www.example.org
    ttl: 30
    answers: 1
    pools:
      - name: sites
        members:
          - { name: A, address: 192.0.2.1, site: A }
          - { name: B, address: 192.0.2.2, site: B }
    policies: [up, admin, { policy: handoff, weights: [4, 2, 1, 0] }]
distributedSites:
  site: A
  names: [www.example.org]
  listen: 127.0.0.1:0
  keyFile: dssp.key
  weights: [4, 2, 1, 0]
  peers:
    - { name: B, address: '127.0.0.1:9' }
`;

/** The DSSP key file SITE_A names. */
export const SITE_KEY = '80732193649abccb7770e591f27feca8aba73fc70d6cabb71a24cae9453366f6\n';
