/**
 * The inbox every intake transport hands its feeds to (SFTP drop, SMTP inbox, HTTP push, file).
 * `receive` stores the raw bytes durably — encrypted, with sha256, size, source, transport and
 * time — before anything decodes them, so a transport may acknowledge its peer (move the file to
 * `done/`, answer 250, answer 202) as soon as `receive` succeeds: nothing accepted is lost.
 * Receiving the same bytes from the same source again returns the first feed, marked `repeat`.
 */
import type { Ids } from "@encompass/domain"
import type { RawFeed } from "@encompass/plugin-sdk"
import type { SqlError } from "@encompass/store"
import { Context, Effect, Layer, Ref, Stream } from "effect"
import { createHash } from "node:crypto"

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
