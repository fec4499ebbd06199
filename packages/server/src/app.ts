import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { createServer, type ServerOptions } from 'node:http';
import type { Config } from './config.js';
import { openDatabase, type DatabaseHandle } from './db/connect.js';
import { migrateToLatest } from './db/migrate.js';
import { createServices, type Services } from './composition.js';
import { v1ErrorHandler, problem, sendProblem, toProblem } from './http/v1/problem.js';
import type { DestinationStream } from 'pino';
import { loggerOptions } from './logging.js';
import { installRouteIndex, type RouteIndex } from './http/plugins/route-index.js';
import { installOpenApi } from './http/plugins/openapi.js';
import { installRequestMetrics } from './http/plugins/request-metrics.js';
import { installRateLimit } from './http/plugins/rate-limit.js';
import { installIdempotency } from './http/plugins/idempotency.js';
import { productTourRoutes } from './http/v1/product-tours.routes.js';
import { notificationRoutes } from './http/v1/notifications.routes.js';
import { sandboxRoutes } from './http/v1/sandbox.routes.js';
import { platformAdminRoutes } from './http/v1/platform-admin.routes.js';
import { installLegacyAliasHeaders, LegacyAliases } from './http/plugins/legacy-aliases.js';
import { notFoundHandler } from './http/v1/not-found.js';
import { operationsRoutes } from './http/v1/operations.routes.js';
import { systemRoutes } from './http/v1/system.routes.js';
import { authRoutes } from './http/v1/auth.routes.js';
import { organizationRoutes } from './http/v1/organizations.routes.js';
import { memberRoutes } from './http/v1/members.routes.js';
import { roleRoutes } from './http/v1/roles.routes.js';
import { invitationRoutes } from './http/v1/invitations.routes.js';
import { mailOutboxRoutes } from './http/v1/mail-outbox.routes.js';
import { projectRoutes } from './http/v1/projects.routes.js';
import { flagRoutes } from './http/v1/flags.routes.js';
import { flagEnvironmentRoutes } from './http/v1/flag-environments.routes.js';
import { ruleRoutes } from './http/v1/rules.routes.js';
import { segmentRoutes } from './http/v1/segments.routes.js';
import { playgroundRoutes } from './http/v1/playground.routes.js';
import { registerIdentify, sessionTokenIdentifier } from './http/plugins/identify.js';
import { apiKeyIdentifier } from './http/plugins/api-key-identifier.js';
import { clientTokenIdentifier } from './http/plugins/client-token-identifier.js';
import { idTokenIdentifier } from './http/plugins/id-token-identifier.js';
import { passwordRoutes } from './http/v1/password.routes.js';
import { oauthClientRoutes, oauthTokenRoutes } from './http/v1/oauth.routes.js';
import { apiKeyRoutes } from './http/v1/api-keys.routes.js';
import { evaluatePath, evaluateRoutes } from './http/v1/evaluate.routes.js';
import { createEvaluateLane, type EvaluateLane } from './http/v1/evaluate.lane.js';
import { requestIdFor } from './http/request-id.js';
import { ajvCustomOptions } from './http/ajv-options.js';
import { lazySerializers } from './http/lazy-serializers.js';
import { tenantFlagRoutes } from './http/v1/tenant-flags.routes.js';
import { tenantRoutes } from './http/v1/tenants.routes.js';
import { toggleSmartlyPlugin, toggleSmartlyPrefix } from './http/togglesmartly/plugin.js';
import { usageRoutes } from './http/v1/usage.routes.js';
import { exportRoutes } from './http/v1/exports.routes.js';
import { accountDeletionRoutes } from './http/v1/account-deletion.routes.js';
import { flipswitchPlugin, flipswitchPrefix } from './http/flipswitch/plugin.js';
import { ofrepPlugin, ofrepPrefix } from './http/ofrep/plugin.js';
import { flagdRoutes } from './http/v1/flagd.routes.js';
import { streamRoutes } from './http/v1/stream.routes.js';
import { billingRoutes } from './http/v1/billing.routes.js';
import { dashboardRoutes } from './http/web/dashboard.js';
import { RedisRateLimiter } from './features/rate-limits/redis-rate-limiter.js';

declare module 'fastify' {
  interface FastifyInstance {
    services: Services;
    /** Every route registered on this app (for 405s and the OpenAPI completeness test). */
    routeIndex: RouteIndex;
    /** Answers ordinary `POST /api/v1/evaluate` requests over a socket ahead of Fastify. */
    evaluateLane: EvaluateLane;
    /** Compiles the response serializers no request has needed yet; returns how many (for tests). */
    compileAllSerializers(): number;
  }
}

export interface AppOptions {
  /** An already open database (tests pass theirs); otherwise the config's is opened and owned. */
  database?: DatabaseHandle;
  /** Pino logger options; `false` silences it. Defaults to the config's log level. */
  logger?: boolean | Record<string, unknown>;
  /** Where log lines go instead of stdout (tests capture them); uses the server's logger options. */
  logStream?: DestinationStream;
}

/** Builds the whole server: database (migrated), services and every HTTP surface. Does not listen. */
export async function buildApp(config: Config, options: AppOptions = {}): Promise<FastifyInstance> {
  const owned = !options.database;
  const database = options.database ?? openDatabase(config.database);
  await migrateToLatest(database.db);

  // Evaluate's requests (the Fastify route's and the lane's) share one `warn`-level child logger.
  let hotPathLogger: FastifyBaseLogger | undefined;
  const hotPathLog = (logger: FastifyBaseLogger) => (hotPathLogger ??= logger.child({ route: evaluatePath }, { level: 'warn' }));
  // Set once every service and hook exists (the end of this function); until then Fastify answers.
  let evaluateLane: EvaluateLane | null = null;
  // IntelliToggle's legacy aliases (`/api/…`, `/auth/…`, `/oauth/…`) are rewritten to their
  // versioned routes before routing, from the route index (set below, before any route).
  const legacyAliases = new LegacyAliases();
  const serializers = lazySerializers();
  const app = Fastify({
    // Fastify's own HTTP/1 server set-up, with the evaluate lane in front of its handler.
    serverFactory: (handler, options) => {
      // Fastify has filled in its defaults by now.
      const opts = options as unknown as { http?: ServerOptions; keepAliveTimeout: number; requestTimeout: number; connectionTimeout: number; maxRequestsPerSocket: number };
      const server = createServer(opts.http ?? {}, (req, res) => {
        if (evaluateLane === null || !evaluateLane.take(req, res)) handler(req, res);
      });
      server.keepAliveTimeout = opts.keepAliveTimeout;
      server.requestTimeout = opts.requestTimeout;
      server.setTimeout(opts.connectionTimeout);
      if (opts.maxRequestsPerSocket > 0) server.maxRequestsPerSocket = opts.maxRequestsPerSocket;
      return server;
    },
    rewriteUrl: (req) => legacyAliases.rewrite(req.url ?? '/'),
    logger: options.logStream ? loggerOptions(config, options.logStream) : (options.logger ?? loggerOptions(config)),
    trustProxy: config.trustProxy,
    // Requests arriving while draining get our own 503 problem (the gate below), not Fastify's body.
    return503OnClosing: false,
    // A URL the router cannot decode never reaches the hooks; answer it in the same contract.
    frameworkErrors: (error, request, reply) => {
      sendProblem(reply.header('X-Request-Id', request.id), toProblem(error, request));
    },
    bodyLimit,
    // Device tokens (FCM's are ~160 characters, some longer) are a path parameter.
    routerOptions: { maxParamLength: 600 },
    genReqId: (req) => requestIdFor(req.headers),
    requestIdHeader: false,
    // Evaluate is the hot path: a per-request child logger (bindings run through redaction) costs
    // more than the evaluation. Its requests share one child at `warn` (no access lines; warnings
    // and errors still logged, without a request id).
    childLoggerFactory: (logger, bindings, opts, rawReq) => {
      if (rawReq.url === evaluatePath) return hotPathLog(logger);
      return logger.child(bindings, opts);
    },
    ajv: { customOptions: ajvCustomOptions },
    schemaController: { compilersFactory: { buildSerializer: serializers.buildSerializer } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  database.onConnectionError((error) => app.log.warn({ err: error }, 'database connection lost; the pool opens a new one for the next query'));
  app.decorate('services', createServices(config, database));
  // The first admin (SWITCHYARD_ADMIN_*): created once, a no-op on every later or concurrent start.
  const bootstrapped = await app.services.bootstrap.run();
  if (bootstrapped.status === 'created') {
    app.log.info({ email: bootstrapped.email, organizationId: bootstrapped.organizationId }, 'created the first admin and its organization');
  }
  // Platform plumbing first, so every route registered after it is indexed (405s), documented
  // (OpenAPI), counted (metrics) and, under /api/v1, rate limited.
  const routes = installRouteIndex(app);
  legacyAliases.useIndex(routes);
  installLegacyAliasHeaders(app);
  app.decorate('routeIndex', routes);
  await installOpenApi(app, { version: config.version });
  installRequestMetrics(app, app.services.metrics);
  const { entitlements } = app.services;
  const countRateLimit = installRateLimit(app, {
    limiter: app.services.rateLimiter,
    limitPerMinute: config.rateLimitPerMinute,
    evaluationLimitPerMinute: config.billing.evaluationRateLimitPerMinute,
    // Server SDKs evaluate far more often than people manage: their own, higher budget per
    // credential, shared by every evaluation surface (OFREP too, outside /api/v1).
    evaluationPrefixes: [evaluatePath, '/api/v1/stream', '/api/v1/sdk', ofrepPrefix],
    policy: { limitFor: (actor, kind) => entitlements.requestLimit(actor, kind), admitEvaluation: (actor) => entitlements.admitEvaluation(actor) },
    exempt: [toggleSmartlyPrefix],
  });
  installShutdownGate(app);
  // Evaluate is a read: no Idempotency-Key bookkeeping on the hot path.
  installIdempotency(app, app.services.idempotency, { excluded: [evaluatePath] });
  // Signing keys exist (created on first start) before the first request is served.
  await app.services.tokens.ready();
  // Who is calling: sets request.actor for everything after it (rate limits key on it).
  // Further credential kinds (OIDC ID tokens, OAuth client tokens, API keys) are added to this list.
  registerIdentify(app, [
    sessionTokenIdentifier(app.services.accounts, app.services.tokens),
    clientTokenIdentifier(app.services.oauthClients, app.services.tokens),
    idTokenIdentifier(app.services.externalSignIn, app.services.tokens),
    apiKeyIdentifier(app.services.apiKeyMap),
  ]);
  if (owned) app.addHook('onClose', async () => database.close());
  // Queued notifications and pushes finish first (onClose hooks run last-added first).
  app.addHook('onClose', async () => app.services.notifications.idle());
  await startEvaluation(app);
  await startLifecycleJobs(app);

  app.setErrorHandler(v1ErrorHandler);
  app.setNotFoundHandler(notFoundHandler(routes));

  await app.register(systemRoutes);
  await app.register(operationsRoutes);
  await app.register(authRoutes);
  await app.register(organizationRoutes);
  await app.register(memberRoutes);
  await app.register(roleRoutes);
  await app.register(invitationRoutes);
  await app.register(mailOutboxRoutes);
  await app.register(apiKeyRoutes);
  await app.register(evaluateRoutes);
  await app.register(streamRoutes);
  await app.register(projectRoutes);
  await app.register(flagRoutes);
  await app.register(flagEnvironmentRoutes);
  await app.register(ruleRoutes);
  await app.register(segmentRoutes);
  await app.register(playgroundRoutes);
  await app.register(flagdRoutes);
  await app.register(productTourRoutes);
  await app.register(notificationRoutes);
  await app.register(sandboxRoutes);
  await app.register(platformAdminRoutes);
  await app.register(usageRoutes);
  await app.register(exportRoutes);
  await app.register(accountDeletionRoutes);
  await app.register(tenantFlagRoutes);
  await app.register(tenantRoutes);
  await app.register(oauthClientRoutes);
  await app.register(oauthTokenRoutes);
  await app.register(passwordRoutes);
  await app.register(billingRoutes);
  // The dashboard (packages/web) at /app.
  await app.register(dashboardRoutes);
  // ToggleSmartly: its own auth (api_key in the body), limits and error body.
  await app.register(toggleSmartlyPlugin, { prefix: toggleSmartlyPrefix });
  // Flipswitch admin API: user bearer tokens, its own problem+json errors and not-found handling.
  await app.register(flipswitchPlugin, { prefix: flipswitchPrefix });
  // OpenFeature OFREP: API keys as bearer or X-API-Key (limited in the evaluation bucket), its own CORS and error body.
  await app.register(ofrepPlugin, { prefix: ofrepPrefix });

  const { evaluation, apiKeyMap, metrics, readiness } = app.services;
  const lane = createEvaluateLane({ evaluation, apiKeys: apiKeyMap, countRateLimit, metrics, readiness, log: hotPathLog(app.log), bodyLimit });
  app.decorate('evaluateLane', lane);
  app.decorate('compileAllSerializers', serializers.compileAll);
  evaluateLane = lane;
  return app;
}

/** Largest request body any route reads. */
const bodyLimit = 1024 * 1024;

/** How often evaluation counts and API-key `lastUsedAt` are written. */
const usageFlushMs = 5000;

/**
 * Evaluation reads only memory: every environment's snapshot and every API key are loaded before
 * the first request (`/readyz` check `snapshots`); counts and key uses are flushed on a timer and
 * on close. onClose hooks run last-added first, so this one runs before the database closes.
 */
async function startEvaluation(app: FastifyInstance): Promise<void> {
  const { snapshots, apiKeyMap, evaluationCounters, changeRelay, rateLimiter } = app.services;
  snapshots.useLogger(app.log);
  // Listening first: a change another instance makes while this one loads is not lost.
  changeRelay?.useLogger(app.log);
  await changeRelay?.start(snapshots);
  await Promise.all([snapshots.start(), apiKeyMap.load()]);
  if (rateLimiter instanceof RedisRateLimiter) rateLimiter.useLogger(app.log);
  evaluationCounters.start(usageFlushMs, (err) => app.log.error({ err }, 'could not write evaluation counts; kept for the next flush'));
  apiKeyMap.start(usageFlushMs, (err) => app.log.error({ err }, 'could not write API key last-used times; kept for the next flush'));
  app.addHook('onClose', async () => {
    snapshots.close();
    await changeRelay?.stop();
    if (rateLimiter instanceof RedisRateLimiter) await rateLimiter.close();
    await Promise.all([evaluationCounters.stop(), apiKeyMap.stop()]);
  });
}

/**
 * Every response carries `X-Request-Id`. Draining: `preClose` marks the server not ready (so `/readyz` fails and the shutdown signal
 * fires — long-lived streams listen to it, or add their own `preClose` hook, and end with a retry
 * hint); requests that still arrive get a 503 problem; responses finished while draining carry
 * `Connection: close` so keep-alive sockets do not hold the shutdown open.
 */
function installShutdownGate(app: FastifyInstance): void {
  const { readiness } = app.services;
  app.addHook('preClose', async () => {
    readiness.beginShutdown();
  });
  // Callback-style (not async), and one hook for both jobs: on the evaluate hot path each hook is
  // a call and each async one a promise and a microtask per request.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('X-Request-Id', request.id);
    if (!readiness.shuttingDown) return done();
    reply.header('Connection', 'close').header('Retry-After', '5');
    return sendProblem(reply, problem(request, 503, 'shutting_down', 'The server is shutting down; retry shortly'));
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (readiness.shuttingDown) reply.header('Connection', 'close');
    done(null, payload);
  });
}

/** How often the deletion job looks for erasures whose grace period has ended. */
const deletionJobMs = 60_000;

/**
 * Togul's background work: export jobs left pending by a restart are resumed (and ones left
 * running failed); the deletion job runs on an interval timer. Both stop on close — before the
 * database closes (onClose hooks run last-added first) — waiting for work in progress.
 */
async function startLifecycleJobs(app: FastifyInstance): Promise<void> {
  const { exports, accountDeletions } = app.services;
  exports.useLogger(app.log);
  accountDeletions.useLogger(app.log);
  await exports.resume();
  accountDeletions.start(deletionJobMs);
  app.addHook('onClose', async () => {
    await Promise.all([exports.stop(), accountDeletions.stop()]);
  });
}
