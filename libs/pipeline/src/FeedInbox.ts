/**
 * The inbox every intake transport hands its feeds to (SFTP drop, SMTP inbox, HTTP push, file).
 * `receive` stores the raw bytes durably — encrypted, with sha256, size, source, transport and
 * time — before anything decodes them, so a transport may acknowledge its peer (move the file to
 * `done/`, answer 250, answer 202) as soon as `receive` succeeds: nothing accepted is lost.
 * Receiving the same bytes from the same source again returns the first feed, marked `repeat`.
 */
import { AuditLog } from "@encompass/audit"
import { Ids } from "@encompass/domain"
import { RawFeed } from "@encompass/plugin-sdk"
import { Sql, SqlError, Vault } from "@encompass/store"
import { Chunk, Context, Duration, Effect, Either, Layer, Option, Ref, Stream } from "effect"
import { createHash, randomBytes } from "node:crypto"

/** `NOTIFY` channels that wake the workers of every gateway process on the database. */
export const wakeChannels = { feeds: "encompass_feeds", outbox: "encompass_outbox" } as const

/** How a feed arrived. `quarantine` is an operator's replay of a corrected record. */
export type Transport = "file" | "sftp" | "smtp" | "http" | "quarantine"

export interface Received {
  /** The feed's id, as a decimal string (a bigint in the database). */
  readonly id: string
  readonly source: Ids.SourceId
  readonly sha256: string
  readonly size: number
  /** True when these bytes from this source were received before; nothing new was stored. */
  readonly repeat: boolean
}

export interface FeedInbox {
  readonly receive: (
    feed: RawFeed.RawFeed,
    transport: Transport
  ) => Effect.Effect<Received, RawFeed.FeedReadError | SqlError.SqlError>
}

export const FeedInbox = Context.GenericTag<FeedInbox>("@encompass/pipeline/FeedInbox")

/** Stored bytes are sealed in pieces of this size, so no feed is ever held whole in memory. */
const CHUNK_BYTES = 1024 * 1024

/** Cuts a byte stream into pieces of `size` bytes (the last may be shorter). */
const pieces = (size: number) => <E>(content: Stream.Stream<Uint8Array, E>): Stream.Stream<Uint8Array, E> =>
  Stream.suspend(() => {
    let pending: Array<Uint8Array> = []
    let pendingBytes = 0
    const take = (final: boolean): Array<Uint8Array> => {
      const out: Array<Uint8Array> = []
      let all = Buffer.concat(pending)
      while (all.byteLength >= size || (final && all.byteLength > 0)) {
        out.push(all.subarray(0, Math.min(size, all.byteLength)))
        all = all.subarray(Math.min(size, all.byteLength))
      }
      pending = all.byteLength > 0 ? [all] : []
      pendingBytes = all.byteLength
      return out
    }
    return content.pipe(
      Stream.map(Option.some),
      Stream.concat(Stream.succeed(Option.none<Uint8Array>())),
      Stream.mapConcat(Option.match({
        onSome: (bytes) => {
          pending.push(bytes)
          pendingBytes += bytes.byteLength
          return pendingBytes >= size ? take(false) : []
        },
        onNone: () => take(true)
      }))
    )
  })

const chunkContext = (feedId: string, seq: number) => `feed:${feedId}:${seq}`

/**
 * The inbox on the database. Each piece is inserted on its own, not in one long transaction, so
 * a slow upload never holds the embedded store's only connection; the row becomes `stored` (and
 * visible to the decoder) only once every byte is in. A crash mid-upload leaves a `receiving`
 * row that `sweepAbandoned` removes; the peer was never acknowledged, so it sends again.
 */
export const make: Effect.Effect<FeedInbox, never, Sql.Sql | Vault.Vault | AuditLog.AuditLog> = Effect.gen(function*() {
  const sql = yield* Sql.Sql
  const vault = yield* Vault.Vault
  const audit = yield* AuditLog.AuditLog

  const finish = (id: string, feed: RawFeed.RawFeed, transport: Transport, sha256: string, size: number) =>
    sql.transaction(Effect.gen(function*() {
      const [existing] = yield* sql.query<{ id: string; size_bytes: string }>`SELECT id::text AS id, size_bytes::text AS size_bytes FROM feed
        WHERE source = ${feed.source} AND sha256 = ${sha256} AND id <> ${id}`
      const repeat = existing !== undefined
      if (repeat) {
        yield* sql.query`DELETE FROM feed WHERE id = ${id}`
      } else {
        yield* sql.query`UPDATE feed SET sha256 = ${sha256}, size_bytes = ${size}, state = 'stored', received_at = now() WHERE id = ${id}`
        // Wakes every gateway's feed worker when this commits (the polling is only the fallback).
        yield* sql.query`SELECT pg_notify(${wakeChannels.feeds}, ${id})`
      }
      const feedId = existing?.id ?? id
      yield* audit.append({
        stage: "received",
        subject: `feed:${feedId}`,
        detail: { source: feed.source, transport, sha256, bytes: size, repeat }
      })
      return { id: feedId, source: feed.source, sha256, size, repeat }
    }))

  const receive: FeedInbox["receive"] = (feed, transport) =>
    Effect.gen(function*() {
      const key = yield* vault.newKey
      const [row] = yield* sql.use((s) =>
        s<Array<{ id: string }>>`INSERT INTO feed (source, name, transport, sha256, size_bytes, state, data_key)
          VALUES (${feed.source}, ${feed.name}, ${transport}, ${`receiving:${randomBytes(12).toString("hex")}`}, 0, 'receiving', ${Buffer.from(key.wrapped)})
          RETURNING id::text AS id`
      )
      if (row === undefined) return yield* Effect.dieMessage("INSERT ... RETURNING returned no row")
      const id = row.id
      const hash = createHash("sha256")
      let size = 0
      let seq = 0
      const stored = feed.content.pipe(
        pieces(CHUNK_BYTES),
        Stream.runForEach((piece) => {
          hash.update(piece)
          size += piece.byteLength
          const sealed = Buffer.from(key.seal(piece, chunkContext(id, seq)))
          return sql.query`INSERT INTO feed_chunk (feed_id, seq, sealed) VALUES (${id}, ${seq++}, ${sealed})`
        }),
        Effect.zipRight(Effect.suspend(() => {
          const sha256 = hash.digest("hex")
          return finish(id, feed, transport, sha256, size).pipe(
            // Two gateways finishing the same bytes at once: the unique (source, sha256) makes one the repeat.
            Effect.catchIf(
              (e): e is SqlError.SqlError => e._tag === "SqlError" && e.code === "23505",
              () => finish(id, feed, transport, sha256, size)
            )
          )
        }))
      )
      return yield* stored.pipe(
        Effect.onError(() => Effect.ignore(sql.query`DELETE FROM feed WHERE id = ${id} AND state = 'receiving'`))
      )
    })

  return { receive }
})

/** The inbox on the database, sealing feeds with the vault's data keys. */
export const layer: Layer.Layer<FeedInbox, never, Sql.Sql | Vault.Vault | AuditLog.AuditLog> = Layer.effect(FeedInbox, make)

export interface StoredFeedRow {
  readonly id: string
  readonly source: Ids.SourceId
  readonly name: string
  readonly transport: string
  readonly state: "receiving" | "stored" | "processed" | "failed"
  readonly sha256: string
}

/** A stored feed opened for decoding. */
export interface OpenedFeed {
  readonly row: StoredFeedRow
  readonly feed: RawFeed.RawFeed
  /** The feed's data key, for sealing what is kept from it (quarantined records); none if unreadable. */
  readonly dataKey: Option.Option<Vault.DataKey>
}

/** How long reading a stored piece waits for the database to come back before the feed fails. */
const pieceReadPatience = Duration.seconds(30)

/**
 * A stored feed as a RawFeed whose content is decrypted piece by piece as the decoder pulls it,
 * one query per piece (no cursor holds the embedded store's connection while the decoder
 * writes). A key that does not unwrap, or a piece that does not authenticate, ends the content
 * with a FeedReadError.
 */
export const open = (id: string): Effect.Effect<Option.Option<OpenedFeed>, SqlError.SqlError, Sql.Sql | Vault.Vault> =>
  Effect.gen(function*() {
    const sql = yield* Sql.Sql
    const vault = yield* Vault.Vault
    const [row] = yield* sql.query<StoredFeedRow & { data_key: Uint8Array | null }>`SELECT id::text AS id, source, name, transport, state, sha256, data_key
      FROM feed WHERE id = ${id}`
    if (row === undefined) return Option.none()
    const { data_key: wrapped, ...stored } = row
    const unreadable = (reason: string) => new RawFeed.FeedReadError({ reason })
    const key = wrapped === null
      ? Either.left(unreadable("the feed's bytes were not kept (received before raw feeds were stored)"))
      : yield* Effect.either(vault.unwrap(wrapped).pipe(Effect.mapError((e) => unreadable(`the stored feed cannot be decrypted: ${e.detail}`))))
    const content = Either.match(key, {
      onLeft: (error) => Stream.fail(error),
      onRight: (key) =>
        Stream.paginateChunkEffect(0, (seq) =>
          sql.query<{ sealed: Uint8Array }>`SELECT sealed FROM feed_chunk WHERE feed_id = ${id} AND seq = ${seq}`.pipe(
            // A database restart is waited out: an unreadable feed is marked failed for good.
            SqlError.retryWhileAway(pieceReadPatience),
            Effect.mapError((e) => unreadable(`the stored feed cannot be read: ${e.message}`)),
            Effect.flatMap(([piece]) =>
              piece === undefined
                ? Effect.succeed([Chunk.empty<Uint8Array>(), Option.none<number>()] as const)
                : key.open(piece.sealed, chunkContext(id, seq)).pipe(
                  Effect.mapError((e) => unreadable(`stored piece ${seq} of the feed: ${e.detail}`)),
                  Effect.map((bytes) => [Chunk.of(bytes), Option.some(seq + 1)] as const)
                )
            )
          ))
    })
    const source = Ids.SourceId.make(stored.source)
    return Option.some({ row: { ...stored, source }, feed: { source, name: stored.name, content }, dataKey: Either.getRight(key) })
  })

/**
 * Removes uploads that never finished (the gateway stopped mid-upload), older than `olderThan`.
 * Their peers were never acknowledged and will send again.
 */
export const sweepAbandoned = (olderThan: Duration.DurationInput): Effect.Effect<number, SqlError.SqlError, Sql.Sql> =>
  Effect.flatMap(Sql.Sql, (sql) =>
    sql.query<{ id: string }>`DELETE FROM feed WHERE state = 'receiving'
      AND received_at < now() - make_interval(secs => ${Duration.toSeconds(olderThan)}) RETURNING id::text AS id`
  ).pipe(Effect.map((rows) => rows.length))

/** A feed as the in-memory inbox keeps it, for transport tests. */
export interface StoredFeed extends Received {
  readonly name: string
  readonly transport: Transport
  readonly bytes: Uint8Array
}

/** An in-memory inbox for transport tests; `feeds` lists what was received, repeats excluded. */
export const makeMemory = Effect.gen(function*() {
  const stored = yield* Ref.make<ReadonlyArray<StoredFeed>>([])
  const inbox: FeedInbox = {
    receive: (feed, transport) =>
      Effect.gen(function*() {
        const chunks = yield* Stream.runCollect(feed.content)
        const bytes = Buffer.concat([...chunks])
        const sha256 = createHash("sha256").update(bytes).digest("hex")
        return yield* Ref.modify(stored, (feeds): [Received, ReadonlyArray<StoredFeed>] => {
          const existing = feeds.find((f) => f.source === feed.source && f.sha256 === sha256)
          if (existing !== undefined) return [{ ...received(existing), repeat: true }, feeds]
          const next: StoredFeed = {
            id: String(feeds.length + 1),
            source: feed.source,
            sha256,
            size: bytes.byteLength,
            repeat: false,
            name: feed.name,
            transport,
            bytes
          }
          return [received(next), [...feeds, next]]
        })
      }),
  }
  return { inbox, feeds: Ref.get(stored) }
})

const received = (feed: StoredFeed): Received => ({ id: feed.id, source: feed.source, sha256: feed.sha256, size: feed.size, repeat: feed.repeat })

/** The in-memory inbox as a layer, with its `feeds` accessor through `MemoryFeeds`. */
export class MemoryFeeds extends Context.Tag("@encompass/pipeline/FeedInbox/MemoryFeeds")<
  MemoryFeeds,
  Effect.Effect<ReadonlyArray<StoredFeed>>
>() {}

export const layerMemory: Layer.Layer<FeedInbox | MemoryFeeds> = Layer.effectContext(
  Effect.map(makeMemory, ({ feeds, inbox }) => Context.make(FeedInbox, inbox).pipe(Context.add(MemoryFeeds, feeds)))
)
