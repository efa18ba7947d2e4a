import { AuditLog } from "@encompass/audit"
import { Ids } from "@encompass/domain"
import { RawFeed } from "@encompass/plugin-sdk"
import { Sql, Vault } from "@encompass/store"
import { expect, layer } from "@effect/vitest"
import { Chunk, Effect, Layer, Option, Stream } from "effect"
import { FeedInbox, Ingest } from "../src/index.js"

const TestLive = FeedInbox.layer.pipe(
  Layer.provideMerge(AuditLog.layer.pipe(Layer.provideMerge(Vault.layerTest))),
  Layer.provideMerge(Sql.layerTest)
)

const source = Ids.SourceId.make("niche-rms")
const bytes = (text: string) => new TextEncoder().encode(text)
const feedOf = (name: string, ...pieces: ReadonlyArray<string>): RawFeed.RawFeed => ({
  source,
  name,
  content: Stream.fromIterable(pieces.map(bytes))
})
const receive = (feed: RawFeed.RawFeed) => Effect.flatMap(FeedInbox.FeedInbox, (inbox) => inbox.receive(feed, "http"))
const readBack = (id: string) =>
  FeedInbox.open(id).pipe(
    Effect.flatMap(Option.match({ onNone: () => Effect.dieMessage("not stored"), onSome: ({ feed }) => Stream.runCollect(feed.content) })),
    Effect.map((chunks) => Buffer.concat([...Chunk.toReadonlyArray(chunks)]).toString("utf8"))
  )
const rows = <A extends object>(strings: TemplateStringsArray, ...params: ReadonlyArray<string>) =>
  Effect.flatMap(Sql.Sql, (sql) => sql.query<A>(strings, ...params))

layer(TestLive, { timeout: 120_000 })("FeedInbox", (it) => {
  it.effect("stores the bytes encrypted before decoding, and gives them back exactly", () =>
    Effect.gen(function*() {
      const received = yield* receive(feedOf("a.csv", "occurrence,child\n", "43/1,Jane Doe\n"))
      expect(received).toMatchObject({ repeat: false, size: 31 })
      const [row] = yield* rows<{ state: string; transport: string }>`SELECT state, transport FROM feed WHERE id = ${received.id}`
      expect(row).toEqual({ state: "stored", transport: "http" })
      const stored = yield* rows<{ sealed: Uint8Array }>`SELECT sealed FROM feed_chunk WHERE feed_id = ${received.id}`
      expect(stored.length).toBeGreaterThan(0)
      for (const piece of stored) expect(Buffer.from(piece.sealed).toString("latin1")).not.toContain("Jane")
      expect(yield* readBack(received.id)).toBe("occurrence,child\n43/1,Jane Doe\n")
    }))

  it.effect("the same bytes from the same source again are a repeat of the first feed, however chunked", () =>
    Effect.gen(function*() {
      const first = yield* receive(feedOf("b.csv", "same bytes"))
      const again = yield* receive(feedOf("b-again.csv", "same ", "by", "tes"))
      expect(again).toEqual({ ...first, repeat: true })
      const [count] = yield* rows<{ n: number }>`SELECT count(*)::int AS n FROM feed WHERE sha256 = ${first.sha256}`
      expect(count?.n).toBe(1)
    }))

  it.effect("a feed larger than one stored piece round-trips", () =>
    Effect.gen(function*() {
      const big = "x".repeat(1024 * 1024 + 17) + "end"
      const received = yield* receive(feedOf("big.csv", big.slice(0, 700_000), big.slice(700_000)))
      const pieces = yield* rows<{ n: number }>`SELECT count(*)::int AS n FROM feed_chunk WHERE feed_id = ${received.id}`
      expect(pieces[0]?.n).toBe(2)
      expect(yield* readBack(received.id)).toBe(big)
    }))

  it.effect("an upload that breaks off stores nothing, so the peer's resend is not a repeat", () =>
    Effect.gen(function*() {
      const broken: RawFeed.RawFeed = {
        source,
        name: "broken.csv",
        content: Stream.concat(Stream.make(bytes("half a fe")), Stream.fail(new RawFeed.FeedReadError({ reason: "connection reset" })))
      }
      const error = yield* Effect.flip(receive(broken))
      expect(error._tag).toBe("FeedReadError")
      const [left] = yield* rows<{ n: number }>`SELECT count(*)::int AS n FROM feed WHERE name = 'broken.csv'`
      expect(left?.n).toBe(0)
    }))

  it.effect("an upload abandoned by a crash is swept; stored feeds are not", () =>
    Effect.gen(function*() {
      const kept = yield* receive(feedOf("kept.csv", "kept"))
      yield* rows`INSERT INTO feed (source, name, transport, sha256, size_bytes, state, received_at)
        VALUES ('niche-rms', 'crashed.csv', 'sftp', 'receiving:test', 0, 'receiving', now() - interval '2 days')`
      expect(yield* FeedInbox.sweepAbandoned("1 day")).toBe(1)
      const [row] = yield* rows<{ state: string }>`SELECT state FROM feed WHERE id = ${kept.id}`
      expect(row?.state).toBe("stored")
    }))

  it.effect("stored feeds are claimed oldest first, and a claimed feed is not claimed again until its lease ends", () =>
    Effect.gen(function*() {
      yield* rows`UPDATE feed SET state = 'processed' WHERE state = 'stored'`
      const a = yield* receive(feedOf("c1.csv", "c1"))
      const b = yield* receive(feedOf("c2.csv", "c2"))
      expect(yield* Ingest.claimStored("1 minute")).toEqual(Option.some(a.id))
      expect(yield* Ingest.claimStored("1 minute")).toEqual(Option.some(b.id))
      expect(yield* Ingest.claimStored("1 minute")).toEqual(Option.none())
      yield* rows`UPDATE feed SET claimed_until = now() - interval '1 second' WHERE id = ${a.id}`
      expect(yield* Ingest.claimStored("1 minute")).toEqual(Option.some(a.id))
    }))

  it.effect("a feed sealed under another master key cannot be read back, and says so", () =>
    Effect.gen(function*() {
      const received = yield* receive(feedOf("other-key.csv", "secret"))
      const other = yield* Vault.make(Vault.parseMasterKey(Vault.generateMasterKey()).pipe(Effect.runSync))
      const error = yield* Effect.flip(readBack(received.id).pipe(Effect.provideService(Vault.Vault, other)))
      expect(error.message).toContain("cannot be decrypted")
    }))
})
