import { ActiveChannels, ActiveSources } from "@encompass/pipeline"
import { Sql } from "@encompass/store"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import * as AgreementFiles from "../src/AgreementFiles.js"
import * as Region from "../src/Region.js"
import * as RegionConfig from "../src/RegionConfig.js"
import { demo, masterKey, tls } from "./support/Gateway.js"

const fixtures = path.join(import.meta.dirname, "fixtures")
const hostKey = "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s"
const directoryHeader = "urn,name,kind,signed_up,contacts,channel"

/** A TCP peer that only counts the connections made to it: a channel that connects at build time would show. */
const countingPeer = Effect.acquireRelease(
  Effect.async<{ readonly port: number; readonly connections: () => number; readonly server: net.Server }>((resume) => {
    let connections = 0
    const server = net.createServer((socket) => {
      connections += 1
      socket.destroy()
    })
    server.listen(0, "127.0.0.1", () => {
      resume(Effect.succeed({ port: (server.address() as net.AddressInfo).port, connections: () => connections, server }))
    })
  }),
  ({ server }) => Effect.async<void>((resume) => {
    server.close(() => resume(Effect.void))
  })
)

/** A folder holding a region file (and whatever else the test writes there), removed afterwards. */
const folder = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "region-"))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

const emailSettings = (port: number) => [
  "    settings:",
  "      host: 127.0.0.1",
  `      port: ${port}`,
  `      ca: ${JSON.stringify(tls.cert)}`,
  "      from: Operation Encompass <encompass@police.example>",
  "      messageIdDomain: police.example",
  "      senderName: Test Police",
  "      contact: encompass@police.example",
  `    passwords: ${path.join(demo, "passwords.json")}`
]

interface Written {
  readonly file: string
  readonly config: RegionConfig.RegionConfig
}

/** Writes the region file (and a directory of secure-email settings unless given one) and loads it. */
const region = (dir: string, lines: ReadonlyArray<string>, directory: ReadonlyArray<string> = ["100001,Alder Primary School,school,Y,dsl@alder.sch.example,secure-email"]) =>
  Effect.gen(function*() {
    fs.writeFileSync(path.join(dir, "directory.csv"), [directoryHeader, ...directory, ""].join("\n"))
    fs.writeFileSync(path.join(dir, "master.key"), `${masterKey}\n`, { mode: 0o600 })
    const file = path.join(dir, "region.yaml")
    fs.writeFileSync(file, [
      "version: 1",
      "region: test-region",
      "masterKeyFile: ./master.key",
      `agreement: ${AgreementFiles.defaultAgreementFile}`,
      "directory: ./directory.csv",
      ...lines,
      ""
    ].join("\n"))
    return { file, config: yield* RegionConfig.load(file) } satisfies Written
  })

// `embedded: true` whichever store runs: each test's key file is its own, so it may be created.
const build = ({ config, file }: Written) => Layer.build(Region.layer(config, file, { store: { layer: Sql.layerTest, embedded: true } }))

const channelsOf = (written: Written) => Effect.map(build(written), (context) => Context.get(context, ActiveChannels.ActiveChannels))

/** Why the region is refused (the store's error type is left open, so errors are read as messages). */
const refusal = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.map(Effect.flip(effect), (error) => (error as Error).message)

describe("Region", () => {
  it.scoped("a region enabling secure-email (inline settings) and sftp (a settings file) composes both into ActiveChannels, and neither connects before its first delivery", () =>
    Effect.gen(function*() {
      const dir = yield* folder
      const relay = yield* countingPeer
      const sftp = yield* countingPeer
      fs.writeFileSync(path.join(dir, "sftp.yaml"), [
        "host: 127.0.0.1",
        `port: ${sftp.port}`,
        "username: encompass",
        "privateKey: ./id_ed25519",
        `hostKey: "${hostKey}"`,
        "directory: inbound"
      ].join("\n"))
      const written = yield* region(dir, [
        "sources: [{ id: niche-rms }, { id: athena, settings: { maxPersons: 20 } }]",
        "channels:",
        "  - id: secure-email",
        ...emailSettings(relay.port),
        "  - id: sftp",
        "    settings: ./sftp.yaml",
        "    concurrency: 3"
      ])
      const context = yield* build(written)
      const channels = Context.get(context, ActiveChannels.ActiveChannels)
      expect([...channels.keys()]).toEqual(["secure-email", "sftp"])
      // secure-email's own concurrency is its pool size; the region's setting reaches the outbox.
      expect(channels.get("secure-email")?.concurrency).toBe(5)
      expect(RegionConfig.outboxOptions(written.config).concurrency).toEqual({ sftp: 3 })
      expect([...Context.get(context, ActiveSources.ActiveSources).keys()]).toEqual(["niche-rms", "athena"])
      expect(relay.connections()).toBe(0)
      expect(sftp.connections()).toBe(0)
    }))

  it.scoped("a bad setting is refused naming its file, line and key, never quoting the value", () =>
    Effect.gen(function*() {
      const dir = yield* folder
      fs.writeFileSync(path.join(dir, "sftp.yaml"), [
        "host: 127.0.0.1",
        "username: encompass",
        "privateKey: ./id_ed25519",
        "hostKey: my-secret-not-a-fingerprint",
        "directory: inbound",
        "colour: blue"
      ].join("\n"))
      const file = yield* refusal(channelsOf(yield* region(dir, ["sources: [{ id: niche-rms }]", "channels:", "  - id: secure-email", ...emailSettings(1), "  - id: sftp", "    settings: ./sftp.yaml"])))
      expect(file).toContain(`${path.join(dir, "sftp.yaml")} cannot be used:`)
      expect(file).toContain("line 4, column 1  hostKey: expected the server's host key fingerprint")
      expect(file).toContain("line 6, column 1  colour: is not an expected field")
      expect(file).not.toContain("my-secret-not-a-fingerprint")

      const inline = yield* refusal(channelsOf(yield* region(dir, [
        "sources: [{ id: niche-rms }]",
        "channels:",
        "  - id: secure-email",
        ...emailSettings(99999).map((line) => line.replace("contact: encompass@police.example", "contacts: encompass@police.example"))
      ])))
      expect(inline).toContain(`${path.join(dir, "region.yaml")} cannot be used:`)
      expect(inline).toContain("line 11, column 7  channels.0.settings.port: ")
      expect(inline).toContain("line 16, column 7  channels.0.settings.contacts: is not an expected field")
      expect(inline).toContain("channels.0.settings.contact: is missing")
      expect(inline).not.toContain("99999")

      fs.writeFileSync(path.join(dir, "passwords.json"), JSON.stringify({ "100001": "short-secret" }, null, 2).replace("short-secret", "tiny"))
      const passwords = yield* refusal(channelsOf(yield* region(dir, [
        "sources: [{ id: niche-rms }]",
        "channels:",
        "  - id: secure-email",
        ...emailSettings(1).map((line) => (line.startsWith("    passwords:") ? "    passwords: ./passwords.json" : line))
      ])))
      expect(passwords).toContain(`${path.join(dir, "passwords.json")} cannot be used:`)
      expect(passwords).toContain("line 2, column 3  100001: a password needs at least 12 characters")
      expect(passwords).not.toContain("tiny")
    }))

  it.scoped("an unknown channel id is refused by name", () =>
    Effect.gen(function*() {
      const dir = yield* folder
      const error = yield* refusal(channelsOf(yield* region(dir, ["sources: [{ id: niche-rms }]", "channels:", "  - id: secure-email", ...emailSettings(1), "  - { id: fax, settings: {} }"])))
      expect(error).toBe("channel plugin fax: no channel plugin is registered under this id")
    }))

  it.scoped("a directory row naming a channel the region does not enable refuses the region, naming its line and column", () =>
    Effect.gen(function*() {
      const dir = yield* folder
      const written = yield* region(dir, ["sources: [{ id: niche-rms }]", "channels:", "  - id: secure-email", ...emailSettings(1)], [
        "100001,Alder Primary School,school,Y,dsl@alder.sch.example,secure-email",
        "100002,Beech College,college,Y,dsl@beech.ac.example,sftp"
      ])
      const error = yield* refusal(Layer.build(Region.decisionLayer(written.config, written.file)))
      expect(error).toContain("line 3, column channel: channel sftp is not enabled in this region (enabled: secure-email)")
      expect(error).not.toContain("beech.ac.example")
    }))

  it.scoped("an agreement recipient kind none of whose channels is enabled refuses the region, naming the agreement's line and key", () =>
    Effect.gen(function*() {
      const dir = yield* folder
      const written = yield* region(dir, [
        "sources: [{ id: niche-rms }]",
        "channels:",
        `  - { id: sftp, settings: { host: 127.0.0.1, username: u, privateKey: ./k, hostKey: "${hostKey}", directory: d } }`
      ], ["100001,Alder Primary School,school,Y,dsl@alder.sch.example,sftp"])
      const error = yield* refusal(Layer.build(Region.decisionLayer(written.config, written.file)))
      expect(error).toContain(`${AgreementFiles.defaultAgreementFile} cannot be used:`)
      expect(error).toMatch(/line \d+, column \d+ {2}recipients\.kinds\.0\.channels\.allowed: setting: none of its channels \(secure-email\) is enabled in region test-region/)
    }))

  it.scoped("a plugins: module's registration is registered, and the region enables it with its own settings", () =>
    Effect.gen(function*() {
      const dir = yield* folder
      const channels = yield* channelsOf(yield* region(dir, [
        `plugins: [${path.join(fixtures, "channel-echo/index.ts")}]`,
        "sources: [{ id: niche-rms }]",
        "channels:",
        "  - id: secure-email",
        ...emailSettings(1),
        "  - { id: echo, settings: { label: test, outbox: ./out } }"
      ]))
      expect([...channels.keys()]).toEqual(["secure-email", "echo"])
      yield* channels.get("echo")?.check ?? Effect.die("echo is not enabled")
    }))

  it.scoped("a plugins: module whose registration has no valid manifest, or that cannot be loaded, refuses the region at its line", () =>
    Effect.gen(function*() {
      const dir = yield* folder
      const lines = (module: string) => [`plugins: [${module}]`, "sources: [{ id: niche-rms }]", "channels:", "  - id: secure-email", ...emailSettings(1)]
      const invalid = yield* refusal(channelsOf(yield* region(dir, lines(path.join(fixtures, "InvalidPlugin.ts")))))
      expect(invalid).toContain("line 6, column 11  plugins.0: BrokenChannel.registration.manifest is not a valid channel or source manifest")
      const missing = yield* refusal(channelsOf(yield* region(dir, lines("./no-such-plugin.ts"))))
      expect(missing).toContain("line 6, column 11  plugins.0: cannot load the module")
    }))
})
