import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  decideZone, defineLayout, exportKeyedEntries, keyedEntriesCsv, keyingStats, layoutVersions, listDisputes, listLayouts, mergeZones, moveZone, nextZone,
  pageZones, proposeZones, zoneHistory, zoneKeyingRecord, dateWarnings, readKeyedDate, requireLayout, requireZone, splitZone, submitKeying, suggestKeyedValues, zoneCrop, MAX_CONTEXT_ROWS, MAX_VALUE_LENGTH, SUGGESTED_FIELDS,
  type BookWithholding, type SuggestedField, type FieldDecision, type KeyedFields, type LayoutInput, type ZoneShape,
} from '../../keying/index.ts';
import { bookClosure, booksWithheld, type Role } from '../../auth/index.ts';
import type { AppDeps } from '../../app/deps.ts';
import { KEYING_ANSWERS, KEYING_FIELDS, REGISTER_TYPES, ZONE_CHANGE_OPS, ZONE_SOURCES, ZONE_STATUSES } from '../../common/vocabulary.ts';
import { errorResponses, pageParams, bookIdParam } from '../schemas.ts';
import { requirePage } from './pages.route.ts';
import { actor } from './entries.route.ts';
import { caller, noteAudit } from '../access.ts';
import { PERSONAL_READERS, policy } from '../policies.ts';
import { etagMatches } from '../object-response.ts';
import { VIEW_WIDTH } from '../../search/page-image.ts';
import { getBook } from '../../archive/index.ts';
import { AppError } from '../../common/index.ts';
import { detectPageZones } from '../../keying/detect-zones.ts';
import { enqueueRepackageWhenKeyed } from '../../preservation/index.ts';

type Deps = Pick<AppDeps, 'db' | 'store' | 'config' | 'queue'>;

/** Who keys entries and corrects zones: clerks, and reviewers (who then cannot arbitrate what they keyed). */
const KEYERS: readonly Role[] = ['clerk', 'reviewer'];
/** Who arbitrates keying differences. */
const ARBITRATORS: readonly Role[] = ['reviewer'];
/** Who defines register layouts. */
const LAYOUT_EDITORS: readonly Role[] = ['records_manager', 'admin'];
/** Who reads layouts and keying progress (no personal data in either). */
const KEYING_STAFF: readonly Role[] = ['clerk', 'reviewer', 'records_manager', 'admin'];

const uuid = { type: 'string', format: 'uuid' } as const;
const dateTime = { type: 'string', format: 'date-time' } as const;
const boxSchema = {
  type: 'object', required: ['x0', 'y0', 'x1', 'y1'], additionalProperties: false,
  properties: { x0: { type: 'integer', minimum: 0 }, y0: { type: 'integer', minimum: 0 }, x1: { type: 'integer', minimum: 1 }, y1: { type: 'integer', minimum: 1 } },
} as const;
const shapeSchema = { type: 'object', required: ['box'], additionalProperties: false, properties: { box: boxSchema, cells: { type: 'array', maxItems: 60, items: boxSchema } } } as const;
const columnSchema = {
  type: 'object', required: ['key', 'field'], additionalProperties: false,
  properties: {
    key: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_]{0,63}$' }, field: { type: 'string', enum: KEYING_FIELDS },
    label: { type: 'object', additionalProperties: false, properties: { sq: { type: 'string', maxLength: 200 }, sr: { type: 'string', maxLength: 200 } } },
  },
} as const;
const layoutSchema = {
  type: 'object',
  properties: {
    id: uuid, key: { type: 'string' }, version: { type: 'integer' }, name: { type: 'string' }, registerType: { type: 'string' },
    yearFrom: { type: ['integer', 'null'] }, yearTo: { type: ['integer', 'null'] }, columns: { type: 'array', items: columnSchema },
    changeReason: { type: 'string' }, createdBy: { type: 'string' }, createdAt: dateTime, supersededAt: { type: ['string', 'null'], format: 'date-time' },
  },
} as const;
const answerOut = { type: 'object', properties: { value: { type: 'string' }, answer: { type: 'string' } } } as const;
const fieldsOut = { type: 'object', additionalProperties: answerOut } as const;
const answerIn = {
  oneOf: [
    { type: 'object', required: ['value'], additionalProperties: false, properties: { value: { type: 'string', minLength: 1, maxLength: MAX_VALUE_LENGTH } } },
    { type: 'object', required: ['answer'], additionalProperties: false, properties: { answer: { type: 'string', enum: KEYING_ANSWERS } } },
  ],
} as const;
const zoneSchema = {
  type: 'object',
  properties: {
    id: uuid, bookId: uuid, pageId: uuid, pageSequence: { type: 'integer' }, layoutKey: { type: 'string' }, layoutVersion: { type: 'integer' },
    box: boxSchema, cells: { type: 'array', items: boxSchema }, source: { type: 'string', enum: ZONE_SOURCES }, status: { type: 'string', enum: ZONE_STATUSES },
    differences: { type: 'array', items: { type: 'string' } }, entryId: { type: ['string', 'null'] }, createdBy: { type: 'string' }, createdAt: dateTime,
    verifiedBy: { type: ['string', 'null'] }, verifiedAt: { type: ['string', 'null'], format: 'date-time' },
    reviewReason: { type: ['string', 'null'], description: "Why the zone waits for a person's review: its page's image was replaced after it was made (moving the zone clears it)" },
    reviewFlaggedAt: { type: ['string', 'null'], format: 'date-time' },
  },
} as const;
const warningSchema = { type: 'object', properties: { column: { type: 'string' }, code: { type: 'string' }, message: { type: 'string' } } } as const;
const zoneParam = { type: 'object', required: ['zoneId'], properties: { zoneId: uuid } } as const;
const layoutKeyParam = { type: 'object', required: ['layoutKey'], properties: { layoutKey: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]*$', maxLength: 100 } } } as const;
const ok = (properties: Record<string, unknown>, code = 200) => ({ [code]: { type: 'object', properties }, ...errorResponses });

/** Register layouts, entry zones, double blind keying, arbitration and keying statistics (issue 20). */
export async function keyingRoutes(app: FastifyInstance, opts: { deps: Deps }): Promise<void> {
  const { deps } = opts;
  const tags = ['keying'];

  // Routes on a zone name no book in their path, so the closure decision the access hook takes for
  // book routes is taken here, the same way, before anything of the zone is read or changed.
  const openBook = async (req: FastifyRequest, bookIds: readonly string[]) => {
    for (const bookId of new Set(bookIds)) {
      const closure = await bookClosure(deps.db, caller(req), bookId, req.auth?.purpose);
      if (closure.closed && req.auth) req.auth.restricted = true;
      if (closure.refused) throw closure.refused;
    }
  };
  const zoneFor = async (req: FastifyRequest, zoneId: string) => {
    noteAudit(req, { targetType: 'zone', targetId: zoneId });
    const zone = await requireZone(deps.db, zoneId);
    await openBook(req, [zone.bookId]);
    noteAudit(req, { detail: { bookId: zone.bookId } });
    return zone;
  };
  // The package carries the verified keyed entries: rebuilt once the book's last zone is settled.
  // The entry is made already, so a queue that fails here is logged; the next packaging brings it in.
  const repackageWhenKeyed = async (req: FastifyRequest, zoneId: string) => {
    const { bookId } = await requireZone(deps.db, zoneId);
    await enqueueRepackageWhenKeyed(deps, bookId).catch((e: unknown) => req.log.warn({ bookId, err: (e as Error).message }, 'package rebuild after keying not queued'));
  };
  const withholdFor = (req: FastifyRequest): BookWithholding => (ids) => booksWithheld(deps.db, { user: caller(req), purpose: req.auth?.purpose }, ids);

  app.get('/keying/layouts', {
    schema: { tags, summary: 'The current version of every register layout', response: ok({ layouts: { type: 'array', items: layoutSchema } }) },
    config: policy(KEYING_STAFF),
    handler: async () => ({ layouts: await listLayouts(deps.db) }),
  });

  app.post<{ Body: LayoutInput & { changeReason: string } }>('/keying/layouts', {
    schema: {
      tags, summary: 'Define a register layout, or the next version of one (the current version is superseded, never changed)',
      body: {
        type: 'object', required: ['key', 'name', 'registerType', 'columns', 'changeReason'], additionalProperties: false,
        properties: {
          key: layoutKeyParam.properties.layoutKey, name: { type: 'string', minLength: 1, maxLength: 200 }, registerType: { type: 'string', enum: REGISTER_TYPES },
          yearFrom: { type: ['integer', 'null'], minimum: 1000, maximum: 9999 }, yearTo: { type: ['integer', 'null'], minimum: 1000, maximum: 9999 },
          columns: { type: 'array', minItems: 1, maxItems: 60, items: columnSchema }, changeReason: { type: 'string', minLength: 1, maxLength: 1000 },
        },
      },
      response: ok({ layout: layoutSchema }, 201),
    },
    config: policy(LAYOUT_EDITORS, 'keying.layout.define'),
    handler: async (req, reply) => {
      const { changeReason, ...input } = req.body;
      const layout = await defineLayout(deps.db, input, { user: actor(req), reason: changeReason });
      noteAudit(req, { targetType: 'layout', targetId: layout.key, detail: { version: layout.version } });
      return reply.code(201).send({ layout });
    },
  });

  app.get<{ Params: { layoutKey: string } }>('/keying/layouts/:layoutKey/versions', {
    schema: { tags, summary: 'Every version of a layout, oldest first', params: layoutKeyParam, response: ok({ layouts: { type: 'array', items: layoutSchema } }) },
    config: policy(KEYING_STAFF),
    handler: async (req) => ({ layouts: await layoutVersions(deps.db, req.params.layoutKey) }),
  });

  app.get<{ Params: { bookId: string; sequence: number } }>('/books/:bookId/pages/:sequence/zones', {
    schema: { tags, summary: "A page's entry zones, top to bottom (no keyed values)", params: pageParams, response: ok({ zones: { type: 'array', items: zoneSchema } }) },
    config: policy([...KEYERS, 'records_manager'], 'zone.read', { restricted: true }),
    handler: async (req) => ({ zones: await pageZones(deps.db, (await requirePage(deps, req.params.bookId, req.params.sequence)).id) }),
  });

  app.post<{ Params: { bookId: string; sequence: number }; Body: { layoutKey?: string; layoutVersion?: number; source: 'detected' | 'drawn'; zones: ZoneShape[] } }>('/books/:bookId/pages/:sequence/zones', {
    schema: {
      tags, summary: "Add entry zones to a page (from zone detection or drawn by hand), against a layout (default: the current one for the book's register type and years)",
      params: pageParams,
      body: {
        type: 'object', required: ['source', 'zones'], additionalProperties: false,
        properties: {
          layoutKey: layoutKeyParam.properties.layoutKey, layoutVersion: { type: 'integer', minimum: 1 },
          source: { type: 'string', enum: ['detected', 'drawn'] }, zones: { type: 'array', minItems: 1, maxItems: 200, items: shapeSchema },
        },
      },
      response: ok({ zones: { type: 'array', items: zoneSchema } }, 201),
    },
    config: policy(KEYERS, 'zone.create', { restricted: true }),
    handler: async (req, reply) => {
      const page = await requirePage(deps, req.params.bookId, req.params.sequence);
      const { layoutKey, layoutVersion, source, zones: shapes } = req.body;
      const zones = await proposeZones(deps.db, page.id, { ...(layoutKey ? { layoutKey } : {}), ...(layoutVersion ? { layoutVersion } : {}), source, zones: shapes }, { user: actor(req) });
      noteAudit(req, { detail: { zones: zones.map((z) => z.id), source } });
      return reply.code(201).send({ zones });
    },
  });

  app.post<{ Params: { bookId: string; sequence: number } }>('/books/:bookId/pages/:sequence/zones/detect', {
    schema: {
      tags, params: pageParams,
      summary: "Detect a page's entry zones from its ruling again, against the book's current layout: earlier detected zones are retired; refused (409) when any zone of the page was keyed or drawn or corrected by hand",
      response: ok({
        outcome: { type: 'string', enum: ['proposed', 'none'] }, zones: { type: 'array', items: zoneSchema }, retired: { type: 'array', items: uuid },
        columns: { type: 'object', properties: { found: { type: 'integer' }, layout: { type: 'integer' }, matched: { type: 'boolean' }, method: { type: ['string', 'null'] } } },
        detail: { type: 'string' },
      }),
    },
    config: policy([...KEYERS, 'records_manager'], 'zone.detect', { restricted: true }),
    handler: async (req) => {
      const page = await requirePage(deps, req.params.bookId, req.params.sequence);
      const d = await detectPageZones(deps, page.id, { user: actor(req), replace: true });
      noteAudit(req, { detail: { zones: d.zones.map((z) => z.id), retired: d.retired, columnsMatched: d.columns.matched } });
      return d;
    },
  });

  app.patch<{ Params: { zoneId: string }; Body: ZoneShape }>('/keying/zones/:zoneId', {
    schema: { tags, summary: "Move a zone (its box and cells); the change is kept with the zone's history", params: zoneParam, body: shapeSchema, response: ok({ zone: zoneSchema }) },
    config: policy(KEYERS, 'zone.move'),
    handler: async (req) => {
      await zoneFor(req, req.params.zoneId);
      return { zone: await moveZone(deps.db, req.params.zoneId, req.body, { user: actor(req) }) };
    },
  });

  app.post<{ Params: { zoneId: string }; Body: { zones: ZoneShape[] } }>('/keying/zones/:zoneId/split', {
    schema: {
      tags, summary: 'Split a zone that holds several rows (before anyone keyed it); it is retired, the new zones replace it', params: zoneParam,
      body: { type: 'object', required: ['zones'], additionalProperties: false, properties: { zones: { type: 'array', minItems: 2, maxItems: 20, items: shapeSchema } } },
      response: ok({ zones: { type: 'array', items: zoneSchema } }, 201),
    },
    config: policy(KEYERS, 'zone.split'),
    handler: async (req, reply) => {
      await zoneFor(req, req.params.zoneId);
      const zones = await splitZone(deps.db, req.params.zoneId, req.body.zones, { user: actor(req) });
      noteAudit(req, { detail: { zones: zones.map((z) => z.id) } });
      return reply.code(201).send({ zones });
    },
  });

  app.post<{ Body: { zoneIds: string[]; box?: ZoneShape['box']; cells?: ZoneShape['cells'] } }>('/keying/zones/merge', {
    schema: {
      tags, summary: 'Merge zones of one page that hold one row (before anyone keyed them); they are retired, the new zone replaces them',
      body: {
        type: 'object', required: ['zoneIds'], additionalProperties: false,
        properties: { zoneIds: { type: 'array', minItems: 2, maxItems: 20, items: uuid }, box: boxSchema, cells: shapeSchema.properties.cells },
      },
      response: ok({ zone: zoneSchema }, 201),
    },
    config: policy(KEYERS, 'zone.merge'),
    handler: async (req, reply) => {
      const zones = await Promise.all(req.body.zoneIds.map((id) => requireZone(deps.db, id)));
      noteAudit(req, { targetType: 'zone', detail: { merged: req.body.zoneIds } });
      await openBook(req, zones.map((z) => z.bookId));
      const { zoneIds, ...shape } = req.body;
      const zone = await mergeZones(deps.db, zoneIds, shape, { user: actor(req) });
      noteAudit(req, { targetId: zone.id });
      return reply.code(201).send({ zone });
    },
  });

  const changeSchema = {
    type: 'object',
    properties: {
      zoneId: { ...uuid, description: 'The zone the change was made on: this zone, or one a split or merge replaced by it' }, op: { type: 'string', enum: ZONE_CHANGE_OPS },
      before: { description: 'The shape before: {box, cells}' }, after: { description: 'The shape after: {box, cells} for a move or merge (with the merged zone ids), a list of shapes for a split' },
      resultZoneIds: { type: 'array', items: uuid }, changedBy: { type: 'string' }, changedAt: dateTime,
    },
  } as const;
  app.get<{ Params: { zoneId: string } }>('/keying/zones/:zoneId/changes', {
    schema: {
      tags, params: zoneParam,
      summary: "A zone's history, oldest first: the split or merge that made it and its own moves, with who, when, the shape before and after, and the zones a split or merge made",
      response: ok({ zone: zoneSchema, changes: { type: 'array', items: changeSchema } }),
    },
    config: policy([...KEYERS, 'records_manager'], 'zone.changes.read', { restricted: true }),
    handler: async (req) => {
      const zone = await zoneFor(req, req.params.zoneId);
      return { zone, changes: await zoneHistory(deps.db, zone.id) };
    },
  });

  app.get<{ Params: { zoneId: string } }>('/keying/zones/:zoneId/keyings', {
    schema: {
      tags, params: zoneParam,
      summary: "A zone's keyings and arbitration decisions (who, when, before/after), for reviewers and records managers. Answers are withheld while the zone still waits for a keying (keying stays blind); keyers' names while it is disputed, except for records managers",
      response: ok({
        zoneId: uuid, status: { type: 'string', enum: ZONE_STATUSES },
        keyings: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              slot: { type: 'integer' }, keyer: { type: ['string', 'null'] }, fields: { type: ['object', 'null'], additionalProperties: answerOut },
              warnings: { type: 'array', items: warningSchema }, agreed: { type: ['boolean', 'null'] }, startedAt: { type: ['string', 'null'], format: 'date-time' }, submittedAt: dateTime,
            },
          },
        },
        decisions: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              column: { type: 'string' }, choice: { type: 'string' }, answer: answerOut, overruled: { type: 'array', items: { type: 'string' } },
              decidedBy: { type: 'string' }, decidedAt: dateTime,
            },
          },
        },
      }),
    },
    config: policy(['reviewer', 'records_manager'], 'zone.keyings.read', { restricted: true }),
    handler: async (req) => {
      const zone = await zoneFor(req, req.params.zoneId);
      const record = await zoneKeyingRecord(deps.db, zone.id, { namesWhileDisputed: caller(req).roles.includes('records_manager') && !caller(req).roles.includes('reviewer') });
      noteAudit(req, { detail: { keyings: record.keyings.length, answersShown: record.keyings.some((k) => k.fields !== null) } });
      return record;
    },
  });

  app.get<{ Querystring: { bookId?: string } }>('/keying/next', {
    schema: {
      tags, summary: 'The next zone for the caller to key (blind: never anyone else\'s answers), claimed for 30 minutes; null when none waits',
      querystring: { type: 'object', additionalProperties: false, properties: { bookId: uuid } },
      response: ok({
        task: {
          type: ['object', 'null'],
          properties: {
            zone: { type: 'object', properties: { id: uuid, bookId: uuid, pageSequence: { type: 'integer' }, box: boxSchema, cells: { type: 'array', items: boxSchema }, layoutKey: { type: 'string' }, layoutVersion: { type: 'integer' } } },
            layout: { type: 'object', properties: { key: { type: 'string' }, version: { type: 'integer' }, name: { type: 'string' }, columns: { type: 'array', items: columnSchema } } },
            book: { type: 'object', properties: { registerType: { type: 'string' }, municipality: { type: 'string' }, yearFrom: { type: 'integer' }, yearTo: { type: 'integer' } } },
          },
        },
      }),
    },
    config: policy(KEYERS, 'keying.next'),
    handler: async (req) => {
      const task = await nextZone(deps.db, actor(req), { ...(req.query.bookId ? { bookId: req.query.bookId } : {}), withhold: withholdFor(req) });
      if (task) noteAudit(req, { targetType: 'zone', targetId: task.zone.id, detail: { bookId: task.zone.bookId } });
      return { task };
    },
  });

  app.post<{ Params: { zoneId: string }; Body: { fields: KeyedFields } }>('/keying/zones/:zoneId/keyings', {
    schema: {
      tags, summary: "Key a zone: every layout column answered with the value as written, or illegible or blank. Returns date warnings and the zone's state; the second keying verifies the zone (or, both all blank, closes it as an empty row, no entry) or sends it to arbitration",
      params: zoneParam,
      body: { type: 'object', required: ['fields'], additionalProperties: false, properties: { fields: { type: 'object', maxProperties: 60, additionalProperties: answerIn } } },
      response: ok({
        keying: { type: 'object', properties: { id: uuid, zoneId: uuid, slot: { type: 'integer' }, warnings: { type: 'array', items: warningSchema }, submittedAt: dateTime } },
        zoneStatus: { type: 'string', enum: ZONE_STATUSES },
        entryId: { type: ['string', 'null'], format: 'uuid', description: 'The verified entry, when this keying agreed with the first (the keyer may then link it to a registry record)' },
      }, 201),
    },
    config: policy(KEYERS, 'keying.submit'),
    handler: async (req, reply) => {
      await zoneFor(req, req.params.zoneId);
      const receipt = await submitKeying(deps.db, req.params.zoneId, actor(req), req.body.fields);
      // The entry id tells the keyer nothing of the other keying beyond the status they are told anyway.
      const entryId = receipt.zoneStatus === 'verified' ? (await requireZone(deps.db, req.params.zoneId)).entryId : null;
      noteAudit(req, { detail: { keyingId: receipt.keying.id, slot: receipt.keying.slot, zoneStatus: receipt.zoneStatus, warnings: receipt.keying.warnings.map((w) => `${w.column}:${w.code}`), ...(entryId ? { entryId } : {}) } });
      // An empty row settles the zone too: it may be the book's last.
      if (receipt.zoneStatus === 'verified' || receipt.zoneStatus === 'empty') await repackageWhenKeyed(req, req.params.zoneId);
      return reply.code(201).send({ ...receipt, entryId });
    },
  });

  app.post<{ Params: { zoneId: string }; Body: { fields: KeyedFields } }>('/keying/zones/:zoneId/check', {
    schema: {
      tags, summary: 'Check answers before keying them (any subset of the columns): the date warnings the keying would get, and each date column read as ISO. Nothing is stored',
      params: zoneParam,
      body: { type: 'object', required: ['fields'], additionalProperties: false, properties: { fields: { type: 'object', maxProperties: 60, additionalProperties: answerIn } } },
      response: ok({ warnings: { type: 'array', items: warningSchema }, dates: { type: 'object', additionalProperties: { type: ['string', 'null'] } } }),
    },
    config: policy(KEYERS, 'keying.check'),
    handler: async (req) => {
      const zone = await zoneFor(req, req.params.zoneId);
      const layout = await requireLayout(deps.db, zone.layoutKey, zone.layoutVersion);
      const book = await getBook(deps.db, zone.bookId);
      if (!book) throw new AppError('ERR_BOOK_NOT_FOUND', `no book ${zone.bookId}`);
      const known = new Set(layout.columns.map((c) => c.key));
      const unknown = Object.keys(req.body.fields).find((k) => !known.has(k));
      if (unknown) throw new AppError('ERR_VALIDATION', `the layout has no column ${JSON.stringify(unknown)}`, { field: 'fields' });
      const dates: Record<string, string | null> = {};
      for (const c of layout.columns) {
        const f = req.body.fields[c.key];
        if ((c.field === 'event_date' || c.field === 'registration_date') && f && 'value' in f) dates[c.key] = readKeyedDate(f.value)?.iso ?? null;
      }
      return { warnings: dateWarnings(layout.columns, req.body.fields, book), dates };
    },
  });

  const sideSchema = { type: 'object', properties: { fields: fieldsOut, warnings: { type: 'array', items: warningSchema }, submittedAt: dateTime } } as const;
  app.get<{ Querystring: { bookId?: string; limit?: number } }>('/keying/disputes', {
    schema: {
      tags, summary: 'Disputed zones the caller may arbitrate (none they keyed): both keyings as A and B, and the columns that differ',
      querystring: { type: 'object', additionalProperties: false, properties: { bookId: uuid, limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 } } },
      response: ok({
        disputes: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              zone: zoneSchema, differences: { type: 'array', items: { type: 'string' } }, a: sideSchema, b: sideSchema,
              layout: { type: 'object', properties: { key: { type: 'string' }, version: { type: 'integer' }, name: { type: 'string' }, columns: { type: 'array', items: columnSchema } } },
            },
          },
        },
      }),
    },
    config: policy(ARBITRATORS, 'keying.disputes.read'),
    handler: async (req) => {
      const disputes = await listDisputes(deps.db, actor(req), { ...(req.query.bookId ? { bookId: req.query.bookId } : {}), limit: req.query.limit ?? 50, withhold: withholdFor(req) });
      noteAudit(req, { targetType: 'keying', detail: { zones: disputes.map((d) => d.zone.id) } });
      return { disputes };
    },
  });

  app.post<{ Params: { zoneId: string }; Body: { fields: Record<string, FieldDecision> } }>('/keying/zones/:zoneId/decision', {
    schema: {
      tags, summary: "Settle a disputed zone field by field: keying A's answer, B's, or a value or answer of your own; the zone is verified and becomes an entry (or, every column blank, is closed as an empty row)",
      params: zoneParam,
      body: {
        type: 'object', required: ['fields'], additionalProperties: false,
        properties: {
          fields: {
            type: 'object', minProperties: 1, maxProperties: 60,
            additionalProperties: { oneOf: [{ type: 'object', required: ['pick'], additionalProperties: false, properties: { pick: { type: 'string', enum: ['a', 'b'] } } }, ...answerIn.oneOf] },
          },
        },
      },
      response: ok({
        zoneId: uuid, zoneStatus: { type: 'string', enum: ['verified', 'empty'] },
        entryId: { type: ['string', 'null'], format: 'uuid', description: 'The verified entry; null when the decisions leave every column blank (an empty row, no entry)' },
        decided: { type: 'object', additionalProperties: { type: 'string' } },
      }),
    },
    config: policy(ARBITRATORS, 'keying.decision'),
    handler: async (req) => {
      await zoneFor(req, req.params.zoneId);
      const r = await decideZone(deps.db, req.params.zoneId, actor(req), req.body.fields);
      noteAudit(req, { detail: { entryId: r.entryId, decided: r.decided } });
      await repackageWhenKeyed(req, req.params.zoneId);
      return r;
    },
  });

  app.get<{ Params: { zoneId: string }; Querystring: { width: number; context: number } }>('/keying/zones/:zoneId/crop', {
    schema: {
      tags, summary: "The zone's row of the page as JPEG, with a margin, and `context` neighbouring rows above and below faded (for the keying and arbitration screens)",
      params: zoneParam,
      querystring: {
        type: 'object', additionalProperties: false,
        properties: { width: { type: 'integer', minimum: VIEW_WIDTH.min, maximum: VIEW_WIDTH.max, default: 1400 }, context: { type: 'integer', minimum: 0, maximum: MAX_CONTEXT_ROWS, default: 1 } },
      },
      response: { 200: { description: 'JPEG image', content: { 'image/jpeg': { schema: { type: 'string', format: 'binary' } } } }, 304: { description: 'Not modified', type: 'null' }, ...errorResponses },
    },
    // Keyers and arbitrators read the row they key or settle; like page images, never cached by others (api/index.ts).
    config: policy([...KEYERS, 'records_manager'], 'zone.image.read', { restricted: true }),
    handler: async (req, reply) => {
      const zone = await zoneFor(req, req.params.zoneId);
      const img = await zoneCrop(deps, zone, { width: req.query.width, context: req.query.context });
      reply.header('etag', `"${img.sha256}"`);
      if (etagMatches(req.headers['if-none-match'], img.sha256)) return reply.code(304).send();
      return reply.code(200).type(img.mediaType).header('content-disposition', 'inline').send(img.body);
    },
  });

  app.get<{ Querystring: { field: SuggestedField; q: string; bookId?: string; limit?: number } }>('/keying/suggestions', {
    schema: {
      tags, summary: 'Autocomplete for keyers: values keyed before in verified entries (names only), starting with q, most used first, from books the caller may read',
      querystring: {
        type: 'object', additionalProperties: false, required: ['field', 'q'],
        properties: { field: { type: 'string', enum: SUGGESTED_FIELDS }, q: { type: 'string', minLength: 1, maxLength: 100 }, bookId: uuid, limit: { type: 'integer', minimum: 1, maximum: 50, default: 10 } },
      },
      response: ok({ suggestions: { type: 'array', items: { type: 'object', properties: { value: { type: 'string' }, uses: { type: 'integer' } } } } }),
    },
    config: policy(KEYERS, 'keying.suggestions', { rateLimit: 600 }),
    handler: async (req) => {
      const { field, q, bookId, limit } = req.query;
      const suggestions = await suggestKeyedValues(deps.db, field, q, { ...(bookId ? { bookId } : {}), limit: limit ?? 10, withhold: withholdFor(req) });
      // Attributed (who, which field, how many shown); the prefix and the names stay out of the audit trail.
      noteAudit(req, { targetType: 'keying', detail: { field, ...(bookId ? { bookId } : {}), shown: suggestions.length } });
      return { suggestions };
    },
  });

  app.get<{ Querystring: { bookId?: string } }>('/keying/stats', {
    schema: {
      tags, summary: 'Keying progress per book (zones found, open, keyed once, disputed, verified, empty rows) and per keyer (keyings, agreement rate, fields overruled)',
      querystring: { type: 'object', additionalProperties: false, properties: { bookId: uuid } },
      response: ok({
        books: { type: 'array', items: { type: 'object', properties: { bookId: uuid, municipality: { type: 'string' }, registerType: { type: 'string' }, yearFrom: { type: 'integer' }, yearTo: { type: 'integer' }, zones: { type: 'integer' }, open: { type: 'integer' }, keyedOnce: { type: 'integer' }, disputed: { type: 'integer' }, verified: { type: 'integer' }, empty: { type: 'integer', description: 'Settled as empty ruled rows: no entry' }, firstPage: { type: 'integer', description: 'The first page with zones' } } } },
        keyers: { type: 'array', items: { type: 'object', properties: { keyer: { type: 'string' }, keyings: { type: 'integer' }, compared: { type: 'integer' }, agreed: { type: 'integer' }, agreementRate: { type: ['number', 'null'] }, fieldsOverruled: { type: 'integer' } } } },
      }),
    },
    config: policy(KEYING_STAFF),
    handler: async (req) => keyingStats(deps.db, req.query.bookId ? { bookId: req.query.bookId } : {}),
  });

  app.get<{ Params: { bookId: string }; Querystring: { format?: 'json' | 'csv' } }>('/books/:bookId/keyed-entries', {
    schema: {
      tags, summary: "A book's verified keyed entries with their answers per layout column, as JSON or CSV",
      params: bookIdParam,
      querystring: { type: 'object', additionalProperties: false, properties: { format: { type: 'string', enum: ['json', 'csv'], default: 'json' } } },
      response: {
        200: {
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  columns: { type: 'array', items: { type: 'string' } },
                  entries: { type: 'array', items: { type: 'object', properties: { zoneId: uuid, entryId: uuid, page: { type: 'integer' }, layoutKey: { type: 'string' }, layoutVersion: { type: 'integer' }, fields: fieldsOut, verifiedBy: { type: ['string', 'null'] }, verifiedAt: { type: ['string', 'null'], format: 'date-time' } } } },
                },
              },
            },
            'text/csv': { schema: { type: 'string', description: 'page, zone_id, entry_id, layout, layout_version, one column per layout column ([illegible], [blank] for explicit answers), verified_by, verified_at' } },
          },
        },
        ...errorResponses,
      },
    },
    config: policy([...PERSONAL_READERS, 'reviewer'], 'keying.export', { restricted: true }),
    handler: async (req, reply) => {
      const x = await exportKeyedEntries(deps.db, req.params.bookId);
      noteAudit(req, { detail: { entries: x.entries.length } });
      if (req.query.format === 'csv') return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="keyed-entries.csv"').send(keyedEntriesCsv(x));
      return x;
    },
  });
}
