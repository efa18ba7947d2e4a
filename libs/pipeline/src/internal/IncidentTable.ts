/**
 * The `incident` table: one row per occurrence version as normalised from its source, with the
 * hash that tells a record received again from a different one at the same version.
 */
import { Incident } from "@encompass/domain"
import type { SqlError } from "@encompass/store"
import { Sql } from "@encompass/store"
import { DateTime, Effect, Option, Schema } from "effect"
import { createHash } from "node:crypto"

const encode = Schema.encodeSync(Incident.Incident)

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex")

/** JSON with sorted keys, so a body read back from jsonb and a fresh one compare by content. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v)

/**
 * The record's content without where it sat in its feed (each child's `locator`): the same row
 * replayed alone, or at another line, is the same record.
 */
const content = (body: unknown): string => {
  const { children, ...rest } = body as { readonly children?: ReadonlyArray<Record<string, unknown>> }
  return canonical({ ...rest, children: (children ?? []).map(({ locator: _locator, ...child }) => child) })
}

/** Inserts the version unless it is stored; the primary key, not a prior read, decides, so two gateways cannot both act on it. */
export const insert = (incident: Incident.Incident, feedId: string): Effect.Effect<boolean, SqlError.SqlError, Sql.Sql> =>
  Effect.gen(function*() {
    const sql = yield* Sql.Sql
    const body = encode(incident)
    const inserted = yield* sql.use((s) =>
      s`INSERT INTO incident (source, occurrence, version, category, occurred_at, feed_id, body, body_sha256)
        VALUES (${incident.source}, ${incident.occurrence}, ${incident.version}, ${incident.category},
          ${DateTime.toDate(incident.occurredAt)}, ${feedId}, ${s.json(body as never)}, ${sha256(JSON.stringify(body))})
        ON CONFLICT (source, occurrence, version) DO NOTHING RETURNING 1`
    )
    return inserted.length > 0
  })

const StoredRow = Schema.Struct({ feed_id: Schema.String, body_sha256: Schema.String, body: Schema.Unknown })

export interface Stored {
  readonly feedId: string
  readonly incident: Incident.Incident
  /** Whether `than` is this version's record: byte for byte, or the same content at another place in a feed. */
  readonly sameRecordAs: (than: Incident.Incident) => boolean
}

/** The stored version; none when it is not stored. */
export const find = (
  source: string,
  occurrence: string,
  version: number
): Effect.Effect<Option.Option<Stored>, SqlError.SqlError, Sql.Sql> =>
  Effect.gen(function*() {
    const sql = yield* Sql.Sql
    const rows = yield* sql.query`SELECT feed_id::text AS feed_id, body_sha256, body FROM incident
      WHERE source = ${source} AND occurrence = ${occurrence} AND version = ${version}`
    const [row] = yield* Effect.orDie(Schema.decodeUnknown(Schema.Array(StoredRow))(rows))
    if (row === undefined) return Option.none()
    const incident = yield* Effect.orDie(Schema.decodeUnknown(Incident.Incident)(row.body))
    return Option.some({
      feedId: row.feed_id,
      incident,
      sameRecordAs: (than: Incident.Incident) => {
        const body = encode(than)
        return sha256(JSON.stringify(body)) === row.body_sha256 || content(body) === content(row.body)
      }
    })
  })

/** The versions of an occurrence stored, newest first. */
export const versions = (source: string, occurrence: string): Effect.Effect<ReadonlyArray<number>, SqlError.SqlError, Sql.Sql> =>
  Effect.flatMap(Sql.Sql, (sql) =>
    sql.query`SELECT version FROM incident WHERE source = ${source} AND occurrence = ${occurrence} ORDER BY version DESC`
  ).pipe(
    Effect.flatMap((rows) => Effect.orDie(Schema.decodeUnknown(Schema.Array(Schema.Struct({ version: Schema.Number })))(rows))),
    Effect.map((rows) => rows.map((r) => r.version))
  )

/** The source and newest version of an occurrence, by reference alone; several when two sources share the reference. */
export const latestByReference = (
  occurrence: string
): Effect.Effect<ReadonlyArray<{ readonly source: string; readonly version: number }>, SqlError.SqlError, Sql.Sql> =>
  Effect.flatMap(Sql.Sql, (sql) =>
    sql.query`SELECT source, max(version) AS version FROM incident WHERE occurrence = ${occurrence} GROUP BY source ORDER BY source`
  ).pipe(Effect.flatMap((rows) => Effect.orDie(Schema.decodeUnknown(Schema.Array(Schema.Struct({ source: Schema.String, version: Schema.Number })))(rows))))
