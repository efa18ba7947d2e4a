/**
 * HTTP push against the real server: `HttpPush.serverLayer` on loopback, the real feed inbox on
 * PGlite or DATABASE_URL, and raw `node:http` requests as a record system sends them, with a
 * `Content-Length` body or a chunked one.
 */
import { AuditLog } from "@encompass/audit"
import { ActiveSources, FeedInbox } from "@encompass/pipeline"
import { JsonSource } from "@encompass/source-json"
import { Sql, SqlError, Vault } from "@encompass/store"
import { HttpServer } from "@effect/platform"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer, Schema, Stream } from "effect"
import { createHash } from "node:crypto"
import * as http from "node:http"
import * as HttpPush from "../src/HttpPush.js"
import { HttpConfig } from "../src/RegionConfig.js"

const token = "push-token-for-json-lines"
const limit = 256 * 1024

const StoreLive = FeedInbox.layer.pipe(
  Layer.provideMerge(AuditLog.layer.pipe(Layer.provideMerge(Vault.layerTest))),
  Layer.provideMerge(Sql.layerTest),
  Layer.provideMerge(ActiveSources.ActiveSources.layer([JsonSource.make()]))
)

const config = Schema.decodeUnknownSync(HttpConfig)({
  host: "127.0.0.1",
  port: 0,
  maxFeedBytes: limit,
  tokens: [{ source: "json-lines", sha256: createHash("sha256").update(token).digest("hex") }]
})

/** The API's port for the test's scope. */
const listening = Effect.gen(function*() {
  const context = yield* Layer.build(HttpPush.serverLayer(config, "test"))
  const server = yield* Effect.provide(HttpServer.HttpServer, context)
  return server.address._tag === "TcpAddress" ? server.address.port : 0
})

interface Answer {
  readonly status: number | null
  readonly body: string
  /** The socket error the client saw, if any. */
  readonly error: string | null
  /** Whether the client got to send its whole body. */
  readonly sent: boolean
}

/**
 * POSTs `bytes` as a record system would, in 64 KiB writes that respect back-pressure, and
 * resolves once the request is closed with the answer and any socket error the client saw. A
 * fresh connection each time, so one test's connection never carries another's request.
 */
const post = (port: number, bytes: number, framing: "content-length" | "chunked", fill = "x") =>
  Effect.async<Answer>((resume) => {
    let status: number | null = null
    let body = ""
    let error: string | null = null
    let sent = false
    const request = http.request({
      host: "127.0.0.1",
      port,
      agent: false,
      method: "POST",
      path: "/v1/feeds/json-lines?name=big.jsonl",
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/x-ndjson",
        ...(framing === "chunked" ? { "transfer-encoding": "chunked" } : { "content-length": String(bytes) })
      }
    })
    request.on("response", (response) => {
      status = response.statusCode ?? null
      response.setEncoding("utf8")
      response.on("data", (text: string) => (body += text))
      response.on("error", (e) => (error ??= (e as NodeJS.ErrnoException).code ?? e.message))
    })
    request.on("error", (e) => (error ??= (e as NodeJS.ErrnoException).code ?? e.message))
    request.on("finish", () => (sent = true))
    request.on("close", () => resume(Effect.succeed({ status, body, error, sent })))
    const piece = Buffer.alloc(64 * 1024, fill)
    let left = bytes
    const write = () => {
      while (left > 0 && !request.destroyed) {
        const n = Math.min(left, piece.length)
        left -= n
        if (!request.write(piece.subarray(0, n))) return void request.once("drain", write)
      }
      if (!request.destroyed) request.end()
    }
    write()
  })

const tooLarge = { _tag: "PayloadTooLarge", message: `a feed may be at most ${limit} bytes`, maxBytes: limit }

const storedFeeds = Effect.flatMap(Sql.Sql, (sql) =>
  sql.query<{ feeds: number; chunks: number }>`SELECT (SELECT count(*)::int FROM feed) AS feeds, (SELECT count(*)::int FROM feed_chunk) AS chunks`
).pipe(Effect.map((rows) => rows[0]))

const feedCount = Effect.map(storedFeeds, (counts) => counts?.feeds ?? 0)

layer(StoreLive, { timeout: 120_000 })("HttpPush", (it) => {
  it.scoped("a chunked body over the limit is answered 413 with the JSON error, and nothing is stored", () =>
    Effect.gen(function*() {
      const port = yield* listening
      const before = yield* storedFeeds
      const answer = yield* post(port, limit + limit / 2, "chunked")
      expect(answer).toMatchObject({ status: 413, error: null, sent: true })
      expect(JSON.parse(answer.body)).toEqual(tooLarge)
      expect(yield* storedFeeds).toEqual(before)
    }))

  it.scoped("a Content-Length body over the limit is answered 413 with the same JSON error, and nothing is stored", () =>
    Effect.gen(function*() {
      const port = yield* listening
      const before = yield* storedFeeds
      const answer = yield* post(port, limit + limit / 2, "content-length")
      expect(answer).toMatchObject({ status: 413, error: null, sent: true })
      expect(JSON.parse(answer.body)).toEqual(tooLarge)
      expect(yield* storedFeeds).toEqual(before)
    }))

  it.scoped("exactly maxFeedBytes bytes are accepted and one byte more is refused, chunked or with a Content-Length", () =>
    Effect.gen(function*() {
      const port = yield* listening
      for (const framing of ["content-length", "chunked"] as const) {
        const count = yield* feedCount
        // Each framing sends bytes of its own, so neither is a repeat of the other.
        const at = yield* post(port, limit, framing, framing === "chunked" ? "c" : "l")
        expect([framing, at.status, JSON.parse(at.body)]).toMatchObject([framing, 202, { bytes: limit, repeat: false }])
        expect(yield* feedCount).toBe(count + 1)
        const over = yield* post(port, limit + 1, framing)
        expect([framing, over.status, JSON.parse(over.body)]).toEqual([framing, 413, tooLarge])
        expect(yield* feedCount).toBe(count + 1)
      }
    }))

  it.scoped("a store that fails part-way through a chunked body is answered 503, not a connection reset", () =>
    Effect.gen(function*() {
      // Takes the first piece of the body, then the database goes away.
      const failing: FeedInbox.FeedInbox = {
        receive: (feed) =>
          Stream.runHead(feed.content).pipe(
            Effect.zipRight(new SqlError.SqlError({ module: "Sql", method: "query", reason: "Connection", detail: "connection refused" }))
          )
      }
      const port = yield* Effect.provideService(listening, FeedInbox.FeedInbox, failing)
      const answer = yield* post(port, limit, "chunked")
      expect(answer).toMatchObject({ status: 503, error: null, sent: true })
      expect(JSON.parse(answer.body)).toMatchObject({ _tag: "Unavailable" })
    }))

  it.scoped("a body that goes on far past the limit is not read to its end: the connection is cut", () =>
    Effect.gen(function*() {
      const port = yield* listening
      const before = yield* storedFeeds
      const answer = yield* post(port, 64 * limit, "chunked")
      expect(answer.sent).toBe(false)
      expect(yield* storedFeeds).toEqual(before)
    }))
})
