/**
 * The gateway's HTTP API: health, and feed push for record systems that can POST their export
 * (`POST /v1/feeds/{source}` with a bearer token per source). Errors are small JSON bodies that
 * name the problem, never a token or a feed's content.
 */
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiMiddleware, HttpApiSchema, HttpApiSecurity } from "@effect/platform"
import { Context, Schema } from "effect"

export class Unauthorized extends Schema.TaggedError<Unauthorized>()("Unauthorized", {
  message: Schema.String
}, HttpApiSchema.annotations({ status: 401 })) {}

export class Forbidden extends Schema.TaggedError<Forbidden>()("Forbidden", {
  message: Schema.String
}, HttpApiSchema.annotations({ status: 403 })) {}

export class UnknownSource extends Schema.TaggedError<UnknownSource>()("UnknownSource", {
  message: Schema.String
}, HttpApiSchema.annotations({ status: 404 })) {}

export class PayloadTooLarge extends Schema.TaggedError<PayloadTooLarge>()("PayloadTooLarge", {
  message: Schema.String,
  maxBytes: Schema.Number
}, HttpApiSchema.annotations({ status: 413 })) {}

export class BadFeed extends Schema.TaggedError<BadFeed>()("BadFeed", {
  message: Schema.String
}, HttpApiSchema.annotations({ status: 400 })) {}

export class Unavailable extends Schema.TaggedError<Unavailable>()("Unavailable", {
  message: Schema.String
}, HttpApiSchema.annotations({ status: 503 })) {}

/** Who a valid bearer token is: the sources it may push feeds for. */
export class Caller extends Context.Tag("@encompass/gateway/HttpApi/Caller")<Caller, { readonly sources: ReadonlySet<string> }>() {}

export class Authorization extends HttpApiMiddleware.Tag<Authorization>()("@encompass/gateway/HttpApi/Authorization", {
  failure: Unauthorized,
  provides: Caller,
  security: { bearer: HttpApiSecurity.bearer }
}) {}

export class FeedAccepted extends Schema.Class<FeedAccepted>("FeedAccepted")({
  feed: Schema.String.annotations({ description: "The stored feed's id" }),
  sha256: Schema.String,
  bytes: Schema.Number,
  repeat: Schema.Boolean.annotations({ description: "True when these bytes were received before; nothing new was stored" })
}) {}

export class Health extends Schema.Class<Health>("Health")({
  status: Schema.Literal("ok"),
  region: Schema.String,
  database: Schema.Literal("server", "embedded"),
  feedsWaiting: Schema.Number,
  notificationsQueued: Schema.Number,
  uptimeSeconds: Schema.Number
}) {}

const source = HttpApiSchema.param("source", Schema.String.pipe(Schema.pattern(/^[a-z0-9][a-z0-9-]{0,62}$/)))

export const FeedName = Schema.Struct({
  name: Schema.optional(Schema.String.pipe(Schema.maxLength(200))).annotations({ description: "The export's file name, for the record" })
})

/** The body is the feed, stored as sent; 202 once it is stored, before decoding. */
export class FeedsGroup extends HttpApiGroup.make("feeds")
  .add(
    HttpApiEndpoint.post("push")`/v1/feeds/${source}`
      .setUrlParams(FeedName)
      .addSuccess(FeedAccepted, { status: 202 })
      .addError(Forbidden)
      .addError(UnknownSource)
      .addError(PayloadTooLarge)
      .addError(BadFeed)
      .addError(Unavailable)
  )
  .middleware(Authorization) {}

export class HealthGroup extends HttpApiGroup.make("health").add(
  HttpApiEndpoint.get("health", "/health").addSuccess(Health).addError(Unavailable)
) {}

export class GatewayApi extends HttpApi.make("encompass-gateway").add(HealthGroup).add(FeedsGroup) {}
