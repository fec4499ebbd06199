import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the SDK made: method, path, query and the form-encoded body as flat `a[b][0]` keys. */
export interface StripeRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  form: Record<string, string>;
  authorization: string | undefined;
}

/** A canned answer: status and JSON body. */
export interface StripeAnswer {
  status: number;
  body: unknown;
}

/**
 * A local HTTP server on 127.0.0.1 playing the few Stripe endpoints billing calls, for the real
 * SDK (`STRIPE_API_BASE`). Records every request; `answer` overrides a path's next responses.
 */
export class StripeTestServer {
  readonly requests: StripeRequest[] = [];
  private readonly overrides = new Map<string, StripeAnswer>();
  private server: Server | null = null;
  /** Subscriptions `GET /v1/subscriptions/:id` returns. */
  readonly subscriptions = new Map<string, unknown>();
  /** Active promotion codes by customer-facing code. */
  readonly promotionCodes = new Map<string, string>([['SPRING25', 'promo_spring25']]);

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void this.handle(req).then(({ status, body }) => {
        res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_${this.requests.length}` });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Answers `METHOD /path` with `answer` until cleared. */
  answer(route: string, answer: StripeAnswer | null): void {
    if (answer) this.overrides.set(route, answer);
    else this.overrides.delete(route);
  }

  /** The recorded requests to `METHOD /path`. */
  to(route: string): StripeRequest[] {
    return this.requests.filter((r) => `${r.method} ${r.path}` === route);
  }

  private async handle(req: IncomingMessage): Promise<StripeAnswer> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
    const request: StripeRequest = { method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), form, authorization: req.headers.authorization };
    this.requests.push(request);
    const route = `${request.method} ${request.path}`;
    const override = this.overrides.get(route);
    if (override) return override;
    const n = this.requests.length;
    if (route === 'POST /v1/checkout/sessions') return { status: 200, body: { id: `cs_test_${n}`, object: 'checkout.session', mode: form.mode, url: `https://checkout.stripe.test/c/pay/cs_test_${n}` } };
    if (route === 'POST /v1/billing_portal/sessions') return { status: 200, body: { id: `bps_${n}`, object: 'billing_portal.session', url: `https://billing.stripe.test/p/session/bps_${n}` } };
    if (route === 'GET /v1/promotion_codes') {
      const id = this.promotionCodes.get(request.query.code ?? '');
      return { status: 200, body: { object: 'list', url: '/v1/promotion_codes', has_more: false, data: id ? [{ id, object: 'promotion_code', code: request.query.code, active: true }] : [] } };
    }
    const sub = /^GET \/v1\/subscriptions\/([\w-]+)$/.exec(route);
    if (sub) {
      const found = this.subscriptions.get(sub[1]!);
      if (found) return { status: 200, body: found };
    }
    return { status: 404, body: { error: { type: 'invalid_request_error', message: `No such resource: ${request.path}` } } };
  }
}
