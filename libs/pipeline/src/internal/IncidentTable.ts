/**
 * The `incident` table: one row per occurrence version as normalised from its source, sealed per
 * subject (`sealed`: the occurrence's details under its key, each child under theirs), with a keyed
 * MAC that tells a record received again from a different one at the same version.
 */
import { Incident } from "@encompass/domain"
import type { SqlError } from "@encompass/store"
import { Sql, StoreKeys } from "@encompass/store"
import type { Vault } from "@encompass/store"
import { DateTime, Effect, Either, Option, Schema } from "effect"
import * as Sealed from "./sealed.js"

const encode = Schema.encodeSync(Incident.Incident)
const decode = Schema.decodeUnknownEither(Incident.Incident)

/** JSON with sorted keys, so a body read back and a fresh one compare by content. */
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

const context = (source: string, occurrence: string, version: number) => `incident:${source}/${occurrence}/${version}`

/** The keyed MAC of a record's content: equal for the same record at any place in a feed, and no use to anyone guessing it without the key. */
// The lookup key is checked at start-up (`StoreKeys.checkMasterKey`): one that does not unwrap later is a defect.
const macOf = (body: unknown) => Effect.map(Effect.catchTag(StoreKeys.get("lookup"), "VaultError", Effect.die), (key) => key.mac(content(body)))

/** Inserts the version unless it is stored; the primary key, not a prior read, decides, so two gateways cannot both act on it. */
export const insert = (incident: Incident.Incident, feedId: string): Effect.Effect<boolean, SqlError.SqlError, Sql.Sql | Vault.Vault> =>
  Effect.gen(function*() {
    const sql = yield* Sql.Sql
    const { children, ...shared } = encode(incident)
    const sealed = yield* Sealed.seal(
      { source: incident.source, occurrence: incident.occurrence, context: context(incident.source, incident.occurrence, incident.version) },
      { shared, children: children.map((child) => ({ ref: child.ref, value: child })) }
    )
    const mac = yield* macOf(encode(incident))
    const inserted = yield* sql.use((s) =>
      s`INSERT INTO incident (source, occurrence, version, category, occurred_at, feed_id, body, body_mac)
        VALUES (${incident.source}, ${incident.occurrence}, ${incident.version}, ${incident.category},
          ${DateTime.toDate(incident.occurredAt)}, ${feedId}, ${s.json(sealed as never)}, ${mac})
        ON CONFLICT (source, occurrence, version) DO NOTHING RETURNING 1`
    )
    return inserted.length > 0
  })

export interface Stored {
  readonly feedId: string
  /** The record, or why it can no longer be read (its subjects' keys were shredded). */
  readonly incident: Either.Either<Incident.Incident, Sealed.Unreadable>
  /** Whether `than` is this version's record, at any place in a feed; told by its MAC alone once shredded. */
  readonly sameRecordAs: (than: Incident.Incident) => Effect.Effect<boolean, SqlError.SqlError, Sql.Sql | Vault.Vault>
}

/** The stored version; none when it is not stored. */
export const find = (
  source: string,
  occurrence: string,
  version: number
): Effect.Effect<Option.Option<Stored>, SqlError.SqlError, Sql.Sql | Vault.Vault> =>
  Effect.gen(function*() {
    const sql = yield* Sql.Sql
    const [row] = yield* sql.query<{ feed_id: string; body_mac: string; body: unknown }>`SELECT feed_id::text AS feed_id, body_mac, body FROM incident
      WHERE source = ${source} AND occurrence = ${occurrence} AND version = ${version}`
    if (row === undefined) return Option.none()
    const opened = yield* Sealed.open(row.body, context(source, occurrence, version))
    const incident = Either.flatMap(opened, ({ children, removed, shared }) =>
      removed.length > 0 ? Either.left<Sealed.Unreadable>({ _tag: "Shredded" }) : Either.mapLeft(
        decode({ ...(shared as object), children: children.map((c) => c.value) }),
        (): Sealed.Unreadable => ({ _tag: "Corrupt", detail: "the stored incident does not decode" })
      ))
    return Option.some({
      feedId: row.feed_id,
      incident,
      sameRecordAs: (than: Incident.Incident) => Effect.map(macOf(encode(than)), (mac) => mac === row.body_mac)
    })
  })

/** The stored version when it can still be read; none when it is not stored or its data was shredded. */
export const findReadable = (
  source: string,
  occurrence: string,
  version: number
): Effect.Effect<Option.Option<{ readonly feedId: string; readonly incident: Incident.Incident }>, SqlError.SqlError, Sql.Sql | Vault.Vault> =>
  Effect.map(find(source, occurrence, version), Option.flatMap((stored) =>
    Either.match(stored.incident, {
      onLeft: () => Option.none(),
      onRight: (incident) => Option.some({ feedId: stored.feedId, incident })
    })))

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
