/**
 * One region's configuration (DESIGN.md §2, CONVENTIONS rule 10): a YAML file in the force's
 * repository naming its agreement, calendar and directory, the plugins it enables, how feeds
 * arrive and how the workers pace themselves. Relative paths are relative to the file. Every
 * problem is reported with its key path and line, and never quotes a value: the file sits next
 * to secrets and its errors reach logs.
 */
import { CouncilTeam, DecodeIssue, Ids, YamlSource } from "@encompass/domain"
import type { Outbox } from "@encompass/pipeline"
import { Duration, Effect, Option, ParseResult, Schema } from "effect"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { SftpDropConfig } from "./intake/SftpDropConfig.js"
import { SmtpInboxConfig } from "./intake/SmtpInboxConfig.js"

export class RegionConfigError extends Schema.TaggedError<RegionConfigError>()("RegionConfigError", {
  file: Schema.String,
  issues: Schema.Array(Schema.String)
}) {
  override get message(): string {
    return [`${this.file} cannot be used:`, ...this.issues.map((i) => `  ${i}`)].join("\n")
  }
}

/** A duration written as text: `"30 seconds"`, `"5 minutes"`. */
const DurationText = Schema.transformOrFail(Schema.String, Schema.DurationFromSelf, {
  strict: true,
  decode: (text, _, ast) =>
    Option.match(Duration.decodeUnknown(text), {
      onNone: () => ParseResult.fail(new ParseResult.Type(ast, text, "expected a duration such as \"30 seconds\" or \"5 minutes\"")),
      onSome: ParseResult.succeed
    }),
  encode: (duration) => ParseResult.succeed(`${Duration.toMillis(duration)} millis`)
}).annotations({ description: "a duration such as \"30 seconds\" or \"5 minutes\"" })

const Sha256Hex = Schema.String.pipe(
  Schema.pattern(/^[0-9a-f]{64}$/, { message: () => "expected the token's sha256 as 64 lower-case hex digits" })
)

export class HttpTokenConfig extends Schema.Class<HttpTokenConfig>("HttpTokenConfig")({
  source: Ids.SourceId.annotations({ description: "The source this token may push feeds for" }),
  sha256: Sha256Hex.annotations({
    description: "sha256 of the bearer token, hex (`printf %s \"$TOKEN\" | sha256sum`); the token itself is never stored"
  })
}) {}

export class HttpConfig extends Schema.Class<HttpConfig>("HttpConfig")({
  host: Schema.optionalWith(Schema.NonEmptyTrimmedString, { default: () => "127.0.0.1" }).annotations({
    description: "Address the HTTP API listens on; put a TLS-terminating proxy in front of it"
  }),
  port: Schema.optionalWith(Schema.Int.pipe(Schema.between(0, 65535)), { default: () => 8080 }).annotations({
    description: "Port of the HTTP API (health and feed push); 0 picks a free port"
  }),
  maxFeedBytes: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 100 * 1024 * 1024 }).annotations({
    description: "Largest feed a push may carry, in bytes (default 104857600, 100 MiB): a body of exactly this many bytes is accepted, one byte more is refused with 413, whether sent with Content-Length or chunked"
  }),
  tokens: Schema.optionalWith(Schema.Array(HttpTokenConfig), { default: () => [] }).annotations({
    description: "Bearer tokens allowed to push feeds, one or more per source"
  })
}) {}

/**
 * A plugin's settings: a JSON or YAML file, or the mapping itself written in the region file.
 * Either way the plugin's `manifest.config` Schema decodes them (PluginSettings).
 */
export const Settings = Schema.Union(
  Schema.NonEmptyString,
  Schema.Record({ key: Schema.String, value: Schema.Unknown })
).annotations({ description: "a settings file (JSON or YAML, relative to this file) or the settings as a mapping" })
export type Settings = typeof Settings.Type

export class SourceEntry extends Schema.Class<SourceEntry>("SourceEntry")({
  id: Ids.SourceId.annotations({ description: "A registered source plugin's id, e.g. niche-rms, athena, json-lines" }),
  settings: Schema.optional(Settings).annotations({
    description: "The source's settings (a file or a mapping), decoded by its config Schema; default: the plugin's defaults"
  }),
  mapping: Schema.optional(Schema.NonEmptyString).annotations({
    description: "niche-rms only: a field mapping file for an export laid out differently (plugins/source-niche-rms/README.md); the same as `settings: FILE`"
  })
}) {}

export class RetryConfig extends Schema.Class<RetryConfig>("RetryConfig")({
  base: Schema.optionalWith(DurationText, { default: () => Duration.minutes(1) }).annotations({
    description: "The wait after a notification's first failed attempt; it doubles after each further failure (each wait ±20 %)"
  }),
  cap: Schema.optionalWith(DurationText, { default: () => Duration.hours(1) }).annotations({
    description: "The longest wait between attempts, before the ±20 %"
  }),
  budget: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 1000)), { default: () => 8 }).annotations({
    description: "Failed attempts after which a retryable failure is given up: the notification becomes a dead letter and an alert is raised"
  })
}) {}

export class ChannelEntry extends Schema.Class<ChannelEntry>("ChannelEntry")({
  id: Ids.ChannelId.annotations({ description: "A registered channel plugin's id: secure-email, sftp, or one a `plugins:` module registers" }),
  settings: Settings.annotations({
    description: "The channel's settings (a JSON or YAML file, or a mapping written here), decoded by the plugin's config Schema"
  }),
  passwords: Schema.optional(Schema.NonEmptyString).annotations({
    description: "Attachment passwords (JSON), kept out of the repository, merged into the settings as `passwords`"
  }),
  concurrency: Schema.optional(Schema.Int.pipe(Schema.between(1, 64))).annotations({
    description: "Deliveries in flight at once for this channel (default: the plugin's own, secure-email's pool size, else 1)"
  }),
  retry: Schema.optionalWith(RetryConfig, { default: () => new RetryConfig({}) }).annotations({
    description: "How this channel's failed notifications are retried (default: 1, 2, 4 … minutes up to an hour, 8 attempts)"
  })
}) {}

/** An address of the force's own, such as its Operation Encompass SPOC mailbox. */
const EmailAddress = Schema.String.pipe(
  Schema.pattern(/^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/, { message: () => "expected an email address such as encompass-spoc@force.example" })
)

export class AlertEmailConfig extends Schema.Class<AlertEmailConfig>("AlertEmailConfig")({
  to: Schema.NonEmptyArray(EmailAddress).annotations({
    description: "Who is told: the force's Operation Encompass SPOC, best a shared mailbox watched in working hours rather than a person's own",
    examples: [["encompass-spoc@force.example"]]
  }),
  settings: Schema.optional(Schema.NonEmptyString).annotations({
    description: "Relay settings (a JSON or YAML file) in the secure-email channel's format (host, port, secure, ca, auth, from, timeouts; other keys are ignored). Default: the secure-email channel's own settings file — but then an outage of that relay silences the alerts about it",
    examples: ["./alert-relay.json"]
  }),
  wait: Schema.optionalWith(DurationText, { default: () => Duration.seconds(30) }).annotations({
    description: "How long an email waits after the first alert for others raised with it (one deadline scan, one relay outage) to be listed in the same email"
  }),
  interval: Schema.optionalWith(DurationText, { default: () => Duration.minutes(10) }).annotations({
    description: "The least time between two alert emails: alerts raised meanwhile are listed together in the next one, so an outage that dead-letters hundreds of notifications sends a few emails, not hundreds"
  }),
  timeout: Schema.optionalWith(DurationText, { default: () => Duration.seconds(30) }).annotations({
    description: "How long sending one alert email may take; a failed or timed-out email is logged and its alerts are listed again in the next one"
  })
}) {}

export class AlertsConfig extends Schema.Class<AlertsConfig>("AlertsConfig")({
  email: Schema.optional(AlertEmailConfig).annotations({
    description: "Email the at-risk, missed and dead-letter alerts to the force's SPOC: ids, recipient keys and what to do, never a notification's content"
  })
}) {}

export class WorkersConfig extends Schema.Class<WorkersConfig>("WorkersConfig")({
  feedPoll: Schema.optionalWith(DurationText, { default: () => Duration.seconds(5) }).annotations({
    description: "How often to look for stored feeds no worker has claimed (feeds received by this process are decoded at once)"
  }),
  feedLease: Schema.optionalWith(DurationText, { default: () => Duration.minutes(10) }).annotations({
    description: "How long a claimed feed is held before another gateway may decode it again"
  }),
  deliveryPoll: Schema.optionalWith(DurationText, { default: () => Duration.seconds(10) }).annotations({
    description: "How often to deliver notifications that are due"
  }),
  attemptTimeout: Schema.optionalWith(DurationText, { default: () => Duration.seconds(60) }).annotations({
    description: "How long one delivery attempt may take before it fails as a retryable timeout"
  }),
  deliveryLease: Schema.optionalWith(DurationText, { default: () => Duration.minutes(2) }).annotations({
    description: "How long a gateway holds a notification it is delivering; a killed gateway's notifications are taken over after this. Longer than attemptTimeout"
  }),
  deadlineScan: Schema.optionalWith(DurationText, { default: () => Duration.minutes(1) }).annotations({
    description: "How often the deadline watch looks for undelivered notifications at risk of, or past, their deadline"
  }),
  atRiskLead: Schema.optionalWith(DurationText, { default: () => Duration.hours(2) }).annotations({
    description: "How long before its deadline an undelivered notification raises an at-risk alert"
  }),
  auditAnchor: Schema.optionalWith(DurationText, { default: () => Duration.minutes(15) }).annotations({
    description: "How often the audit chain's head is signed into an anchor (and on shutdown) when it has moved; events after the newest anchor can be cut off undetected, so this bounds what can be lost"
  })
}) {}

export class RegionConfig extends Schema.Class<RegionConfig>("RegionConfig")({
  version: Schema.Literal(1).annotations({ description: "Version of this file's schema" }),
  region: Schema.String.pipe(Schema.pattern(/^[a-z0-9][a-z0-9-]{0,62}$/, { message: () => "expected a lower-case id such as thames-valley" }))
    .annotations({ description: "The region's id, in logs and health" }),
  dataDir: Schema.optionalWith(Schema.NonEmptyString, { default: () => ".encompass/pgdata" }).annotations({
    description: "Embedded database folder, used when DATABASE_URL is not set"
  }),
  masterKeyFile: Schema.optionalWith(Schema.NonEmptyString, { default: () => ".encompass/master.key" }).annotations({
    description: "Master key file (base64 of 32 bytes); ENCOMPASS_MASTER_KEY overrides it. Created on first use only with the embedded database"
  }),
  anchorsFile: Schema.optional(Schema.NonEmptyString).annotations({
    description: "A file every signed audit anchor is copied to (JSON lines, as `audit anchors` writes them), which `audit verify` checks the chain against: keep it where the database's administrators cannot write"
  }),
  agreement: Schema.NonEmptyString.annotations({ description: "The agreement the region decides under (YAML)" }),
  calendar: Schema.optional(Schema.NonEmptyString).annotations({ description: "School calendar (YAML); default the shipped England 2025-2027 file" }),
  directory: Schema.NonEmptyString.annotations({ description: "Settings directory (CSV)" }),
  authorities: Schema.optional(Schema.NonEmptyString).annotations({
    description: "Local authorities directory (CSV): councils' EHE teams and front doors and the channel each uses"
  }),
  notServed: Schema.optionalWith(Schema.Array(CouncilTeam.TeamKind), { default: () => [] }).annotations({
    description: "Council team kinds this region deliberately does not serve (ehe-team, council-front-door): each such candidate is recorded as withheld (rule recipient-not-served) and reported once per rule in a feed's summary, instead of each needing review"
  }),
  plugins: Schema.optionalWith(Schema.Array(Schema.NonEmptyString), { default: () => [] }).annotations({
    description: "Plugin modules beyond the gateway's built-in ones, relative to this file: each exported namespace with a `registration` is registered"
  }),
  sources: Schema.NonEmptyArray(SourceEntry).annotations({ description: "The source plugins this region enables" }),
  channels: Schema.NonEmptyArray(ChannelEntry).annotations({ description: "The channel plugins this region enables" }),
  http: Schema.optional(HttpConfig).annotations({ description: "The HTTP API: health and feed push" }),
  sftp: Schema.optionalWith(Schema.Array(SftpDropConfig), { default: () => [] }).annotations({ description: "SFTP drops to poll" }),
  smtp: Schema.optional(SmtpInboxConfig).annotations({ description: "The SMTP inbox" }),
  alerts: Schema.optional(AlertsConfig).annotations({
    description: "Where alerts go besides the log, the audit log and the metrics (default: nowhere else)"
  }),
  workers: Schema.optionalWith(WorkersConfig, { default: () => new WorkersConfig({}) })
}) {}

const decode = Schema.decodeUnknownEither(RegionConfig, { errors: "all", onExcessProperty: "error" })

/** A `DecodeIssue` path as a key path; `0`, `12` are list indexes, a URN such as `012345` stays a key. */
export const toPath = (dotted: string): YamlSource.Path =>
  dotted === "" ? [] : dotted.split(".").map((s) => (/^(0|[1-9]\d{0,4})$/.test(s) ? Number(s) : s))

/** One problem as an issue line: `line 3, column 5  channels.0.id: …`. */
export const problemLine = (p: YamlSource.Problem) => `line ${p.line}, column ${p.column}  ${p.path === "" ? "(document)" : p.path}: ${p.message}`

/** Resolves the file's relative paths against its folder. */
const resolvePaths = (config: RegionConfig, base: string): RegionConfig => {
  const at = (file: string) => path.resolve(base, file)
  const smtp = config.smtp
  const email = config.alerts?.email
  return new RegionConfig({
    ...config,
    dataDir: at(config.dataDir),
    masterKeyFile: at(config.masterKeyFile),
    ...(config.anchorsFile === undefined ? {} : { anchorsFile: at(config.anchorsFile) }),
    agreement: at(config.agreement),
    ...(config.calendar === undefined ? {} : { calendar: at(config.calendar) }),
    directory: at(config.directory),
    ...(config.authorities === undefined ? {} : { authorities: at(config.authorities) }),
    plugins: config.plugins.map(at),
    sources: config.sources.map((s) =>
      new SourceEntry({
        ...s,
        ...(typeof s.settings === "string" ? { settings: at(s.settings) } : {}),
        ...(s.mapping === undefined ? {} : { mapping: at(s.mapping) })
      }, { disableValidation: true })
    ) as never,
    channels: config.channels.map((c) =>
      new ChannelEntry({
        ...c,
        settings: typeof c.settings === "string" ? at(c.settings) : c.settings,
        ...(c.passwords === undefined ? {} : { passwords: at(c.passwords) })
      }, { disableValidation: true })
    ) as never,
    sftp: config.sftp.map((d) => new SftpDropConfig({ ...d, privateKey: at(d.privateKey) })),
    ...(smtp === undefined ? {} : { smtp: new SmtpInboxConfig({ ...smtp, certFile: at(smtp.certFile), keyFile: at(smtp.keyFile) }) }),
    ...(email?.settings === undefined ? {} : {
      alerts: new AlertsConfig({ email: new AlertEmailConfig({ ...email, settings: at(email.settings) }, { disableValidation: true }) })
    })
  }, { disableValidation: true })
}

/** Parses a region file's text; `base` is the folder relative paths are resolved against. */
export const parse = (text: string, file: string, base: string): Effect.Effect<RegionConfig, RegionConfigError> => {
  const source = YamlSource.read(text)
  if (source.problems.length > 0) return Effect.fail(new RegionConfigError({ file, issues: source.problems.map(problemLine) }))
  const decoded = decode(source.value)
  if (decoded._tag === "Left") {
    // An optional key's union with `undefined` adds "expected undefined" beside the real problem.
    const issues = DecodeIssue.fromParseError(decoded.left)
      .filter((i) => i.message !== "expected undefined")
      .map((i) => ({ path: toPath(i.path), message: i.message }))
    return Effect.fail(new RegionConfigError({ file, issues: YamlSource.issuesOf(source, issues).map(problemLine) }))
  }
  const config = decoded.right
  const at = (keyPath: YamlSource.Path, message: string) =>
    new RegionConfigError({ file, issues: [problemLine({ path: YamlSource.formatPath(keyPath), ...YamlSource.locate(source, keyPath), message })] })
  const duplicate = config.sources.findIndex((s, i) => config.sources.findIndex((t) => t.id === s.id) !== i)
  if (duplicate >= 0) return Effect.fail(at(["sources", duplicate, "id"], `${config.sources[duplicate]?.id} is listed twice`))
  const twice = config.channels.findIndex((c, i) => config.channels.findIndex((d) => d.id === c.id) !== i)
  if (twice >= 0) return Effect.fail(at(["channels", twice, "id"], `${config.channels[twice]?.id} is listed twice`))
  const mapped = config.sources.findIndex((s) => s.mapping !== undefined && s.id !== "niche-rms")
  if (mapped >= 0) return Effect.fail(at(["sources", mapped, "mapping"], `${config.sources[mapped]?.id} takes no mapping file`))
  const both = config.sources.findIndex((s) => s.mapping !== undefined && s.settings !== undefined)
  if (both >= 0) return Effect.fail(at(["sources", both, "mapping"], "give the mapping as `settings` or as `mapping`, not both"))
  if (config.alerts?.email !== undefined && config.alerts.email.settings === undefined && !config.channels.some((c) => c.id === "secure-email")) {
    // The alert email borrows the secure-email channel's relay when it has none of its own.
    return Effect.fail(at(["alerts", "email"], "needs `settings` (a relay settings file): the region does not enable secure-email"))
  }
  if (Duration.lessThanOrEqualTo(config.workers.deliveryLease, config.workers.attemptTimeout)) {
    // A lease that can run out mid-attempt would let a second gateway send the same notification.
    return Effect.fail(new RegionConfigError({ file, issues: ["workers.deliveryLease: must be longer than workers.attemptTimeout"] }))
  }
  if (config.alerts?.email !== undefined && Duration.lessThanOrEqualTo(config.alerts.email.timeout, Duration.zero)) {
    return Effect.fail(new RegionConfigError({ file, issues: ["alerts.email.timeout: must be longer than 0"] }))
  }
  const inverted = config.channels.find((c) => Duration.lessThan(c.retry.cap, c.retry.base))
  if (inverted !== undefined) {
    return Effect.fail(new RegionConfigError({ file, issues: [`channels: ${inverted.id} retry.cap must not be shorter than retry.base`] }))
  }
  return Effect.succeed(resolvePaths(config, base))
}

/** The outbox settings the region file gives: retry and concurrency by channel, attempt timeout and lease. */
export const outboxOptions = (config: RegionConfig): Outbox.Options => ({
  retry: Object.fromEntries(config.channels.map((c) => [c.id, { base: c.retry.base, cap: c.retry.cap, budget: c.retry.budget }])),
  concurrency: Object.fromEntries(config.channels.flatMap((c) => (c.concurrency === undefined ? [] : [[c.id, c.concurrency]]))),
  attemptTimeout: config.workers.attemptTimeout,
  lease: config.workers.deliveryLease
})

export const load = (file: string): Effect.Effect<RegionConfig, RegionConfigError> =>
  Effect.tryPromise({
    try: () => fs.readFile(file, "utf8"),
    catch: (e) => new RegionConfigError({ file, issues: [`cannot read (${e instanceof Error && "code" in e ? String(e.code) : "error"})`] })
  }).pipe(Effect.flatMap((text) => parse(text, file, path.dirname(path.resolve(file)))))
