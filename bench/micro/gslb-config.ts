/** The steered-name configuration the GSLB benchmarks use: a weighted pool of 8, health and persistence on. */
export const GSLB_CONFIG = `
listen: [127.0.0.1:5353]
workers: 1
zones:
  - origin: example.test
    ttl: 3600
    records: |
      @    IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @    IN NS  ns1
      ns1  IN A   192.0.2.53
      mail IN A   192.0.2.25
      api  IN A   192.0.2.80
services:
  - name: www.example.test
    ttl: 30
    pools:
      - name: web
        members:
${Array.from({ length: 8 }, (_, i) => `          - { name: m${i + 1}, address: 192.0.2.${i + 1}, weight: ${i + 1} }`).join('\n')}
    policies: [up, admin, weighted, { policy: persistence, ttl: 300 }]
`;
