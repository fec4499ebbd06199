import { createRequire } from 'node:module';

/**
 * Node's `require`, for the packages only some deployments configure (pg, ioredis, nodemailer,
 * stripe): each is required where its client is built, so a server without that setting never
 * loads it (no module source held, no start-up cost).
 */
export const requireWhenUsed = createRequire(import.meta.url);
