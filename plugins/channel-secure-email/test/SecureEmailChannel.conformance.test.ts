import type { ChannelPlugin } from "@encompass/plugin-sdk"
import { ChannelConformance } from "@encompass/plugin-testkit"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { SecureEmailChannel, SecureEmailConfig } from "../src/index.js"
import * as Fixtures from "./Fixtures.js"
import * as SmtpSink from "./SmtpSink.js"

const relay = { user: "encompass-relay", pass: "relay-secret-pass-3141" }
const wrongPass = "wrong-secret-pass-2718"

/** A relay that requires AUTH, and a port nothing listens on. */
const peer = Effect.all({ sink: SmtpSink.start({ auth: relay }), closedPort: SmtpSink.closedPort })

/** The config as a region's config file would hold it: plain strings, secrets included. */
const encoded = (port: number, over: Record<string, unknown> = {}) => ({
  host: "127.0.0.1",
  port,
  ca: SmtpSink.caPem,
  auth: relay,
  from: "Thames Valley Police Operation Encompass <encompass@thamesvalley.police.example>",
  messageIdDomain: "thamesvalley.police.example",
  senderName: "Thames Valley Police",
  contact: "Encompass@thamesvalley.police.example",
  passwords: { [Fixtures.urn]: Fixtures.password },
  ...over
})

ChannelConformance.suite({
  manifest: SecureEmailChannel.manifest,
  config: SecureEmailConfig.SecureEmailConfig,
  make: SecureEmailChannel.make,
  peer,
  receptions: ({ sink }) => sink.received.length,
  validConfig: ({ sink }) => encoded(sink.port),
  invalidConfigs: [
    { name: "no host", config: { ...encoded(587), host: undefined } },
    { name: "a port out of range", config: encoded(70_000) },
    { name: "a password under 12 characters", config: encoded(587, { passwords: { [Fixtures.urn]: "short-pw" } }) },
    { name: "a password keyed by something that is not a URN", config: encoded(587, { passwords: { "12345": Fixtures.password } }) },
    { name: "a schema version this channel does not know", config: encoded(587, { version: 2 }) }
  ],
  failingConfigs: ({ sink, closedPort }) => [
    { name: "a relay that is not listening", config: encoded(closedPort) },
    { name: "a refused login", config: encoded(sink.port, { auth: { user: relay.user, pass: wrongPass } }) },
    { name: "a certificate the channel does not trust", config: encoded(sink.port, { ca: undefined }) },
    { name: "no attachment password for the recipient", config: encoded(sink.port, { passwords: { "654321": Fixtures.password } }) }
  ],
  notification: Fixtures.authorized(),
  secrets: [Fixtures.password, relay.pass, wrongPass],
  personalData: Fixtures.personalData
})

describe("SecureEmailChannel contract", () => {
  it("deliver takes only an AuthorizedNotification, which only isa-policy can mint (a compile-time check)", () => {
    const plainObject = (channel: ChannelPlugin.ChannelPlugin) =>
      // @ts-expect-error a plain notification is not an AuthorizedNotification
      channel.deliver({ notification: Fixtures.notification() })
    expect(plainObject).toBeTypeOf("function")
  })
})
