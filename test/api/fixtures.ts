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
