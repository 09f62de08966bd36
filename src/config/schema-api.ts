import { Type } from '@sinclair/typebox';

/**
 * The `api:` section: the operator interface (REST API under /api/v1, /status, /explain,
 * /metrics, /healthz, /readyz, /openapi.json and the dashboard at /ui/). docs/api.md.
 */
export const apiSchema = Type.Object(
  {
    listen: Type.String({
      description: 'ADDR:PORT or [IPv6]:PORT; keep it on loopback unless tokenFile and tls are set',
    }),
    tokenFile: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'API tokens, one a line: SECRET or NAME SECRET (at least 16 bytes; # comments), relative to this file; without it every write is refused',
      }),
    ),
    tls: Type.Optional(
      Type.Object(
        {
          cert: Type.String({
            minLength: 1,
            description: 'PEM certificate (chain), relative to this file',
          }),
          key: Type.String({ minLength: 1, description: 'PEM private key, relative to this file' }),
        },
        { additionalProperties: false, description: 'serve HTTPS instead of HTTP' },
      ),
    ),
    stateFile: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'where operator overrides are kept across restarts; default: beside this file, NAME.overrides.json',
      }),
    ),
    metricsAuth: Type.Optional(
      Type.Boolean({ default: false, description: 'GET /metrics needs the token too' }),
    ),
  },
  {
    additionalProperties: false,
    description: 'the operator interface: REST API, status, explain, metrics and the dashboard',
  },
);
