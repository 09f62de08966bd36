import { SteerdnsError } from '../lib/errors.js';

/**
 * Every error the operator interface answers, by code (docs/errors.md), with its HTTP
 * status. One table: the routes, the OpenAPI document and the docs name the same codes.
 */
export const API_ERRORS = {
  STEERDNS_ERR_API_TOKEN_MISSING: 401,
  STEERDNS_ERR_API_TOKEN_WRONG: 401,
  STEERDNS_ERR_API_WRITES_DISABLED: 403,
  STEERDNS_ERR_API_READS_DISABLED: 403,
  STEERDNS_ERR_API_BAD_REQUEST: 400,
  STEERDNS_ERR_API_NOT_FOUND: 404,
  STEERDNS_ERR_API_METHOD: 405,
  STEERDNS_ERR_API_NO_SERVICE: 404,
  STEERDNS_ERR_API_NO_MEMBER: 404,
  STEERDNS_ERR_API_NO_ENTRY: 404,
  STEERDNS_ERR_API_NOT_CLUSTERED: 404,
  STEERDNS_ERR_API_NOT_A_SITE: 404,
  STEERDNS_ERR_API_RELOAD_REJECTED: 422,
  STEERDNS_ERR_API_OVERRIDE_STORE: 503,
  STEERDNS_ERR_API_NOT_READY: 503,
  STEERDNS_ERR_API_UNAVAILABLE: 501,
  STEERDNS_ERR_INTERNAL: 500,
  // Codes of /explain, older than /api/v1: `steerdns explain --server` reads them.
  STEERDNS_ERR_EXPLAIN: 400,
  STEERDNS_ERR_EXPLAIN_UNAVAILABLE: 501,
} as const;

export type ApiErrorCode = keyof typeof API_ERRORS;

/** An answer that is an error: `{ "error": { "code", "message", ...details } }` with its status. */
export class ApiError extends SteerdnsError {
  readonly status: number;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ApiErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(code, message);
    this.status = API_ERRORS[code];
    this.details = details;
  }

  /** The body of the answer. */
  body(): { error: Record<string, unknown> } {
    return { error: { code: this.code, message: this.message, ...this.details } };
  }
}
