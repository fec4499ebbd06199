import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** What one surface lets browsers do cross-origin. */
export interface CorsPolicy {
  /** Methods a preflight allows (OPTIONS is added). */
  methods: readonly string[];
  /** Request headers a preflight allows. */
  allowHeaders: readonly string[];
  /** Response headers scripts may read. */
  exposeHeaders: readonly string[];
}

/**
 * CORS for SDK surfaces called from browsers (OFREP, the stream, the polled configuration): any
 * origin, because their credential is an API key sent as a header, never a cookie — so no
 * `Allow-Credentials`. Adds the headers to every answer of the encapsulated context it is
 * installed in; `preflight` answers `OPTIONS` for the context's routes (register it per path).
 */
export function allowAnyOrigin(app: FastifyInstance, policy: CorsPolicy): { preflight: (request: FastifyRequest, reply: FastifyReply) => Promise<void> } {
  const expose = policy.exposeHeaders.join(', ');
  const methods = [...policy.methods, 'OPTIONS'].join(', ');
  const allow = policy.allowHeaders.join(', ');
  app.addHook('onRequest', (request, reply, done) => {
    const origin = request.headers.origin;
    reply.header('Access-Control-Allow-Origin', typeof origin === 'string' ? origin : '*');
    reply.header('Vary', 'Origin');
    reply.header('Access-Control-Expose-Headers', expose);
    done();
  });
  return {
    preflight: async (_request, reply) => {
      reply.header('Access-Control-Allow-Methods', methods);
      reply.header('Access-Control-Allow-Headers', allow);
      reply.header('Access-Control-Max-Age', '600');
      reply.status(204).send();
    },
  };
}
