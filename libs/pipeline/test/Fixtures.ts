/** Fakes and data for the pipeline's tests: an in-memory source and a recording channel. */
import { Directory } from "@encompass/directory"
import type { AuthorizedNotification } from "@encompass/domain"
import { Ids, Incident, Setting } from "@encompass/domain"
import { Agreement, SchoolCalendar } from "@encompass/isa-policy"
import { ChannelPlugin, Manifest, SourcePlugin } from "@encompass/plugin-sdk"
import type { RawFeed } from "@encompass/plugin-sdk"
import { DateTime, Effect, Either, Layer, Ref, Schema, Stream } from "effect"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import { ActiveChannels } from "../src/index.js"
import type { Alerts } from "../src/index.js"

const shipped = (file: string) => fs.readFileSync(createRequire(import.meta.url).resolve(`@encompass/isa-policy/${file}`), "utf8")

/** TVP as shipped: deadlines on the Thames Valley school calendar, or weekdays when no calendar is provided. */
export const tvp = Either.getOrThrow(Agreement.parse(shipped("agreements/tvp-schools.yaml")))

/** TVP with settings reachable by `sftp` as well: two channels, for the outbox's per-channel tests. */
export const tvpTwoChannels = Either.getOrThrow(Agreement.parse(
  shipped("agreements/tvp-schools.yaml").replace("          - channel: secure-email\n", "          - channel: sftp\n            form: encrypted-email\n          - channel: secure-email\n")
))

export const calendar = Either.getOrThrow(SchoolCalendar.parse(shipped("calendars/england-2025-2027.yaml")))

const setting = (urn: string, name: string, signedUp = true, channel = "secure-email") =>
  Schema.decodeUnknownSync(Setting.Setting)({
    urn,
    name,
    kind: "school",
    signedUp,
    contacts: [`dsl@${urn}.sch.example`],
    channel
  })

const settings = [setting("100001", "Kennet Meadow Primary"), setting("100002", "Chiltern Beech Primary"), setting("100007", "Cherwell Fields", false)]

export const directory = Either.getOrThrow(Directory.fromSettings(settings))

/** The directory with the school 100003, Ouse Valley Primary, reached by `sftp`. */
export const directoryTwoChannels = Either.getOrThrow(Directory.fromSettings([...settings, setting("100003", "Ouse Valley Primary", true, "sftp")]))

/** The directory once the school `urn` has been added to it. */
export const directoryWith = (urn: string) => Either.getOrThrow(Directory.fromSettings([...settings, setting(urn, "Added Later Primary")]))

export const source = Ids.SourceId.make("niche-rms")

interface ChildSpec {
  readonly ref: string
  readonly urn: string
  readonly presence?: "present" | "witness" | "not-present"
  readonly sensitive?: boolean
  readonly line: number
}

/** A domestic incident on Friday 20 Nov 2026, 21:00 London time, with the given children. */
export const incident = (
  occurrence: string,
  children: ReadonlyArray<ChildSpec>,
  overrides: { version?: number; address?: string; occurredAt?: string } = {}
) =>
  Schema.decodeUnknownSync(Incident.Incident)({
    _tag: "Incident",
    source,
    occurrence,
    version: overrides.version ?? 1,
    category: "domestic",
    occurredAt: overrides.occurredAt ?? "2026-11-20T21:00:00Z",
    address: { lines: overrides.address ?? "12 Example Road, Reading", postcode: "RG1 1AA" },
    children: children.map((c) => ({
      ref: c.ref,
      person: { givenName: `Given${c.ref}`, familyName: "Family", dateOfBirth: "2016-05-01" },
      homeAddress: { lines: "12 Example Road, Reading", postcode: "RG1 1AA" },
      presence: c.presence ?? "present",
      education: [{ _tag: "Setting", urn: c.urn }],
      riskGrading: "high",
      sensitive: c.sensitive ?? false,
      locator: `line ${c.line}`
    }))
  })

/** A source that yields exactly the given items for any feed; the feed's bytes are its name. */
export const sourceOf = (items: ReadonlyArray<SourcePlugin.Decoded>): SourcePlugin.SourcePlugin => ({
  id: source,
  manifest: new Manifest.SourceManifest({
    id: source,
    system: "test",
    formats: ["text/plain"],
    version: "0.1.0",
    sdk: "^0.1.0",
    status: "experimental",
    description: "yields the items it was given",
    docs: "libs/pipeline/test/Fixtures.ts",
    config: Schema.Struct({})
  }),
  fieldName: (field) => (field === "education" ? "school_urn" : field),
  decode: () => Stream.fromIterable(items)
})

export const feed = (name: string): RawFeed.RawFeed => ({
  source,
  name,
  content: Stream.succeed(new TextEncoder().encode(name))
})

export type ChannelBehaviour = "accept" | "transport-error" | "reject"

/** A channel `id` that records what it was given, or fails as told. */
export const recordingChannelFor = (id: string) => Effect.gen(function*() {
  const delivered = yield* Ref.make<ReadonlyArray<AuthorizedNotification.AuthorizedNotification>>([])
  const behaviour = yield* Ref.make<ChannelBehaviour>("accept")
  const plugin: ChannelPlugin.ChannelPlugin = {
    id: Ids.ChannelId.make(id),
    manifest: new Manifest.ChannelManifest({
      id: Ids.ChannelId.make(id),
      capabilities: { batching: false, acknowledgement: false, idempotentResend: true },
      version: "0.1.0",
      sdk: "^0.1.0",
      status: "experimental",
      description: "records what it was given",
      docs: "libs/pipeline/test/Fixtures.ts",
      config: Schema.Struct({})
    }),
    check: Effect.void,
    deliver: (authorized) =>
      Effect.flatMap(Ref.get(behaviour), (b) => {
        if (b === "transport-error") {
          return Effect.fail(new ChannelPlugin.DeliveryError({ channel: id, reason: "Transport", detail: "451 try later" }))
        }
        if (b === "reject") {
          return Effect.fail(new ChannelPlugin.DeliveryError({ channel: id, reason: "Rejected", detail: "550 no such mailbox" }))
        }
        return Effect.as(
          Ref.update(delivered, (all) => [...all, authorized]),
          new ChannelPlugin.Receipt({
            channel: id,
            remoteId: `<${authorized.notification.reference}@test>`,
            acceptedAt: DateTime.unsafeNow(),
            response: "250 OK"
          })
        )
      })
  }
  return { plugin, delivered, behaviour }
})

/** The recording channel as `secure-email`, the one the fixtures' directory routes to. */
export const recordingChannel = recordingChannelFor("secure-email")

/** Provides `plugins` as the channels this process enables. */
export const withChannels = (...plugins: ReadonlyArray<ChannelPlugin.ChannelPlugin>) =>
  Effect.provideService(ActiveChannels.ActiveChannels, ActiveChannels.ActiveChannels.fromPlugins(plugins))

/** An alert sink (the SPOC's email, in a region) that keeps what it is given, in order. */
export const recordingAlerts = Effect.gen(function*() {
  const raised = yield* Ref.make<ReadonlyArray<Alerts.Alert>>([])
  const sink: Alerts.Alerts["Type"] = { notify: (alert) => Ref.update(raised, (all) => [...all, alert]) }
  return { sink, raised }
})

export const directoryLayer = Layer.succeed(Directory.Directory, directory)
