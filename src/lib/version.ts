/** The steerdns version (package.json's): `steerdns --version` and `steerdns_build_info`. */
export const STEERDNS_VERSION = '0.1.0';
