import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyError, type FastifyRequest } from 'fastify';
import type { CompiledApi } from '../config/compile-api.js';
import { hostPort } from '../lib/ip.js';
import { authorize, isLoopbackHost, type Access } from './auth.js';
import { ApiError } from './errors.js';
import type { ApiApp, ApiContext } from './context.js';
import { operatorRoutes } from './routes-operator.js';
import { nodeRoutes } from './routes-node.js';
import { serviceRoutes } from './routes-services.js';
import { uiRoutes } from './ui.js';

/** A running operator interface. */
export interface ApiServer {
  /** The address bound (the system's port when the configured port is 0). */
  readonly listen: { readonly host: string; readonly port: number };
  readonly tls: boolean;
  close(): Promise<void>;
}

/**
 * The access a request needs, by the route it matched (its pattern, not the URL as sent: the
 * router decodes `%61pi/v%31`, so a prefix test on the raw URL could be walked around), or
 * undefined when it needs none. A request that matches no route needs none: it gets a 404.
 */
function accessOf(
  route: string | undefined,
  method: string,
  settings: CompiledApi | undefined,
): Access | undefined {
  if (route === undefined) return undefined;
  if (route === '/api/v1' || route.startsWith('/api/v1/'))
    return method === 'GET' || method === 'HEAD' ? 'read' : 'write';
  if (route === '/metrics' && settings?.metricsAuth === true) return 'read';
  return undefined;
}

/** Builds the fastify app with every route (not listening yet). */
export async function buildApi(
  context: ApiContext,
  listen: { readonly host: string; readonly port: number },
  tls: { readonly cert: string; readonly key: string } | undefined,
): Promise<ApiApp> {
  const options = {
    logger: false,
    forceCloseConnections: true,
    keepAliveTimeout: 5000,
    bodyLimit: 64 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  } as const;
  // Read at every (re)bind: a renewed certificate applies with a reload that moves nothing else.
  const app = (tls === undefined
    ? Fastify(options)
    : Fastify({ ...options, https: { cert: readFileSync(tls.cert), key: readFileSync(tls.key) } })
  ).withTypeProvider<TypeBoxTypeProvider>() as unknown as ApiApp;
  // Schemas document and validate; answers are written as they are (no field is dropped).
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.decorateRequest('caller', null);
  const loopback = isLoopbackHost(listen.host);
  app.addHook('onRequest', (request: FastifyRequest, _reply, done) => {
    const settings = context.settings();
    const route = request.is404 ? undefined : request.routeOptions.url;
    const access = accessOf(route, request.method, settings);
    try {
      if (access !== undefined)
        request.caller = authorize(request.headers, settings?.tokens, access, loopback);
    } catch (error) {
      done(error as Error);
      return;
    }
    done();
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    done(null, payload);
  });
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof ApiError) return reply.code(error.status).send(error.body());
    const status = error.statusCode ?? 500;
    if (error.validation !== undefined || (status >= 400 && status < 500)) {
      const code = status === 405 ? 'STEERDNS_ERR_API_METHOD' : 'STEERDNS_ERR_API_BAD_REQUEST';
      return reply.code(status).send({ error: { code, message: error.message } });
    }
    context.log.error({ err: error, url: request.url }, 'operator interface: request failed');
    return reply
      .code(500)
      .send({ error: { code: 'STEERDNS_ERR_INTERNAL', message: 'internal error' } });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: {
        code: 'STEERDNS_ERR_API_NOT_FOUND',
        message: `no ${request.method} ${request.url.split('?')[0]}`,
      },
    }),
  );
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'steerdns operator API',
        version: '1',
        description: 'Services, members, overrides, explain, agents, cluster; see docs/api.md.',
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
          bearer: { type: 'http', scheme: 'bearer' },
        },
      },
    },
  });
  operatorRoutes(app, context);
  serviceRoutes(app, context);
  nodeRoutes(app, context);
  uiRoutes(app);
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
  await app.ready();
  return app;
}

/**
 * Serves the operator interface on `listen` (port 0: the system chooses), over HTTPS when
 * `tls` names a certificate and key.
 */
export async function startApiServer(
  context: ApiContext,
  listen: { readonly host: string; readonly port: number },
  tls?: { readonly cert: string; readonly key: string },
): Promise<ApiServer> {
  const app = await buildApi(context, listen, tls);
  try {
    await app.listen({ host: listen.host, port: listen.port });
  } catch (error) {
    await app.close();
    throw error;
  }
  const bound = { host: listen.host, port: (app.server.address() as AddressInfo).port };
  context.log.info(
    { api: hostPort(bound.host, bound.port), tls: tls !== undefined },
    'operator interface: /api/v1, /status, /explain, /metrics, /healthz, /readyz, /openapi.json, /ui/',
  );
  return { listen: bound, tls: tls !== undefined, close: () => app.close() };
}
