import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Reader, type CountryResponse } from 'maxmind';
import { formatAddress } from '../lib/ip.js';
import { continentOf, type Continent } from './continents.js';
import { rirOf, type Rir } from './iana-ipv4.js';

/** Where an address is, and how wide the block the answer came from (the ECS scope). */
export interface Place {
  readonly country: string | undefined;
  readonly continent: Continent | undefined;
  readonly region: Rir | undefined;
  /** Prefix length of the database block that gave `country` (0 when unknown). */
  readonly prefix: number;
}

/** Locates client addresses. Lookups are in memory; no I/O per query. */
export interface GeoLookup {
  locate(address: Uint8Array): Place;
}

interface CountryRecord {
  readonly country_code?: string;
  readonly country?: { readonly iso_code?: string };
}

const require = createRequire(import.meta.url);

/** The bundled country database: CC0 data from the npm package @ip-location-db/geo-whois-asn-country-mmdb. */
export function bundledCountryDatabase(): string {
  return require.resolve('@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb');
}

/**
 * A GeoLookup over a MaxMind-format country database (the bundled one, or any file with
 * `country_code` or GeoLite2-style `country.iso_code` records), plus the IANA /8 registry
 * map for regions. The file is read once, at load.
 */
export function openGeo(file: string = bundledCountryDatabase()): GeoLookup {
  const reader = new Reader<CountryResponse>(readFileSync(file));
  return {
    locate(address) {
      const [found, prefix] = reader.getWithPrefixLength(formatAddress(address));
      // The bundled data has flat `country_code`; GeoLite2 files have `country.iso_code`.
      const record = found as unknown as CountryRecord | null;
      const country = record?.country_code ?? record?.country?.iso_code;
      return {
        country,
        continent: country === undefined ? undefined : continentOf(country),
        region: rirOf(address),
        prefix: record ? prefix : 0,
      };
    },
  };
}
