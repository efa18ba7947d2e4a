import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import * as path from "node:path"
import * as RegionConfig from "../src/RegionConfig.js"

const example = path.resolve(import.meta.dirname, "../examples/region.yaml")
const minimal = [
  "version: 1",
  "region: test-region",
  "agreement: agreements/tvp.yaml",
  "directory: directory.csv",
  "sources:",
  "  - id: niche-rms",
  "channels:",
  "  - id: secure-email",
  "    settings: relay.json",
  "    passwords: /secrets/passwords.json"
]
const parse = (lines: ReadonlyArray<string>) => RegionConfig.parse(lines.join("\n"), "region.yaml", "/etc/encompass")

describe("RegionConfig", () => {
  it.effect("the shipped example region file loads", () =>
    Effect.gen(function*() {
      const config = yield* RegionConfig.load(example)
      expect(config.region).toBe("thames-valley")
      expect(config.sources.map((s) => s.id)).toEqual(["niche-rms", "athena", "json-lines"])
      expect(config.http?.tokens.map((t) => t.source)).toEqual(["niche-rms"])
      expect(config.alerts?.email?.to).toEqual(["encompass-spoc@police.example"])
    }))

  it.effect("relative paths resolve against the file's folder; absolute ones stay; defaults fill the rest", () =>
    Effect.gen(function*() {
      const config = yield* parse(minimal)
      expect(config.agreement).toBe("/etc/encompass/agreements/tvp.yaml")
      expect(config.channels[0].passwords).toBe("/secrets/passwords.json")
      expect(config.dataDir).toBe("/etc/encompass/.encompass/pgdata")
      expect(Duration.toMillis(config.workers.feedLease)).toBe(600_000)
      expect(config.sftp).toEqual([])
    }))

  it.effect("every problem names its key path and line, and never quotes the value", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(parse([
        ...minimal,
        "http:",
        "  port: 99999",
        "  tokens:",
        "    - { source: niche-rms, sha256: my-plain-secret-token }",
        "workers:",
        "  feedPoll: soon"
      ]))
      expect(error.message).toContain("line 12, column 3  http.port")
      expect(error.message).toContain("line 14, column 28  http.tokens.0.sha256")
      expect(error.message).toContain("workers.feedPoll")
      expect(error.message).not.toContain("my-plain-secret-token")
      expect(error.message).not.toContain("soon")
      expect(error.message).not.toContain("expected undefined")
    }))

  it.effect("unknown keys, a source listed twice and a mapping for a source that takes none are refused", () =>
    Effect.gen(function*() {
      expect((yield* Effect.flip(parse([...minimal, "colour: blue"]))).message).toContain("colour")
      expect((yield* Effect.flip(parse([...minimal.slice(0, 6), "  - id: niche-rms", ...minimal.slice(6)]))).message)
        .toContain("niche-rms is listed twice")
      expect((yield* Effect.flip(parse([...minimal.slice(0, 6), "  - { id: athena, mapping: m.yaml }", ...minimal.slice(6)]))).message)
        .toContain("athena takes no mapping file")
    }))

  it.effect("a channel's retry settings and the delivery timeout and lease reach the outbox; defaults are 1 min, 1 h, 8 attempts, 60 s, 2 min", () =>
    Effect.gen(function*() {
      const defaults = RegionConfig.outboxOptions(yield* parse(minimal))
      expect(defaults.retry?.["secure-email"]).toEqual({ base: Duration.minutes(1), cap: Duration.hours(1), budget: 8 })
      expect(defaults.attemptTimeout).toEqual(Duration.seconds(60))
      expect(defaults.lease).toEqual(Duration.minutes(2))

      const tuned = RegionConfig.outboxOptions(yield* parse([
        ...minimal,
        "    retry: { base: 30 seconds, cap: 10 minutes, budget: 12 }",
        "workers:",
        "  attemptTimeout: 20 seconds",
        "  deliveryLease: 45 seconds"
      ]))
      expect(tuned.retry?.["secure-email"]).toEqual({ base: Duration.seconds(30), cap: Duration.minutes(10), budget: 12 })
      expect(tuned.attemptTimeout).toEqual(Duration.seconds(20))
      expect(tuned.lease).toEqual(Duration.seconds(45))
    }))

  it.effect("a lease no longer than an attempt, or a retry cap below its base, is refused (either would resend too soon)", () =>
    Effect.gen(function*() {
      const lease = yield* Effect.flip(parse([...minimal, "workers:", "  attemptTimeout: 2 minutes", "  deliveryLease: 1 minute"]))
      expect(lease.message).toContain("workers.deliveryLease: must be longer than workers.attemptTimeout")
      const cap = yield* Effect.flip(parse([...minimal, "    retry: { base: 10 minutes, cap: 1 minute }"]))
      expect(cap.message).toContain("secure-email retry.cap must not be shorter than retry.base")
      const budget = yield* Effect.flip(parse([...minimal, "    retry: { budget: 0 }"]))
      expect(budget.message).toContain("channels.0.retry.budget")
    }))

  it.effect("alerts.email: the SPOC's addresses, relay settings resolved against the file's folder, batching defaults of 30 s and 10 min", () =>
    Effect.gen(function*() {
      expect((yield* parse(minimal)).alerts).toBeUndefined()
      const config = yield* parse([...minimal, "alerts:", "  email:", "    to: [encompass-spoc@force.example]", "    settings: ./alert-relay.json"])
      expect(config.alerts?.email?.to).toEqual(["encompass-spoc@force.example"])
      expect(config.alerts?.email?.settings).toBe("/etc/encompass/alert-relay.json")
      expect(config.alerts?.email?.wait).toEqual(Duration.seconds(30))
      expect(config.alerts?.email?.interval).toEqual(Duration.minutes(10))
      expect(config.alerts?.email?.timeout).toEqual(Duration.seconds(30))
      // No settings of its own: the channel's relay is used (SpocAlerts.fromRegion), and none is invented here.
      const shared = yield* parse([...minimal, "alerts:", "  email: { to: [a@force.example, b@force.example], interval: 15 minutes }"])
      expect(shared.alerts?.email?.settings).toBeUndefined()
      expect(shared.alerts?.email?.interval).toEqual(Duration.minutes(15))
    }))

  it.effect("alerts.email problems name the key path and line, never the address", () =>
    Effect.gen(function*() {
      const bad = yield* Effect.flip(parse([...minimal, "alerts:", "  email:", "    to: [not-an-address]", "    wait: shortly"]))
      expect(bad.message).toContain("line 13, column 10  alerts.email.to.0: expected an email address")
      expect(bad.message).toContain("alerts.email.wait")
      expect(bad.message).not.toContain("not-an-address")
      expect(bad.message).not.toContain("shortly")
      expect((yield* Effect.flip(parse([...minimal, "alerts:", "  email:", "    to: []"]))).message).toContain("alerts.email.to")
      expect((yield* Effect.flip(parse([...minimal, "alerts:", "  email: { to: [a@force.example], timeout: 0 seconds }"]))).message)
        .toContain("alerts.email.timeout: must be longer than 0")
      expect((yield* Effect.flip(parse([...minimal, "alerts:", "  sms: { to: [a@force.example] }"]))).message).toContain("alerts.sms")
    }))

  it.effect("a channel's settings are a file resolved against the file's folder or an inline mapping kept as written; plugins and authorities resolve too", () =>
    Effect.gen(function*() {
      const config = yield* parse([
        ...minimal.slice(0, 4),
        "authorities: ./authorities.csv",
        "plugins: [../plugins/channel-echo/src/index.ts]",
        "sources:",
        "  - { id: niche-rms, mapping: ./mapping.yaml }",
        "  - { id: athena, settings: { maxPersons: 20 } }",
        "channels:",
        "  - { id: secure-email, settings: relay.yaml }",
        "  - id: sftp",
        "    settings: { host: sftp.example, privateKey: ./id_ed25519 }",
        "    passwords: ./sftp-passwords.json",
        "    concurrency: 2"
      ])
      expect(config.authorities).toBe("/etc/encompass/authorities.csv")
      expect(config.plugins).toEqual(["/etc/plugins/channel-echo/src/index.ts"])
      expect(config.sources[0].mapping).toBe("/etc/encompass/mapping.yaml")
      expect(config.sources[1]?.settings).toEqual({ maxPersons: 20 })
      expect(config.channels[0].settings).toBe("/etc/encompass/relay.yaml")
      expect(config.channels[0].passwords).toBeUndefined()
      // Paths inside settings are the plugin's to resolve (BuildContext.resolve), not the region file's.
      expect(config.channels[1]?.settings).toEqual({ host: "sftp.example", privateKey: "./id_ed25519" })
      expect(config.channels[1]?.passwords).toBe("/etc/encompass/sftp-passwords.json")
      expect(RegionConfig.outboxOptions(config).concurrency).toEqual({ sftp: 2 })
      expect((yield* parse(minimal)).plugins).toEqual([])
    }))

  it.effect("a channel listed twice, a concurrency out of 1..64, and alerts.email with no relay of its own when secure-email is not enabled are refused at their line", () =>
    Effect.gen(function*() {
      const twice = yield* Effect.flip(parse([...minimal, "  - { id: secure-email, settings: other.json }"]))
      expect(twice.message).toContain("line 11, column 7  channels.1.id: secure-email is listed twice")
      expect((yield* Effect.flip(parse([...minimal, "    concurrency: 65"]))).message).toContain("line 11, column 5  channels.0.concurrency")
      const sftpOnly = [...minimal.slice(0, 7), "  - { id: sftp, settings: sftp.json }"]
      const alerts = yield* Effect.flip(parse([...sftpOnly, "alerts:", "  email: { to: [a@force.example] }"]))
      expect(alerts.message).toContain("line 10, column 3  alerts.email: needs `settings` (a relay settings file): the region does not enable secure-email")
      expect((yield* parse([...sftpOnly, "alerts:", "  email: { to: [a@force.example], settings: relay.json }"])).alerts?.email?.settings).toBe("/etc/encompass/relay.json")
      expect((yield* Effect.flip(parse([...minimal.slice(0, 5), "  - { id: niche-rms, mapping: m.yaml, settings: {} }", ...minimal.slice(6)]))).message)
        .toContain("sources.0.mapping: give the mapping as `settings` or as `mapping`, not both")
    }))

  it.effect("a YAML syntax error is located", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(parse(["version: 1", "region: [unclosed"]))
      expect(error.message).toMatch(/line \d+, column \d+/)
    }))
})
