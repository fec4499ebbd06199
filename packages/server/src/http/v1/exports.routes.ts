import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ExportDocument } from '../../features/exports/export-document.js';
import type { ExportJob } from '../../features/exports/export-store.js';
import { requireAuthentication } from './authenticated.js';
import { requireActor } from '../plugins/identify.js';
import { bearer, problems } from './access.schemas.js';
import { ExportDocumentSchema, ExportJobSchema, ExportParams, ImportBody, ImportQuery, ImportReportSchema, StartExportBody, StartedExportSchema } from './exports.schemas.js';
import { formatId, parseId } from './ids.js';

const tags = ['exports'];

function toExportBody(j: ExportJob) {
  return {
    id: formatId('export', j.id),
    status: j.status,
    projectId: j.projectId === null ? null : formatId('project', j.projectId),
    createdAt: j.createdAt,
    startedAt: j.startedAt,
    completedAt: j.completedAt,
    error: j.error,
  };
}

/** Import documents are bigger than the 1 MiB every other body may be. */
const importBodyLimit = 64 * 1024 * 1024;

/** Togul's `/api/v1/exports` (background jobs, poll, download) and `/api/v1/imports`. */
export const exportRoutes: FastifyPluginAsync = async (root) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  requireAuthentication(app);
  const { exports, imports } = app.services;

  app.post('/api/v1/exports', {
    schema: {
      operationId: 'startExport',
      tags,
      summary: 'Start an export of the organisation, or of one project; it runs in the background (poll GET /exports/{id})',
      security: bearer,
      body: StartExportBody,
      response: { 200: StartedExportSchema, ...problems(401, 403, 404, 422) },
    },
    // No body at all means the defaults (the whole organisation).
    preValidation: async (request) => {
      request.body ??= {};
    },
  }, async (request) => {
    const job = await exports.start(requireActor(request), { project: request.body.projectId });
    return { id: formatId('export', job.id), status: job.status };
  });

  app.get('/api/v1/exports/:id', {
    schema: {
      operationId: 'getExport',
      tags,
      summary: "An export's status: pending, running, completed or failed",
      security: bearer,
      params: ExportParams,
      response: { 200: ExportJobSchema, ...problems(401, 403, 404) },
    },
  }, async (request) => toExportBody(await exports.get(requireActor(request), parseId('export', request.params.id))));

  app.get('/api/v1/exports/:id/download', {
    schema: {
      operationId: 'downloadExport',
      tags,
      summary: 'The export document, once completed (409 export_not_ready before)',
      security: bearer,
      params: ExportParams,
      response: { 200: ExportDocumentSchema, ...problems(401, 403, 404, 409) },
    },
  }, async (request, reply) => {
    const { job, document } = await exports.download(requireActor(request), parseId('export', request.params.id));
    reply.header('Content-Disposition', `attachment; filename="switchyard-export-${job.id}.json"`);
    reply.header('Cache-Control', 'no-store');
    return JSON.parse(document) as ExportDocument;
  });

  app.post('/api/v1/imports', {
    bodyLimit: importBodyLimit,
    schema: {
      operationId: 'importExport',
      tags,
      summary: 'Apply an export document to this organisation in one transaction; ?dryRun=true (or {document, dryRun: true}) reports what it would create or change and writes nothing',
      security: bearer,
      querystring: ImportQuery,
      body: ImportBody,
      response: { 200: ImportReportSchema, ...problems(400, 401, 403, 404, 422) },
    },
  }, async (request) => {
    const actor = requireActor(request);
    const body = request.body;
    const wrapped = 'document' in body;
    const document = (wrapped ? body.document : body) as ExportDocument;
    const dryRun = request.query.dryRun === 'true' || (wrapped && body.dryRun === true);
    return imports.apply(actor, actor.organizationId, document, { dryRun });
  });
};
