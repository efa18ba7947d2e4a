/**
 * The HTTP API's handlers and server. A push streams the request body into the feed inbox —
 * never whole into memory — and answers 202 with the feed id once every byte is stored; the same
 * bytes pushed again answer 202 with the first feed's id (`repeat: true`). Bearer tokens are
 * compared by sha256 in constant time; a token is valid only for the sources it is listed for.
 */
import { HttpApiBuilder, HttpServer, HttpServerRequest } from "@effect/platform"
import { NodeHttpServer, NodeHttpServerRequest, NodeStream } from "@effect/platform-node"
import { Ids } from "@encompass/domain"
import { ActiveSources, FeedInbox } from "@encompass/pipeline"
import { RawFeed } from "@encompass/plugin-sdk"
import { Sql } from "@encompass/store"
import { Effect, Layer, Redacted, Stream } from "effect"
import { createHash, timingSafeEqual } from "node:crypto"
import { createServer } from "node:http"
import type { IncomingMessage } from "node:http"
import {
  Authorization,
  BadFeed,
  Caller,
  FeedAccepted,
  Forbidden,
  GatewayApi,
  Health,
  PayloadTooLarge,
  Unauthorized,
  UnknownSource,
  Unavailable
} from "./HttpApi.js"
import type { HttpConfig } from "./RegionConfig.js"

const digest = (text: string) => createHash("sha256").update(text).digest()

export const authorizationLayer = (config: HttpConfig): Layer.Layer<Authorization> =>
  Layer.succeed(Authorization, {
    bearer: (token) =>
      Effect.suspend(() => {
        const presented = digest(Redacted.value(token))
        // Every configured token is compared, so timing says nothing about which one matched.
        const sources = new Set(
          config.tokens.filter((t) => timingSafeEqual(presented, Buffer.from(t.sha256, "hex"))).map((t) => t.source)
        )
        return sources.size === 0
          ? Effect.fail(new Unauthorized({ message: "a valid bearer token is required" }))
          : Effect.succeed(Caller.of({ sources }))
      })
  })

/** Keeps a name for the record only: no path, no control characters. */
const feedName = (name: string | undefined, source: string) => {
  const clean = (name ?? "").split(/[\\/]/).pop()?.replace(/[^\w.\- ]/g, "_").trim() ?? ""
  return clean === "" ? `${source}-push` : clean
}

/**
 * Once a push is refused, the rest of its body is read and thrown away, up to `bound` more bytes.
 * A client still sending must be able to read the answer: a socket closed (or a body stream
 * destroyed) under incoming data is reset, and the reset takes the unread 413 with it. Past the
 * bound the connection is cut.
 */
const discardRest = (incoming: IncomingMessage, bound: number) =>
  Effect.sync(() => {
    let discarded = 0
    incoming.on("data", (chunk: Buffer) => {
      discarded += chunk.byteLength
      if (discarded > bound) incoming.socket.destroy()
    })
    incoming.resume()
  })

const feedsLayer = (config: HttpConfig) =>
  HttpApiBuilder.group(GatewayApi, "feeds", (handlers) =>
    handlers.handle("push", ({ path, urlParams }) =>
      Effect.gen(function*() {
        const caller = yield* Caller
        const sources = yield* ActiveSources.ActiveSources
        const inbox = yield* FeedInbox.FeedInbox
        const request = yield* HttpServerRequest.HttpServerRequest
        if (!caller.sources.has(path.source)) {
          return yield* new Forbidden({ message: `this token may not push feeds for ${path.source}` })
        }
        if (!sources.has(path.source)) return yield* new UnknownSource({ message: `no source ${path.source} is enabled in this region` })
        const incoming = NodeHttpServerRequest.toIncomingMessage(request)
        const refused = discardRest(incoming, config.maxFeedBytes)
        const tooLarge = new PayloadTooLarge({ message: `a feed may be at most ${config.maxFeedBytes} bytes`, maxBytes: config.maxFeedBytes })
        if (Number(request.headers["content-length"] ?? 0) > config.maxFeedBytes) return yield* Effect.zipRight(refused, tooLarge)

        let bytes = 0
        let overLimit = false
        // Read from Node's request itself, not `request.stream`, which destroys it when the stream
        // stops early: a chunked body over the limit then reset the connection instead of a 413.
        const body = NodeStream.fromReadable(() => incoming, () => new RawFeed.FeedReadError({ reason: "the request body could not be read" }), {
          closeOnDone: false
        })
        const content = body.pipe(
          Stream.mapEffect((chunk) => {
            bytes += chunk.byteLength
            if (bytes <= config.maxFeedBytes) return Effect.succeed(chunk)
            overLimit = true
            return Effect.fail(new RawFeed.FeedReadError({ reason: "the request body is over the limit" }))
          })
        )
        const received = yield* inbox.receive({ source: Ids.SourceId.make(path.source), name: feedName(urlParams.name, path.source), content }, "http").pipe(
          Effect.tapError(() => refused),
          Effect.catchTags({
            FeedReadError: (e) => (overLimit ? Effect.fail(tooLarge) : Effect.fail(new BadFeed({ message: e.reason }))),
            SqlError: (e) =>
              Effect.zipRight(
                Effect.logError("feed push could not be stored", e.message),
                Effect.fail(new Unavailable({ message: "the feed could not be stored; send it again" }))
              )
          })
        )
        yield* Effect.logInfo("feed pushed").pipe(
          Effect.annotateLogs({ feed: received.id, source: received.source, bytes: received.size, repeat: received.repeat })
        )
        return new FeedAccepted({ feed: received.id, sha256: received.sha256, bytes: received.size, repeat: received.repeat })
      })
    ))

const started = Date.now()

const healthLayer = (region: string) =>
  HttpApiBuilder.group(GatewayApi, "health", (handlers) =>
    handlers.handle("health", () =>
      Effect.gen(function*() {
        const sql = yield* Sql.Sql
        const [row] = yield* sql.query<{ feeds: number; queued: number }>`SELECT
            (SELECT count(*)::int FROM feed WHERE state = 'stored') AS feeds,
            (SELECT count(*)::int FROM notification WHERE state = 'queued') AS queued`.pipe(
          Effect.timeout("5 seconds"),
          Effect.mapError(() => new Unavailable({ message: "the database does not answer" }))
        )
        return new Health({
          status: "ok",
          region,
          database: sql.backend,
          feedsWaiting: row?.feeds ?? 0,
          notificationsQueued: row?.queued ?? 0,
          uptimeSeconds: Math.round((Date.now() - started) / 1000)
        })
      })
    ))

/** The API on Node's HTTP server at the configured address; the layer holds it open. */
export const serverLayer = (config: HttpConfig, region: string) =>
  HttpApiBuilder.serve().pipe(
    Layer.provide(HttpApiBuilder.api(GatewayApi)),
    Layer.provide(feedsLayer(config)),
    Layer.provide(healthLayer(region)),
    Layer.provide(authorizationLayer(config)),
    HttpServer.withLogAddress,
    Layer.provideMerge(NodeHttpServer.layer(createServer, { host: config.host, port: config.port }))
  )
